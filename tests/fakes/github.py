"""A contract fake of the GitHub REST API, backed by real bare git repositories. Tests only.

It follows GitHub's REST docs (https://docs.github.com/rest) for the subset Portico's publisher
uses, with the status codes and JSON shapes PyGithub relies on:

* users and orgs: ``GET /user``, ``GET /users/{login}``, ``GET /orgs/{org}``, ``GET /rate_limit``
* repositories: ``POST /orgs/{org}/repos``, ``POST /user/repos``,
  ``GET|PATCH|DELETE /repos/{o}/{r}``, ``GET|PUT /repos/{o}/{r}/topics``
* Git Data: ``POST /repos/{o}/{r}/git/blobs|trees|commits|refs``,
  ``GET .../git/blobs/{sha}``, ``GET .../git/trees/{sha}[?recursive=1]``,
  ``GET .../git/commits/{sha}``, ``GET .../git/ref/{ref}``, ``GET|PATCH|DELETE .../git/refs/{ref}``
* branches: ``GET .../branches/{b}``, ``GET|PUT|DELETE .../branches/{b}/protection``
* contents: ``GET .../contents/{path}[?ref=]`` (file or directory), ``PUT .../contents/{path}``

Each repository is a real bare repository at ``<root>/<owner>/<repo>.git`` (``git init --bare``)
whose ``clone_url`` is a ``file://`` URL, so a test can ``git clone`` what was published. Objects
are written with git's plumbing: ``hash-object``, ``mktree``, ``commit-tree``, ``update-ref``.

Mirrored from GitHub: token auth (401 "Requires authentication" without a token, "Bad
credentials" with a wrong one), ``X-RateLimit-*`` headers on every response and the primary
limit's 403 once ``remaining`` reaches 0, error bodies ``{"message", "documentation_url"}``
(422 adds ``errors``), 409 "Git Repository is empty." from the Git Data API on an empty
repository, 403 on writes to an archived repository, 422 on a non-fast-forward ref update
without ``force``. Owner and repository names match case-insensitively, as on GitHub.

Faults: :meth:`FakeGitHub.fail_next` makes the next matching requests answer with a chosen
status, headers and body (optionally after applying the request: "it happened, but the reply was
lost"); :meth:`FakeGitHub.rate_limit` sets the rate-limit budget. The fake's own exceptions are
answered with 500 too, but recorded in ``internal_errors``: :meth:`assert_no_internal_errors`
tells a bug in the fake from an outage (``fakes.http``); injected faults are never recorded.

Not modelled: list endpoints and paging, pull requests, webhooks, teams, permissions (the token
owns every org), enforcement of branch-protection rules (they are stored and returned only),
ETags, GraphQL, chunked request bodies. Requests are served one at a time (one lock).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from fakes.http import FakeServer, RecordsInternalErrors

Json = dict[str, Any]

DOCS_URL = "https://docs.github.com/rest"
RATE_LIMIT_DOCS_URL = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ZERO_SHA = "0" * 40

_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
_TOPIC_RULE = (
    "Topics must start with a lowercase letter or number, consist of 50 characters or less, "
    "and can include hyphens."
)
_MAX_TOPICS = 20
_MODES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}
_DEFAULT_MESSAGES = {
    400: "Problems parsing JSON",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    ),
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
}
_REPO_SETTINGS: dict[str, Any] = {
    "homepage": None,
    "has_issues": True,
    "has_projects": True,
    "has_wiki": True,
    "has_discussions": False,
    "is_template": False,
    "allow_squash_merge": True,
    "allow_merge_commit": True,
    "allow_rebase_merge": True,
    "allow_auto_merge": False,
    "allow_update_branch": False,
    "delete_branch_on_merge": False,
    "allow_forking": True,
    "web_commit_signoff_required": False,
}
_PROTECTION_REQUIRED = (
    "required_status_checks",
    "enforce_admins",
    "required_pull_request_reviews",
    "restrictions",
)
_PROTECTION_FLAGS = (
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
)


@dataclass(frozen=True)
class Call:
    """One request the fake answered: method, path (without query), response status, and
    ``at``, the ``time.monotonic()`` when its reply was ready. ``at`` is left out of ``==``,
    so ``Call(method, path, status) in fake.calls`` still matches."""

    method: str
    path: str
    status: int
    at: float = field(default=0.0, compare=False)


class ApiError(Exception):
    """An error the fake answers with, in GitHub's error-body shape."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[Json] | None = None,
        documentation_url: str = DOCS_URL,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url

    def body(self) -> Json:
        out: Json = {
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": str(self.status),
        }
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def _not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, message)


def _invalid(resource: str, field_name: str, message: str | None = None) -> ApiError:
    error: Json = {"resource": resource, "code": "invalid", "field": field_name}
    if message:
        error["message"] = message
    return ApiError(422, "Validation Failed", [error])


def _missing(resource: str, field_name: str) -> ApiError:
    error = {"resource": resource, "code": "missing_field", "field": field_name}
    return ApiError(422, f'Invalid request.\n\n"{field_name}" wasn\'t supplied.', [error])


def _unprocessable(message: str, resource: str, field_name: str) -> ApiError:
    error = {"resource": resource, "code": "custom", "field": field_name, "message": message}
    return ApiError(422, message, [error])


def _archived() -> ApiError:
    return ApiError(403, "Repository was archived so is read-only.")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(when: datetime) -> str:
    if when.utcoffset() == timedelta(0):
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.isoformat()


def _b64(data: bytes) -> str:
    """Base64 in lines of 60 characters, as GitHub returns blob and file content."""
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def _decode_content(content: str, encoding: str, resource: str) -> bytes:
    if encoding in ("utf-8", "utf8"):
        return content.encode("utf-8")
    if encoding != "base64":
        raise _invalid(resource, "encoding", f"encoding {encoding!r} is not utf-8 or base64")
    try:
        return base64.b64decode("".join(content.split()), validate=True)
    except binascii.Error as exc:
        raise _invalid(resource, "content", "content is not valid Base64") from exc


def _check_path(path: Any, resource: str = "Tree") -> str:
    if not isinstance(path, str) or not path:
        raise _missing(resource, "path")
    parts = path.split("/")
    if "\0" in path or any(part in ("", ".", "..", ".git") for part in parts):
        raise _unprocessable("tree.path contains a malformed path component", resource, "path")
    return path


# ---------------------------------------------------------------------------------------------
# git plumbing on one bare repository


class GitError(RuntimeError):
    """A git command failed."""


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


