"""Re-extraction: run the current extractor over the archived raw pages and update the articles
whose result changed, so extraction improvements reach the whole archive.

The extractor is passed in: ``extract(page: RawPage) -> Article`` (any object or mapping with the
extraction ``Article`` fields). Storage does not decode charsets or know site profiles; the crawler
passes a callable that does both exactly as the crawl does. Per article, in its own write
transaction:

* same normalised text (same content hash): only the displayed fields change (title, date, source,
  author, editor, original title, summary, column, flags, images, body formatting);
* different text: body, simplified body, content hash and MinHash bands are replaced. When another
  article already owns the new hash, the text is left as it was and the article is reported as a
  ``conflict`` (the two pages are the same story: ``govnews duplicates`` shows them).

Attachments (issue 16, ``link_attachments``): the fresh extraction's ``attachments`` are compared
with the article's links (:func:`storage.attachments.sync_links`). A URL already known as an
attachment is linked without a download; an unknown one is recorded ``pending`` (URL, name, the
link), and the next crawl of the site fetches it. Links the fresh extraction no longer finds are
kept and counted (``links_kept``). At most ``max_attachments`` per article, as in the crawl.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import utcnow
from common.text import to_simplified
from storage import dedup
from storage.archive import Archive
from storage.articles import DISCLOSURE_FIELDS, add_bands, article_field, jsonable
from storage.attachments import DEFAULT_PER_ARTICLE, LinkChanges, sync_links
from storage.models import Article, MinHashBand, Site
from storage.pages import RawPage, load_raw_page

__all__ = ["DISPLAY_FIELDS", "Extract", "ReextractReport", "count_articles", "reextract", "reextract_article",
           "select_articles"]

#: fields copied from a fresh extraction onto the article (the text fields are handled apart)
DISPLAY_FIELDS = ("title", "published_at", "source", "author", "editor", "original_title", "summary",
                  "column", *DISCLOSURE_FIELDS)
BATCH = 200
#: the extractor: one stored fetch in, one extraction ``Article`` (duck-typed) out
Extract = Callable[[RawPage], Any]


@dataclass
class ReextractReport:
    checked: int = 0
    updated: int = 0
    text_changed: int = 0
    unchanged: int = 0
    no_raw_page: int = 0
    conflicts: int = 0
    #: attachment links added (``--dry-run``: would be added), of them to URLs recorded ``pending``
    links_added: int = 0
    links_pending: int = 0
    #: links a fresh extraction no longer finds (kept)
    links_kept: int = 0
    errors: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"checked": self.checked, "updated": self.updated, "text_changed": self.text_changed,
                "unchanged": self.unchanged, "no_raw_page": self.no_raw_page, "conflicts": self.conflicts,
                "links_added": self.links_added, "links_pending": self.links_pending,
                "links_kept": self.links_kept, "errors": dict(self.errors)}


def select_articles(archive: Archive, *, site: str | None = None, since: datetime | None = None) -> Select:
    stmt = select(Article.id).order_by(Article.id)
    if site:
        stmt = stmt.join(Site, Site.id == Article.site_id).where(Site.name == site)
    if since:
        stmt = stmt.where(Article.first_seen >= since)
    return stmt


def count_articles(archive: Archive, **filters: Any) -> int:
    with archive.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(select_articles(archive, **filters).subquery())) or 0


def _article_ids(archive: Archive, **filters: Any) -> Iterator[int]:
    last = 0
    base = select_articles(archive, **filters)
    while True:
        with archive.engine.connect() as conn:
            ids = conn.scalars(base.where(Article.id > last).limit(BATCH)).all()
        if not ids:
            return
        yield from ids
        last = ids[-1]


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old != new
    return (old or None) != (new or None)


def _article_and_page(archive: Archive, article_id: int) -> tuple[Any, RawPage | None]:
    """The article row and its representative copy's stored fetch (``None`` without raw bytes)."""
    t = Article.__table__
    with archive.engine.connect() as conn:
        art = conn.execute(select(t, Site.name.label("site_name")).join(Site, Site.id == t.c.site_id)
                           .where(t.c.id == article_id)).one()
        page = load_raw_page(conn, art.page_id, default_site=art.site_name) if art.page_id is not None else None
    if page is None or not page.body:
        return art, None
    if not page.url:
        page = RawPage(page.page_id, page.site, art.url, page.status, page.headers, page.body, page.fetched_at)
    return art, page


