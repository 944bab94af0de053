"""Attachments in the archive: URLs (``attachments``), files once per sha256 (``attachment_contents``),
article links (``article_attachments``); their text and its search. Migration 0006, docs/ATTACHMENTS.md.

Every function takes an engine (or a connection where it says so) and does its own transaction:
the crawler calls them off the reactor thread. Nothing here fetches or parses: the crawler
(:mod:`crawler.attachments`) says what arrived (sniffed type, outcome, reason) and what the text is.

* :func:`link` — the attachments an article page links: one ``attachments`` row per URL
  (``pending`` until fetched), one link per article; returns each URL's state, so the crawler can
  decide what to fetch (:func:`needs_fetch`: never fetched, failed with attempts left, or a
  revalidation: stored and last checked before a cut-off);
* :func:`sync_links` — re-extraction: link the attachments a fresh extraction finds (known URLs
  without a download, unknown ones as ``pending`` for the next crawl of the site), keep the others;
* :func:`due_retries` — what a crawl of a site requests at idle (pending, failed with attempts
  left, stored ones due for revalidation);
* :func:`record_fetch` — one download: the bytes stored once per sha256 (compressed), the URL row
  updated (outcome, reason, HTTP status, served Content-Type, size, validators, ``attempts`` + 1);
* :func:`record_not_modified`, :func:`record_check_failed`, :func:`set_text`, :func:`pending_texts`,
  :func:`versions` (the files a URL served before it changed);
* :func:`list_attachments`, :func:`counts`, :func:`for_articles` (export), :func:`search_attachments`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, and_, func, or_, select, text, update
from sqlalchemy.engine import Connection

from common.clock import utcnow
from common.text import to_simplified
from storage.codecs import compress, decompress
from storage.models import Article, ArticleAttachment, Attachment, AttachmentContent, AttachmentVersion, Site
from storage.search import like_pattern, make_snippet, query_terms
from storage.sites import find_site_id
from storage.transactions import dialect_insert, retrying
from storage.urls import canonical_url

__all__ = ["DEFAULT_MAX_ATTEMPTS", "DEFAULT_PER_ARTICLE", "DEFAULT_REVALIDATE_DAYS", "AttachmentHit",
           "AttachmentState", "LinkChanges", "content_bytes", "counts", "due_retries", "for_articles", "link",
           "list_attachments", "needs_fetch", "pending_texts", "record_check_failed", "record_fetch",
           "record_not_modified", "search_attachments", "set_text", "sync_links", "text_status", "versions"]

#: a failed attachment is tried again on later crawls until it has failed this many times
DEFAULT_MAX_ATTEMPTS = 3
#: at most this many attachments of one article are linked and fetched (the crawl's default)
DEFAULT_PER_ARTICLE = 20
#: a stored attachment last checked longer ago than this is checked again (conditional GET); 0: never
DEFAULT_REVALIDATE_DAYS = 30
#: at most this many attachments requested at a crawl's idle (retries, pending, revalidations)
DEFAULT_DUE_LIMIT = 1000
REASON_MAX = 500
_T_ATT = cast(Table, Attachment.__table__)
_T_LINK = cast(Table, ArticleAttachment.__table__)
_T_CONTENT = cast(Table, AttachmentContent.__table__)
_T_VERSION = cast(Table, AttachmentVersion.__table__)


@dataclass(frozen=True)
class AttachmentState:
    id: int
    url: str
    outcome: str
    attempts: int
    etag: str | None
    last_modified: str | None
    content_id: int | None
    #: the last download or check (304, same bytes, a failed check)
    fetched_at: datetime | None = None


def _site_id(conn: Connection, site: str | None) -> int | None:
    return find_site_id(conn, site) if site else None


def _state(row: Any) -> AttachmentState:
    return AttachmentState(row.id, row.url, row.outcome, row.attempts, row.etag, row.last_modified, row.content_id,
                           _aware(row.fetched_at))


def _aware(when: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    if when is not None and when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when


def _select_state():
    t = _T_ATT.c
    return select(t.id, t.url, t.outcome, t.attempts, t.etag, t.last_modified, t.content_id, t.fetched_at)


def link(engine: Engine, article_id: int | None, site: str | None, attachments: Iterable[Mapping[str, Any]], *,
         now: datetime | None = None, positions: list[int] | None = None) -> list[AttachmentState]:
    """Make sure every attachment URL has a row and (with ``article_id``) a link to the article;
    returns the states, in the given order. URLs are canonicalised; names are the link texts;
    ``positions`` (one per attachment) the links' places on the page (default: their order)."""
    items = []
    seen: set[str] = set()
    for a in attachments:
        url = canonical_url(a["url"])
        if url and url not in seen:
            seen.add(url)
            items.append((url, a.get("name") or None, a.get("ext")))
    places = positions if positions is not None and len(positions) == len(items) else list(range(len(items)))
    if not items:
        return []
    now = now or utcnow()

    def run(conn: Connection) -> list[AttachmentState]:
        dialect = conn.dialect.name
        sid = _site_id(conn, site)
        conn.execute(dialect_insert(dialect, _T_ATT).on_conflict_do_nothing(index_elements=["url"]), [
            {"url": u, "site_id": sid, "name": n, "ext": e, "outcome": "pending", "attempts": 0, "first_seen": now}
            for u, n, e in items])
        rows = {r.url: r for r in conn.execute(_select_state().where(_T_ATT.c.url.in_([u for u, _, _ in items])))}
        if article_id is not None:
            conn.execute(dialect_insert(dialect, _T_LINK).on_conflict_do_nothing(), [
                {"article_id": article_id, "attachment_id": rows[u].id, "name": n, "position": p, "linked_at": now}
                for p, (u, n, _) in zip(places, items, strict=True)])
        return [_state(rows[u]) for u, _, _ in items]
    return retrying(engine, run)


