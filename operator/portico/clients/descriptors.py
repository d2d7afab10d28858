"""Reads Backstage descriptors for `portico import`: local files and http(s) URLs, sync.

Descriptors come from tenants' repositories, and what is read ends up in manifests applied to
a cluster, so this module decides what may be read at all (domain/backstage/locations.py
decides what to read):

- local files stay inside a root: the directory of each local input (an input directory is
  a root itself, and stands for its catalog-info.yaml). Every path is checked after symlinks
  are followed; absolute targets are refused, `..` only while it stays inside a root. Only
  regular files are read (no FIFOs, devices or directories).
- URLs are http(s) only, on the hosts of the URL inputs or in `allow_hosts` (like Backstage's
  `backend.reading.allow`; `*.example.com` matches subdomains). A local file may name such
  URLs; a URL file never names local files: its relative targets, `/x` and `file:` included,
  are resolved as URLs against it, or refused.
- GitHub: `https://github.com/<o>/<r>/blob/<ref>/<path>` is fetched from
  raw.githubusercontent.com, and relative targets resolve against the blob URL (`/x` from the
  repository's root), as Backstage does. The token goes only to GitHub's hosts, on every
  request and redirect hop decided afresh, and never into a message.
- bounds: each file's size, the number of files, the HTTP timeout; redirects are followed
  by hand, only to allowed hosts, a few hops at most.
"""

import os
import re
import stat
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from portico.domain.backstage.locations import DescriptorNotFound
from portico.domain.backstage.source import DescriptorError

