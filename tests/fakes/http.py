"""The HTTP plumbing the contract fakes share: a threaded loopback server that tracks its
kept-alive connections (so stop() never hangs on them), a handler that passes every request to
the fake's `serve(method, path, auth, body) -> (status, headers, payload)`, and the record of
the fake's own bugs.

A fake answers an exception of its own with 500, so the client is not left hanging; but a 500
is also what an outage looks like, and Portico retries outages until they heal, so a bug in a
fake would pass for a healed outage. `RecordsInternalErrors` keeps each such exception (type,
message, traceback, request line) in `internal_errors`, and `assert_no_internal_errors()`
fails a test (or a fixture's teardown) on them. Faults injected on purpose (`fail_next`) are
answers, not exceptions, and are never recorded.
"""

import contextlib
import socket
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


@dataclass(frozen=True)
class InternalError:
    """An exception a fake raised while answering `request` ("GET /path?query")."""

    request: str
    type: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"{self.request}: {self.type}: {self.message}\n{self.traceback}"


class RecordsInternalErrors:
    """The fake's own exceptions, kept for the test to fail on (see the module docstring)."""

    def __init__(self) -> None:
        self.internal_errors: list[InternalError] = []
        self._internal_errors_lock = threading.Lock()

    def record_internal_error(self, method: str, raw_path: str, exc: BaseException) -> None:
        error = InternalError(
            request=f"{method} {raw_path}",
            type=type(exc).__qualname__,
            message=str(exc),
            traceback="".join(traceback.format_exception(exc)),
        )
        with self._internal_errors_lock:
            self.internal_errors.append(error)

    def assert_no_internal_errors(self) -> None:
        """Raise AssertionError listing every internal error so far (answered as 500)."""
        with self._internal_errors_lock:
            errors = list(self.internal_errors)
        if errors:
            listing = "\n".join(str(e) for e in errors)
            raise AssertionError(
                f"{type(self).__name__} had {len(errors)} internal error(s), answered as 500 "
                f"(a bug in the fake, not an outage):\n{listing}"
            )


class Serves(Protocol):
    def serve(
        self, method: str, path: str, auth: str | None, body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...

    def record_internal_error(self, method: str, raw_path: str, exc: BaseException) -> None: ...


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: Serves, server_version: str) -> None:
        handler = type("Handler", (_Handler,), {"server_version": server_version})
        super().__init__(("127.0.0.1", 0), handler)
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def serve_in_background(self, name: str) -> None:
        """Serve on a daemon thread until stop()."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, unblock kept-alive connections, close the socket, join the thread."""
        self.shutdown()
        self.close_connections()
        self.server_close()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join(timeout=5)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on kept-alive connections."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = 30  # idle kept-alive connections close, as real servers' do
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: FakeServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization")
        fake = self.server.fake
        try:
            status, headers, payload = fake.serve(self.command, self.path, auth, body)
        except Exception as exc:  # outside the fake's own guard (e.g. encoding the reply)
            fake.record_internal_error(self.command, self.path, exc)
            status, headers = 500, {"Content-Type": "text/plain; charset=utf-8"}
            payload = f"fake internal error: {exc!r}".encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return
