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
from http.server import BaseHTTPRequestHandler

# one loopback server (and loopback rule) for both fixture sites
from govnews.demosite.loopback import LoopbackServer, NonLoopbackError, is_loopback

from .site import ZooSite

__all__ = ["NonLoopbackError", "ZooServer", "is_loopback", "serve"]


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


class ZooServer(LoopbackServer):
    """A running zoo server: ``url``, ``port``, ``requests``, ``stop()``; a context manager."""

    what = "the style zoo"
    owner_attr = "zoo"

    def __init__(self, site: ZooSite, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        super().__init__(_Handler, host, port)

    @property
    def home_url(self) -> str:
        return self.url.rstrip("/") + self.site.home_path


@contextmanager
def serve(site: ZooSite, host: str = "127.0.0.1", port: int = 0) -> Iterator[ZooServer]:
    """Serve ``site`` on loopback in a background thread; yields the running :class:`ZooServer`."""
    server = ZooServer(site, host, port).start()
    try:
        yield server
    finally:
        server.stop()
