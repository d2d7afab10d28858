"""Publish a scaffold with the git CLI: one root commit with a `Portico-Component:` trailer,
pushed to an empty branch of an https:// repository (or, when the admin allows it, a
file:/// one: a missing bare repository is then created, the demo's local "remote").
Idempotent: a branch whose head carries this Component's trailer is adopted; any other
existing branch is a conflict.

The URL comes from a tenant's Template, so the client defends itself whatever the policy
layer above decided (git's own hardening advice: CVE-2017-1000117, `protocol.allow`,
`GIT_ALLOW_PROTOCOL`, `GIT_CONFIG_GLOBAL`):

- `check_url` accepts only `https://host[:port]/path` and (with `allow_file`)
  `file:///absolute/path`; nothing git could read as an option (`--upload-pack=...`), no
  `<transport>::` (ext::, fd::), no scp-like `host:path`, no credentials, no escapes, no
  `.`/`..`/empty segments.
- every URL, path and refspec follows `--`, so git never parses it as an option;
- git runs in a minimal environment (not the operator's): a throwaway HOME, no system or
  global config, no askpass, no terminal prompt, only the https (and file) transports;
- `-c` settings switch off what a repository or an environment could use to run code or
  reach elsewhere: hooks, fsmonitor, credential helpers, http redirects; for file:// pushes
  the receiving side's hooks are switched off too.
"""

import asyncio
import os
import re
import subprocess
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from portico.clients.publishing import Published, RepoRequest, trailer
from portico.errors import Conflict, ExternalError, RejectedError, TransientError

