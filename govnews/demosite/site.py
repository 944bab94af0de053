"""The demo site model: stories placed in sections, rendered to an in-memory set of pages."""
from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

from common.clock import LOCAL_TZ, utcnow

from . import templates as T
from .texts import (
    SPAM_FRAGMENTS,
    Story,
    SyntheticFactory,
    glossify,
    seed_stories,
    strip_glosses,
    synthetic_dates,
    to_simplified,
    to_traditional,
)

SECTIONS = ("trs", "hanweb", "portal", "mirror")
CMS = {"trs": "trs", "hanweb": "hanweb", "portal": "homemade", "mirror": "mirror"}
COLUMNS = {"trs": T.TRS_COLUMN, "hanweb": T.HANWEB_COLUMN, "portal": T.PORTAL_COLUMN, "mirror": T.MIRROR_COLUMN}
LIST_START = {
    "trs": "/xwzx/zwyw/index.html",
    "hanweb": f"/col/col{T.HANWEB_COLUMNID}/index.html",
    "portal": "/news/index.html",
    "mirror": "/mirror/index.html",
}
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
DEFAULT_BASE_URL = "http://127.0.0.1:8765/"
DEFAULT_NEWEST = datetime(2024, 10, 31, 16, 30, tzinfo=LOCAL_TZ)

# Page tuple: (body bytes, content type, extra headers incl. ETag / Last-Modified)
Page = tuple[bytes, str, dict[str, str]]


@dataclass(frozen=True)
class ExpectedArticle:
    """One article URL of the demo site and what a perfect crawler+extractor should archive for it."""

    url_path: str                 # "/xwzx/zwyw/202110/t20211029_693201.html"
    title: str                    # real headline as the page shows it (glosses removed; traditional on mirror)
    published_at: datetime        # aware, Asia/Shanghai
    section: str                  # "trs" | "hanweb" | "portal" | "mirror"
    cms: str                      # "trs" | "hanweb" | "homemade" | "mirror"
    source: str | None            # 来源 as shown on the page (traditional on mirror pages)
    canonical_group: str          # same value for every copy of one story
    title_simplified: str = ""    # simplified headline (equal across the copies of a story)
    column: str = ""
    author: str | None = None
    editor: str | None = None
    original_title: str | None = None
    summary: str | None = None
    paragraphs: tuple[str, ...] = ()  # clean simplified body paragraphs of the story
    variant: str = "original"     # "original" | "crosspost" | "mirror"
    encoding: str = "utf-8"       # encoding of the bytes: "utf-8" | "gbk"
    declared_charset: str | None = "utf-8"  # charset the page declares (header or meta), None = none at all

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.url_path

    @property
    def body_simplified(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class Placement:
    story: Story
    section: str
    variant: str
    serial: int        # global placement number (creation order), drives stable ids
    url_path: str = ""
    encoding: str = "utf-8"
    declared: str | None = "utf-8"
    header_charset: str | None = "utf-8"
    meta_charset: str | None = "utf-8"


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha1(data).hexdigest()[:20] + '"'


def _http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC).replace(microsecond=0), usegmt=True)


