"""Serve a :class:`ZooSite` on loopback (threaded ``http.server`` in a background thread).

    with serve(ZooSite("vsb")) as srv:      # port 0 -> a free port
        srv.url                              # "http://127.0.0.1:PORT/"
        srv.requests                         # [(method, path_with_query)]

Non-loopback hosts are refused (:class:`NonLoopbackError`).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from govnews.demosite.server import NonLoopbackError, is_loopback  # one loopback rule for both fixture sites

from .site import ZooSite


class _Handler(BaseHTTPRequestHandler):
    server_version = "ZooGovWeb/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 15

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def _answer(self, head_only: bool = False) -> None:
        zoo: ZooServer = self.server.zoo  # type: ignore[attr-defined]
        with zoo._lock:
            zoo.requests.append((self.command, self.path))
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
        status, ctype, data = zoo.site.response(self.path)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head_only:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer(head_only=True)

    def do_POST(self) -> None:
        self._answer()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass


class ZooServer:
    """A running zoo server: ``url``, ``port``, ``requests``, ``stop()``; a context manager."""

    def __init__(self, site: ZooSite, host: str = "127.0.0.1", port: int = 0):
        if not is_loopback(host):
            raise NonLoopbackError(f"refusing to serve the style zoo on non-loopback host {host!r}")
        self.site = site
        self.host = host
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        family = 10 if ":" in host else 2  # AF_INET6 / AF_INET
        cls = type("_ZooHTTPServer", (_QuietServer,), {"address_family": family})
        self._httpd = cls((host, port), _Handler)
        self._httpd.zoo = self  # type: ignore[attr-defined]
        self.port: int = self._httpd.server_address[1]
        h = f"[{host}]" if ":" in host else host
        self.url = f"http://{h}:{self.port}/"
        self._thread: threading.Thread | None = None

    @property
    def home_url(self) -> str:
        return self.url.rstrip("/") + self.site.home_path

    def start(self) -> ZooServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"stylezoo:{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ZooServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def serve(site: ZooSite, host: str = "127.0.0.1", port: int = 0) -> Iterator[ZooServer]:
    """Serve ``site`` on loopback in a background thread; yields the running :class:`ZooServer`."""
    server = ZooServer(site, host, port).start()
    try:
        yield server
    finally:
        server.stop()
