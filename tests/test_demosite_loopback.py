"""The loopback server both fixture sites run on (govnews/demosite/loopback.py)."""
import socket
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from govnews.demosite.loopback import LoopbackServer, NonLoopbackError, is_loopback, serve_until_interrupted


class _Hello(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        owner = self.server.owner
        owner.hits += 1
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Hello(LoopbackServer):
    what = "the hello site"

    def __init__(self, host="127.0.0.1", port=0):
        self.hits = 0
        self.stopped = False
        super().__init__(_Hello, host, port)

    def after_stop(self):
        self.stopped = True


@pytest.mark.parametrize("host,ok", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                     ("0.0.0.0", False), ("192.168.1.10", False), ("example.org", False)])
def test_is_loopback(host, ok):
    assert is_loopback(host) is ok


def test_refuses_a_non_loopback_host_naming_the_site():
    with pytest.raises(NonLoopbackError, match="the hello site.*'0.0.0.0'"):
        Hello(host="0.0.0.0")


def test_serves_in_a_thread_as_a_context_manager_and_stops():
    with Hello() as srv:
        assert srv.url == f"http://127.0.0.1:{srv.port}/"
        assert urllib.request.urlopen(srv.url, timeout=5).read() == b"hello"
    assert srv.hits == 1 and srv.stopped
    with pytest.raises(OSError):
        urllib.request.urlopen(srv.url, timeout=2)


def test_entry_point_errors_are_one_line_with_an_exit_code(capsys):
    assert serve_until_interrupted(lambda: Hello(host="0.0.0.0"), str, "0.0.0.0", 1) == 2
    assert capsys.readouterr().err.strip() == "error: refusing to serve the hello site on non-loopback host '0.0.0.0'"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert serve_until_interrupted(lambda: Hello(port=port), str, "127.0.0.1", port) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot listen on 127.0.0.1:{port}: ") and "\n" not in err


def test_entry_point_prints_the_banner_and_stops_on_ctrl_c(capsys, monkeypatch):
    made = []

    def build():
        srv = Hello()
        monkeypatch.setattr(srv, "serve_forever", lambda: (_ for _ in ()).throw(KeyboardInterrupt))
        made.append(srv)
        return srv

    assert serve_until_interrupted(build, lambda s: f"hello at {s.url}", "127.0.0.1", 0) == 0
    assert capsys.readouterr().out == f"hello at {made[0].url} (Ctrl-C to stop)\n"
    assert made[0].stopped