@dataclass(frozen=True)
class Signature:
    """A commit's author or committer."""

    name: str
    email: str
    when: datetime  # timezone-aware

    def to_git(self) -> str:
        offset = self.when.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        return f"@{int(self.when.timestamp())} {sign}{hours:02d}{mins:02d}"

    def to_json(self) -> Json:
        return {"name": self.name, "email": self.email, "date": _iso(self.when)}

    @classmethod
    def from_git(cls, text: str) -> Signature:
        match = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)", text)
        if match is None:
            raise GitError(f"unparsable signature {text!r}")
        name, email, epoch, sign, hours, mins = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(mins))
        tz = timezone(-delta if sign == "-" else delta)
        return cls(name, email, datetime.fromtimestamp(int(epoch), tz))


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a git tree; ``path`` is relative to the tree it was listed from."""

    mode: str
    type: str
    sha: str
    path: str
    size: int | None = None


@dataclass(frozen=True)
class CommitData:
    """A parsed git commit object."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


class Git:
    """git plumbing on one bare repository."""

    _env = _git_env()

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path, branch: str) -> Git:
        path.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["git", "init", "--quiet", "--bare", "--template=", "-b", branch, str(path)]
        subprocess.run(cmd, check=True, capture_output=True, env=cls._env)
        return cls(path)

    def _run(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", f"--git-dir={self.path}", *args],
            input=stdin,
            capture_output=True,
            env={**self._env, **(env or {})},
            check=False,
        )

    def run(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
        proc = self._run(*args, stdin=stdin, env=env)
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def succeeds(self, *args: str) -> bool:
        return self._run(*args).returncode == 0

    def is_empty(self) -> bool:
        return not self.run("for-each-ref", "--count=1", "--format=%(refname)").strip()

    def object_type(self, sha: Any) -> str | None:
        if not isinstance(sha, str) or not _SHA.match(sha):
            return None
        proc = self._run("cat-file", "-t", sha)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def resolve(self, rev: str) -> str | None:
        if not rev or rev.startswith("-"):
            return None
        proc = self._run("rev-parse", "--verify", "--quiet", rev)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def ref(self, name: str) -> str | None:
        """The object a fully qualified ref (``refs/heads/main``) points at, if it exists."""
        if not name.startswith("refs/"):
            return None
        proc = self._run("show-ref", "--verify", "--hash", name)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def refs(self, prefix: str) -> list[tuple[str, str]]:
        out = self.run("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = (line.partition(" ") for line in out.splitlines())
        return [(name, sha) for name, _, sha in pairs]

    def valid_ref_name(self, name: str) -> bool:
        return self.succeeds("check-ref-format", name)

    def write_blob(self, data: bytes) -> str:
        return self.run("hash-object", "-w", "--stdin", stdin=data).strip()

    def read_blob(self, sha: str) -> bytes:
        proc = self._run("cat-file", "blob", sha)
        if proc.returncode != 0:
            raise GitError(proc.stderr.decode(errors="replace"))
        return proc.stdout

    def mktree(self, entries: Iterable[tuple[str, str, str, str]]) -> str:
        data = "".join(f"{mode} {kind} {sha}\t{name}\0" for mode, kind, sha, name in entries)
        return self.run("mktree", "-z", stdin=data.encode("utf-8", errors="surrogateescape"))[:40]

    def ls_tree(self, sha: str, recursive: bool = False, trees: bool = True) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "-l"]
        if recursive:
            args += ["-r", "-t"] if trees else ["-r"]
        out = self.run(*args, sha)
        return [_parse_ls_tree(record) for record in out.split("\0") if record]

    def commit_tree(
        self,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Signature,
        committer: Signature,
    ) -> str:
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": author.to_git(),
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": committer.to_git(),
        }
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        out = self.run("commit-tree", tree, *parent_args, stdin=message.encode(), env=env)
        return out.strip()

    def read_commit(self, sha: str) -> CommitData:
        raw = self.run("cat-file", "commit", sha)
        header, _, message = raw.partition("\n\n")
        fields: dict[str, list[str]] = {}
        for line in header.splitlines():
            if not line.startswith(" "):
                key, _, value = line.partition(" ")
                fields.setdefault(key, []).append(value)
        return CommitData(
            sha=sha,
            tree=fields["tree"][0],
            parents=tuple(fields.get("parent", [])),
            author=Signature.from_git(fields["author"][0]),
            committer=Signature.from_git(fields["committer"][0]),
            message=message,
        )

    def update_ref(self, name: str, new: str, old: str) -> bool:
        """Compare-and-swap ``name`` from ``old`` (ZERO_SHA: must not exist) to ``new``."""
        return self.succeeds("update-ref", name, new, old)

    def delete_ref(self, name: str, old: str) -> bool:
        return self.succeeds("update-ref", "-d", name, old)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.succeeds("merge-base", "--is-ancestor", ancestor, descendant)

    def set_head(self, branch: str) -> None:
        self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def rev_list(self, rev: str) -> list[str]:
        return self.run("rev-list", rev).split() if self.resolve(rev) else []


def _parse_ls_tree(record: str) -> TreeEntry:
    meta, _, path = record.partition("\t")
    mode, kind, sha, size = meta.split()
    return TreeEntry(mode, kind, sha, path, None if size == "-" else int(size))


# ---------------------------------------------------------------------------------------------
# building trees from flat path -> leaf maps


def _flatten(git: Git, tree: str) -> dict[str, TreeEntry]:
    """The leaves (blobs, submodules) under ``tree``, by full path."""
    return {e.path: e for e in git.ls_tree(tree, recursive=True, trees=False)}


def _remove(leaves: dict[str, TreeEntry], path: str) -> None:
    leaves.pop(path, None)
    prefix = path + "/"
    for key in [k for k in leaves if k.startswith(prefix)]:
        del leaves[key]


def _clear_for(leaves: dict[str, TreeEntry], path: str) -> None:
    """Make room for something at ``path``: drop it, what is under it, and files above it."""
    _remove(leaves, path)
    parts = path.split("/")
    for i in range(1, len(parts)):
        leaves.pop("/".join(parts[:i]), None)


def _write_tree(git: Git, leaves: dict[str, TreeEntry]) -> str:
    entries: list[tuple[str, str, str, str]] = []
    subdirs: dict[str, dict[str, TreeEntry]] = {}
    for path, entry in leaves.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = entry
        else:
            entries.append((entry.mode, entry.type, entry.sha, head))
    for name, sub in subdirs.items():
        entries.append(("040000", "tree", _write_tree(git, sub), name))
    return git.mktree(entries)


def _apply_tree_item(git: Git, leaves: dict[str, TreeEntry], item: Any) -> None:
    """Apply one element of a create-tree request's ``tree`` array to ``leaves``."""
    if not isinstance(item, dict):
        raise _invalid("Tree", "tree", "tree entries must be objects")
    path = _check_path(item.get("path"))
    mode = item.get("mode")
    if mode not in _MODES:
        raise _invalid("Tree", "mode", f"tree.mode {mode!r} is not a valid mode")
    kind = item.get("type", _MODES[mode])
    if kind != _MODES[mode]:
        raise _invalid("Tree", "type", f"tree.type {kind!r} does not match mode {mode}")
    if "content" in item and item.get("sha") is not None:
        raise _unprocessable("Must supply either tree.sha or tree.content, not both", "Tree", "sha")
    if "content" in item:
        _place_content(git, leaves, path, mode, kind, item["content"])
    elif "sha" in item and item["sha"] is None:
        _remove(leaves, path)
    elif "sha" in item:
        _place_sha(git, leaves, path, mode, kind, item["sha"])
    else:
        raise _missing("Tree", "sha")


