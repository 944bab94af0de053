"""Atom 1.0 feeds of the archive: of everything, of one site, one column, one search query.

:func:`build_feed` returns the feed document (UTF-8 bytes); ``govnews feed -o FILE`` writes it
atomically (:func:`write_atomic`), the web view serves the same bytes live under ``/feeds/``.

Entries (newest first by publication time, first archived when undated):

* ``id``: the article's canonical URL (the first URL it was seen at; stable across generations and
  archives), or ``tag:govnews,2024:article:<id>`` when the archive has no absolute http(s) URL;
* ``title``, ``link rel="alternate"`` to the original page (and ``rel="related"`` to the archived
  copy in the web view when a base URL is known), ``published`` = publication time, ``updated`` =
  the newest of publication time and the last revision's arrival (first archived when undated);
* ``author``: 作者, else 来源 (source), else the site's title; 来源 also as a ``category``
  (``scheme="…/source"``), the column as a ``category`` (``scheme="…/column"``);
* ``summary``: 摘要, else the first ``SUMMARY_CHARS`` characters of the text; ``content
  type="text"``: the clean article text. Archived HTML never goes into a feed: every value is text,
  escaped by the XML serializer, and characters XML 1.0 forbids are removed.

The feed's own ``id`` is a tag URI naming the selection, ``updated`` its newest entry's (a fixed
date for an empty feed), so two generations of an unchanged archive are byte-identical.
"""
from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import Engine, func, select

from common.clock import LOCAL_TZ
from storage.models import Article, ArticleRevision, Site

__all__ = ["ATOM_NS", "DEFAULT_LIMIT", "FeedSpec", "build_feed", "feed_entries", "render_atom", "write_atomic"]

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG = "tag:govnews,2024:"
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
SUMMARY_CHARS = 200
EMPTY_FEED_UPDATED = datetime(2024, 1, 1, tzinfo=UTC)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

A = Article.__table__
S = Site.__table__
R = ArticleRevision.__table__


@dataclass(frozen=True)
class FeedSpec:
    """Which articles a feed holds (all of them when nothing is set)."""

    site: str | None = None
    column: str | None = None
    query: str | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def kind(self) -> str:
        return "search" if self.query else "column" if self.column else "site" if self.site else "all"

    def params(self) -> dict[str, str]:
        out = {}
        for k, v in (("q", self.query), ("site", self.site), ("column", self.column)):
            if v:
                out[k] = v
        return out

    def feed_id(self) -> str:
        parts = [f"{k}={quote(v, safe='')}" for k, v in self.params().items()]
        return TAG + "feed:" + (";".join(parts) if parts else "all")

    def path(self) -> str:
        """The web view's URL path of this feed (with its query string)."""
        params = self.params()
        if self.query:
            return "/feeds/search.atom?" + urlencode(params)
        if self.site:
            rest = {k: v for k, v in params.items() if k != "site"}
            return f"/feeds/site/{quote(self.site, safe='')}.atom" + ("?" + urlencode(rest) if rest else "")
        if self.column:
            return "/feeds/all.atom?" + urlencode(params)
        return "/feeds/all.atom"


def _clean(text: Any) -> str:
    return _XML_INVALID.sub("", str(text)) if text is not None else ""


def _aware(dt: Any) -> datetime | None:
    if dt is None:
        return None
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt.replace(" ", "T"))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def feed_entries(engine: Engine, spec: FeedSpec) -> list[dict[str, Any]]:
    """The articles of ``spec`` as dicts, newest first (at most ``spec.limit``, capped at 1000).

    Dated and undated articles are read apart (each ``ORDER BY`` an index can answer:
    ``published_at``; undated ones by ``first_seen``) and merged, so a feed of a 100k-article
    archive reads ``limit`` rows, not the whole table."""
    limit = max(1, min(int(spec.limit), MAX_LIMIT))
    stmt = (select(A.c.id, A.c.url, A.c.title, A.c.published_at, A.c.first_seen, A.c.source, A.c.author,
                   A.c.summary, A.c.column, A.c.body, S.c.name.label("site"), S.c.title.label("site_title"))
            .select_from(A.join(S, S.c.id == A.c.site_id)))
    if spec.site:
        stmt = stmt.where(S.c.name == spec.site)
    if spec.column:
        stmt = stmt.where(A.c.column == spec.column)
    if spec.query:
        from storage.search import search

        ids = [h.id for h in search(engine, spec.query, site=spec.site,
                                    limit=limit * (5 if spec.column else 1))]
        if not ids:
            return []
        stmt = stmt.where(A.c.id.in_(ids))
    dated = stmt.where(A.c.published_at.is_not(None)).order_by(A.c.published_at.desc(), A.c.id.desc()).limit(limit)
    undated = stmt.where(A.c.published_at.is_(None)).order_by(A.c.first_seen.desc(), A.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for q in (dated, undated) for r in conn.execute(q)]
        for r in rows:
            r["published_at"], r["first_seen"] = _aware(r["published_at"]), _aware(r["first_seen"])
        rows.sort(key=lambda r: (r["published_at"] or r["first_seen"], r["id"]), reverse=True)
        rows = rows[:limit]
        revs = dict(conn.execute(select(R.c.article_id, func.max(R.c.first_seen))
                                 .where(R.c.article_id.in_([r["id"] for r in rows]))
                                 .group_by(R.c.article_id)).all()) if rows else {}
    for r in rows:
        r["rev_at"] = _aware(revs.get(r["id"]))
        base = r["published_at"] or r["first_seen"]
        r["updated"] = max(t for t in (base, r["rev_at"]) if t is not None)
    return rows


