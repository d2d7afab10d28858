"""The HTTP plumbing the contract fakes share: a threaded loopback server that tracks its
kept-alive connections (so stop() never hangs on them) and a handler that passes every
request to the fake's `serve(method, path, auth, body) -> (status, headers, payload)`."""

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class Serves(Protocol):
    def serve(
        self, method: str, path: str, auth: str | None, body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...


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
        status, headers, payload = self.server.fake.serve(self.command, self.path, auth, body)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return
