"""Loopback HTTP server for a :class:`DemoSite` (threaded ``http.server`` in a background thread)."""
from __future__ import annotations

import os
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from .loopback import LoopbackServer, NonLoopbackError, is_loopback
from .site import DemoSite

__all__ = ["DemoServer", "NonLoopbackError", "is_loopback", "serve", "write_site"]


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    want = etag.strip().removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == want for tag in header.split(","))


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoGovWeb/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 15  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        srv: DemoServer = self.server.demo  # type: ignore[attr-defined]
        with srv._lock:
            srv._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            srv: DemoServer = self.server.demo  # type: ignore[attr-defined]
            with srv._lock:
                srv._connections.discard(self.connection)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def _record(self) -> None:
        srv: DemoServer = self.server.demo  # type: ignore[attr-defined]
        with srv._lock:
            srv.requests.append((self.command, self.path, {k: v for k, v in self.headers.items()}))

    def _answer(self, head_only: bool = False) -> None:
        self._record()
        srv: DemoServer = self.server.demo  # type: ignore[attr-defined]
        body = b""
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        if srv.delay_seconds:
            time.sleep(srv.delay_seconds)
        if srv.random_faults and self._random_fault(srv, head_only):
            return
        forced = srv.faults.get(self.path, srv.faults.get(self.path.split("?", 1)[0]))
        if forced:
            data = f"<html><body><h1>{forced}</h1></body></html>".encode()
            self._send(forced, data, "text/html; charset=utf-8", {}, head_only)
            return
        page = srv.site.get(self.path, host=self.headers.get("Host"), body=body)
        if page is None:
            data, ctype, _ = srv.site.not_found()
            self._send(404, data, ctype, {}, head_only)
            return
        data, ctype, headers = page
        etag, lm = headers.get("ETag"), headers.get("Last-Modified")
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        not_modified = False
        if inm is not None and etag:
            not_modified = _etag_matches(inm, etag)
        elif ims and lm:
            try:
                not_modified = parsedate_to_datetime(lm) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                not_modified = False
        if not_modified and self.command in ("GET", "HEAD"):
            self._send(304, b"", None, headers, True)
            return
        self._send(200, data, ctype, headers, head_only)

    def _random_fault(self, srv: DemoServer, head_only: bool) -> bool:
        """Answer with an injected fault (500, 503, a timeout or a connection reset) for a share
        ``random_faults`` of requests; which ones is decided by ``fault_seed``, the path and how often
        the path was asked before, so a run is reproducible whatever the order of requests."""
        path = self.path
        if path.split("?", 1)[0] in RANDOM_FAULT_EXEMPT:
            return False
        with srv._lock:
            n = srv._asked[path] = srv._asked.get(path, 0) + 1
        rng = random.Random(f"{srv.fault_seed}:{path}:{n}")
        if rng.random() >= srv.random_faults:
            return False
        kind = rng.choice(RANDOM_FAULT_KINDS)
        with srv._lock:
            srv.injected.append((path, kind))
        if kind in ("500", "503"):
            data = f"<html><body><h1>{kind}</h1></body></html>".encode()
            self._send(int(kind), data, "text/html; charset=utf-8", {}, head_only)
        elif kind == "timeout":
            time.sleep(srv.fault_timeout_seconds)      # longer than the crawler's DOWNLOAD_TIMEOUT
            self.close_connection = True
        else:                                           # reset: RST instead of an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        return True

    def _send(self, status: int, data: bytes, ctype: str | None, headers: dict[str, str], head_only: bool) -> None:
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head_only and status != 304:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer(head_only=True)

    def do_POST(self) -> None:
        self._answer()


#: kinds of random faults, and paths they never hit (a failed robots.txt would open /private/)
RANDOM_FAULT_KINDS = ("500", "503", "timeout", "reset")
RANDOM_FAULT_EXEMPT = ("/robots.txt",)


class DemoServer(LoopbackServer):
    """A running demo server: ``url``, ``port``, ``requests`` [(method, path, headers)], ``stop()``.

    Fault injection for reliability tests: ``faults[path] = 503`` answers that path (with or
    without its query) with the status; ``delay_seconds`` delays every answer; ``random_faults =
    0.1`` answers about 10 % of requests (never ``/robots.txt``) with a 500, a 503, no answer for
    ``fault_timeout_seconds`` or a connection reset, reproducibly for a ``fault_seed``; what was
    injected is listed in ``injected`` [(path, kind)].
    """

    what = "the demo site"
    owner_attr = "demo"

    def __init__(self, site: DemoSite, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.faults: dict[str, int] = {}
        self.delay_seconds: float = 0.0
        self.random_faults: float = 0.0
        self.fault_seed: int = 0
        self.fault_timeout_seconds: float = 5.0
        self.injected: list[tuple[str, str]] = []
        self._asked: dict[str, int] = {}
        super().__init__(_Handler, host, port)

    def after_stop(self) -> None:
        with self._lock:
            conns = list(self._connections)
        for conn in conns:  # drop kept-alive connections so nothing answers after stop()
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def paths(self) -> list[str]:
        """Requested paths (with query) in order."""
        with self._lock:
            return [p for _, p, _ in self.requests]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


@contextmanager
def serve(site: DemoSite | None = None, host: str = "127.0.0.1", port: int = 0) -> Iterator[DemoServer]:
    """Serve ``site`` (default: the bundled demo) on loopback in a background thread."""
    server = DemoServer(site or DemoSite(), host, port).start()
    try:
        yield server
    finally:
        server.stop()


def write_site(site: DemoSite, directory: str | os.PathLike) -> list[Path]:
    """Dump the static pages as files (``/`` -> ``index.html``).  Dynamic URLs (calendar, topic
    chain, Hanweb dataproxy) need the server and are not written.  Returns the written paths."""
    root = Path(directory)
    written: list[Path] = []
    for path, (data, _ctype, _headers) in sorted(site.pages.items()):
        rel = path.lstrip("/") or "index.html"
        if rel.endswith("/"):
            rel += "index.html"
        target = root / rel
        if target in written:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written