CATALOG_FILE = "catalog-info.yaml"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FILES = 1000  # files read, and files in a skeleton
MAX_TREE_BYTES = 32 * 1024 * 1024  # a skeleton, all files
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
GITHUB_HOSTS = frozenset({"github.com", "raw.githubusercontent.com", "api.github.com"})
_BLOB = re.compile(r"^/([^/]+)/([^/]+)/blob/(.+)$")
_GLOB = re.compile(r"[*?[]")


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class DescriptorReader:
    """The `Reader` of domain/backstage/locations.py, and a `SkeletonReader` (`read_tree`).
    Close it (or use it as a context manager) when it read URLs."""

    def __init__(
        self,
        inputs: list[str],
        *,
        allow_hosts: Sequence[str] = (),
        token: str | None = None,
        client: httpx.Client | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_files: int = MAX_FILES,
        max_tree_bytes: int = MAX_TREE_BYTES,
    ) -> None:
        self._token = token
        self._client = client
        self._own_client = client is None
        self.max_file_bytes, self.max_files, self.max_tree_bytes = (
            max_file_bytes,
            max_files,
            max_tree_bytes,
        )
        self._reads = 0
        self._bytes = 0  # read so far, against max_tree_bytes (the whole import's budget too)
        self.allow_hosts = [_host(h) if "://" in h else h.lower() for h in allow_hosts]
        self.roots: list[str] = []
        for location in inputs:
            if is_url(location):
                self.allow_hosts.append(_host(location))
            else:
                self.roots += _roots(location)
        if "github.com" in self.allow_hosts:
            self.allow_hosts.append("raw.githubusercontent.com")  # where blob URLs are read

    def __enter__(self) -> "DescriptorReader":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    # -- Reader --------------------------------------------------------------------------

    def resolve(self, base: str, target: str) -> str:
        scheme = urlsplit(target).scheme.lower()
        if is_url(base):
            url = target if scheme else _join_url(base, target)
            if not is_url(url) or scheme not in ("", "http", "https"):
                raise DescriptorError(f"{target}: a URL file may name only http(s) URLs")
            self._check_host(url, target)
            return url
        if scheme in ("http", "https"):
            self._check_host(target, target)
            return target
        if scheme:
            raise DescriptorError(f"{target}: only relative paths and http(s) URLs are read")
        if os.path.isabs(target):
            raise DescriptorError(
                f"{target}: an absolute path is refused; name files relative to {base}"
            )
        path = os.path.normpath(os.path.join(os.path.dirname(base), target))
        self._check_inside(_fixed_prefix(path), target)
        return path

    def expand(self, location: str) -> list[str]:
        if is_url(location):
            if "*" in urlsplit(location).path:
                raise DescriptorError(f"{location}: globs are read in local files only")
            return [location]
        location = os.path.normpath(location)  # one spelling per file: cycles end
        if not _GLOB.search(location):
            if os.path.isdir(location):
                return [os.path.normpath(os.path.join(location, CATALOG_FILE))]
            return [location]
        prefix = _fixed_prefix(location)
        pattern = os.path.relpath(location, prefix)
        if pattern.count("**") > 1:  # each more `**` multiplies the walk
            raise DescriptorError(f"{location}: at most one ** in a glob")
        found = islice(Path(prefix).glob(pattern), self.max_files + 1)
        matches = sorted(str(p) for p in found if p.is_file())
        if len(matches) > self.max_files:
            raise DescriptorError(f"{location}: matches more than {self.max_files} files")
        return matches

    def read(self, location: str) -> str:
        self._reads += 1
        if self._reads > self.max_files:
            raise DescriptorError(f"{location}: not read, more than {self.max_files} files read")
        data = self._fetch(location) if is_url(location) else self._read_file(location)
        self._bytes += len(data)
        if self._bytes > self.max_tree_bytes:
            raise DescriptorError(
                f"{location}: not read, the import has read more than {self.max_tree_bytes} bytes"
            )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DescriptorError(f"{location}: not UTF-8 text ({e.reason} at {e.start})") from e

    # -- SkeletonReader ------------------------------------------------------------------

    def read_tree(self, target: str, base: str) -> dict[str, bytes]:
        """Every regular file under the local directory `target` (relative to the file
        `base`), by relative POSIX path."""
        if is_url(base) or urlsplit(target).scheme:
            raise DescriptorError(
                f"{target}: a skeleton must be a local directory (import the Template from "
                "a local checkout)"
            )
        root = self.resolve(base, target)
        if not os.path.isdir(root):
            raise DescriptorError(f"{root}: a skeleton must be a local directory")
        files: dict[str, bytes] = {}
        total = 0
        for directory, dirs, names in os.walk(root, followlinks=False):
            dirs.sort()
            for name in dirs:
                if os.path.islink(os.path.join(directory, name)):
                    raise DescriptorError(
                        f"{os.path.join(directory, name)}: a skeleton may not hold a "
                        "symlinked directory"
                    )
            for name in sorted(names):
                path = os.path.join(directory, name)
                data = self._read_file(path)
                total += len(data)
                files[os.path.relpath(path, root).replace(os.sep, "/")] = data
                if len(files) > self.max_files:
                    raise DescriptorError(f"{root}: more than {self.max_files} files")
                if total > self.max_tree_bytes:
                    raise DescriptorError(f"{root}: more than {self.max_tree_bytes} bytes")
        return files

    # -- local files ---------------------------------------------------------------------

    def _check_inside(self, path: str, target: str) -> None:
        real = os.path.realpath(path)
        if not any(os.path.commonpath([real, root]) == root for root in self.roots):
            where = ", ".join(self.roots) or "(no local input)"
            raise DescriptorError(
                f"{target}: refused, it resolves to {real}, outside {where}: descriptors may "
                "read only files under the directory of a local input"
            )

    def _read_file(self, path: str) -> bytes:
        self._check_inside(path, path)
        try:
            info = os.stat(path)
        except FileNotFoundError as e:
            raise DescriptorNotFound(f"{path}: does not exist") from e
        except OSError as e:
            raise DescriptorError(f"{path}: cannot be read ({e.strerror})") from e
        if not stat.S_ISREG(info.st_mode):
            raise DescriptorError(f"{path}: not a regular file")
        if info.st_size > self.max_file_bytes:
            raise DescriptorError(f"{path}: larger than {self.max_file_bytes} bytes")
        try:
            with open(path, "rb") as f:
                data = f.read(self.max_file_bytes + 1)
        except OSError as e:
            raise DescriptorError(f"{path}: cannot be read ({e.strerror})") from e
        if len(data) > self.max_file_bytes:
            raise DescriptorError(f"{path}: larger than {self.max_file_bytes} bytes")
        return data

    # -- URLs ----------------------------------------------------------------------------

    def _check_host(self, url: str, target: str) -> None:
        if not is_url(url):
            raise DescriptorError(f"{target}: only http(s) URLs are read")
        host = _host(url)
        if not any(_host_matches(host, allowed) for allowed in self.allow_hosts):
            raise DescriptorError(
                f"{target}: refused, host {host} is not allowed (the hosts of URL inputs are; "
                "allow others with --allow-host)"
            )

    def _fetch(self, url: str) -> bytes:
        """The bytes at `url`, following redirects on allowed hosts only."""
        current = _raw_url(url)
        for _ in range(MAX_REDIRECTS + 1):
            self._check_host(current, url)
            headers = {}
            if self._token and _host(current) in GITHUB_HOSTS and current.startswith("https://"):
                headers["Authorization"] = f"token {self._token}"
            try:
                with self._http().stream(
                    "GET", current, headers=headers, follow_redirects=False, timeout=TIMEOUT
                ) as response:
                    if response.is_redirect and "location" in response.headers:
                        target = urljoin(current, response.headers["location"])
                        if current.startswith("https://") and not target.startswith("https://"):
                            raise DescriptorError(f"{url}: redirected from https to plain http")
                        current = target
                        continue
                    return self._body(url, response)
            except httpx.HTTPError as e:
                raise DescriptorError(f"{url}: cannot be read ({type(e).__name__})") from e
        raise DescriptorError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _body(self, url: str, response: httpx.Response) -> bytes:
        status = response.status_code
        if status in (404, 410):
            hint = ""
            if _host(url) in GITHUB_HOSTS and not self._token:
                hint = " (a private repository needs a token: GITHUB_TOKEN)"
            raise DescriptorNotFound(f"{url}: not found (HTTP {status}){hint}")
        if not response.is_success:
            raise DescriptorError(f"{url}: HTTP {status}")
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > self.max_file_bytes:
                raise DescriptorError(f"{url}: larger than {self.max_file_bytes} bytes")
        return bytes(data)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        return self._client


