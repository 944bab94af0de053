"""``govnews discover``: from a home or column page, find the news and notice columns, detect the
CMS, sample one list page per column and write an (unverified) site profile.

:func:`discover_site` takes a ``fetch(url) -> (status, content_type, body)`` callable, so it runs the
same on the network (``crawler.discovery.fetch.fetch_page`` with the host rules) and in tests.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from crawler.extract.decode import content_type_charset, decode_html

from .analyze import PageAnalysis, analyze_page
from .templates import TemplateBook

__all__ = ["COLUMN_WORDS", "Column", "Discovery", "discover_site", "profile_toml"]

#: words of news and notice column names, strongest first
COLUMN_WORDS = ("通知公告", "工作动态", "政务要闻", "要闻", "新闻", "动态", "公告", "通知", "公示", "政策文件",
                "信息公开", "政务公开", "政府文件", "部门动态", "乡镇动态", "县区动态", "图片新闻", "资讯", "快讯")
MAX_COLUMNS = 12
FETCH_LIMIT = 24
Fetch = Callable[[str], tuple[int, str, bytes]]


@dataclass
class Column:
    url: str
    name: str
    score: float
    articles: int = 0
    via: str = ""        # what made it a column: block / json / api / paging


@dataclass
class Discovery:
    url: str
    title: str = ""
    cms: str | None = None
    columns: list[Column] = field(default_factory=list)
    book: TemplateBook = field(default_factory=TemplateBook)
    fetched: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def confirmed(self) -> list[Column]:
        return [c for c in self.columns if c.articles > 0]

    @property
    def confidence(self) -> str:
        n, t = len(self.confirmed), len(self.book.article)
        if n >= 2 and t >= 1:
            return "high"
        return "medium" if n >= 1 else "low"


def _score(text: str, reason: str) -> float:
    score = 0.0
    for k, word in enumerate(COLUMN_WORDS):
        if word in text:
            score = max(score, 10.0 - k * 0.3)
    if reason == "more":
        score += 3.0
    return score


def _analyze(fetch: Fetch, url: str, book: TemplateBook, allowed: list[str], d: Discovery) -> PageAnalysis | None:
    try:
        status, ctype, body = fetch(url)
    except Exception as exc:   # a refused or failed fetch: noted, discovery goes on
        d.errors.append(f"{url}: {str(exc).splitlines()[0][:200]}")
        return None
    d.fetched += 1
    if status != 200:
        d.errors.append(f"{url}: HTTP {status}")
        return None
    text, _ = decode_html(body, content_type_charset(ctype))
    return analyze_page(text, url, book=book, allowed_domains=allowed, is_data="json" in ctype.lower())


def _title(fetch_text: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", fetch_text[:200_000], re.S | re.I)
    return " ".join(m.group(1).split())[:100] if m else ""


def discover_site(url: str, fetch: Fetch, *, allowed_domains: list[str] | None = None) -> Discovery:
    """Find the site's columns from ``url`` (a home or column page); see the module docstring."""
    host = (urlsplit(url).hostname or "").lower()
    allowed = list(allowed_domains or [host])
    d = Discovery(url)
    try:
        status, ctype, body = fetch(url)
    except Exception as exc:
        d.errors.append(f"{url}: {str(exc).splitlines()[0][:200]}")
        return d
    d.fetched += 1
    if status != 200:
        d.errors.append(f"{url}: HTTP {status}")
        return d
    text, _ = decode_html(body, content_type_charset(ctype))
    d.title = _title(text)
    home = analyze_page(text, url, book=d.book, allowed_domains=allowed)
    d.cms = home.cms
    candidates: dict[str, Column] = {}
    for link in home.of_kind("list"):
        if link.reason not in ("menu", "more", "prior", "hint"):
            continue
        score = _score(link.text, link.reason)
        col = candidates.get(link.url)
        if col is None:
            candidates[link.url] = Column(link.url, link.text if link.reason != "more" else "", score)
        else:
            col.score = max(col.score, score) + (3.0 if link.reason == "more" else 0.0)
            col.name = col.name or link.text
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.url))
    ranked = [c for c in ranked if c.score > 0][:MAX_COLUMNS] or ranked[:MAX_COLUMNS]
    if home.articles and not ranked:           # a column page itself
        ranked = [Column(url, d.title, 1.0)]
    for col in ranked:
        if d.fetched >= FETCH_LIMIT:
            break
        page = home if col.url == url else _analyze(fetch, col.url, d.book, allowed, d)
        if page is None:
            continue
        d.cms = d.cms or page.cms
        col.articles = len(page.articles)
        col.via = "list block" if col.articles else ""
        if not col.articles and page.data_urls and d.fetched < FETCH_LIMIT:
            data = _analyze(fetch, page.data_urls[0], d.book, allowed, d)
            if data is not None and data.articles:
                col.articles, col.via = len(data.articles), "JSON API"
        elif col.articles and any(x.reason == "json" for x in page.of_kind("article")):
            col.via = "inline JSON"
        d.columns.append(col)
    return d


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile_toml(d: Discovery, name: str, *, now: datetime, allow_private_hosts: list[str] | None = None,
                 schedule: str = "0 */6 * * *") -> str:
    """The profile text: start URLs = confirmed columns (else the page itself), allowed_domains,
    CMS and learned templates as comments, ``verified = false``."""
    host = (urlsplit(d.url).hostname or "").lower()
    domain = host[4:] if host.startswith("www.") else host
    starts = [c.url for c in d.confirmed] or [d.url]
    lines = [f"# written by `govnews discover {d.url}` on {now:%Y-%m-%d %H:%M} (UTC); review before use",
             f"# CMS: {d.cms or 'unknown'}; confidence: {d.confidence} "
             f"({len(d.confirmed)} of {len(d.columns)} sampled columns list articles, {d.fetched} pages fetched)"]
    for c in d.columns:
        mark = f"{c.articles} article links ({c.via})" if c.articles else "no article links (left out)"
        lines.append(f"#   column {c.name or '?'}: {c.url} -> {mark}")
    if d.book.article:
        lines.append("# learned article templates (support, example):")
        lines += [f"#   {t}  ({n}; e.g. {ex})" for t, n, ex in d.book.learned()[:10]]
    lines += [f"name = {_q(name)}", f"title = {_q(d.title or name)}",
              "start_urls = [" + ", ".join(_q(u) for u in starts) + "]",
              f"allowed_domains = [{_q(domain)}]"]
    if allow_private_hosts:
        lines.append("allow_private_hosts = [" + ", ".join(_q(h) for h in allow_private_hosts) + "]")
    lines += [f"schedule = {_q(schedule)}", "verified = false", "", "[hints]", "download_delay = 2.0",
              "max_pages = 2000", ""]
    return "\n".join(lines)