def needs_fetch(state: AttachmentState, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, revalidate: bool = False,
                revalidate_before: datetime | None = None) -> bool:
    """Whether the crawl should request this attachment: never fetched, failed with tries left, or a
    stored one to check with a conditional GET — every stored one with ``revalidate``, else those
    last checked before ``revalidate_before`` (``None``: stored ones are never checked again)."""
    if state.outcome == "pending":
        return True
    if state.outcome == "failed":
        return state.attempts < max_attempts
    if revalidate:
        return True
    if revalidate_before is None:
        return False
    checked = _aware(state.fetched_at)
    return checked is None or checked < revalidate_before


def due_retries(engine: Engine, site: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                limit: int = DEFAULT_DUE_LIMIT, revalidate_before: datetime | None = None) -> list[AttachmentState]:
    """Attachments of ``site`` not fetched yet (``pending``: a crawl that stopped early, or links a
    re-extraction found) or failed with attempts left — requested by a later crawl even when no page
    links them again (an incremental crawl does not fetch known articles) — then, with
    ``revalidate_before``, stored ones last checked before it, the oldest check first."""
    with engine.connect() as conn:
        sid = _site_id(conn, site)
        if sid is None:
            return []
        t = _T_ATT.c
        rows = list(conn.execute(_select_state().where(
            t.site_id == sid, or_(t.outcome == "pending", and_(t.outcome == "failed", t.attempts < max_attempts)))
            .order_by(t.id).limit(limit)))
        if revalidate_before is not None and len(rows) < limit:
            rows += conn.execute(_select_state().where(
                t.site_id == sid, t.outcome == "ok", or_(t.fetched_at.is_(None), t.fetched_at < revalidate_before))
                .order_by(t.fetched_at, t.id).limit(limit - len(rows)))
        return [_state(r) for r in rows]


