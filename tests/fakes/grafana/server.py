"""The Grafana fake's HTTP side and public test API: `FakeGrafana` (start/stop, faults,
inspection, auth) around `GrafanaApi`."""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakes.grafana.api import GrafanaApi
from fakes.grafana.model import (
    DEFAULT_MESSAGES,
    WRITE_METHODS,
    ApiError,
    Call,
    Dashboard,
    Json,
    Response,
    unauthorized,
)
from fakes.http import FakeServer, RecordsInternalErrors


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any
    apply: bool

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.pattern.search(path))

    def response(self) -> Response:
        body = self.body
        if body is None:
            body = {"message": DEFAULT_MESSAGES.get(self.status, "Error")}
        return Response(self.status, body)


class FakeGrafana(RecordsInternalErrors):
    """Grafana's folder, dashboard and search HTTP API on ``127.0.0.1``, held in memory.

    Use as a context manager (or ``start()``/``stop()``) and point an HTTP client at
    ``base_url`` with ``Authorization: Bearer <token>``::

        with FakeGrafana() as fake:
            headers = {"Authorization": f"Bearer {fake.token}"}
            with httpx.Client(base_url=fake.base_url, headers=headers) as client:
                client.post("/api/folders", json={"uid": "team-a", "title": "Team A"})
                client.post(
                    "/api/dashboards/db",
                    json={"dashboard": {"uid": "svc", "title": "svc"}, "folderUid": "team-a"},
                )
            assert fake.dashboard("svc")["folderUid"] == "team-a"
    """

    def __init__(self, token: str = "grafana-test-token") -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._api = GrafanaApi()
        self._server: FakeServer | None = None
        self._base_url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGrafana:
        if self._server is not None:
            return self
        self._server = FakeServer(self, "Grafana")
        port = self._server.server_address[1]
        self._base_url = f"http://127.0.0.1:{port}"
        self._server.serve_in_background(f"fake-grafana-{port}")
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> FakeGrafana:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._base_url is None:
            raise RuntimeError("FakeGrafana is not started")
        return self._base_url

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        apply: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` ("*": any) and
        ``re.search(path_regex, path)`` with ``status`` instead.

        Requests refused for auth do not use up a fault. ``body`` defaults to
        ``{"message": <a message for status>}``; ``headers`` are added to the reply (e.g.
        ``Retry-After``). With ``apply=True`` the request is carried out first and only its
        reply is replaced. Faults are consumed in the order they were added.
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
        """Drop every fault not yet used up."""
        with self._faults_lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    # -- helpers for tests -----------------------------------------------------------------

    def dashboards(self) -> list[Json]:
        """Every stored dashboard, by uid: ``{"dashboard": <JSON model as stored, with id, uid
        and version>, "folderUid": <"" at the root>, "tags": [...], "message": <last save's
        message>}``. Copies: changing them does not change the fake."""
        with self._api.lock:
            items = sorted(self._api.dashboards.values(), key=lambda d: d.uid)
            return [self._dashboard_entry(d) for d in items]

    def dashboard(self, uid: str) -> Json | None:
        """The stored dashboard ``uid`` in the shape of :meth:`dashboards`, or ``None``."""
        with self._api.lock:
            found = self._api.dashboards.get(uid)
            return self._dashboard_entry(found) if found is not None else None

    def folders(self) -> list[Json]:
        """Every folder, by uid, as ``GET /api/folders/{uid}`` returns it (``parentUid`` and
        ``parents`` for nested ones)."""
        with self._api.lock:
            items = sorted(self._api.folders.values(), key=lambda f: f.uid)
            return [self._api.folder_json(f) for f in items]

    def write_calls(self) -> list[tuple[str, str]]:
        """(method, path) of every POST/PUT/PATCH/DELETE received, failed ones included."""
        with self._calls_lock:
            return [(c.method, c.path) for c in self.calls if c.method in WRITE_METHODS]

    @staticmethod
    def _dashboard_entry(dashboard: Dashboard) -> Json:
        return {
            "dashboard": copy.deepcopy(dashboard.model),
            "folderUid": dashboard.folder_uid,
            "tags": list(dashboard.tags),
            "message": dashboard.message,
        }

    # -- serving ---------------------------------------------------------------------------

    def serve(
        self, method: str, raw_path: str, auth: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body bytes). Called by the handler."""
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        extra: dict[str, str] = {}
        try:
            response, extra = self._respond(method, path, query, auth, raw_body)
        except Exception as exc:  # a bug in the fake: say so instead of hanging the client
            self.record_internal_error(method, raw_path, exc)
            response = Response(500, {"message": f"FakeGrafana internal error: {exc!r}"})
        with self._calls_lock:
            self.calls.append(Call(method, path, response.status))
        headers = {"Content-Type": "application/json", **extra}
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        return response.status, headers, payload

    def _respond(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        auth: str | None,
        raw_body: bytes,
    ) -> tuple[Response, dict[str, str]]:
        if path.startswith("/api/") and path != "/api/health" and not self._authorized(auth):
            return unauthorized(), {}
        fault = self._take_fault(method, path)
        if fault is not None and not fault.apply:
            return fault.response(), fault.headers
        try:
            response = self._api.dispatch(method, path, query, raw_body)
        except ApiError as exc:
            response = Response(exc.code, exc.body())
        if fault is not None:
            return fault.response(), fault.headers
        return response, {}

    def _authorized(self, header: str | None) -> bool:
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and bool(value) and value.strip() == self.token
