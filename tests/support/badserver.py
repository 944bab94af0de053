"""A misbehaving government web site on loopback, for the reliability tests.

``BadServer()`` serves, on 127.0.0.x only, a home page (``/``) that links one article URL per case
(``/a/<case>.html``) and a few crawler traps. Every case is a deliberate fault: empty, truncated,
binary, mis-encoded, huge and gzip-bomb bodies, a WAF challenge, a soft 404, a hacked page,
404/410/500/503, 429 with Retry-After, slow and hanging answers, connection resets, redirect loops,
redirects off the allowed domains and to a private (loopback) host the profile does not allow.
The good articles (``ok-*`` and the cases that should still be archived) use the demo site's
synthetic stories, so each has its own text.

``server.requests`` lists ``(time, method, path, Host header)``; ``server.url`` is the base URL.
Nothing here ever connects anywhere: the server only answers.
"""
from __future__ import annotations

import gzip
import ipaddress
import socket
import struct
import threading
import time
import zlib
from datetime import UTC, datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MB = 1024 * 1024
HUGE_SIZE = 50 * MB
BOMB_SIZE = 64 * MB                      # decompressed; the compressed body is ~64 KB
HANG_SECONDS = 8.0
SLOW_SECONDS = 1.0
WAF_PAGE = ('<html><body><br><br><br><script></script><script>window.location="/?adfwkey=mqo82";</script>'
            '<br><br><br><center><h3><a href="/?adfwkey=mqo82"><p>如果您的页面没有自动跳转，请点击这里</p>'
            '</a></h3></center></body></html>').encode("gbk")        # the 217-byte bjjs.gov.cn snapshot
SOFT404_PAGE = ("<html><head><title>页面不存在</title></head><body><div class='err'><p>对不起，您访问的页面不存在"
                "或已被删除。</p><a href='/'>返回首页</a></div></body></html>").encode()
PDF_BODY = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 40
HACK_BLOCK = (
    '<div style="display:none">'
    '<a href="http://www.88bet-casino.example/">澳门博彩娱乐城官方网站</a>'
    '<a href="http://liuhecai.example/kj">六合彩开奖结果查询</a>'
    '<a href="http://baijiale.example/">百家乐真人娱乐平台</a></div>'
    "<script>var ua=navigator.userAgent.toLowerCase();var r=document.referrer;"
    "if(ua.indexOf('baiduspider')<0&&r.indexOf('baidu.com')>0){window.location.href='http://spam.example/';}</script>"
)

#: case -> what the crawl must make of it (outcome of the page, or the failure reason)
ARCHIVED = ("ok-1", "ok-2", "truncated-html", "bad-bytes", "gbk-as-utf8", "no-charset", "slow", "hacked",
            "retry-after", "retry-after-long", "gzip-ok", "flaky-500")
CASES = ARCHIVED + (
    "empty", "pdf", "waf", "soft404", "huge", "huge-stream", "gzip-bomb", "truncated-transfer",
    "http-404", "http-410", "http-500", "http-503", "hang", "reset", "loop", "offsite-redirect",
    "private-redirect",
)


def _story(i: int):
    if i not in _STORIES:       # the factory numbers repeated titles, so make each story once
        _STORIES[i] = _FACTORY.make(i, datetime(2024, 5, 1 + i % 27, 9, 30, tzinfo=UTC))
    return _STORIES[i]


_FACTORY = None
_STORIES: dict = {}


def article_html(case: str, i: int, *, charset: str = "utf-8", meta_charset: bool = True,
                 extra: str = "") -> tuple[str, str]:
    """(title, html text) of a good article for ``case``."""
    global _FACTORY
    if _FACTORY is None:
        from govnews.demosite.texts import SyntheticFactory
        _FACTORY = SyntheticFactory(seed=4242)
    story = _story(i)
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in story.paragraphs + _story(1000 + i).paragraphs[1:])
    meta = f'<meta charset="{charset}">' if meta_charset else ""
    html = (f"<!DOCTYPE html><html><head>{meta}<title>{escape(story.title)}_示范县人民政府</title></head>"
            f"<body><div class='nav'><a href='/'>首页</a></div><h1>{escape(story.title)}</h1>"
            f"<div class='info'>发布时间：2024-05-{1 + i % 27:02d} 09:30 来源：示范县融媒体中心</div>"
            f"<div class='TRS_Editor'>{paras}</div>{extra}<div class='foot'>示范县人民政府办公室 主办</div>"
            "</body></html>")
    return story.title, html