@dataclass
class LinkChanges:
    """What :func:`sync_links` did (or, dry, would do) to one article's links."""

    added: int = 0              # new links, to known or new attachment URLs
    pending: int = 0            # of them: URLs not known before, recorded ``pending`` for the next crawl
    kept: int = 0               # links the fresh extraction no longer finds (kept: nothing is lost)


def sync_links(engine: Engine, article_id: int, site: str | None, attachments: Iterable[Mapping[str, Any]], *,
               dry_run: bool = False, limit: int = DEFAULT_PER_ARTICLE, now: datetime | None = None) -> LinkChanges:
    """Re-extraction: bring one article's links up to what a fresh extraction found.

    A found URL that is already an attachment (stored, failed or pending) is linked without a
    download; an unknown one gets a ``pending`` row on ``site`` (name, URL, extension, the link), which
    the next crawl of the site requests at idle (:func:`due_retries`). Links to URLs the fresh
    extraction no longer finds stay (counted as ``kept``). Only the first ``limit`` found are linked
    (the crawl's per-article limit). ``dry_run`` counts and writes nothing."""
    items: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    for a in attachments:
        url = canonical_url(a["url"])
        if url and url not in seen:
            seen.add(url)
            items.append((url, a))
    t, lk = _T_ATT.c, _T_LINK.c
    with engine.connect() as conn:
        linked = set(conn.scalars(select(t.url).select_from(_T_LINK).join(_T_ATT, t.id == lk.attachment_id)
                                  .where(lk.article_id == article_id)))
        new = [(u, a) for u, a in items[:limit] if u not in linked]
        known = set(conn.scalars(select(t.url).where(t.url.in_([u for u, _ in new])))) if new else set()
    changes = LinkChanges(added=len(new), pending=sum(1 for u, _ in new if u not in known),
                          kept=len(linked - seen))
    if new and not dry_run:
        link(engine, article_id, site, [{**a, "url": u} for u, a in new], now=now,
             positions=[i for i, (u, _) in enumerate(items[:limit]) if u not in linked])
    return changes


def record_fetch(engine: Engine, url: str, *, outcome: str, reason: str | None = None, status: int | None = None,
                 declared_type: str | None = None, data: bytes | None = None, content_type: str | None = None,
                 etag: str | None = None, last_modified: str | None = None, fetched_at: datetime | None = None,
                 codec: str = "zlib", site: str | None = None, name: str | None = None,
                 text_status: str = "pending") -> int | None:
    """Record one download of ``url``; returns the content id (``None`` for a failure).

    ``outcome`` ``ok`` stores ``data`` (once per sha256; a second URL with the same bytes shares the
    row) with the sniffed ``content_type``; ``failed`` keeps the reason (``http_404``,
    ``too_large``, ``html_error_page``, ...). ``text_status`` is the new content's (``unsupported``
    for types without a text extractor). When a stored URL now serves different bytes, the file it
    pointed to is kept and recorded in ``attachment_versions`` (migration 0009)."""
    url = canonical_url(url)
    fetched_at = fetched_at or utcnow()
    digest = hashlib.sha256(data).hexdigest() if outcome == "ok" and data is not None else None
    blob = compress(data, codec) if digest and data is not None else None

    def run(conn: Connection) -> int | None:
        dialect = conn.dialect.name
        content_id = None
        if digest:
            conn.execute(dialect_insert(dialect, _T_CONTENT).on_conflict_do_nothing(index_elements=["sha256"]).values(
                sha256=digest, size=len(data or b""), content_type=content_type, codec=codec, data=blob,
                text_status=text_status, text_chars=0, created_at=fetched_at))
            content_id = conn.execute(select(_T_CONTENT.c.id).where(_T_CONTENT.c.sha256 == digest)).scalar_one()
        values: dict[str, Any] = dict(outcome=outcome, reason=(reason or None) and reason[:REASON_MAX], status=status,
                                      declared_type=(declared_type or None) and declared_type[:200],
                                      fetched_at=fetched_at, attempts=_T_ATT.c.attempts + 1)
        if digest:
            values.update(content_id=content_id, sha256=digest, size=len(data or b""), etag=etag,
                          last_modified=last_modified)
            a = _T_ATT.c
            old = conn.execute(select(a.id, a.content_id, a.sha256, a.size, a.etag, a.last_modified, a.fetched_at)
                               .where(a.url == url)).first()
            if old is not None and old.content_id is not None and old.content_id != content_id:
                conn.execute(_T_VERSION.insert().values(
                    attachment_id=old.id, content_id=old.content_id, sha256=old.sha256 or "", size=old.size,
                    etag=old.etag, last_modified=old.last_modified, fetched_at=old.fetched_at,
                    replaced_at=fetched_at))
        conn.execute(dialect_insert(dialect, _T_ATT).on_conflict_do_nothing(index_elements=["url"]).values(
            url=url, site_id=_site_id(conn, site), name=name, outcome="pending", attempts=0, first_seen=fetched_at))
        conn.execute(update(_T_ATT).where(_T_ATT.c.url == url).values(**values))
        return content_id
    return retrying(engine, run)


