"""Link discovery on list pages: which links are articles, which are more list pages, which are feeds.

Pure functions over decoded HTML text and a base URL; the spider decides what to request. Trees come
from :func:`crawler.extract.html.parse_html` (the one HTML parser helper; ``links.parse_html`` is that
function).
"""
from __future__ import annotations

import html as html_lib
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.extract.html import parse_html

from . import patterns as P

__all__ = ["Link", "Paging", "absolute", "classify_url", "create_page_html", "extract_links", "feed_links",
           "hanweb_datastore", "next_page_links", "parse_html"]

#: elements whose links are navigation chrome rather than content lists
CHROME_XPATH = "ancestor::*[self::header or self::footer or self::nav]"
#: list containers (links inside them are more likely to be articles)
LIST_CONTAINER_XPATH = "ancestor::*[self::ul or self::ol or self::table or self::dl][1]"
ANCHOR_XPATH = "//a[@href]"
#: bounds of the Hanweb datastore scan
MAX_DATASTORES = 50
MAX_RECORDS = 5000
MAX_DATAPROXY_PAGES = 500
#: anchors of one page :func:`extract_links` looks at
MAX_LINKS = 20000
#: URLs longer than this are never classified by pattern (``skip``): keeps every regex linear
MAX_CLASSIFY_URL = 2048
FEED_LINK_XPATH = "//link[@rel='alternate'][@href]"


@dataclass(frozen=True)
class Link:
    url: str
    text: str = ""
    kind: str = "other"  # article | list | feed | other


#: an href longer than this is no link a crawler follows (and is not worth joining)
MAX_HREF = 4096


def absolute(href: str, base_url: str) -> str | None:
    """The absolute http(s) URL of ``href`` without its fragment, or None (empty, fragment-only,
    over-long, malformed or another scheme)."""
    href = (href or "").strip()
    if not href or href.startswith("#") or len(href) > MAX_HREF:
        return None
    try:
        url = urljoin(base_url, href)
    except ValueError:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url.split("#", 1)[0]


def classify_url(url: str, text: str = "", *, article_re: re.Pattern | None = None,
                 list_re: re.Pattern | None = None, deny_re: re.Pattern | None = None) -> str:
    """``article``, ``list``, ``feed``, ``skip`` (never follow) or ``other`` for one link (URL priors)."""
    if len(url) > MAX_CLASSIFY_URL:
        return "skip"
    path = urlsplit(url).path or "/"
    path_q = path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
    if P.BINARY_EXT_RE.search(path) or (deny_re and deny_re.search(url)):
        return "skip"
    if P.TRAP_URL_RE.search(url):
        return "skip"
    if article_re is not None and article_re.search(url):
        return "article"
    if list_re is not None and list_re.search(url):
        return "list"
    if P.TRS_ARTICLE_RE.search(path) or P.HANWEB_ARTICLE_RE.search(path):
        return "article"
    if P.FEED_URL_RE.search(path):
        return "feed"
    if P.LIST_PAGE_RE.search(path):
        return "list"
    looks_like_headline = len(text) >= P.MIN_TITLE_TEXT and len(P.CJK_RE.findall(text)) >= 4
    if P.DATE_PATH_RE.search(path) or P.ARTICLE_NAME_RE.search(path_q):
        return "article" if looks_like_headline or not text else "other"
    return "other"


def extract_links(text: str, base_url: str, tree: etree._Element | None = None) -> list[Link]:
    """Every http(s) link of the page with its text, classified, in page order, first occurrence only."""
    tree = tree if tree is not None else parse_html(text)
    if tree is None:
        return []
    seen: set[str] = set()
    out: list[Link] = []
    for n, a in enumerate(tree.iter("a")):
        if n >= MAX_LINKS:
            break
        if a.get("href") is None:
            continue
        url = absolute(a.get("href"), base_url)
        if not url or url in seen:
            continue
        seen.add(url)
        label = " ".join((a.text_content() or a.get("title") or "").split())
        out.append(Link(url, label, classify_url(url, label)))
    return out


def next_page_links(links: list[Link]) -> list[Link]:
    """Links whose text says "next page" (下一页) or "more" (更多): pagination and column entries."""
    return [link for link in links if link.text in P.NEXT_PAGE_TEXTS or link.text.startswith(P.MORE_TEXTS)]


def _js_int(text: str, token: str) -> int | None:
    if token.isdigit():
        return int(token)
    m = re.search(P.JS_INT_VAR_RE.format(name=re.escape(token)), text)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Paging:
    """The list pages of a TRS WCM column and the index of the page at hand."""
    urls: tuple[str, ...]
    current: int

    @property
    def next_url(self) -> str | None:
        return self.urls[self.current + 1] if self.current + 1 < len(self.urls) else None


