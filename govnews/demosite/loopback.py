"""The loopback HTTP server both fixture sites run on (the demo site and the style zoo).

:class:`LoopbackServer` refuses any host that is not loopback, binds (port 0 = a free port), serves a
``BaseHTTPRequestHandler`` in a background thread (``start``) or in the foreground (``serve_forever``),
and stops cleanly; it is a context manager. :func:`serve_until_interrupted` is the body of the sites'
``python -m`` entry points: build the server, print where it listens, serve until Ctrl-C, and turn a
refused host or a busy port into a one-line error and an exit code.
"""
from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

__all__ = ["LoopbackServer", "NonLoopbackError", "is_loopback", "serve_until_interrupted"]

#: how often the serving thread checks for ``stop()`` (background / foreground)
POLL_SECONDS = 0.1
FOREGROUND_POLL_SECONDS = 0.2
#: how long ``stop()`` waits for the serving thread
JOIN_SECONDS = 5

S = TypeVar("S", bound="LoopbackServer")


class NonLoopbackError(ValueError):
    """The fixture sites only ever listen on loopback addresses."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # no tracebacks on stderr
        pass


class LoopbackServer:
    """A threaded HTTP server on loopback: ``url``, ``port``, ``start()``, ``stop()``.

    The handler reaches this object as ``self.server.owner`` (and as ``self.server.<owner_attr>``,
    the name a subclass's handler already uses).
    """

    #: what the refusal names ("the demo site", "the style zoo")
    what = "a fixture site"
    #: the attribute of the ``http.server`` instance that points back to this object
    owner_attr = "owner"

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0):
        if not is_loopback(host):
            raise NonLoopbackError(f"refusing to serve {self.what} on non-loopback host {host!r}")
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_cls = type(f"_{type(self).__name__}HTTPServer", (_QuietServer,), {"address_family": family})
        self._httpd = server_cls((host, port), handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        setattr(self._httpd, self.owner_attr, self)
        self.port: int = self._httpd.server_address[1]
        h = f"[{host}]" if ":" in host else host
        self.url = f"http://{h}:{self.port}/"
        self._thread: threading.Thread | None = None

    def start(self: S) -> S:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                        name=f"{type(self).__name__}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=FOREGROUND_POLL_SECONDS)

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=JOIN_SECONDS)
            self._thread = None
        self._httpd.server_close()
        self.after_stop()

    def after_stop(self) -> None:
        """Hook for subclasses (e.g. dropping kept-alive connections)."""

    def __enter__(self: S) -> S:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_until_interrupted(build: Callable[[], LoopbackServer], banner: Callable[[Any], str],
                            host: str, port: int) -> int:
    """Build a server, print ``banner(server)``, serve until Ctrl-C. Exit codes: 0 after Ctrl-C,
    2 for a non-loopback host, 1 when ``host:port`` cannot be bound or the site cannot be built."""
    try:
        server = build()
    except NonLoopbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{banner(server)} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