def record_not_modified(engine: Engine, url: str, *, fetched_at: datetime | None = None) -> None:
    """A conditional GET answered 304: the stored file stands; only the fetch time moves."""
    retrying(engine, lambda conn: conn.execute(update(_T_ATT).where(_T_ATT.c.url == canonical_url(url)).values(
        fetched_at=fetched_at or utcnow())))


def record_check_failed(engine: Engine, url: str, *, checked_at: datetime | None = None) -> None:
    """A revalidation of a stored attachment failed (404, timeout, an error page now): the stored
    file and its outcome stand (nothing is lost); the check time moves, so the next check waits its
    turn. The reason is in the crawl's stats (``govnews/attachments/revalidate_failed/<reason>``)."""
    retrying(engine, lambda conn: conn.execute(update(_T_ATT).where(
        _T_ATT.c.url == canonical_url(url), _T_ATT.c.outcome == "ok").values(fetched_at=checked_at or utcnow())))


def versions(engine: Engine, url: str) -> list[dict[str, Any]]:
    """The files ``url`` served before it changed, oldest first: ``content_id``, ``sha256``, ``size``,
    ``etag``, ``last_modified``, ``fetched_at`` (its last download or check), ``replaced_at``."""
    v = _T_VERSION.c
    with engine.connect() as conn:
        rows = conn.execute(select(v.content_id, v.sha256, v.size, v.etag, v.last_modified, v.fetched_at,
                                   v.replaced_at).join(_T_ATT, _T_ATT.c.id == v.attachment_id)
                            .where(_T_ATT.c.url == canonical_url(url)).order_by(v.id))
        return [dict(r._mapping) for r in rows]


def set_text(engine: Engine, content_id: int, *, status: str, text_: str | None = None, reason: str | None = None,
             pages: int | None = None, extracted_at: datetime | None = None) -> None:
    """Store the extracted text of one file (simplified for search, like article bodies)."""
    body = text_ or None
    retrying(engine, lambda conn: conn.execute(update(_T_CONTENT).where(_T_CONTENT.c.id == content_id).values(
        text=body, text_simplified=to_simplified(body) if body else None, text_status=status,
        text_reason=(reason or None) and reason[:REASON_MAX], text_chars=len(body or ""), pages=pages,
        extracted_at=extracted_at or utcnow())))


def pending_texts(engine: Engine, *, all_: bool = False, site: str | None = None,
                  limit: int | None = None) -> list[tuple[int, str | None]]:
    """``(content id, content type)`` of files whose text is still to extract (``all_``: every file,
    for ``reextract``), optionally only those attached on ``site``."""
    c = _T_CONTENT.c
    stmt = select(c.id, c.content_type).order_by(c.id)
    if not all_:
        stmt = stmt.where(c.text_status == "pending")
    if site:
        stmt = stmt.where(c.id.in_(select(_T_ATT.c.content_id).join(Site, Site.id == _T_ATT.c.site_id)
                                   .where(Site.name == site)))
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [(r.id, r.content_type) for r in conn.execute(stmt)]