def _place_content(
    git: Git, leaves: dict[str, TreeEntry], path: str, mode: str, kind: str, content: Any
) -> None:
    if kind != "blob" or not isinstance(content, str):
        raise _invalid("Tree", "content", "tree.content is only for blobs and must be a string")
    _clear_for(leaves, path)
    leaves[path] = TreeEntry(mode, kind, git.write_blob(content.encode("utf-8")), path)


def _place_sha(
    git: Git, leaves: dict[str, TreeEntry], path: str, mode: str, kind: str, sha: Any
) -> None:
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise _invalid("Tree", "sha", f"tree.sha {sha!r} is not a valid object id")
    if kind != "commit" and git.object_type(sha) != kind:
        raise _unprocessable(f"tree.sha {sha} is not a valid {kind}", "Tree", "sha")
    _clear_for(leaves, path)
    if kind == "tree":
        for sub, entry in _flatten(git, sha).items():
            leaves[f"{path}/{sub}"] = entry
    else:
        leaves[path] = TreeEntry(mode, kind, sha, path)


# ---------------------------------------------------------------------------------------------
# the API's state and handlers (no HTTP here)


@dataclass
class Owner:
    """A user or organisation account."""

    login: str
    id: int
    type: str  # "User" or "Organization"


@dataclass
class Repo:
    """A repository's metadata; its git data lives in the bare repository."""

    id: int
    owner: Owner
    name: str
    private: bool
    visibility: str
    description: str | None
    default_branch: str
    created_at: str
    updated_at: str
    pushed_at: str
    archived: bool = False
    topics: list[str] = field(default_factory=list)
    settings: Json = field(default_factory=lambda: dict(_REPO_SETTINGS))
    protections: dict[str, Json] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


class RateLimit:
    """The core rate-limit budget, reported in ``X-RateLimit-*`` headers."""

    def __init__(self, limit: int = 5000) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.remaining = limit
        self.reset_at = time.time() + 3600

    def consume(self) -> bool:
        """Spend one request; False when the budget is exhausted (GitHub answers 403)."""
        with self._lock:
            if time.time() >= self.reset_at:
                self.remaining = self.limit
                self.reset_at = time.time() + 3600
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def set(self, remaining: int, reset_at: float, limit: int | None = None) -> None:
        with self._lock:
            self.limit = self.limit if limit is None else limit
            self.remaining = remaining
            self.reset_at = reset_at

    def json(self) -> Json:
        with self._lock:
            return {
                "limit": self.limit,
                "remaining": self.remaining,
                "reset": int(self.reset_at),
                "used": max(self.limit - self.remaining, 0),
                "resource": "core",
            }

    def headers(self) -> dict[str, str]:
        data = self.json()
        return {
            "X-RateLimit-Limit": str(data["limit"]),
            "X-RateLimit-Remaining": str(data["remaining"]),
            "X-RateLimit-Reset": str(data["reset"]),
            "X-RateLimit-Used": str(data["used"]),
            "X-RateLimit-Resource": "core",
        }


@dataclass(frozen=True)
class Request:
    """A parsed request, with the route's path parameters (already percent-decoded)."""

    method: str
    path: str
    query: dict[str, str]
    body: Json
    args: dict[str, str]


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


_HandlerFn = Callable[["GitHubApi", Request], Response]
_ROUTES: list[tuple[str, re.Pattern[str], _HandlerFn]] = []
_R = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def _route(method: str, pattern: str) -> Callable[[_HandlerFn], _HandlerFn]:
    regex = re.compile(f"^{pattern}$")

    def register(fn: _HandlerFn) -> _HandlerFn:
        _ROUTES.append((method, regex, fn))
        return fn

    return register