def reextract_article(archive: Archive, article_id: int, extract: Extract, *, dry_run: bool = False) -> str:
    """Re-extract one article from its raw page: ``unchanged``, ``updated``, ``text_changed``,
    ``conflict`` or ``no_raw_page`` (its attachment links are left alone; :func:`reextract` syncs them)."""
    return _reextract_article(archive, article_id, extract, dry_run=dry_run)[0]


def _sync_attachments(archive: Archive, art: Any, fresh: Any, *, dry_run: bool, limit: int) -> LinkChanges:
    found = [a for a in (article_field(fresh, "attachments") or []) if isinstance(a, Mapping) and a.get("url")]
    return sync_links(archive.engine, art.id, art.site_name, found, dry_run=dry_run, limit=limit)


def _reextract_article(archive: Archive, article_id: int, extract: Extract, *, dry_run: bool = False,
                       link_attachments: bool = False, max_attachments: int = DEFAULT_PER_ARTICLE
                       ) -> tuple[str, LinkChanges | None]:
    art, page = _article_and_page(archive, article_id)
    if page is None:
        return "no_raw_page", None
    fresh = extract(page)
    links = _sync_attachments(archive, art, fresh, dry_run=dry_run, limit=max_attachments) \
        if link_attachments else None
    return _update_article(archive, article_id, art, fresh, dry_run=dry_run), links


def _update_article(archive: Archive, article_id: int, art: Any, fresh: Any, *, dry_run: bool) -> str:
    values: dict[str, Any] = {}
    for name in DISPLAY_FIELDS:
        new = article_field(fresh, name)
        if _differs(getattr(art, name), new):
            values[name] = new
    flags = jsonable(article_field(fresh, "flags") or {})
    images = [jsonable(i) for i in (article_field(fresh, "images") or [])]
    if flags != (art.flags or {}):
        values["flags"] = flags
    if images != (art.images or []):
        values["images"] = images
    body = article_field(fresh, "body") or ""
    simplified = article_field(fresh, "body_simplified") or to_simplified(body)
    sig = dedup.signature(simplified or body)
    text_changed = bool(sig.normalized) and sig.content_hash != art.content_hash
    if body != art.body and not text_changed:
        values.update(body=body, body_simplified=simplified)
    if not values and not text_changed:
        return "unchanged"
    if "title" in values:  # the search column follows the title
        values["title_simplified"] = to_simplified(values["title"]) if values["title"] else None
    if dry_run:
        return "text_changed" if text_changed else "updated"
    try:
        with archive.write() as conn:
            if text_changed:
                values.update(body=body, body_simplified=simplified, content_hash=sig.content_hash)
                conn.execute(delete(MinHashBand).where(MinHashBand.article_id == article_id))
            conn.execute(update(Article).where(Article.id == article_id).values(updated_at=utcnow(), **values))
            if text_changed:
                add_bands(conn, article_id, sig)
    except IntegrityError:
        return "conflict"
    return "text_changed" if text_changed else "updated"


def reextract(archive: Archive, extract: Extract, *, site: str | None = None,
              since: datetime | None = None, dry_run: bool = False,
              progress: Callable[[int], Any] | None = None, link_attachments: bool = True,
              max_attachments: int = DEFAULT_PER_ARTICLE) -> ReextractReport:
    """Re-extract every selected article (and, ``link_attachments``, sync its attachment links);
    ``progress(1)`` is called after each one."""
    report = ReextractReport()
    for article_id in _article_ids(archive, site=site, since=since):
        report.checked += 1
        try:
            outcome, links = _reextract_article(archive, article_id, extract, dry_run=dry_run,
                                                link_attachments=link_attachments, max_attachments=max_attachments)
        except Exception as exc:  # one bad page must not stop the run; it is counted and named
            report.errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
            outcome, links = None, None
        if links is not None:
            report.links_added += links.added
            report.links_pending += links.pending
            report.links_kept += links.kept
        if outcome == "updated":
            report.updated += 1
        elif outcome == "text_changed":
            report.updated += 1
            report.text_changed += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        elif outcome == "no_raw_page":
            report.no_raw_page += 1
        elif outcome == "conflict":
            report.conflicts += 1
        if progress:
            progress(1)
    return report
