"""The web view: a small read-only WSGI application (Jinja2 templates, no JavaScript).

Routes (GET and HEAD only; anything else is 405):

``/``                          sites with article counts and their last crawl
``/site/<name>``               the site's articles by date, ``?column=`` filter, ``?page=``
``/article/<id>``              clean text, every field, related rows (attachments...), sightings, revisions + diff
``/raw/<page_id>``             an archived page as escaped source text
``/raw/<page_id>/render``      the archived page rendered in a sandboxed iframe
``/raw/<page_id>/sandbox``     the archived bytes, served under ``Content-Security-Policy: sandbox``
``/search``                    full-text search (``q``, ``site``, ``since``, ``until``, ``page``)
``/health``                    the crawl-health page (also ``govnews report``)
``/feeds/all.atom``, ``/feeds/site/<name>.atom``, ``/feeds/search.atom``   Atom feeds (``govnews.feeds``)

Every page of its own is sent with a strict CSP (no script at all, styles from ``/static/``, no
framing). Archived HTML is never sent as a page of this origin: ``/raw/<id>/sandbox`` carries CSP
``sandbox`` (an opaque origin: no script, no forms, no same-origin access) and ``default-src 'none'``
(the page loads nothing, not even its images), and is framed with ``<iframe sandbox>``.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Engine

from common.text import to_simplified
from govnews.dates import parse_local, show_local
from govnews.feeds import DEFAULT_LIMIT, MAX_LIMIT, FeedSpec, build_feed
from govnews.web import queries
from govnews.web.charts import daily_bars
from govnews.web.diff import diff_html
from govnews.web.static import CSS

__all__ = ["CSP", "RAW_CSP", "WebApp", "make_app", "render_health"]

logger = logging.getLogger(__name__)

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
#: the archived page itself: sandboxed (opaque origin, no scripts), loads nothing
RAW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
#: a page that frames the sandboxed archived page (same as CSP, framing allowed for that one)
SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                    ("Cross-Origin-Opener-Policy", "same-origin")]
SEARCH_PER_PAGE = 20
SEARCH_MAX_PAGES = 10
RAW_TEXT_MAX = 2_000_000
_MARK = re.compile("«(.*?)»", re.S)


class HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Response:
    body: bytes
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    csp: str | None = CSP


_REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


# ------------------------------------------------------------------------------------ filters
def local_time(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return show_local(dt, fmt) if dt else "—"


def snippet_html(snippet: str | None) -> Markup:
    """A search snippet with «marks» as ``<mark>``; everything else escaped."""
    text = escape(snippet or "")
    return Markup(_MARK.sub(lambda m: f"<mark>{m.group(1)}</mark>", text))


def highlight(text: str | None, terms: list[str]) -> Markup:
    """``text`` escaped with the (simplified) ``terms`` marked, also in a traditional text when
    its simplified form has the same length (OpenCC t2s is character for character then)."""
    text = text or ""
    if not terms:
        return Markup(escape(text))
    simp = to_simplified(text) or text
    probe = simp if len(simp) == len(text) else text
    low = probe.lower()
    marks = [False] * len(text)
    for t in terms:
        t = t.lower()
        start = low.find(t)
        while t and start >= 0:
            for i in range(start, start + len(t)):
                marks[i] = True
            start = low.find(t, start + 1)
    out, open_ = [], False
    for ch, m in zip(text, marks):
        if m and not open_:
            out.append("<mark>")
        elif not m and open_:
            out.append("</mark>")
        open_ = m
        out.append(escape(ch))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


def render_value(v: Any) -> Markup:
    """A field value of any shape (text, number, JSON object or list) as escaped HTML."""
    if v is None or v == "" or v == {} or v == []:
        return Markup('<span class="muted">—</span>')
    if isinstance(v, datetime):
        return Markup(escape(local_time(v, "%Y-%m-%d %H:%M:%S %Z")))
    if isinstance(v, dict):
        items = "".join(f"<li><b>{escape(str(k))}</b>: {render_value(x)}</li>" for k, x in v.items())
        return Markup(f"<ul>{items}</ul>")
    if isinstance(v, (list, tuple)):
        return Markup("<ul>" + "".join(f"<li>{render_value(x)}</li>" for x in v) + "</ul>")
    if isinstance(v, str) and v.startswith(("http://", "https://")):
        return Markup(f'<a class="url" href="{escape(v)}" rel="noreferrer nofollow">{escape(v)}</a>')
    return Markup(escape(str(v)))


def page_link(path: str, params: dict[str, Any], page: int) -> str:
    """``path?params&page=N`` (None values left out; page 1 not written)."""
    query = {k: v for k, v in params.items() if v is not None}
    if page > 1:
        query["page"] = page
    return path + ("?" + urlencode(query) if query else "")


def safe_href(url: Any) -> str:
    """An archived URL for ``href``: only http(s) (a ``javascript:`` URL in a hostile archive is dropped)."""
    url = str(url or "")
    return url if url.lower().startswith(("http://", "https://")) else "#"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("govnews.web", "templates"),
                      autoescape=select_autoescape(["html"], default=True), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(local=local_time, snippet=snippet_html, value=render_value,
                       urlq=lambda s: quote(str(s), safe=""), href=safe_href)
    env.globals.update(highlight=highlight, urlencode=urlencode, page_link=page_link)
    return env


_ENV = _env()


def render(template: str, **ctx: Any) -> str:
    ctx.setdefault("static", False)
    ctx.setdefault("root", "")
    ctx.setdefault("css", CSS)
    ctx.setdefault("feeds", [])
    ctx.setdefault("q", "")
    return _ENV.get_template(template).render(**ctx)


def render_health(engine: Engine, *, profiles: list | None = None, now: datetime | None = None,
                  deadletter_dir: Any = None, static: bool = False, root: str = "") -> str:
    """The crawl-health page (``/health``, ``govnews report``) as HTML text."""
    data = queries.health_data(engine, profiles, now, deadletter_dir=deadletter_dir)
    for s in data["sites"]:
        s["chart"] = Markup(daily_bars(data["days"], [("published 发布", s["published"], "#8c1c13"),
                                                      ("archived 存档", s["archived"], "#e0a040")],
                                       title=f"{s['name']}: articles per day, last {len(data['days'])} days"))
    return render("health.html", h=data, static=static, root=root, title="Crawl health 抓取健康")


# ------------------------------------------------------------------------------------ app
class WebApp:
    """The WSGI application over one read-only engine."""

    def __init__(self, engine: Engine, *, profiles: list | None = None, deadletter_dir: Any = None,
                 base_url: str | None = None, clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.profiles = profiles
        self.deadletter_dir = deadletter_dir
        self.base_url = base_url
        self.clock = clock
        self.routes: list[tuple[re.Pattern, Callable[..., Response]]] = [
            (re.compile(r"/"), self.home),
            (re.compile(r"/site/([^/]+)"), self.site),
            (re.compile(r"/article/(\d+)"), self.article),
            (re.compile(r"/raw/(\d+)"), self.raw_text),
            (re.compile(r"/raw/(\d+)/render"), self.raw_render),
            (re.compile(r"/raw/(\d+)/sandbox"), self.raw_sandbox),
            (re.compile(r"/search"), self.search),
            (re.compile(r"/health"), self.health),
            (re.compile(r"/feeds/all\.atom"), self.feed_all),
            (re.compile(r"/feeds/site/([^/]+)\.atom"), self.feed_site),
            (re.compile(r"/feeds/search\.atom"), self.feed_search),
            (re.compile(r"/static/style\.css"), self.css),
        ]

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        try:
            path = path.encode("latin-1").decode("utf-8")      # PEP 3333: PATH_INFO is latin-1 of the bytes
        except (UnicodeDecodeError, UnicodeEncodeError):
            pass
        started = time.perf_counter()
        try:
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, "this archive is read-only")
            params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
            resp = self.dispatch(path, params)
        except HTTPError as exc:
            resp = self.error(exc.status, exc.message)
        except Exception:  # noqa: BLE001 - a bug must give a 500 page, not a dropped connection
            logger.exception("error serving %s", path)
            resp = self.error(500, "internal error (see the server log)")
        headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(resp.body))),
                   *SECURITY_HEADERS, *resp.headers,
                   ("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")]
        if resp.csp:
            headers.append(("Content-Security-Policy", resp.csp))
        if method == "HEAD":
            start_response(resp.status, headers)
            return [b""]
        if resp.status.startswith("405"):
            headers.append(("Allow", "GET, HEAD"))
        start_response(resp.status, headers)
        return [resp.body]

    def dispatch(self, path: str, params: dict[str, str]) -> Response:
        for pattern, handler in self.routes:
            m = pattern.fullmatch(path)
            if m:
                return handler(params, *[unquote(g) for g in m.groups()])
        raise HTTPError(404, f"no page at {path}")

    def error(self, status: int, message: str) -> Response:
        body = render("error.html", status=status, reason=_REASONS.get(status, ""), message=message,
                      title=f"{status} {_REASONS.get(status, '')}")
        return Response(body.encode("utf-8"), f"{status} {_REASONS.get(status, 'Error')}")

    @staticmethod
    def _page(params: dict[str, str], maximum: int | None = None) -> int:
        try:
            page = int(params.get("page") or 1)
        except ValueError:
            raise HTTPError(400, "page must be a number") from None
        if page < 1 or (maximum is not None and page > maximum):
            raise HTTPError(400, f"page must be between 1 and {maximum or 'the last page'}")
        return page

    @staticmethod
    def html(text: str, csp: str | None = CSP, headers: list | None = None) -> Response:
        return Response(text.encode("utf-8"), csp=csp, headers=headers or [])

    # ------------------------------------------------------------------ pages
    def home(self, params: dict[str, str]) -> Response:
        sites = queries.sites_overview(self.engine)
        total = sum(s["articles"] for s in sites)
        feeds = [{"title": "All articles (Atom)", "href": "/feeds/all.atom"}]
        return self.html(render("home.html", sites=sites, total=total, feeds=feeds, title="govnews archive"))

    def site(self, params: dict[str, str], name: str) -> Response:
        column = params.get("column")
        page = self._page(params)
        data = queries.site_articles(self.engine, name, column=column, page=page)
        if data is None:
            raise HTTPError(404, f"no site named {name!r} in this archive")
        if page > data["pages"]:
            raise HTTPError(400, f"page must be between 1 and {data['pages']}")
        spec = FeedSpec(site=name, column=column or None)
        feeds = [{"title": f"{name} (Atom)", "href": spec.path()}]
        return self.html(render("site.html", d=data, feeds=feeds, feed_href=spec.path(),
                                title=data["site"]["title"] or name))

    def article(self, params: dict[str, str], article_id: str) -> Response:
        d = queries.article_detail(self.engine, int(article_id))
        if d is None:
            raise HTTPError(404, f"no article {article_id}")
        previous = d["article"].get("body")
        for rev in d["revisions"]:
            rev["diff"] = diff_html(previous, rev["body"])
            previous = rev["body"]
        return self.html(render("article.html", d=d, a=d["article"], title=d["article"].get("title") or "article"))

    def _raw(self, page_id: str):
        raw = queries.raw_page(self.engine, int(page_id))
        if raw is None:
            raise HTTPError(404, f"no archived page {page_id}")
        return raw

    @staticmethod
    def _decoded(raw) -> tuple[str, str]:
        from crawler.extract.decode import content_type_charset, decode_html

        return decode_html(raw.body or b"", content_type_charset(raw.header("content-type")))

    def raw_text(self, params: dict[str, str], page_id: str) -> Response:
        raw = self._raw(page_id)
        text, codec = self._decoded(raw)
        cut = len(text) > RAW_TEXT_MAX
        return self.html(render("raw.html", raw=raw, text=text[:RAW_TEXT_MAX], cut=cut, codec=codec,
                                title=f"archived page {page_id}"))

    def raw_render(self, params: dict[str, str], page_id: str) -> Response:
        raw = self._raw(page_id)
        return self.html(render("raw_render.html", raw=raw, title=f"archived page {page_id} (rendered)"),
                         csp=CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'"))

    def raw_sandbox(self, params: dict[str, str], page_id: str) -> Response:
        raw = self._raw(page_id)
        text, _codec = self._decoded(raw)
        return Response(text.encode("utf-8"), csp=RAW_CSP, headers=[("X-Frame-Options", "SAMEORIGIN")])

    def search(self, params: dict[str, str]) -> Response:
        from storage.search import query_terms, search

        q = (params.get("q") or "").strip()
        site = params.get("site") or None
        form = {"q": q, "site": site or "", "since": params.get("since", ""), "until": params.get("until", "")}
        since = self._date(form["since"], "since")
        until = self._date(form["until"], "until")
        if until is not None and len(form["until"].strip()) == 10:
            until = until + timedelta(days=1)             # "until 2024-10-31" includes that day
        page = self._page(params, SEARCH_MAX_PAGES)
        hits, more, terms = [], False, query_terms(q)
        if terms:
            found = search(self.engine, q, site=site, since=since, until=until,
                           limit=page * SEARCH_PER_PAGE + 1)
            more = len(found) > page * SEARCH_PER_PAGE and page < SEARCH_MAX_PAGES
            hits = found[(page - 1) * SEARCH_PER_PAGE: page * SEARCH_PER_PAGE]
        sites = queries.site_names(self.engine)
        spec = FeedSpec(query=q, site=site) if q else None
        feeds = [{"title": f"search {q} (Atom)", "href": spec.path()}] if spec else []
        return self.html(render("search.html", form=form, hits=hits, terms=terms, page=page, more=more,
                                sites=sites, q=q, feeds=feeds, feed_href=spec.path() if spec else None,
                                per_page=SEARCH_PER_PAGE, title=f"搜索 {q}" if q else "搜索 search"))

    @staticmethod
    def _date(value: str, name: str) -> datetime | None:
        if not value.strip():
            return None
        try:
            return parse_local(value)
        except ValueError:
            raise HTTPError(400, f"{name}: {value!r} is not a date like 2024-10-24") from None

    def health(self, params: dict[str, str]) -> Response:
        now = self.clock() if self.clock else None
        return self.html(render_health(self.engine, profiles=self.profiles, now=now,
                                       deadletter_dir=self.deadletter_dir))

    # ------------------------------------------------------------------ feeds
    def _feed(self, spec: FeedSpec) -> Response:
        body = build_feed(self.engine, spec, base_url=self.base_url)
        return Response(body, content_type="application/atom+xml; charset=utf-8", csp="default-src 'none'")

    @staticmethod
    def _limit(params: dict[str, str]) -> int:
        try:
            limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise HTTPError(400, "limit must be a number") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise HTTPError(400, f"limit must be between 1 and {MAX_LIMIT}")
        return limit

    def feed_all(self, params: dict[str, str]) -> Response:
        return self._feed(FeedSpec(column=params.get("column") or None, limit=self._limit(params)))

    def feed_site(self, params: dict[str, str], name: str) -> Response:
        if name not in queries.site_names(self.engine):
            raise HTTPError(404, f"no site named {name!r} in this archive")
        return self._feed(FeedSpec(site=name, column=params.get("column") or None, limit=self._limit(params)))

    def feed_search(self, params: dict[str, str]) -> Response:
        q = (params.get("q") or "").strip()
        if not q:
            raise HTTPError(400, "a search feed needs ?q=")
        return self._feed(FeedSpec(query=q, site=params.get("site") or None, column=params.get("column") or None,
                                   limit=self._limit(params)))

    def css(self, params: dict[str, str]) -> Response:
        return Response(CSS.encode("utf-8"), content_type="text/css; charset=utf-8", csp=None,
                        headers=[("Cache-Control", "max-age=3600")])


def make_app(engine: Engine, **kwargs: Any) -> WebApp:
    return WebApp(engine, **kwargs)