class GitHubApi:
    """The fake's state (owners, repositories) and one handler per endpoint."""

    def __init__(self, base_url: str, root: Path, user: str, orgs: Sequence[str]) -> None:
        self.base_url = base_url
        self.root = root
        self.lock = threading.RLock()
        self.user = Owner(user, 1, "User")
        self.owners = {user.lower(): self.user}
        for i, org in enumerate(orgs):
            self.owners[org.lower()] = Owner(org, 1001 + i, "Organization")
        self.repos: dict[str, Repo] = {}
        self.rate = RateLimit()
        self._next_repo_id = 100001

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, query: dict[str, str], body: Json) -> Response:
        for route_method, regex, fn in _ROUTES:
            match = regex.match(path)
            if match and route_method == method:
                args = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                with self.lock:
                    return fn(self, Request(method, path, query, body, args))
        raise _not_found()

    # -- lookups ---------------------------------------------------------------------------

    def owner(self, login: str) -> Owner:
        found = self.owners.get(login.lower())
        if found is None:
            raise _not_found()
        return found

    def org(self, login: str) -> Owner:
        found = self.owner(login)
        if found.type != "Organization":
            raise _not_found()
        return found

    def find_repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo(self, req: Request) -> Repo:
        found = self.find_repo(req.args["owner"], req.args["repo"])
        if found is None:
            raise _not_found()
        return found

    def writable_repo(self, req: Request) -> Repo:
        found = self.repo(req)
        if found.archived:
            raise _archived()
        return found

    def repo_path(self, repo: Repo) -> Path:
        return self.root / repo.owner.login / f"{repo.name}.git"

    def git(self, repo: Repo) -> Git:
        return Git(self.repo_path(repo))

    def git_data(self, req: Request, write: bool) -> tuple[Repo, Git]:
        """The repository and its git, as the Git Data API sees them (409 when empty)."""
        repo = self.writable_repo(req) if write else self.repo(req)
        git = self.git(repo)
        if git.is_empty():
            raise ApiError(409, "Git Repository is empty.")
        return repo, git

    def branch_head(self, repo: Repo, git: Git, branch: str) -> str:
        sha = git.ref(f"refs/heads/{branch}")
        if sha is None:
            raise _not_found("Branch not found")
        return sha

    # -- URLs and JSON shapes ----------------------------------------------------------------

    def api_url(self, repo: Repo, suffix: str = "") -> str:
        return f"{self.base_url}/repos/{repo.full_name}{suffix}"

    @staticmethod
    def html_url(repo: Repo, suffix: str = "") -> str:
        return f"https://github.com/{repo.full_name}{suffix}"

    def owner_json(self, owner: Owner) -> Json:
        kind = "users" if owner.type == "User" else "orgs"
        return {
            "login": owner.login,
            "id": owner.id,
            "node_id": f"{'U' if owner.type == 'User' else 'O'}_{owner.id}",
            "type": owner.type,
            "site_admin": False,
            "url": f"{self.base_url}/{kind}/{owner.login}",
            "html_url": f"https://github.com/{owner.login}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{owner.id}?v=4",
            "repos_url": f"{self.base_url}/{kind}/{owner.login}/repos",
        }

    def user_json(self, owner: Owner) -> Json:
        repos = [r for r in self.repos.values() if r.owner is owner]
        return {
            **self.owner_json(owner),
            "name": owner.login,
            "email": None,
            "public_repos": sum(not r.private for r in repos),
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
        }

    def org_json(self, owner: Owner) -> Json:
        return {**self.user_json(owner), "description": None, "is_verified": False}

    def repo_json(self, repo: Repo) -> Json:
        api = self.api_url(repo)
        out: Json = {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.owner_json(repo.owner),
            "private": repo.private,
            "visibility": repo.visibility,
            "description": repo.description,
            "fork": False,
            "url": api,
            "html_url": self.html_url(repo),
            "clone_url": self.repo_path(repo).as_uri(),
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "svn_url": self.html_url(repo),
            "mirror_url": None,
            "default_branch": repo.default_branch,
            "archived": repo.archived,
            "disabled": False,
            "topics": list(repo.topics),
            "created_at": repo.created_at,
            "updated_at": repo.updated_at,
            "pushed_at": repo.pushed_at,
            "size": 0,
            "language": None,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "open_issues_count": 0,
            "permissions": {
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "branches_url": f"{api}/branches{{/branch}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            **repo.settings,
        }
        if repo.owner.type == "Organization":
            out["organization"] = self.owner_json(repo.owner)
        return out

    def tree_entry_json(self, repo: Repo, entry: TreeEntry) -> Json:
        out: Json = {"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.type == "blob":
            out["size"] = entry.size
        if entry.type in ("blob", "tree"):
            out["url"] = self.api_url(repo, f"/git/{entry.type}s/{entry.sha}")
        return out

    def tree_json(self, repo: Repo, git: Git, sha: str, recursive: bool) -> Json:
        entries = git.ls_tree(sha, recursive=recursive)
        return {
            "sha": sha,
            "url": self.api_url(repo, f"/git/trees/{sha}"),
            "tree": [self.tree_entry_json(repo, e) for e in entries],
            "truncated": False,
        }

    def commit_json(self, repo: Repo, commit: CommitData) -> Json:
        return {
            "sha": commit.sha,
            "node_id": f"C_{commit.sha}",
            "url": self.api_url(repo, f"/git/commits/{commit.sha}"),
            "html_url": self.html_url(repo, f"/commit/{commit.sha}"),
            "author": commit.author.to_json(),
            "committer": commit.committer.to_json(),
            "message": commit.message,
            "tree": {"sha": commit.tree, "url": self.api_url(repo, f"/git/trees/{commit.tree}")},
            "parents": [
                {
                    "sha": p,
                    "url": self.api_url(repo, f"/git/commits/{p}"),
                    "html_url": self.html_url(repo, f"/commit/{p}"),
                }
                for p in commit.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        }

    def ref_json(self, repo: Repo, git: Git, name: str, sha: str) -> Json:
        kind = git.object_type(sha) or "commit"
        return {
            "ref": name,
            "node_id": f"REF_{repo.id}_{name}",
            "url": self.api_url(repo, f"/git/{quote(name)}"),
            "object": {
                "sha": sha,
                "type": kind,
                "url": self.api_url(repo, f"/git/{kind}s/{sha}"),
            },
        }

    def branch_json(self, repo: Repo, git: Git, name: str, sha: str) -> Json:
        commit = self.commit_json(repo, git.read_commit(sha))
        protection = repo.protections.get(name)
        checks = (protection or {}).get("required_status_checks") or {}
        return {
            "name": name,
            "commit": {
                "sha": sha,
                "node_id": commit["node_id"],
                "url": self.api_url(repo, f"/commits/{sha}"),
                "html_url": commit["html_url"],
                "commit": {k: v for k, v in commit.items() if k not in ("sha", "node_id")},
                "parents": commit["parents"],
            },
            "_links": {
                "self": self.api_url(repo, f"/branches/{quote(name)}"),
                "html": self.html_url(repo, f"/tree/{name}"),
            },
            "protected": protection is not None,
            "protection": {
                "enabled": protection is not None,
                "required_status_checks": {
                    "enforcement_level": "non_admins" if checks else "off",
                    "contexts": checks.get("contexts", []),
                    "checks": checks.get("checks", []),
                },
            },
            "protection_url": self.api_url(repo, f"/branches/{quote(name)}/protection"),
        }

    def content_json(self, repo: Repo, git: Git, ref: str, entry: TreeEntry, full: bool) -> Json:
        kind = {"tree": "dir", "commit": "submodule"}.get(entry.type, "file")
        if entry.mode == "120000":
            kind = "symlink"
        url = self.api_url(repo, f"/contents/{quote(entry.path)}?ref={quote(ref, safe='')}")
        git_url = self.api_url(repo, f"/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}")
        html_url = self.html_url(repo, f"/{'tree' if kind == 'dir' else 'blob'}/{ref}/{entry.path}")
        raw = f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{entry.path}"
        out: Json = {
            "type": kind,
            "size": entry.size or 0,
            "name": entry.path.rpartition("/")[2],
            "path": entry.path,
            "sha": entry.sha,
            "url": url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": raw if kind == "file" else None,
            "_links": {"self": url, "git": git_url, "html": html_url},
        }
        if full and kind == "file":
            out["content"] = _b64(git.read_blob(entry.sha))
            out["encoding"] = "base64"
        if full and kind == "symlink":
            out["target"] = git.read_blob(entry.sha).decode("utf-8", errors="replace")
        return out

    def user_signature(self) -> Signature:
        login = self.user.login
        return Signature(login, f"{self.user.id}+{login}@users.noreply.github.com", _now())

    # -- users and orgs --------------------------------------------------------------------

    @_route("GET", r"/user")
    def get_authenticated_user(self, req: Request) -> Response:
        return Response(200, self.user_json(self.user))

    @_route("GET", r"/users/(?P<login>[^/]+)")
    def get_user(self, req: Request) -> Response:
        return Response(200, self.user_json(self.owner(req.args["login"])))

    @_route("GET", r"/orgs/(?P<org>[^/]+)")
    def get_org(self, req: Request) -> Response:
        return Response(200, self.org_json(self.org(req.args["org"])))

    @_route("GET", r"/rate_limit")
    def get_rate_limit(self, req: Request) -> Response:
        core = self.rate.json()
        return Response(200, {"resources": {"core": core}, "rate": core})

    # -- repositories ----------------------------------------------------------------------

    @_route("POST", r"/orgs/(?P<org>[^/]+)/repos")
    def create_org_repo(self, req: Request) -> Response:
        return self.create_repo(self.org(req.args["org"]), req.body)

    @_route("POST", r"/user/repos")
    def create_user_repo(self, req: Request) -> Response:
        return self.create_repo(self.user, req.body)

    def create_repo(self, owner: Owner, body: Json) -> Response:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise _missing("Repository", "name")
        self._check_repo_name(owner, name)
        private, visibility = _visibility(owner, body, (False, "public"))
        now = _iso(_now())
        repo = Repo(
            id=self._next_repo_id,
            owner=owner,
            name=name,
            private=private,
            visibility=visibility,
            description=_optional_str(body, "description", "Repository"),
            default_branch="main",
            created_at=now,
            updated_at=now,
            pushed_at=now,
        )
        repo.settings.update(_settings(body))
        self._next_repo_id += 1
        git = Git.init(self.repo_path(repo), repo.default_branch)
        if body.get("auto_init"):
            self._initial_commit(repo, git)
        self.repos[repo.full_name.lower()] = repo
        return Response(201, self.repo_json(repo), {"Location": self.api_url(repo)})

    def _check_repo_name(self, owner: Owner, name: str, current: Repo | None = None) -> None:
        if not _REPO_NAME.match(name) or name in (".", ".."):
            raise ApiError(
                422,
                "Repository creation failed.",
                [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name is invalid",
                    }
                ],
            )
        existing = self.find_repo(owner.login, name)
        if existing is not None and existing is not current:
            raise ApiError(
                422,
                "Repository creation failed.",
                [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
            )

    def _initial_commit(self, repo: Repo, git: Git) -> None:
        blob = git.write_blob(f"# {repo.name}\n".encode())
        tree = git.mktree([("100644", "blob", blob, "README.md")])
        author = self.user_signature()
        commit = git.commit_tree(tree, [], "Initial commit", author, author)
        git.update_ref(f"refs/heads/{repo.default_branch}", commit, ZERO_SHA)

    @_route("GET", _R)
    def get_repo(self, req: Request) -> Response:
        return Response(200, self.repo_json(self.repo(req)))

    @_route("PATCH", _R)
    def update_repo(self, req: Request) -> Response:
        repo, body = self.repo(req), req.body
        if repo.archived and body.get("archived") is not False:
            raise _archived()
        name = body.get("name", repo.name)
        if not isinstance(name, str):
            raise _invalid("Repository", "name")
        if name != repo.name:
            self._check_repo_name(repo.owner, name, current=repo)
        private, visibility = _visibility(repo.owner, body, (repo.private, repo.visibility))
        description = _optional_str(body, "description", "Repository", repo.description)
        default_branch = self._checked_default_branch(repo, body.get("default_branch"))
        archived = body.get("archived", repo.archived)
        if not isinstance(archived, bool):
            raise _invalid("Repository", "archived")
        repo.settings.update(_settings(body))
        if name != repo.name:
            self._rename(repo, name)
        repo.private, repo.visibility, repo.description = private, visibility, description
        repo.archived, repo.updated_at = archived, _iso(_now())
        if default_branch != repo.default_branch:
            repo.default_branch = default_branch
            self.git(repo).set_head(default_branch)
        return Response(200, self.repo_json(repo))

    def _checked_default_branch(self, repo: Repo, branch: Any) -> str:
        if branch is None or branch == repo.default_branch:
            return repo.default_branch
        git = self.git(repo)
        if not isinstance(branch, str) or (
            not git.is_empty() and git.ref(f"refs/heads/{branch}") is None
        ):
            raise _invalid("Repository", "default_branch", f"Branch {branch!r} does not exist")
        return branch

    def _rename(self, repo: Repo, name: str) -> None:
        old_path = self.repo_path(repo)
        del self.repos[repo.full_name.lower()]
        repo.name = name
        old_path.rename(self.repo_path(repo))
        self.repos[repo.full_name.lower()] = repo

    @_route("DELETE", _R)
    def delete_repo(self, req: Request) -> Response:
        repo = self.repo(req)
        shutil.rmtree(self.repo_path(repo))
        del self.repos[repo.full_name.lower()]
        return Response(204)

    @_route("GET", _R + r"/topics")
    def get_topics(self, req: Request) -> Response:
        return Response(200, {"names": list(self.repo(req).topics)})

    @_route("PUT", _R + r"/topics")
    def replace_topics(self, req: Request) -> Response:
        repo = self.writable_repo(req)
        names = req.body.get("names")
        if not isinstance(names, list):
            raise _missing("Repository", "names")
        for name in names:
            if not isinstance(name, str) or not _TOPIC.match(name):
                raise _invalid("Repository", "topics", _TOPIC_RULE)
        unique = list(dict.fromkeys(names))
        if len(unique) > _MAX_TOPICS:
            raise _invalid(
                "Repository", "topics", f"A repository cannot have more than {_MAX_TOPICS} topics."
            )
        repo.topics = unique
        return Response(200, {"names": list(unique)})

    # -- Git Data: blobs, trees, commits ----------------------------------------------------

    @_route("POST", _R + r"/git/blobs")
    def create_blob(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=True)
        content = req.body.get("content")
        if not isinstance(content, str):
            raise _missing("Blob", "content")
        encoding = req.body.get("encoding", "utf-8")
        sha = git.write_blob(_decode_content(content, str(encoding), "Blob"))
        url = self.api_url(repo, f"/git/blobs/{sha}")
        return Response(201, {"sha": sha, "url": url}, {"Location": url})

    @_route("GET", _R + r"/git/blobs/(?P<sha>[^/]+)")
    def get_blob(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=False)
        sha = req.args["sha"]
        if git.object_type(sha) != "blob":
            raise _not_found()
        data = git.read_blob(sha)
        return Response(
            200,
            {
                "sha": sha,
                "node_id": f"B_{sha}",
                "size": len(data),
                "url": self.api_url(repo, f"/git/blobs/{sha}"),
                "content": _b64(data),
                "encoding": "base64",
            },
        )

    @_route("POST", _R + r"/git/trees")
    def create_tree(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=True)
        items = req.body.get("tree")
        if not isinstance(items, list):
            raise _missing("Tree", "tree")
        base = req.body.get("base_tree")
        if base is not None and git.object_type(base) != "tree":
            raise _unprocessable(f"base_tree {base} is not a valid tree", "Tree", "base_tree")
        leaves = _flatten(git, base) if base is not None else {}
        for item in items:
            _apply_tree_item(git, leaves, item)
        payload = self.tree_json(repo, git, _write_tree(git, leaves), recursive=False)
        return Response(201, payload, {"Location": payload["url"]})

    @_route("GET", _R + r"/git/trees/(?P<sha>.+)")
    def get_tree(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=False)
        sha = git.resolve(f"{req.args['sha']}^{{tree}}")
        if sha is None:
            raise _not_found()
        return Response(200, self.tree_json(repo, git, sha, recursive="recursive" in req.query))

    @_route("POST", _R + r"/git/commits")
    def create_commit(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=True)
        body = req.body
        message = body.get("message")
        if not isinstance(message, str):
            raise _missing("Commit", "message")
        tree = body.get("tree")
        if not isinstance(tree, str):
            raise _missing("Commit", "tree")
        if git.object_type(tree) != "tree":
            raise _unprocessable("Tree SHA does not exist", "Commit", "tree")
        parents = body.get("parents", [])
        if not isinstance(parents, list):
            raise _invalid("Commit", "parents")
        for parent in parents:
            if git.object_type(parent) != "commit":
                raise _unprocessable(
                    "Parent SHA does not exist or is not a commit object", "Commit", "parents"
                )
        author = _signature(body.get("author"), "author", self.user_signature())
        committer = _signature(body.get("committer"), "committer", author)
        sha = git.commit_tree(tree, parents, message, author, committer)
        payload = self.commit_json(repo, git.read_commit(sha))
        return Response(201, payload, {"Location": payload["url"]})

    @_route("GET", _R + r"/git/commits/(?P<sha>[^/]+)")
    def get_commit(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=False)
        sha = req.args["sha"]
        if git.object_type(sha) != "commit":
            raise _not_found()
        return Response(200, self.commit_json(repo, git.read_commit(sha)))

    # -- Git Data: references --------------------------------------------------------------

    @_route("GET", _R + r"/git/ref/(?P<ref>.+)")
    def get_ref(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=False)
        name = f"refs/{req.args['ref']}"
        sha = git.ref(name)
        if sha is None:
            raise _not_found()
        return Response(200, self.ref_json(repo, git, name, sha))

    @_route("GET", _R + r"/git/refs/(?P<ref>.+)")
    def get_refs(self, req: Request) -> Response:
        """Legacy form: the ref itself on an exact match, else the refs under it as a list."""
        repo, git = self.git_data(req, write=False)
        name = f"refs/{req.args['ref']}"
        sha = git.ref(name)
        if sha is not None:
            return Response(200, self.ref_json(repo, git, name, sha))
        matches = [self.ref_json(repo, git, n, s) for n, s in git.refs(name + "/")]
        if not matches:
            raise _not_found()
        return Response(200, matches)

    @_route("POST", _R + r"/git/refs")
    def create_ref(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=True)
        name, sha = req.body.get("ref"), req.body.get("sha")
        if not isinstance(name, str):
            raise _missing("Reference", "ref")
        if not isinstance(sha, str):
            raise _missing("Reference", "sha")
        if not name.startswith("refs/") or name.count("/") < 2:
            raise _unprocessable(
                "Reference name must start with 'refs/' and have at least two slashes.",
                "Reference",
                "ref",
            )
        if not git.valid_ref_name(name):
            raise _unprocessable(f"{name} is not a valid ref name.", "Reference", "ref")
        if git.object_type(sha) is None:
            raise _unprocessable("Object does not exist", "Reference", "sha")
        if not git.update_ref(name, sha, ZERO_SHA):
            raise _unprocessable("Reference already exists", "Reference", "ref")
        repo.pushed_at = _iso(_now())
        payload = self.ref_json(repo, git, name, sha)
        return Response(201, payload, {"Location": payload["url"]})

    @_route("PATCH", _R + r"/git/refs/(?P<ref>.+)")
    def update_ref(self, req: Request) -> Response:
        repo, git = self.git_data(req, write=True)
        name, sha = f"refs/{req.args['ref']}", req.body.get("sha")
        force = req.body.get("force", False)
        if not isinstance(sha, str):
            raise _missing("Reference", "sha")
        if not isinstance(force, bool):
            raise _invalid("Reference", "force")
        current = git.ref(name)
        if current is None:
            raise _unprocessable("Reference does not exist", "Reference", "ref")
        if git.object_type(sha) is None:
            raise _unprocessable("Object does not exist", "Reference", "sha")
        if not force and current != sha and not git.is_ancestor(current, sha):
            raise _unprocessable("Update is not a fast forward", "Reference", "sha")
        if not git.update_ref(name, sha, current):
            raise _unprocessable("Reference cannot be updated", "Reference", "ref")
        repo.pushed_at = _iso(_now())
        return Response(200, self.ref_json(repo, git, name, sha))

    @_route("DELETE", _R + r"/git/refs/(?P<ref>.+)")
    def delete_ref(self, req: Request) -> Response:
        _, git = self.git_data(req, write=True)
        name = f"refs/{req.args['ref']}"
        current = git.ref(name)
        if current is None or not git.delete_ref(name, current):
            raise _unprocessable("Reference does not exist", "Reference", "ref")
        return Response(204)

    # -- branches and protection -----------------------------------------------------------

    @_route("GET", _R + r"/branches/(?P<branch>.+)/protection")
    def get_protection(self, req: Request) -> Response:
        repo = self.repo(req)
        branch = req.args["branch"]
        self.branch_head(repo, self.git(repo), branch)
        if branch not in repo.protections:
            raise _not_found("Branch not protected")
        return Response(200, repo.protections[branch])

    @_route("PUT", _R + r"/branches/(?P<branch>.+)/protection")
    def put_protection(self, req: Request) -> Response:
        repo = self.writable_repo(req)
        branch = req.args["branch"]
        self.branch_head(repo, self.git(repo), branch)
        base = self.api_url(repo, f"/branches/{quote(branch)}/protection")
        repo.protections[branch] = _protection_json(repo, req.body, base)
        return Response(200, repo.protections[branch])

    @_route("DELETE", _R + r"/branches/(?P<branch>.+)/protection")
    def delete_protection(self, req: Request) -> Response:
        repo = self.writable_repo(req)
        branch = req.args["branch"]
        self.branch_head(repo, self.git(repo), branch)
        if repo.protections.pop(branch, None) is None:
            raise _not_found("Branch not protected")
        return Response(204)

    @_route("GET", _R + r"/branches/(?P<branch>.+)")
    def get_branch(self, req: Request) -> Response:
        repo = self.repo(req)
        git = self.git(repo)
        branch = req.args["branch"]
        sha = self.branch_head(repo, git, branch)
        return Response(200, self.branch_json(repo, git, branch, sha))

    # -- contents --------------------------------------------------------------------------

    @_route("GET", _R + r"/contents(?:/(?P<path>.*))?")
    def get_contents(self, req: Request) -> Response:
        repo = self.repo(req)
        git = self.git(repo)
        if git.is_empty():
            raise _not_found("This repository is empty.")
        ref = req.query.get("ref") or repo.default_branch
        commit = _resolve_commit(git, ref)
        if commit is None:
            raise _not_found(f"No commit found for the ref {ref}")
        path = req.args.get("path", "").strip("/")
        entry = _lookup(git, commit, path)
        if entry is None:
            raise _not_found()
        if entry.type != "tree":
            return Response(200, self.content_json(repo, git, ref, entry, full=True))
        children = [
            TreeEntry(e.mode, e.type, e.sha, f"{path}/{e.path}" if path else e.path, e.size)
            for e in git.ls_tree(entry.sha)
        ]
        return Response(200, [self.content_json(repo, git, ref, e, full=False) for e in children])

    @_route("PUT", _R + r"/contents/(?P<path>.+)")
    def put_contents(self, req: Request) -> Response:
        repo, body = self.writable_repo(req), req.body
        git = self.git(repo)
        path = _check_path(req.args["path"].strip("/"), "Content")
        message, content = body.get("message"), body.get("content")
        if not isinstance(message, str):
            raise _missing("Content", "message")
        if not isinstance(content, str):
            raise _missing("Content", "content")
        data = _decode_content(content, "base64", "Content")
        branch = body.get("branch") or repo.default_branch
        head = git.ref(f"refs/heads/{branch}")
        if head is None and not git.is_empty():
            raise _not_found(f"Branch {branch} not found")
        leaves = _flatten(git, git.read_commit(head).tree) if head else {}
        existing = leaves.get(path)
        if existing is not None and body.get("sha") is None:
            raise _missing("Content", "sha")
        if existing is not None and body.get("sha") != existing.sha:
            raise ApiError(409, f"{path} does not match {body.get('sha')}")
        mode = existing.mode if existing is not None else "100644"
        _clear_for(leaves, path)
        leaves[path] = TreeEntry(mode, "blob", git.write_blob(data), path, len(data))
        committer = _signature(body.get("committer"), "committer", self.user_signature())
        author = _signature(body.get("author"), "author", committer)
        tree = _write_tree(git, leaves)
        sha = git.commit_tree(tree, [head] if head else [], message, author, committer)
        if not git.update_ref(f"refs/heads/{branch}", sha, head or ZERO_SHA):
            raise ApiError(409, f"Could not update refs/heads/{branch}")
        repo.pushed_at = _iso(_now())
        payload = {
            "content": self.content_json(repo, git, branch, leaves[path], full=False),
            "commit": self.commit_json(repo, git.read_commit(sha)),
        }
        return Response(201 if existing is None else 200, payload)


def _visibility(owner: Owner, body: Json, current: tuple[bool, str]) -> tuple[bool, str]:
    visibility, private = body.get("visibility"), body.get("private")
    if visibility is not None:
        allowed = (
            ("public", "private", "internal")
            if owner.type == "Organization"
            else (
                "public",
                "private",
            )
        )
        if visibility not in allowed:
            raise _invalid("Repository", "visibility", f"visibility must be one of {allowed}")
        return visibility != "public", str(visibility)
    if private is not None:
        if not isinstance(private, bool):
            raise _invalid("Repository", "private")
        return private, "private" if private else "public"
    return current


def _optional_str(body: Json, key: str, resource: str, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise _invalid(resource, key)
    return value


def _settings(body: Json) -> Json:
    """The repository settings (``has_issues``, ``homepage``, ...) present in ``body``."""
    out: Json = {}
    for key, default in _REPO_SETTINGS.items():
        if body.get(key) is not None:
            expected = str if key == "homepage" else type(default)
            if not isinstance(body[key], expected):
                raise _invalid("Repository", key)
            out[key] = body[key]
    return out


def _signature(value: Any, field_name: str, default: Signature) -> Signature:
    if value is None:
        return default
    if not isinstance(value, dict):
        raise _invalid("Commit", field_name)
    name, email = value.get("name"), value.get("email")
    if not isinstance(name, str) or not name.strip():
        raise _missing("Commit", f"{field_name}.name")
    if not isinstance(email, str) or not email.strip():
        raise _missing("Commit", f"{field_name}.email")
    when = default.when
    if value.get("date") is not None:
        try:
            when = datetime.fromisoformat(str(value["date"]))
        except ValueError as exc:
            raise _invalid("Commit", f"{field_name}.date", "date is not ISO 8601") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return Signature(name, email, when)


def _resolve_commit(git: Git, ref: str) -> str | None:
    for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
        sha = git.resolve(f"{candidate}^{{commit}}")
        if sha is not None:
            return sha
    return None


def _lookup(git: Git, commit: str, path: str) -> TreeEntry | None:
    root = git.read_commit(commit).tree
    if not path:
        return TreeEntry("040000", "tree", root, "")
    parent, _, name = path.rpartition("/")
    parent_tree = git.resolve(f"{commit}:{parent}") if parent else root
    if parent_tree is None or git.object_type(parent_tree) != "tree":
        return None
    for entry in git.ls_tree(parent_tree):
        if entry.path == name:
            return TreeEntry(entry.mode, entry.type, entry.sha, path, entry.size)
    return None


def _protection_json(repo: Repo, body: Json, base: str) -> Json:
    """Validate a PUT protection body (all four required keys, nullable) and render it."""
    for key in _PROTECTION_REQUIRED:
        if key not in body:
            raise _missing("Protection", key)
    out: Json = {"url": base}
    checks = _status_checks(body["required_status_checks"], base)
    if checks is not None:
        out["required_status_checks"] = checks
    reviews = body["required_pull_request_reviews"]
    if reviews is not None:
        out["required_pull_request_reviews"] = _reviews(reviews, base)
    restrictions = body["restrictions"]
    if restrictions is not None:
        out["restrictions"] = _restrictions(repo, restrictions, base)
    enforce_admins = body["enforce_admins"]
    if enforce_admins is not None and not isinstance(enforce_admins, bool):
        raise _invalid("Protection", "enforce_admins")
    out["required_signatures"] = {"url": f"{base}/required_signatures", "enabled": False}
    out["enforce_admins"] = {"url": f"{base}/enforce_admins", "enabled": bool(enforce_admins)}
    for flag in _PROTECTION_FLAGS:
        value = body.get(flag)
        if value is not None and not isinstance(value, bool):
            raise _invalid("Protection", flag)
        out[flag] = {"enabled": bool(value)}
    return out


def _status_checks(value: Any, base: str) -> Json | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("strict"), bool):
        raise _missing("Protection", "required_status_checks.strict")
    contexts, checks = value.get("contexts"), value.get("checks")
    if checks is not None:
        if not isinstance(checks, list) or not all(
            isinstance(c, dict) and isinstance(c.get("context"), str) for c in checks
        ):
            raise _invalid("Protection", "required_status_checks.checks")
        checks = [{"context": c["context"], "app_id": c.get("app_id")} for c in checks]
        contexts = [c["context"] for c in checks]
    elif isinstance(contexts, list) and all(isinstance(c, str) for c in contexts):
        checks = [{"context": c, "app_id": None} for c in contexts]
    else:
        raise _missing("Protection", "required_status_checks.contexts")
    return {
        "url": f"{base}/required_status_checks",
        "strict": value["strict"],
        "contexts": contexts,
        "checks": checks,
        "contexts_url": f"{base}/required_status_checks/contexts",
    }


def _reviews(value: Any, base: str) -> Json:
    if not isinstance(value, dict):
        raise _invalid("Protection", "required_pull_request_reviews")
    count = value.get("required_approving_review_count", 1)
    if not isinstance(count, int) or not 0 <= count <= 6:
        raise _invalid("Protection", "required_approving_review_count")
    out: Json = {
        "url": f"{base}/required_pull_request_reviews",
        "dismiss_stale_reviews": bool(value.get("dismiss_stale_reviews", False)),
        "require_code_owner_reviews": bool(value.get("require_code_owner_reviews", False)),
        "required_approving_review_count": count,
        "require_last_push_approval": bool(value.get("require_last_push_approval", False)),
    }
    for key in ("dismissal_restrictions", "bypass_pull_request_allowances"):
        if isinstance(value.get(key), dict):
            out[key] = _actors(value[key])
    return out


def _restrictions(repo: Repo, value: Any, base: str) -> Json:
    if repo.owner.type != "Organization":
        raise _unprocessable(
            "Only organization repositories can have users and team restrictions",
            "Protection",
            "restrictions",
        )
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("users"), list)
        or not isinstance(value.get("teams"), list)
    ):
        raise _missing("Protection", "restrictions.users")
    return {"url": f"{base}/restrictions", **_actors(value)}


def _actors(value: Json) -> Json:
    return {
        "users": [{"login": u, "type": "User"} for u in value.get("users") or []],
        "teams": [{"slug": t, "name": t} for t in value.get("teams") or []],
        "apps": [{"slug": a} for a in value.get("apps") or []],
    }


# ---------------------------------------------------------------------------------------------
# HTTP server and the public test API


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Json | None
    apply: bool

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.pattern.search(path))

    def response(self) -> Response:
        body = self.body
        if body is None:
            message = _DEFAULT_MESSAGES.get(self.status, "Error")
            body = {"message": message, "documentation_url": DOCS_URL}
        return Response(self.status, body, dict(self.headers))


