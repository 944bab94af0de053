"""Re-extraction: run the current extractor over the archived raw pages and update the articles
whose result changed, so extraction improvements reach the whole archive.

The extractor is passed in (``extract(bytes, url, encoding=...) -> Article``), so this module needs
no crawler import. Per article, in its own write transaction:

* same normalised text (same content hash): only the displayed fields change (title, date, source,
  author, editor, original title, summary, column, flags, images, body formatting);
* different text: body, simplified body, content hash and MinHash bands are replaced. When another
  article already owns the new hash, the text is left as it was and the article is reported as a
  ``conflict`` (the two pages are the same story: ``govnews duplicates`` shows them).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.extract.decode import content_type_charset
from storage import dedup
from storage.archive import Archive, _field, _jsonable, decompress
from storage.models import Article, MinHashBand, Page, Site, utcnow

#: fields copied from a fresh extraction onto the article (the text fields are handled apart)
DISPLAY_FIELDS = ("title", "published_at", "source", "author", "editor", "original_title", "summary",
                  "column")
BATCH = 200


@dataclass
class ReextractReport:
    checked: int = 0
    updated: int = 0
    text_changed: int = 0
    unchanged: int = 0
    no_raw_page: int = 0
    conflicts: int = 0
    errors: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"checked": self.checked, "updated": self.updated, "text_changed": self.text_changed,
                "unchanged": self.unchanged, "no_raw_page": self.no_raw_page, "conflicts": self.conflicts,
                "errors": dict(self.errors)}


def select_articles(archive: Archive, *, site: str | None = None, since: datetime | None = None):
    stmt = select(Article.id).order_by(Article.id)
    if site:
        stmt = stmt.join(Site, Site.id == Article.site_id).where(Site.name == site)
    if since:
        stmt = stmt.where(Article.first_seen >= since)
    return stmt


def count_articles(archive: Archive, **filters) -> int:
    with archive.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(select_articles(archive, **filters).subquery()))


def _article_ids(archive: Archive, **filters) -> Iterator[int]:
    last = 0
    base = select_articles(archive, **filters)
    while True:
        with archive.engine.connect() as conn:
            ids = conn.scalars(base.where(Article.id > last).limit(BATCH)).all()
        if not ids:
            return
        yield from ids
        last = ids[-1]


def _differs(old, new) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old != new
    return (old or None) != (new or None)


def reextract_article(archive: Archive, article_id: int, extract: Callable, *, dry_run: bool = False) -> str:
    """Re-extract one article from its raw page: ``unchanged``, ``updated``, ``text_changed``,
    ``conflict`` or ``no_raw_page``."""
    with Session(archive.engine, expire_on_commit=False) as session:
        art, raw, codec, headers, page_url = session.execute(
            select(Article, Page.raw, Page.codec, Page.headers, Page.url)
            .join(Page, Page.id == Article.page_id, isouter=True).where(Article.id == article_id)).one()
    body_bytes = decompress(raw, codec) if raw is not None else None
    if not body_bytes:
        return "no_raw_page"
    ctype = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    fresh = extract(body_bytes, page_url or art.url, encoding=content_type_charset(ctype))

    values = {}
    for name in DISPLAY_FIELDS:
        new = _field(fresh, name)
        if _differs(getattr(art, name), new):
            values[name] = new
    flags = _jsonable(_field(fresh, "flags") or {})
    images = [_jsonable(i) for i in (_field(fresh, "images") or [])]
    if flags != (art.flags or {}):
        values["flags"] = flags
    if images != (art.images or []):
        values["images"] = images
    body = _field(fresh, "body") or ""
    simplified = _field(fresh, "body_simplified") or dedup.to_simplified(body)
    sig = dedup.signature(simplified or body)
    text_changed = bool(sig.normalized) and sig.content_hash != art.content_hash
    if body != art.body and not text_changed:
        values.update(body=body, body_simplified=simplified)
    if not values and not text_changed:
        return "unchanged"
    if "title" in values:  # the search column follows the title
        values["title_simplified"] = dedup.to_simplified(values["title"]) if values["title"] else None
    if dry_run:
        return "text_changed" if text_changed else "updated"
    try:
        with archive._write() as conn:
            if text_changed:
                values.update(body=body, body_simplified=simplified, content_hash=sig.content_hash)
                conn.execute(delete(MinHashBand).where(MinHashBand.article_id == article_id))
            conn.execute(update(Article).where(Article.id == article_id).values(updated_at=utcnow(), **values))
            if text_changed:
                archive._add_bands(conn, article_id, sig)
    except IntegrityError:
        return "conflict"
    return "text_changed" if text_changed else "updated"


def reextract(archive: Archive, extract: Callable, *, site: str | None = None,
              since: datetime | None = None, dry_run: bool = False,
              progress: Callable[[int], None] | None = None) -> ReextractReport:
    """Re-extract every selected article; ``progress(1)`` is called after each one."""
    report = ReextractReport()
    for article_id in _article_ids(archive, site=site, since=since):
        report.checked += 1
        try:
            outcome = reextract_article(archive, article_id, extract, dry_run=dry_run)
        except Exception as exc:  # one bad page must not stop the run; it is counted and named
            report.errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
            outcome = None
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
