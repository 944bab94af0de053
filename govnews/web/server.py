"""A threaded WSGI server (stdlib ``wsgiref``) for :class:`govnews.web.app.WebApp`."""
from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ThreadingWSGIServer", "make_web_server", "running"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8766
logger = logging.getLogger("govnews.web")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(WSGIRequestHandler):
    """Access log lines through :mod:`logging` (INFO) instead of stderr."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        logger.info("%s %s", self.address_string(), format % args)


def make_web_server(app, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ThreadingWSGIServer:
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    return server  # type: ignore[return-value]


def url_of(server: WSGIServer) -> str:
    host, port = server.server_address[:2]
    host = str(host)
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


@contextmanager
def running(app, host: str = DEFAULT_HOST, port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread (tests, screenshots); yields the base URL."""
    server = make_web_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, name="govnews-web", daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
