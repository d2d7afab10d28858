"""The HTTP side and the public test API: :class:`FakeGitHub` serves :class:`GitHubApi` on
``127.0.0.1`` (token auth, rate-limit headers, conditional requests, injected faults, the record
of calls) and offers helpers for tests (those for GitHub Actions come from
:class:`fakes.github.runner.ActionsRunner`)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fakes.github import conditional
from fakes.github.api import GitHubApi
from fakes.github.errors import RATE_LIMIT_DOCS_URL, ApiError, Json
from fakes.github.faults import Fault
from fakes.github.git import Git
from fakes.github.routing import Response
from fakes.github.runner import ActionsRunner
from fakes.http import FakeServer, RecordsInternalErrors

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    """One request the fake answered: method, path (without query), response status, and
    ``at``, the ``time.monotonic()`` when its reply was ready. ``at`` is left out of ``==``,
    so ``Call(method, path, status) in fake.calls`` still matches."""

    method: str
    path: str
    status: int
    at: float = field(default=0.0, compare=False)


class FakeGitHub(RecordsInternalErrors, ActionsRunner):
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
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._server: FakeServer | None = None
        self._api: GitHubApi | None = None
        self._headers = conditional.RequestHeaders()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        if self._server is not None:
            return self
        self._server = FakeServer(self, "GitHub.com")
        handler = self._server.RequestHandlerClass
        self._server.RequestHandlerClass = conditional.capturing_headers(handler, self._headers)
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
        fault = Fault(
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

    def _take_fault(self, method: str, path: str) -> Fault | None:
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

    def merge_pull(
        self, owner: str, repo: str, number: int, method: str = "merge", sha: str | None = None
    ) -> str:
        """Merge pull request ``number`` as ``PUT .../pulls/{number}/merge`` does (``method``:
        "merge", "squash" or "rebase"; ``sha``: the head it must still be at) and return the
        commit the base branch moved to. It skips HTTP (no auth, rate limit or faults, nothing in
        ``calls``); GitHub's refusals raise :class:`ApiError` (405, 409, 404, 422)."""
        body: Json = (
            {"merge_method": method} if sha is None else {"merge_method": method, "sha": sha}
        )
        path = f"/repos/{owner}/{repo}/pulls/{number}/merge"
        sha_merged: str = self.api.dispatch("PUT", path, {}, body).body["sha"]
        return sha_merged

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
            payload = _encode(response.body)
            if method == "GET" and response.status == 200:
                if_none_match = self._headers.get("If-None-Match")
                response = conditional.revalidate(response, payload, if_none_match)
                if response.status == 304:
                    payload = b""
                    if _metered(path):
                        self.api.rate.refund()  # a 304 does not count against the rate limit
        except Exception as exc:  # a bug in the fake: say so instead of hanging the client
            self.record_internal_error(method, raw_path, exc)
            response = Response(500, {"message": f"FakeGitHub internal error: {exc!r}"})
            payload = _encode(response.body)
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
        if response.status == 304:  # no body, so nothing for Content-Type to describe
            headers.pop("Content-Type", None)
        return response.status, headers, payload

    def _respond(
        self, method: str, path: str, query: dict[str, str], auth: str | None, raw_body: bytes
    ) -> Response:
        denied = self._check_auth(auth)
        if denied is not None:
            return _error(denied)
        if _metered(path) and not self.api.rate.consume():
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


def _metered(path: str) -> bool:
    """Whether a request to ``path`` counts against the rate limit (``/rate_limit`` is free)."""
    return path != "/rate_limit"


def _encode(body: Any) -> bytes:
    return b"" if body is None else json.dumps(body).encode()


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