def text_status(engine: Engine, content_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(_T_CONTENT.c.text_status).where(_T_CONTENT.c.id == content_id)).scalar()


def content_bytes(engine: Engine, content_id: int) -> bytes | None:
    with engine.connect() as conn:
        row = conn.execute(select(_T_CONTENT.c.data, _T_CONTENT.c.codec).where(_T_CONTENT.c.id == content_id)).first()
    return decompress(row.data, row.codec) if row is not None else None


# ------------------------------------------------------------------------------------ reading
def list_attachments(engine: Engine, *, site: str | None = None, since: datetime | None = None,
                     failed: bool = False, pending: bool = False, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Attachment rows with their file's text status and the number of linking articles, newest first;
    ``failed``: failed downloads and texts; ``pending``: URLs found but not fetched yet."""
    a, c = _T_ATT.c, _T_CONTENT.c
    n_links = select(func.count()).where(_T_LINK.c.attachment_id == a.id).scalar_subquery()
    stmt = (select(a.id, a.url, a.name, Site.name.label("site"), a.outcome, a.reason, a.status, a.declared_type,
                   c.content_type, a.size, a.sha256, a.attempts, a.first_seen, a.fetched_at, c.text_status,
                   c.text_reason, c.text_chars, c.pages, n_links.label("articles"))
            .select_from(_T_ATT).outerjoin(Site, Site.id == a.site_id).outerjoin(_T_CONTENT, c.id == a.content_id)
            .order_by(a.id.desc()))
    if site:
        stmt = stmt.where(Site.name == site)
    if since:
        stmt = stmt.where(a.first_seen >= since)
    if pending:
        stmt = stmt.where(a.outcome == "pending")
    if failed:
        stmt = stmt.where(or_(a.outcome == "failed", c.text_status.in_(("failed", "timeout", "too_large",
                                                                         "encrypted"))))
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        for row in conn.execute(stmt):
            yield dict(row._mapping)


def counts(engine: Engine, *, site: str | None = None) -> dict[str, Any]:
    """``{"urls", "files", "bytes", "links", "outcomes": {ok, failed, pending}, "reasons": {...},
    "text": {status: n}}`` for ``govnews stats``."""
    a, c = _T_ATT.c, _T_CONTENT.c
    with engine.connect() as conn:
        where = []
        if site:
            sid = find_site_id(conn, site)
            where = [a.site_id == sid]
        outcomes: dict[str, int] = dict(
            conn.execute(select(a.outcome, func.count()).where(*where).group_by(a.outcome)).all())
        reasons: dict[str | None, int] = dict(conn.execute(
            select(a.reason, func.count()).where(a.outcome == "failed", *where).group_by(a.reason)).all())
        files = select(a.content_id).where(a.content_id.is_not(None), *where).distinct().subquery()
        n_files, n_bytes = conn.execute(select(func.count(), func.coalesce(func.sum(c.size), 0))
                                        .where(c.id.in_(select(files.c.content_id)))).one()
        text_status: dict[str, int] = dict(conn.execute(
            select(c.text_status, func.count()).where(c.id.in_(select(files.c.content_id)))
            .group_by(c.text_status)).all())
        links = conn.execute(select(func.count()).select_from(_T_LINK).join(_T_ATT, a.id == _T_LINK.c.attachment_id)
                             .where(*where)).scalar_one()
    return {"urls": sum(outcomes.values()), "files": n_files, "bytes": int(n_bytes or 0), "links": links,
            "outcomes": outcomes, "reasons": {k or "?": v for k, v in reasons.items()}, "text": text_status}


def for_articles(engine_or_conn: Engine | Connection, article_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments of each article (export): name, url, sha256, size, content type, text length,
    outcome and reason; in link order."""
    ids = sorted(set(article_ids))
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    a, c, link_ = _T_ATT.c, _T_CONTENT.c, _T_LINK.c
    stmt = (select(link_.article_id, link_.name, a.name.label("first_name"), a.url, a.sha256, a.size, c.content_type,
                   a.declared_type, c.text_chars, a.outcome, a.reason, a.content_id, a.fetched_at, a.status,
                   a.id.label("attachment_id"))
            .select_from(_T_LINK).join(_T_ATT, a.id == link_.attachment_id)
            .outerjoin(_T_CONTENT, c.id == a.content_id)
            .order_by(link_.article_id, link_.position, a.id))

    def run(conn: Connection) -> None:
        for i in range(0, len(ids), 500):
            for r in conn.execute(stmt.where(link_.article_id.in_(ids[i:i + 500]))):
                out[r.article_id].append({
                    "name": r.name or r.first_name, "url": r.url, "sha256": r.sha256, "size": r.size,
                    "content_type": r.content_type or r.declared_type, "text_length": r.text_chars or 0,
                    "outcome": r.outcome, "reason": r.reason, "content_id": r.content_id,
                    "fetched_at": r.fetched_at, "status": r.status, "attachment_id": r.attachment_id})
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            run(conn)
    else:
        run(engine_or_conn)
    return out


# ------------------------------------------------------------------------------------ search
@dataclass
class AttachmentHit:
    """A search hit in an attachment's text: the article that attaches it, the attachment's name."""

    id: int                     # the article's id
    site: str
    title: str | None
    url: str
    published_at: datetime | None
    first_seen: datetime | None
    score: float | None
    snippet: str
    attachment: str | None      # the attachment's name
    attachment_url: str

    def as_dict(self) -> dict:
        return asdict(self)


def search_attachments(engine: Engine, query: str, *, site: str | None = None, since: datetime | None = None,
                       until: datetime | None = None, limit: int = 20) -> list[AttachmentHit]:
    """Articles whose attachments' text contains every term of ``query`` (simplified, literal
    substrings, as :func:`storage.search.search`); newest attached file first. SQLite: the FTS5
    trigram index ``attachments_fts`` narrows terms of 3+ characters; PostgreSQL: the pg_trgm index
    serves ``LIKE``/``ILIKE``. One hit per (article, attachment)."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    c = _T_CONTENT.c
    cond = [c.text_simplified.ilike(like_pattern(t), escape="\\") if t.lower() != t.upper()
            else c.text_simplified.like(like_pattern(t), escape="\\") for t in terms]
    if engine.dialect.name == "sqlite":
        long_terms = [t for t in terms if len(t) >= 3]
        if long_terms:
            match = " ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
            cond.append(c.id.in_(select(text("rowid")).select_from(text("attachments_fts"))
                                 .where(text("attachments_fts MATCH :m").bindparams(m=match))))
    a, link_ = _T_ATT.c, _T_LINK.c
    stmt = (select(Article.id, Site.name.label("site"), Article.title, Article.url, Article.published_at,
                   Article.first_seen, link_.name, a.name.label("first_name"), a.url.label("att_url"),
                   c.text_simplified.label("text"))
            .select_from(_T_CONTENT).join(_T_ATT, a.content_id == c.id).join(_T_LINK, link_.attachment_id == a.id)
            .join(Article, Article.id == link_.article_id).join(Site, Site.id == Article.site_id)
            .where(*cond).order_by(c.id.desc(), Article.id.desc()).limit(limit))
    if site:
        stmt = stmt.where(Site.name == site)
    if since:
        stmt = stmt.where(Article.published_at >= since)
    if until:
        stmt = stmt.where(Article.published_at < until)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [AttachmentHit(r.id, r.site, r.title, r.url, r.published_at, r.first_seen, None,
                          make_snippet(r.text, terms), r.name or r.first_name, r.att_url) for r in rows]