SYSTEM = "git"
TIMEOUT = 120.0
STDERR_LIMIT = 300
URL_LIMIT = 2048

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_SCHEME_ONLY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_IPV6 = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/]*\[")
_AUTHORITY = re.compile(r"([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SEGMENT = re.compile(r"[A-Za-z0-9._~+-]+")
_BRANCH = re.compile(r"[A-Za-z0-9._/-]+")
_SEGMENT_CHARS = "letters, digits and . _ ~ + -"
_ACCEPTED = "https://host[:port]/path"

# `-c` settings for every git invocation. Command-line config beats any repository's own
# config; the system and global files are not read at all (see _environment).
_HARDENING = (
    "protocol.allow=never",  # every transport off by default ...
    "protocol.https.allow=always",  # ... but https (file is added when allowed)
    "core.hooksPath=/dev/null",  # no hooks, whatever a template or a config put in place
    "core.fsmonitor=false",  # fsmonitor is a command git would run on `add`
    "http.followRedirects=false",  # a redirect must not take git (SSRF) to another host
    "http.sslVerify=true",
    "credential.helper=",  # empty: forget every credential helper
    "transfer.fsckObjects=true",
    "fetch.recurseSubmodules=false",
    "safe.directory=",  # empty: trust no repository owned by someone else
    "init.templateDir=",  # no template hooks (`init` also gets --template=)
    "init.defaultBranch=main",
    "user.name=Portico",
    "user.email=portico@localhost",
)
# The receive-pack a file:// push starts: git clears `-c` settings for a local transport's
# other side, so the receiving repository's hooks are switched off here. A fixed string.
_LOCAL_RECEIVE_PACK = "git -c core.hooksPath=/dev/null -c receive.fsckObjects=true receive-pack"


def _refuse(url: object, problem: str) -> RejectedError:
    return RejectedError(
        SYSTEM,
        f"refusing git URL {str(url)[:200]!r}: it {problem}; only {_ACCEPTED} URLs (and, "
        "when the operator allows file URLs, file:///absolute/path) are accepted",
    )


def _path_problem(path: str) -> str | None:
    """Why an absolute URL path is refused (None: fine)."""
    if not path.startswith("/") or path == "/":
        return "has no repository path (expected /owner/name or /absolute/path)"
    for segment in path[1:].split("/"):
        if segment == "":
            return "has an empty path segment ('//' or a trailing '/')"
        if segment in (".", ".."):
            return f"has a {segment!r} path segment"
        if not _SEGMENT.fullmatch(segment):
            return (
                f"has a path segment {segment[:60]!r} with characters other than "
                f"{_SEGMENT_CHARS} (no '?', '#', ':' or '@')"
            )
    return None


def _https(url: str, rest: str) -> str:
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        raise _refuse(url, "carries credentials or a user name ('@' before the host)")
    match = _AUTHORITY.fullmatch(authority)
    if match is None:
        raise _refuse(url, f"has an invalid host or port {authority[:80]!r}")
    host, port = match.group(1).lower(), match.group(2)
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(
            url,
            f"has an invalid host name {host[:80]!r} (dot-separated labels of letters, "
            "digits and inner '-')",
        )
    if port is not None and not 0 < int(port) < 65536:
        raise _refuse(url, f"has an invalid port {port}")
    if not slash:
        raise _refuse(url, "has no repository path after the host")
    problem = _path_problem("/" + path)
    if problem is not None:
        raise _refuse(url, problem)
    return f"https://{host}{':' + port if port is not None else ''}/{path}"


def _file(url: str, rest: str) -> str:
    if not rest.startswith("/"):
        raise _refuse(url, "names a host in a file:// URL (write file:///absolute/path)")
    problem = _path_problem(rest)
    if problem is not None:
        raise _refuse(url, problem)
    return f"file://{rest}"


def check_url(url: str, *, allow_file: bool) -> str:
    """The URL, normalised (scheme and host in lower case), or RejectedError saying why not.

    Pure: no I/O. Accepts `https://host[:port]/path` and, only when `allow_file`,
    `file:///absolute/path`.
    """
    if not isinstance(url, str) or not url:
        raise _refuse(url, "is empty")
    if len(url) > URL_LIMIT:
        raise _refuse(url, f"is longer than {URL_LIMIT} characters")
    if url.lstrip().startswith("-"):
        raise _refuse(url, "starts with '-', so git would read it as an option")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise _refuse(url, "contains whitespace or control characters")
    if not url.isascii():
        raise _refuse(url, "contains non-ASCII characters (write a host name in its xn-- form)")
    if _IPV6.match(url):
        raise _refuse(url, "names an IPv6 literal host; use a host name")
    if "::" in url:
        raise _refuse(url, "uses git's '<transport>::<address>' syntax (ext::, fd::, ...)")
    if "%" in url or "\\" in url:
        raise _refuse(url, "contains '%' or '\\' escapes")
    match = _SCHEME.fullmatch(url)
    if match is None:
        head = url.split("/", 1)[0]
        if _SCHEME_ONLY.fullmatch(head):
            raise _refuse(url, f"has a scheme but not '://' (write {head}//...)")
        if ":" in head:
            raise _refuse(url, "is an scp-like 'host:path' (ssh) address")
        raise _refuse(url, "is a local path, not a URL")
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme == "https":
        return _https(url, rest)
    if scheme == "file":
        if not allow_file:
            raise _refuse(url, "is a file:// URL and file URLs are not allowed here")
        return _file(url, rest)
    raise _refuse(url, f"uses the {scheme}:// transport")


def _check_branch(branch: str) -> None:
    """A plain branch name (what `git check-ref-format --branch` accepts, narrowed)."""
    segments = branch.split("/")
    if (
        not _BRANCH.fullmatch(branch)
        or branch.startswith("-")
        or ".." in branch
        or branch.endswith((".lock", "."))
        or any(s == "" or s.startswith(".") for s in segments)
    ):
        raise RejectedError(
            SYSTEM,
            f"refusing branch name {branch[:100]!r}: use letters, digits and . _ / - "
            "(not starting with '-', no '..', no empty or dot-leading parts)",
        )


def _check_file_path(path: str) -> tuple[str, ...]:
    """A rendered file's path as safe segments (relative, no '.', '..', '.git' or empties)."""
    segments = tuple(path.split("/"))
    if (
        not path
        or path.startswith("/")
        or any(s in ("", ".", "..") or s.lower() == ".git" for s in segments)
        or any(c == "\\" or not c.isprintable() for c in path)
    ):
        raise RejectedError(
            SYSTEM,
            f"refusing to write {path[:200]!r}: a scaffold file's path must be relative, "
            "without empty, '.', '..' or '.git' parts",
        )
    return segments


def _environment(home: Path, *, allow_file: bool) -> dict[str, str]:
    """git's whole environment: nothing inherited but PATH (no GIT_*, no askpass, no
    proxies or tokens from the operator's environment)."""
    return {
        "PATH": os.environ.get("PATH") or os.defpath,
        "HOME": str(home),
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_SYSTEM": os.devnull,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "https:file" if allow_file else "https",
        "GIT_PROTOCOL_FROM_USER": "0",
    }


def _config(*, allow_file: bool) -> list[str]:
    settings = [*_HARDENING, *(("protocol.file.allow=always",) if allow_file else ())]
    return [arg for setting in settings for arg in ("-c", setting)]


def _clean(stderr: str) -> str:
    """stderr for an error message: one line, printable, truncated."""
    text = " ".join(stderr.split())
    return "".join(c if c.isprintable() else "?" for c in text)[:STDERR_LIMIT]


class _Git:
    """Runs git with the hardened config and environment, always in the scratch directory."""

    def __init__(self, scratch: Path, *, allow_file: bool) -> None:
        home = scratch / "home"
        home.mkdir()
        self.scratch = scratch
        self.env = _environment(home, allow_file=allow_file)
        self.config = _config(allow_file=allow_file)

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        ok_codes: Collection[int] = (0,),
    ) -> subprocess.CompletedProcess[str]:
        """git's completed process; an exit code outside `ok_codes` is an ExternalError."""
        command, argv = args[0], ["git", *self.config, *args]
        try:
            out = subprocess.run(
                argv,
                cwd=cwd or self.scratch,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                encoding="utf-8",
                errors="replace",
                timeout=TIMEOUT,
                check=False,
            )
            if out.returncode not in ok_codes:
                raise subprocess.CalledProcessError(out.returncode, argv, out.stdout, out.stderr)
        except subprocess.TimeoutExpired as e:
            raise TransientError(SYSTEM, f"git {command} timed out after {TIMEOUT:.0f} s") from e
        except subprocess.CalledProcessError as e:
            raise ExternalError(SYSTEM, f"git {command} failed: {_clean(e.stderr or '')}") from e
        except OSError as e:
            raise ExternalError(SYSTEM, f"could not run git {command}: {e.strerror}") from e
        return out

    def __call__(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        ok_codes: Collection[int] = (0,),
    ) -> str:
        """git's stdout."""
        return self.run(*args, cwd=cwd, env=env, ok_codes=ok_codes).stdout


def publish_git(
    url: str, req: RepoRequest, files: dict[str, str], *, allow_file: bool = False
) -> Published:
    url = check_url(url, allow_file=allow_file)
    _check_branch(req.branch)
    paths = {path: _check_file_path(path) for path in files}
    ref = f"refs/heads/{req.branch}"
    is_file = url.startswith("file://")
    with tempfile.TemporaryDirectory(prefix="portico-git-") as tmp:
        git = _Git(Path(tmp), allow_file=allow_file)
        if is_file:
            bare = Path(url.removeprefix("file://"))
            if not bare.exists():
                bare.parent.mkdir(parents=True, exist_ok=True)
                git("init", "--bare", "-q", "--template=", "--", str(bare))
        listing = git("ls-remote", "--", url, ref)
        heads = [line.split("\t")[0] for line in listing.splitlines() if line.endswith(f"\t{ref}")]
        work = Path(tmp) / "work"
        git("init", "-q", "--template=", "--", str(work))
        if heads:
            git("fetch", "-q", "--no-tags", "--depth=1", "--", url, ref, cwd=work)
            message = git("log", "-1", "--format=%B", "FETCH_HEAD", "--", cwd=work)
            if trailer(req.uid) in message:
                return Published(url, req.branch, heads[0], created=False)
            raise Conflict(
                SYSTEM,
                f"{url} already has branch {req.branch} that Portico did not "
                "push for this Component; it is left untouched",
                status=409,
            )
        for path, content in files.items():
            target = work.joinpath(*paths[path])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        git("add", "-A", cwd=work)
        dates = {"GIT_AUTHOR_DATE": req.author_date, "GIT_COMMITTER_DATE": req.author_date}
        message = f"{req.message}\n\n{trailer(req.uid)}"
        git("commit", "-q", "--no-verify", f"--message={message}", cwd=work, env=dates)
        sha = git("rev-parse", "--verify", "HEAD", cwd=work).strip()
        receive = (f"--receive-pack={_LOCAL_RECEIVE_PACK}",) if is_file else ()
        git("push", "-q", "--no-verify", *receive, "--", url, f"HEAD:{ref}", cwd=work)
    return Published(url, req.branch, sha, created=True)


async def publish(
    url: str, req: RepoRequest, files: dict[str, str], *, allow_file: bool = False
) -> Published:
    return await asyncio.to_thread(publish_git, url, req, files, allow_file=allow_file)
