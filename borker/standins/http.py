"""A threaded loopback HTTP server that the stand-ins build on."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


class JsonHandler(BaseHTTPRequestHandler):
    """Request handler with helpers to read a body and send JSON."""

    server: "LoopbackServer"
    protocol_version = "HTTP/1.1"
    # Without this, small keep-alive responses wait on Nagle's algorithm and
    # each loopback request takes about 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # Stand-ins are chatty under test; their traffic is recorded instead.
        return

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


class LoopbackServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` on 127.0.0.1 that runs in a daemon thread.

    Port 0 picks a free ephemeral port, so several test runs can share a machine.
    """

    daemon_threads = True

    def __init__(self, handler: type[JsonHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        port = self.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> Self:
        # A short poll interval makes stop() return quickly, which keeps test runs fast.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