def _entry_id(row: dict[str, Any]) -> str:
    url = row.get("url") or ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    return f"{TAG}article:{row['id']}"


def _title(spec: FeedSpec, site_title: str | None) -> str:
    bits = ["govnews"]
    if spec.site:
        bits.append(f"{site_title} ({spec.site})" if site_title else spec.site)
    if spec.column:
        bits.append(spec.column)
    if spec.query:
        bits.append(f"搜索 “{spec.query}”")
    if len(bits) == 1:
        bits.append("全部文章 all articles")
    return " — ".join(bits)


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _clean(text)
    return el


def render_atom(entries: list[dict[str, Any]], spec: FeedSpec, *, base_url: str | None = None,
                site_title: str | None = None) -> bytes:
    """The Atom document for ``entries`` (from :func:`feed_entries`)."""
    ET.register_namespace("", ATOM_NS)
    base = base_url.rstrip("/") if base_url else None
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", spec.feed_id())
    _sub(feed, "title", _title(spec, site_title), type="text")
    updated = max((e["updated"] for e in entries), default=EMPTY_FEED_UPDATED)
    _sub(feed, "updated", _rfc3339(updated))
    author = _sub(feed, "author")
    _sub(author, "name", "govnews archive")
    _sub(feed, "generator", "govnews", uri="https://pypi.org/project/govnews/")
    if base:
        _sub(feed, "link", rel="self", type="application/atom+xml", href=base + spec.path())
        web = "/search?" + urlencode(spec.params()) if spec.query else (
            f"/site/{quote(spec.site, safe='')}" + (f"?column={quote(spec.column)}" if spec.column else "")
            if spec.site else "/")
        _sub(feed, "link", rel="alternate", type="text/html", href=base + web)
    for e in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", _entry_id(e))
        _sub(entry, "title", e["title"] or "(无标题 no title)", type="text")
        if e.get("url"):
            _sub(entry, "link", rel="alternate", type="text/html", href=e["url"])
        if base:
            _sub(entry, "link", rel="related", type="text/html", href=f"{base}/article/{e['id']}")
        if e["published_at"]:
            _sub(entry, "published", _rfc3339(e["published_at"]))
        _sub(entry, "updated", _rfc3339(e["updated"]))
        who = _sub(entry, "author")
        _sub(who, "name", e["author"] or e["source"] or e["site_title"] or e["site"])
        if e["column"]:
            _sub(entry, "category", term=e["column"], scheme=TAG + "column", label=e["column"])
        if e["source"]:
            _sub(entry, "category", term=e["source"], scheme=TAG + "source", label="来源: " + e["source"])
        body = e["body"] or ""
        summary = e["summary"] or (body[:SUMMARY_CHARS] + ("…" if len(body) > SUMMARY_CHARS else ""))
        if summary:
            _sub(entry, "summary", summary, type="text")
        _sub(entry, "content", body, type="text")
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def build_feed(engine: Engine, spec: FeedSpec, *, base_url: str | None = None) -> bytes:
    """The feed document of ``spec`` over the archive ``engine``."""
    entries = feed_entries(engine, spec)
    site_title = None
    if spec.site:
        with engine.connect() as conn:
            site_title = conn.scalar(select(S.c.title).where(S.c.name == spec.site))
    return render_atom(entries, spec, base_url=base_url, site_title=site_title)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename, so
    a web server publishing the file never serves half of it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
