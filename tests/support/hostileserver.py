"""A hostile loopback site for the issue-17 crawl test (tests/test_hostile_crawl.py): meta refreshes
to javascript:/file:/off-site, a redirect to a 10,000-character URL, a redirect carrying a password,
an endlessly recursive sitemap index, and ordinary articles. Listens on 127.0.0.1 only; the
"off-site" host is 127.0.0.2."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "pa55word-HOSTILE"
BODY = "示范县人民政府召开常务会议，研究部署当前重点工作，要求各部门抓好落实。" * 12


def article(title: str, head: str = "") -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>"
            f"<h1>{title}</h1><div class='content'><p>{BODY}</p><p>{BODY}</p></div>"
            f"<div class='date'>发布时间：2024-10-24</div></body></html>").encode()


class HostileSite:
    CASES = ("ok", "meta-js", "meta-file", "meta-offsite", "long-redirect", "pw-redirect")

    def __init__(self):
        self.lock = threading.Lock()
        self.paths: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                with site.lock:
                    site.paths.append(self.headers.get("Host", "") + self.path)
                status, headers, body = site.route(self.path)
                self.send_response(status)
                for k, v in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.other = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.other_url = f"http://127.0.0.2:{self.other.server_address[1]}/"

    def route(self, path: str):
        port = self.httpd.server_address[1]
        if path == "/robots.txt":
            return 404, {}, b""
        if path == "/":
            links = "".join(f"<li><a href='/a/{c}.html'>示范县政务动态（{c}）第{i}号</a></li>" for i, c in enumerate(self.CASES))
            return 200, {}, f"<html><body><ul>{links}</ul></body></html>".encode()
        if path.startswith("/sitemap-"):
            n = int(path[len("/sitemap-"):].split(".")[0])
            return 200, {"Content-Type": "application/xml"}, (
                f"<sitemapindex><sitemap><loc>{self.url}sitemap-{n + 1}.xml</loc></sitemap></sitemapindex>").encode()
        case = path[3:-5] if path.startswith("/a/") and path.endswith(".html") else ""
        if case == "meta-js":
            return 200, {}, article("页面跳转一", "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>")
        if case == "meta-file":
            return 200, {}, article("页面跳转二", "<meta http-equiv='refresh' content='0;url=file:///etc/passwd'>")
        if case == "meta-offsite":
            return 200, {}, article("页面跳转三", f"<meta http-equiv='refresh' content='0;url={self.other_url}casino.html'>")
        if case == "long-redirect":
            return 302, {"Location": "/a/" + "x" * 10_000 + ".html"}, b""
        if case == "pw-redirect":
            return 302, {"Location": f"http://admin:{SECRET}@127.0.0.1:{port}/a/ok.html"}, b""
        if case == "ok":
            return 200, {}, article("示范县召开常务会议")
        return 404, {}, b"<html><body>not found</body></html>"

    def __enter__(self):
        for srv in (self.httpd, self.other):
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        for srv in (self.httpd, self.other):
            srv.shutdown()
            srv.server_close()