def create_page_html(text: str, base_url: str) -> Paging | None:
    """List pages announced only by TRS WCM's ``createPageHTML(total, current, "index", "html")``.

    Page 0 is ``index.html``; page n is ``index_n.html``; all in the directory of ``base_url``.
    """
    m = P.CREATE_PAGE_HTML_RE.search(text)
    if not m:
        return None
    total, current = _js_int(text, m.group(1)), _js_int(text, m.group(2))
    if not total or total <= 1:
        return None
    total = min(total, MAX_DATAPROXY_PAGES)   # createPageHTML(1e9, ...): capped
    prefix, ext = m.group(3), m.group(4)
    urls = [absolute(f"{prefix}.{ext}" if n == 0 else f"{prefix}_{n}.{ext}", base_url) for n in range(total)]
    current = current if current is not None and 0 <= current < total else 0
    return Paging(tuple(u for u in urls if u), current)


def _between(text: str, open_tag: str, close_tag: str, limit: int) -> list[str]:
    """Contents of ``open_tag … close_tag`` spans, scanning once (an unclosed tag ends the scan)."""
    low = text.lower()
    out: list[str] = []
    pos = 0
    while len(out) < limit:
        start = low.find(open_tag, pos)
        if start < 0:
            break
        end = low.find(close_tag, start + len(open_tag))
        if end < 0:
            break
        out.append(text[start + len(open_tag): end])
        pos = end + len(close_tag)
    return out


def _records(block: str, limit: int) -> list[str]:
    out = []
    for rec in _between(block, "<record>", "</record>", limit):
        m = P.HANWEB_CDATA_RE.match(rec)
        if m:
            out.append(m.group(1))
    return out


def hanweb_datastore(text: str, base_url: str, *, max_pages: int = MAX_DATAPROXY_PAGES,
                     refusals: Counter | None = None) -> tuple[list[Link], list[str]]:
    """Article links hidden in Hanweb (大汉) ``<datastore><recordset><record><![CDATA[...]]>`` blocks,
    and the ``dataproxy.jsp`` URLs that serve the remaining records.

    Works both on a column page (the datastore sits in ``<script type="text/xml">``) and on a
    dataproxy response (the whole body is the datastore). Bounded: blocks and records are found in
    one linear scan (unclosed ``<datastore>`` tags end it), at most ``max_pages`` dataproxy URLs
    (``refusals["dataproxy_capped"]`` when ``totalrecord`` asks for more), ``perpage: 0`` is refused
    (``refusals["dataproxy_perpage"]``).
    """
    links: list[Link] = []
    proxies: list[str] = []
    if "<datastore" not in text and "<DATASTORE" not in text:
        return links, proxies
    for block in _between(text, "<datastore>", "</datastore>", MAX_DATASTORES):
        records = _records(block, MAX_RECORDS)
        for fragment in records:
            tree = parse_html(f"<div>{fragment}</div>")
            if tree is None:
                continue
            for a in tree.xpath(ANCHOR_XPATH):
                url = absolute(a.get("href"), base_url)
                if url:
                    label = " ".join((a.text_content() or a.get("title") or "").split())
                    kind = classify_url(url, label)
                    links.append(Link(url, label, "article" if kind == "other" else kind))
        if P.HANWEB_DATAPROXY_PATH in urlsplit(base_url).path:
            continue  # a dataproxy answer: its range was computed on the column page
        nextgroup = P.HANWEB_NEXTGROUP_RE.search(block)
        total = P.HANWEB_TOTALRECORD_RE.search(block) or P.HANWEB_TOTALRECORD_JS_RE.search(text)
        if not nextgroup or not total:
            continue
        href = re.search(r"href=[\"']([^\"']+)[\"']", nextgroup.group(1))
        proxy = absolute(html_lib.unescape(href.group(1)), base_url) if href else None
        if not proxy:
            continue
        shown = len(records)
        per_page = P.HANWEB_PERPAGE_RE.search(text)
        per = int(per_page.group(1)) if per_page else max(shown, 15)
        if per <= 0:
            if refusals is not None:
                refusals["dataproxy_perpage"] += 1
            continue
        start, n_total = shown + 1, int(total.group(1))
        if n_total - shown > per * max_pages:
            if refusals is not None:
                refusals["dataproxy_capped"] += 1
            n_total = shown + per * max_pages
        sep = "&" if "?" in proxy else "?"
        while start <= n_total:
            end = min(start + per - 1, n_total)
            proxies.append(f"{proxy}{sep}startrecord={start}&endrecord={end}&perpage={per}")
            start = end + 1
    return links, proxies


def feed_links(tree: etree._Element | None, base_url: str) -> list[str]:
    """``<link rel="alternate" type="application/rss+xml">`` feeds announced by the page."""
    if tree is None:
        return []
    out = []
    for el in tree.xpath(FEED_LINK_XPATH):
        if (el.get("type") or "").lower() in P.FEED_LINK_TYPES:
            url = absolute(el.get("href"), base_url)
            if url and url not in out:
                out.append(url)
    return out