class DemoSite:
    """A generated government site.  See the package docstring for the full API."""

    def __init__(self, n_articles: int | None = None, seed: int = 0, *, mirror: bool | None = None,
                 crossposts: bool | None = None, per_page: int | None = None):
        self.n_articles = n_articles
        self.seed = seed
        demo = n_articles is None
        self.mirror = demo if mirror is None else mirror
        self.crossposts = demo if crossposts is None else crossposts
        small = demo or (n_articles is not None and n_articles <= 30)
        self.per_page = per_page or (2 if demo else 3 if small else 20)
        self.mirror_per_page = per_page or (4 if small else 20)
        self._factory = SyntheticFactory(seed)
        self._rng = random.Random(f"site:{seed}")
        self._serial = 0
        self._syn = 0
        self._section_counts = {s: 0 for s in SECTIONS}
        self._rr = 0
        self.placements: list[Placement] = []
        self._lock = threading.RLock()
        self._pages: dict[str, Page] = {}
        self._mtimes: dict[str, datetime] = {}
        self._clock: datetime = DEFAULT_NEWEST    # the site's "now"; set by _build
        self._populate(n_articles)
        self._build(initial=True)

    # ------------------------------------------------------------------ population
    def _new_synthetic(self, published: datetime) -> Story:
        story = self._factory.make(self._syn, published)
        self._syn += 1
        return story

    def _place(self, story: Story, section: str, variant: str = "original") -> Placement:
        idx = self._section_counts[section]
        self._section_counts[section] += 1
        p = Placement(story=story, section=section, variant=variant, serial=self._serial)
        self._serial += 1
        dt = story.published_at
        if section == "trs":
            p.url_path = f"/xwzx/zwyw/{dt:%Y%m}/t{dt:%Y%m%d}_{693200 + p.serial}.html"
            if idx % 4 == 1:  # UTF-8 bytes, but <meta> says gb2312 and the header has no charset
                p.encoding, p.declared, p.header_charset, p.meta_charset = "utf-8", "gb2312", None, "gb2312"
        elif section == "hanweb":
            p.url_path = f"/art/{dt.year}/{dt.month}/{dt.day}/art_{T.HANWEB_COLUMNID}_{8000 + p.serial}.html"
        elif section == "portal":
            p.url_path = f"/news/{dt:%Y-%m}/{dt:%d}/content_{1000 + p.serial}.htm"
            p.encoding, p.declared, p.header_charset, p.meta_charset = "gbk", "gbk", None, "gbk"
        elif section == "mirror":
            p.url_path = f"/mirror/html/{dt:%Y%m%d}/{30000 + p.serial}.html"
            p.encoding, p.declared, p.header_charset, p.meta_charset = "gbk", None, None, None
        self.placements.append(p)
        return p

    def _next_section(self) -> str:
        s = ("trs", "hanweb", "portal")[self._rr % 3]
        self._rr += 1
        return s

    def _populate(self, n: int | None) -> None:
        seeds = seed_stories()
        primary = {"seed000": "trs", "seed001": "portal", "seed002": "hanweb", "seed003": "hanweb",
                   "seed004": "trs"}
        if n is None:
            n_syn, use_seeds = 12, seeds
        else:
            use_seeds = seeds[:n] if n < len(seeds) else seeds
            n_syn = max(0, n - len(use_seeds))
        dates = synthetic_dates(self._rng, n_syn, DEFAULT_NEWEST)
        synthetic = [self._new_synthetic(dt) for dt in dates]
        for s in use_seeds:
            self._place(s, primary[s.key])
        syn_places = []
        for s in synthetic:
            syn_places.append(self._place(s, self._next_section()))
        if self.crossposts:
            for s in use_seeds:
                if s.key == "seed004":
                    self._place(s, "portal", "crosspost")
            for p in syn_places[:1]:
                self._place(p.story, "hanweb" if p.section != "hanweb" else "trs", "crosspost")
        if self.mirror:
            for s in use_seeds:
                if s.key in ("seed000", "seed001", "seed002", "seed003"):
                    self._place(s, "mirror", "mirror")
            for p in syn_places[1:3]:
                self._place(p.story, "mirror", "mirror")

    def publish(self, k: int = 1) -> list[ExpectedArticle]:
        """Add ``k`` new synthetic articles, newer than everything else, at the top of the lists."""
        with self._lock:
            newest = max(p.story.published_at for p in self.placements) if self.placements else DEFAULT_NEWEST
            added = []
            for i in range(k):
                story = self._new_synthetic(newest + timedelta(hours=3 * (i + 1), minutes=7 * i))
                added.append(self._place(story, self._next_section()))
            self._build(initial=False)
            return [self._expected(p) for p in added]

    # ------------------------------------------------------------------ queries
    def section_placements(self, section: str) -> list[Placement]:
        """Placements of a section as its lists show them: newest first."""
        cache = self.__dict__.setdefault("_sorted_cache", {})
        key = (section, len(self.placements))
        if key not in cache:
            items = [p for p in self.placements if p.section == section]
            cache.clear() if len(cache) > 16 else None
            cache[key] = sorted(items, key=lambda p: (p.story.published_at, p.serial), reverse=True)
        return list(cache[key])

    def _expected(self, p: Placement) -> ExpectedArticle:
        s = p.story
        if p.section == "mirror":
            title = strip_glosses(s.raw_title) if s.raw_title else to_traditional(s.title)
            source = to_traditional(s.source) if s.source and not s.raw_meta else s.source
            if s.raw_meta:
                source = _mirror_source(s)
        else:
            title, source = s.title, s.source
        return ExpectedArticle(
            url_path=p.url_path, title=title, published_at=s.published_at, section=p.section,
            cms=CMS[p.section], source=source, canonical_group=s.key, title_simplified=s.title,
            column=COLUMNS[p.section], author=s.author, editor=s.editor, original_title=s.original_title,
            summary=s.summary, paragraphs=tuple(s.paragraphs), variant=p.variant, encoding=p.encoding,
            declared_charset=p.declared,
        )

    @property
    def expected_articles(self) -> list[ExpectedArticle]:
        with self._lock:
            return [self._expected(p) for p in sorted(self.placements, key=lambda p: p.serial)]

    @property
    def pages(self) -> dict[str, Page]:
        """Static pages: {path: (bytes, content_type, extra_headers)}.  Dynamic URLs (calendar,
        ``/zt/list.html?page=N``, the Hanweb dataproxy, RSS for another host) come from :meth:`get`."""
        return self._pages

    @property
    def calendar_month(self) -> str:
        newest = max(p.story.published_at for p in self.placements) if self.placements else DEFAULT_NEWEST
        return f"{newest:%Y-%m}"

    def first_page_paths(self, section: str) -> set[str]:
        """Article paths shown on the first list page (or first Hanweb batch) of a section."""
        per = self.mirror_per_page if section == "mirror" else self.per_page
        return {p.url_path for p in self.section_placements(section)[:per]}

    # ------------------------------------------------------------------ rendering
    def _encode(self, p: Placement, html: str) -> bytes:
        return html.encode(p.encoding, errors="xmlcharrefreplace")

    def _article_ctype(self, p: Placement) -> str:
        return f"text/html; charset={p.header_charset}" if p.header_charset else "text/html"

    def _related(self, p: Placement, limit: int = 5) -> list[tuple[str, str]]:
        # Only first-page items: later list pages must stay reachable only through each CMS's own
        # pagination mechanism (createPageHTML, dataproxy, next links).
        firsts = self.section_placements(p.section)[: self.per_page]
        return [(o.url_path, o.story.title) for o in firsts if o is not p][:limit]

    def _render_article(self, p: Placement, cal: str) -> str:
        s = p.story
        if p.section == "trs":
            return T.trs_article_page(
                title=s.title, published=s.published_at, source=s.source, column=T.TRS_COLUMN,
                paragraphs=s.paragraphs, url_self="./" + p.url_path.rsplit("/", 1)[1], summary=s.summary,
                author=s.author, author_post=s.author_post, editor=s.editor, related=self._related(p),
                charset_meta=p.meta_charset, calendar_month=cal,
            )
        if p.section == "hanweb":
            return T.hanweb_article_page(
                title=s.title, published=s.published_at, source=s.source, paragraphs=s.paragraphs,
                editor=s.editor, related=self._related(p), calendar_month=cal,
            )
        if p.section == "portal":
            items = self.section_placements("portal")
            hot = [(o.url_path, o.story.title) for o in items if o is not p][:6]
            return T.portal_article_page(
                title=s.title, published=s.published_at, source=s.source, paragraphs=s.paragraphs,
                author=s.author, author_post=s.author_post, editor=s.editor, hot=hot, related=hot[:4],
                printed_twice=s.printed_twice, menu=[to_simplified(strip_glosses(m)) for m in s.menu],
                calendar_month=cal, charset_meta=p.meta_charset,
            )
        return self._render_mirror_article(p)

    def _spam(self, p: Placement) -> str:
        if p.story.spam_title:
            return p.story.spam_title
        rng = random.Random(f"spam:{p.story.key}")
        return "_".join(rng.sample(SPAM_FRAGMENTS, 4))

    def _render_mirror_article(self, p: Placement) -> str:
        s = p.story
        others = [o for o in self.section_placements("mirror") if o is not p][:4]
        related = [(o.url_path, self._expected(o).title) for o in others]
        raw_title, raw_meta = s.raw_title or "", s.raw_meta or ""     # set for the seed stories below
        if s.key == "seed000" or s.key == "seed002":
            assert s.breadcrumb is not None, s.key
            lines = list(s.raw_lines)
            if s.original_title:
                orig = next((x for x in _raw_seed_lines(s) if "原標" in x), None)
                if orig:
                    lines.insert(0, orig)
            summary = next((x for x in _raw_seed_lines(s) if x.startswith("摘要")), None)
            return T.mirror_article_page(
                spam=self._spam(p), breadcrumb=s.breadcrumb, title=raw_title, meta_line=raw_meta,
                summary=summary, menu=[], lines=lines, tail=s.raw_tail, printed_twice=False, related=related,
            )
        crumb = "您现在的位置: 首頁 > 區(qū)縣新聞 > 正文"
        if s.key == "seed001":
            meta = f"发稿时间:{s.published_at:%Y-%m-%d %H:%M}   {s.raw_meta}"
            return T.mirror_article_page(
                spam=self._spam(p), breadcrumb=crumb, title=raw_title, meta_line=meta, summary=None,
                menu=[], lines=s.raw_lines, tail=[], printed_twice=True, related=related,
            )
        if s.key == "seed003":
            return T.mirror_article_page(
                spam=self._spam(p), breadcrumb=crumb, title=raw_title, meta_line=raw_meta, summary=None,
                menu=s.menu, lines=s.raw_lines, tail=[], printed_twice=False, related=related,
            )
        meta = f"发稿时间:{s.published_at:%Y-%m-%d %H:%M}   来源: {glossify(s.source or '')}"
        tail = [f"編輯:{glossify(s.editor)}"] if s.editor else []
        return T.mirror_article_page(
            spam=self._spam(p), breadcrumb=crumb, title=glossify(s.title), meta_line=meta, summary=None,
            menu=[], lines=[glossify(x) for x in s.paragraphs], tail=tail, printed_twice=False,
            related=related,
        )

    def _render_static(self) -> dict[str, tuple[bytes, str]]:
        cal = self.calendar_month
        out: dict[str, tuple[bytes, str]] = {}
        html_utf8 = "text/html; charset=utf-8"
        # articles
        for p in self.placements:
            out[p.url_path] = (self._encode(p, self._render_article(p, cal)), self._article_ctype(p))
        # TRS lists: index.html, index_1.html, ... (later pages only via createPageHTML)
        trs = self.section_placements("trs")
        pages = _chunks(trs, self.per_page)
        side = [(LIST_START["trs"], T.TRS_COLUMN)]
        for i, chunk in enumerate(pages):
            items = [("./" + q.url_path.split("/xwzx/zwyw/", 1)[1], q.story.title, q.story.published_at)
                     for q in chunk]
            html = T.trs_list_page(items=items, page=i, total_pages=len(pages), side=side, calendar_month=cal)
            name = "index.html" if i == 0 else f"index_{i}.html"
            out[f"/xwzx/zwyw/{name}"] = (html.encode("utf-8"), html_utf8)
        # Hanweb column page: first batch of records inside the <datastore>
        hw = self.section_placements("hanweb")
        records = [T.hanweb_record(q.url_path, q.story.title, q.story.published_at) for q in hw[: self.per_page]]
        html = T.hanweb_list_page(records=records, total=len(hw), perpage=self.per_page, calendar_month=cal)
        out[LIST_START["hanweb"]] = (html.encode("utf-8"), html_utf8)
        # portal lists: index.html, list_2.html, ... with plain 下一页 links; GBK, charset in the header only
        portal = self.section_placements("portal")
        pages = _chunks(portal, self.per_page)
        for i, chunk in enumerate(pages, start=1):
            items = [(q.url_path, q.story.title, q.story.published_at) for q in chunk]
            html = T.portal_list_page(items=items, page=i, total_pages=len(pages), prefix="/news/",
                                      column=T.PORTAL_COLUMN, calendar_month=cal, charset_meta=None)
            name = "index.html" if i == 1 else f"list_{i}.html"
            out[f"/news/{name}"] = (html.encode("gbk", errors="xmlcharrefreplace"), "text/html; charset=GBK")
        # mirror lists: GBK, no declaration at all
        mirror = self.section_placements("mirror")
        pages = _chunks(mirror, self.mirror_per_page)
        for i, chunk in enumerate(pages, start=1):
            items = [(q.url_path, self._expected(q).title, q.story.published_at) for q in chunk]
            html = T.mirror_list_page(spam="_".join(SPAM_FRAGMENTS[:4]), items=items, page=i,
                                      total_pages=len(pages))
            name = "index.html" if i == 1 else f"list_{i}.html"
            out[f"/mirror/{name}"] = (html.encode("gbk", errors="xmlcharrefreplace"), "text/html")
        # home page
        heads = [(q.url_path, q.story.title, q.story.published_at) for q in trs[: self.per_page]]
        towns = [(q.url_path, q.story.title, q.story.published_at) for q in portal[: self.per_page]]
        home = T.home_page(headlines=heads, town_news=towns, calendar_month=cal).encode("utf-8")
        out["/"] = (home, html_utf8)
        out["/index.html"] = (home, html_utf8)
        out["/rss.xml"] = (self._rss(DEFAULT_BASE_URL).encode("utf-8"), "application/rss+xml; charset=utf-8")
        out["/robots.txt"] = (T.ROBOTS.encode("ascii"), "text/plain; charset=utf-8")
        out["/images/style.css"] = (T.STYLE_CSS.encode("ascii"), "text/css")
        out["/module/jslib/jquery/jpage/jquery.page.min.js"] = (T.JPAGE_JS.encode("ascii"), "application/javascript")
        out["/module/jslib/jquery/jquery.js"] = (b"/* jquery stub */\n", "application/javascript")
        for img in ("/images/logo.png", "/images/red.png", "/images/banner.jpg", "/images/top.jpg"):
            out[img] = (T.GIF_1X1, "image/gif")
        priv = [("/private/tzgg/t20241024_999001.html", "关于内部办公系统升级的通知")]
        out["/private/index.html"] = (T.private_index(priv).encode("utf-8"), html_utf8)
        out["/private/tzgg/t20241024_999001.html"] = (
            T.trs_article_page(
                title="关于内部办公系统升级的通知", published=datetime(2024, 10, 24, 9, 0, tzinfo=LOCAL_TZ),
                source="县政府办", column="内部通知", paragraphs=["本页面仅限内部使用，爬虫不得抓取。"],
                url_self="./t20241024_999001.html", summary=None, author=None, author_post=None, editor=None,
                related=[], charset_meta="utf-8", calendar_month=cal,
            ).encode("utf-8"),
            html_utf8,
        )
        return out

    def _rss(self, base_url: str) -> str:
        firsts = self.section_placements("trs")[: self.per_page] + self.section_placements("portal")[: self.per_page]
        firsts.sort(key=lambda p: p.story.published_at, reverse=True)
        items = [(p.url_path, p.story.title, p.story.published_at, (p.story.summary or p.story.paragraphs[0])[:80])
                 for p in firsts[:10]]
        return T.rss(items, base_url, _http_date(self._clock or DEFAULT_NEWEST))

    def _build(self, *, initial: bool) -> None:
        newest = max(p.story.published_at for p in self.placements) if self.placements else DEFAULT_NEWEST
        if initial:
            self._clock = newest + timedelta(hours=1)
        else:
            now = utcnow().replace(microsecond=0)
            self._clock = max(now, (self._clock or now) + timedelta(seconds=1))
        rendered = self._render_static()
        by_path = {p.url_path: p for p in self.placements}
        pages: dict[str, Page] = {}
        for path, (data, ctype) in rendered.items():
            old = self._pages.get(path)
            if old is None or old[0] != data:
                if initial:
                    art = by_path.get(path)
                    self._mtimes[path] = art.story.published_at if art else self._clock
                else:
                    self._mtimes[path] = self._clock
            headers = {"ETag": _etag(data), "Last-Modified": _http_date(self._mtimes[path])}
            pages[path] = (data, ctype, headers)
        self._pages = pages

    # ------------------------------------------------------------------ request answering
    def get(self, target: str, *, host: str | None = None, body: bytes = b"") -> Page | None:
        """Answer ``target`` (path + query): static page, dynamic page, or None (-> 404)."""
        parts = urlsplit(target)
        path = parts.path or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        if body:
            for k, v in parse_qs(body.decode("utf-8", "replace")).items():
                query.setdefault(k, v)
        with self._lock:
            if path == "/rss.xml" and host:
                data = self._rss(f"http://{host}/").encode("utf-8")
                return data, "application/rss+xml; charset=utf-8", {
                    "ETag": _etag(data), "Last-Modified": self._pages["/rss.xml"][2]["Last-Modified"]}
            if path in self._pages:
                return self._pages[path]
            if path.endswith("/") and path + "index.html" in self._pages:
                return self._pages[path + "index.html"]
            if path == DATAPROXY:
                return self._dataproxy(query)
            if path == "/calendar":
                return self._calendar(query)
            if path == "/zt/list.html":
                return self._topic(query)
        return None

    def _dynamic(self, text: str, ctype: str = "text/html; charset=utf-8") -> Page:
        data = text.encode("utf-8")
        return data, ctype, {"ETag": _etag(data), "Last-Modified": _http_date(self._clock)}

    def _dataproxy(self, q: dict[str, list[str]]) -> Page:
        def num(name: str, default: int) -> int:
            try:
                return int(q.get(name, [default])[0])
            except (TypeError, ValueError):
                return default

        perpage = max(1, num("perpage", self.per_page))
        start = max(1, num("startrecord", 1))
        end = max(start, num("endrecord", start + perpage - 1))
        items = self.section_placements("hanweb") if q.get("columnid", [""])[0] == str(T.HANWEB_COLUMNID) else []
        records = [T.hanweb_record(p.url_path, p.story.title, p.story.published_at) for p in items[start - 1:end]]
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               + T.hanweb_datastore(records, total=len(items), perpage=perpage))
        return self._dynamic(xml, "text/xml; charset=UTF-8")

    def _calendar(self, q: dict[str, list[str]]) -> Page:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", q.get("month", [""])[0])
        year, month = (int(m.group(1)), int(m.group(2))) if m and 1 <= int(m.group(2)) <= 12 else (
            int(self.calendar_month[:4]), int(self.calendar_month[5:]))
        days: dict[int, list[tuple[str, str]]] = {}
        for p in self.section_placements("portal"):
            dt = p.story.published_at
            if dt.year == year and dt.month == month:
                days.setdefault(dt.day, []).append((p.url_path, p.story.title))
        return self._dynamic(T.calendar_page(year, month, days))

    def _topic(self, q: dict[str, list[str]]) -> Page:
        try:
            page = max(1, int(q.get("page", ["1"])[0]))
        except ValueError:
            page = 1
        firsts = self.section_placements("trs")[:3]
        links = [(p.url_path, p.story.title) for p in firsts]
        if links:
            k = page % len(links)
            links = links[k:] + links[:k]
        return self._dynamic(T.topic_page(page, links))

    def not_found(self) -> Page:
        data = T.NOT_FOUND.encode("utf-8")
        return data, "text/html; charset=utf-8", {}

    def last_modified(self, path: str) -> datetime | None:
        page = self._pages.get(path)
        return parsedate_to_datetime(page[2]["Last-Modified"]) if page else None


def _chunks(items: list, size: int) -> list[list]:
    out = [items[i:i + size] for i in range(0, len(items), size)]
    return out or [[]]


def _raw_seed_lines(story: Story) -> list[str]:
    from .texts import SEEDS_DIR

    num = story.key[4:]
    path = next(SEEDS_DIR.glob(f"{num}_*.txt"))
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _mirror_source(story: Story) -> str | None:
    raw = strip_glosses(story.raw_meta or "")
    m = re.search(r"[来來]源[:：]\s*(.+?)(?:\s+日期|$)", raw)
    return m.group(1).strip() if m else story.source