def _roots(location: str) -> list[str]:
    """The directories a local input lets descriptors read from."""
    if _GLOB.search(location):
        directory = _fixed_prefix(location)
    elif os.path.isdir(location):
        directory = location
    else:
        directory = os.path.dirname(location) or "."
        if os.path.islink(location):  # an input that is a symlink: its target's directory
            return [os.path.realpath(directory), os.path.dirname(os.path.realpath(location))]
    return [os.path.realpath(directory)]


def _fixed_prefix(path: str) -> str:
    """The directories of a glob before its first wildcard (`path` itself if none)."""
    if not _GLOB.search(path):
        return path
    fixed: list[str] = []
    for part in Path(path).parts:
        if _GLOB.search(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _host(url: str) -> str:
    """`host` or `host:port` (a default port left out), lower case."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise DescriptorError(f"{url}: not a valid URL") from e
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def _host_matches(host: str, allowed: str) -> bool:
    if allowed.startswith("*."):
        return host.endswith(allowed[1:])
    return host == allowed


def _join_url(base: str, target: str) -> str:
    """`target` relative to `base`, as Backstage's integrations resolve it: `/x` from the
    repository's root on GitHub, and the base's query kept (e.g. GitLab's `?ref=`)."""
    parts = urlsplit(base)
    blob = _BLOB.match(parts.path)
    if blob and parts.hostname == "github.com" and re.match(r"^/(?!/)", target):
        owner, repo, rest = blob.groups()
        target = f"/{owner}/{repo}/blob/{rest.split('/', 1)[0]}{target}"
    joined = urlsplit(urljoin(base, target))
    if joined.netloc != parts.netloc or urlsplit(target).query:
        return urlunsplit(joined._replace(fragment=""))
    return urlunsplit(joined._replace(query=parts.query, fragment=""))


def _raw_url(url: str) -> str:
    """Where to fetch `url`: GitHub's blob pages from raw.githubusercontent.com."""
    parts = urlsplit(url)
    if parts.hostname != "github.com":
        return url
    blob = _BLOB.match(parts.path)
    if not blob:
        raise DescriptorError(
            f"{url}: a GitHub URL must name a file: https://github.com/<owner>/<repo>/blob/"
            "<ref>/<path>"
        )
    owner, repo, rest = blob.groups()
    return urlunsplit(("https", "raw.githubusercontent.com", f"/{owner}/{repo}/{rest}", "", ""))