def is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BadGov/0.1"
    sys_version = ""
    timeout = 20

    def log_message(self, *args) -> None:
        pass

    @property
    def bad(self) -> BadServer:
        return self.server.bad  # type: ignore[attr-defined]

    def send(self, status: int, body: bytes, ctype: str | None = "text/html; charset=utf-8",
             headers: dict | None = None) -> None:
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        bad = self.bad
        with bad.lock:
            bad.requests.append((time.monotonic(), self.command, self.path, self.headers.get("Host", "")))
            n = bad.hits[self.path] = bad.hits.get(self.path, 0) + 1
        path = self.path
        if path == "/robots.txt":
            return self.send(404, b"", "text/plain")
        if path in ("/", "/index.html"):
            return self.send(200, bad.home().encode("utf-8"))
        route = path.split("?", 1)[0]
        if route.startswith("/a/") and route.endswith(".html"):
            return self.article(route[3:-5], n)
        if route == "/col/list.html":                            # endless ?page=N chain
            page = int(path.rsplit("=", 1)[1] or 0) if "page=" in path else 1
            links = (f"<li><a href='/a/chain-{page}.html'>示范县第{page}期工作动态简报</a></li>"
                     f"<li><a href='/col/list.html?page={page + 1}'>下一页</a></li>")
            return self.send(200, f"<html><body><ul>{links}</ul></body></html>".encode())
        if route.startswith("/deep/"):                           # ever-deeper relative links
            return self.send(200, "<html><body><a href='x/index.html'>下级工作栏目</a></body></html>".encode())
        if route.startswith(("/calendar/", "/zt/")):
            return self.send(200, "<html><body><a href='/'>首页</a></body></html>".encode())
        self.send(404, SOFT404_PAGE)

    do_HEAD = do_GET

    def article(self, case: str, n: int) -> None:
        bad = self.bad
        if case.startswith("chain-"):
            i = 100 + int(case.split("-", 1)[1])
            return self.send(200, article_html(case, i)[1].encode("utf-8"))
        if case == "loop-b":                                    # ... and back: A -> B -> A
            return self.send(302, b"", headers={"Location": "/a/loop.html"})
        if case not in CASES:
            return self.send(404, SOFT404_PAGE)
        i = CASES.index(case)
        title, html = article_html(case, i)
        good = html.encode("utf-8")
        if case in ("ok-1", "ok-2"):
            return self.send(200, good)
        if case == "empty":
            return self.send(200, b"")
        if case == "pdf":
            return self.send(200, PDF_BODY)
        if case == "waf":
            return self.send(200, WAF_PAGE, "text/html")
        if case == "soft404":
            return self.send(200, SOFT404_PAGE)
        if case == "truncated-html":                             # the HTML stops mid-tag; length is right
            return self.send(200, good[: good.index(b"</p>", len(good) * 3 // 4)] + b"<p class=\"x")
        if case == "bad-bytes":                                  # invalid UTF-8 in the middle of the text
            cut = good.index(b"</p>") - 12
            cut -= (cut % 3)
            body = good[:cut]
            while body and body[-1] & 0xC0 == 0x80:
                body = body[:-1]
            body = body[:-1] if body and body[-1] >= 0xC0 else body
            return self.send(200, body + b"\xff\xfe\xc3\x28\xa0\xa1" + good[len(body):])
        if case == "gbk-as-utf8":                                # GBK bytes, header says UTF-8
            _, gbk = article_html(case, i, charset="utf-8")
            return self.send(200, gbk.encode("gbk", "replace"), "text/html; charset=utf-8")
        if case == "no-charset":                                 # GBK bytes, no charset anywhere
            _, gbk = article_html(case, i, meta_charset=False)
            return self.send(200, gbk.encode("gbk", "replace"), "text/html")
        if case == "slow":
            time.sleep(SLOW_SECONDS)
            return self.send(200, good)
        if case == "hang":
            time.sleep(HANG_SECONDS)
            return self.send(200, good)
        if case == "hacked":
            return self.send(200, article_html(case, i, extra=HACK_BLOCK)[1].encode("utf-8"))
        if case == "retry-after":
            if n == 1:
                return self.send(429, b"<html><body>Too Many Requests</body></html>", headers={"Retry-After": "1"})
            return self.send(200, good)
        if case == "retry-after-long":
            if n == 1:
                return self.send(503, b"<html><body>busy</body></html>", headers={"Retry-After": "3600"})
            return self.send(200, good)
        if case == "flaky-500":                                  # one 500, then fine: retried
            return self.send(500, b"<html>oops</html>") if n == 1 else self.send(200, good)
        if case == "gzip-ok":
            return self.send(200, gzip.compress(good), headers={"Content-Encoding": "gzip"})
        if case == "gzip-bomb":
            return self.send(200, bad.bomb(), headers={"Content-Encoding": "gzip"})
        if case.startswith("http-"):
            return self.send(int(case[5:]), SOFT404_PAGE if case in ("http-404", "http-410") else b"<html>error</html>")
        if case == "huge":                                       # Content-Length 50 MB
            return self.stream(HUGE_SIZE, with_length=True)
        if case == "huge-stream":                                # no length: the body just keeps coming
            return self.stream(HUGE_SIZE, with_length=False)
        if case == "truncated-transfer":                         # promises more bytes than it sends
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(good) + 5000))
                self.end_headers()
                self.wfile.write(good)
                self.wfile.flush()
            finally:
                self.close_connection = True
            return
        if case == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if case == "loop":
            return self.send(302, b"", headers={"Location": "/a/loop-b.html"})
        if case == "offsite-redirect":
            return self.send(302, b"", headers={"Location": f"{bad.other_url}a/ok-1.html"})
        if case == "private-redirect":
            return self.send(302, b"", headers={"Location": f"http://localhost:{bad.port}/a/ok-2.html"})
        self.send(404, SOFT404_PAGE)

    def stream(self, size: int, *, with_length: bool) -> None:
        chunk = (b"<p>" + "示范县人民政府".encode() * 900 + b"</p>\n")
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if with_length:
                self.send_header("Content-Length", str(size))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            sent = 0
            while sent < size:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass


class BadServer:
    """The misbehaving site on ``host`` (loopback only) plus a second loopback host that must never
    be reached (``other_url``, the target of the off-site redirect and links)."""

    def __init__(self, host: str = "127.0.0.1", other_host: str = "127.0.0.2"):
        if not (is_loopback(host) and is_loopback(other_host)):
            raise ValueError("the bad server only listens on loopback")
        self.lock = threading.Lock()
        self.requests: list[tuple[float, str, str, str]] = []
        self.hits: dict[str, int] = {}
        self._bomb: bytes | None = None
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.bad = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/"
        self.other = _Server((other_host, 0), _Handler)
        self.other.bad = self  # type: ignore[attr-defined]
        self.other_url = f"http://{other_host}:{self.other.server_address[1]}/"
        self._threads: list[threading.Thread] = []

    def bomb(self) -> bytes:
        if self._bomb is None:
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)
            zeros = b"\0" * MB
            self._bomb = b"".join([*(comp.compress(zeros) for _ in range(BOMB_SIZE // MB)), comp.flush()])
        return self._bomb

    def home(self) -> str:
        items = [f"<li><a href='/a/{c}.html'>示范县政务动态第{i + 1}号（{c}）</a></li>" for i, c in enumerate(CASES)]
        traps = [
            "<li><a href='/calendar/index.html?date=2024-05-01'>活动日历</a></li>",
            "<li><a href='/col/list.html?page=1'>工作动态</a></li>",
            "<li><a href='/zt/index.html?sid=8f3a9c'>专题栏目</a></li>",
            "<li><a href='/deep/index.html'>更多栏目</a></li>",
            f"<li><a href='/zt/index.html?t={'x' * 600}'>长链接专题</a></li>",
            f"<li><a href='{self.other_url}a/offsite.html'>外站链接：省政府要闻</a></li>",
        ]
        return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>示范县人民政府</title></head><body>"
                f"<ul>{''.join(items)}</ul><ul>{''.join(traps)}</ul></body></html>")

    def start(self) -> BadServer:
        for srv in (self._httpd, self.other):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in (self._httpd, self.other):
            srv.shutdown()
            srv.server_close()

    def paths(self, host_prefix: str | None = None) -> list[str]:
        with self.lock:
            return [p for _, _, p, h in self.requests if host_prefix is None or h.startswith(host_prefix)]

    def times(self, path: str) -> list[float]:
        with self.lock:
            return [t for t, _, p, _ in self.requests if p == path]

    def __enter__(self) -> BadServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def bad_profile_toml(server: BadServer, name: str = "badsite") -> str:
    host = server.url.split("//", 1)[1].split(":", 1)[0]
    return "\n".join([
        f'name = "{name}"',
        'title = "故障示范县（可靠性测试）"',
        f'start_urls = ["{server.url}"]',
        f'allowed_domains = ["{host}", "localhost"]',
        f'allow_private_hosts = ["{host}"]',
        'schedule = "0 * * * *"',
        "",
        "[hints]",
        "download_delay = 0",
        "max_pages = 300",
        "max_query_variants = 5",
        r"article_url_regex = '/a/[\w\-]+\.html$'",
    ]) + "\n"