class FakeGitHub(RecordsInternalErrors):
    """A GitHub REST API on ``127.0.0.1`` backed by bare git repositories under ``root``.

    Use as a context manager (or ``start()``/``stop()``) and point PyGithub at ``base_url``::

        with FakeGitHub(orgs=["acme"], user="portico-bot") as fake:
            gh = Github(auth=Auth.Token(fake.token), base_url=fake.base_url, retry=None)
            gh.get_organization("acme").create_repo("svc", auto_init=True)
            assert fake.repos() == ["acme/svc"]
    """

    def __init__(
        self,
        orgs: Sequence[str] = ("acme",),
        user: str = "portico-bot",
        token: str = "test-token",
        root: Path | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.user = user
        self.orgs = list(orgs)
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="fake-github-")) if root is None else root
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._server: FakeServer | None = None
        self._api: GitHubApi | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        if self._server is not None:
            return self
        self._server = FakeServer(self, "GitHub.com")
        port = self._server.server_address[1]
        self._api = GitHubApi(f"http://127.0.0.1:{port}", self.root, self.user, self.orgs)
        self._server.serve_in_background(f"fake-github-{port}")
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def api(self) -> GitHubApi:
        if self._api is None:
            raise RuntimeError("FakeGitHub is not started")
        return self._api

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash), PyGithub's ``base_url``."""
        return self.api.base_url

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Json | None = None,
        apply: bool = False,
    ) -> None:
        """Answer the next ``times`` authenticated requests matching ``method`` ("*": any) and
        ``re.search(path_regex, path)`` with ``status`` instead.

        ``headers`` override the usual ones (e.g. ``X-RateLimit-Remaining: 0``, ``Retry-After``);
        ``body`` defaults to ``{"message": <GitHub's message for status>, "documentation_url"}``.
        With ``apply=True`` the request is carried out first and only its reply is replaced.
        Faults are consumed in the order they were added.
        """
        fault = _Fault(
            method.upper(),
            re.compile(path_regex),
            status,
            times,
            {k: str(v) for k, v in (headers or {}).items()},
            body,
            apply,
        )
        with self._faults_lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Drop every fault not yet used up (e.g. after a crash test)."""
        with self._faults_lock:
            self._faults.clear()

    def rate_limit(self, remaining: int, reset_at: float, limit: int | None = None) -> None:
        """Set the core budget. At 0 remaining, requests get GitHub's primary-limit 403 until
        ``reset_at`` (epoch seconds) passes, when the budget refills."""
        self.api.rate.set(remaining, reset_at, limit)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    # -- helpers for tests -----------------------------------------------------------------

    def repo_path(self, owner: str, repo: str) -> Path:
        with self.api.lock:
            found = self.api.find_repo(owner, repo)
            return self.api.repo_path(found) if found else self.root / owner / f"{repo}.git"

    def repos(self) -> list[str]:
        with self.api.lock:
            return sorted(r.full_name for r in self.api.repos.values())

    def commits(self, owner: str, repo: str, branch: str = "main") -> list[str]:
        """Commit shas reachable from ``branch``, newest first ([] if there is no branch)."""
        path = self.repo_path(owner, repo)
        with self.api.lock:
            return Git(path).rev_list(f"refs/heads/{branch}") if path.exists() else []

    def write_calls(self) -> list[tuple[str, str]]:
        """(method, path) of every POST/PUT/PATCH/DELETE received, failed ones included."""
        with self._calls_lock:
            return [(c.method, c.path) for c in self.calls if c.method in WRITE_METHODS]

    # -- serving ---------------------------------------------------------------------------

    def serve(
        self, method: str, raw_path: str, auth: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body bytes). Called by the handler."""
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            response = self._respond(method, path, query, auth, raw_body)
        except Exception as exc:  # a bug in the fake: say so instead of hanging the client
            self.record_internal_error(method, raw_path, exc)
            response = Response(500, {"message": f"FakeGitHub internal error: {exc!r}"})
        with self._calls_lock:
            self.calls.append(Call(method, path, response.status, time.monotonic()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            **self.api.rate.headers(),
        }
        overrides = {k.lower() for k in response.headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in overrides}
        headers.update(response.headers)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        return response.status, headers, payload

    def _respond(
        self, method: str, path: str, query: dict[str, str], auth: str | None, raw_body: bytes
    ) -> Response:
        denied = self._check_auth(auth)
        if denied is not None:
            return _error(denied)
        if path != "/rate_limit" and not self.api.rate.consume():
            return _error(self._rate_limited())
        fault = self._take_fault(method, path)
        if fault is not None and not fault.apply:
            return fault.response()
        try:
            response = self.api.dispatch(method, path, query, _parse_body(raw_body))
        except ApiError as exc:
            response = _error(exc)
        return fault.response() if fault is not None else response

    def _check_auth(self, header: str | None) -> ApiError | None:
        if not header:
            return ApiError(401, "Requires authentication")
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or value.strip() != self.token:
            return ApiError(401, "Bad credentials")
        return None

    def _rate_limited(self) -> ApiError:
        message = f"API rate limit exceeded for user ID {self.api.user.id}."
        return ApiError(403, message, documentation_url=RATE_LIMIT_DOCS_URL)


def _parse_body(raw: bytes) -> Json:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "Problems parsing JSON")
    return body


def _error(exc: ApiError) -> Response:
    return Response(exc.status, exc.body())
