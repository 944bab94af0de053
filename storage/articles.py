"""Storing an extracted article: the deduplication transaction behind ``Archive.store_article``.

Deduplication order in :func:`store`, all inside one write transaction:

1. canonical URL already has a sighting -> ``seen`` (same text) or ``revision`` (the page changed);
2. the content hash (normalised text) matches an article or a revision -> ``duplicate``: one more
   sighting, no new article;
3. MinHash LSH bands (table ``minhash_bands``, one indexed query) give candidates; each is verified
   on the full texts (:func:`storage.dedup.verify`) -> ``revision``;
4. otherwise -> ``new`` article, its bands and its first sighting.

Concurrency: the unique constraints on ``articles.content_hash``, ``article_revisions.content_hash``
and ``sightings.url`` reject a racing duplicate; the transaction is then retried
(:func:`storage.transactions.retrying`) and finds the row the other process committed.
Near-duplicates (different hashes) cannot be caught by a constraint, so the lookup and insert are
serialised per LSH band: PostgreSQL takes transaction-scoped advisory locks on the band hashes of the
text (two near-duplicates share at least one band, otherwise LSH would not find them either); SQLite
runs the transaction under ``BEGIN IMMEDIATE``.

Everything one store needs is in a :class:`StoreContext` built before the transaction
(:func:`prepare`), so a retry re-runs :func:`store` on the same immutable input.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, case, literal, select, text, union_all, update

from common.clock import utcnow
from common.text import to_simplified
from storage import dedup
from storage.models import Article, ArticleRevision, MinHashBand, Sighting
from storage.transactions import dialect_insert
from storage.urls import canonical_url

__all__ = ["StoreContext", "StoreResult", "add_bands", "candidates", "article_field", "jsonable", "prepare", "store"]

_T_ART = cast(Table, Article.__table__)
_T_REV = cast(Table, ArticleRevision.__table__)
_T_SIGHT = cast(Table, Sighting.__table__)
_T_BAND = cast(Table, MinHashBand.__table__)
Band = tuple[int, int]


@dataclass(frozen=True)
class StoreResult:
    article_id: int
    outcome: str  # "new" | "duplicate" | "revision" | "seen"
    revision_id: int | None = None
    sighting_id: int | None = None
    similarity: float | None = None  # containment of the verified near-duplicate


@dataclass(frozen=True)
class StoreContext:
    """The input of one store: where the copy was seen and its text, signed."""

    canon: str                      # canonical URL of the copy
    site_id: int
    sig: dedup.TextSignature
    fields: Mapping[str, Any]       # article columns of the copy (title, body, ..., flags, images)
    page_id: int | None
    status: int | None
    now: datetime


# ---------------------------------------------------------------------------- extraction results
def article_field(article: Any, name: str, default: Any = None) -> Any:
    """``article[name]`` for a mapping, ``article.name`` for an object (an extraction ``Article``)."""
    if isinstance(article, Mapping):
        return article.get(name, default)
    return getattr(article, name, default)


def jsonable(v: Any) -> Any:
    """``v`` as plain JSON values (dataclasses as dicts, anything else ``str``)."""
    if is_dataclass(v) and not isinstance(v, type):
        v = asdict(v)
    return json.loads(json.dumps(v, default=str, ensure_ascii=False))


def signed_text(article: Any, canon: str) -> tuple[str, str, dedup.TextSignature]:
    """``(body, body_simplified, signature)`` of an extraction result.

    A page with no text gets a hash of its URL, so two empty pages never merge through their
    (equal) empty hash.
    """
    body = article_field(article, "body") or ""
    simplified = article_field(article, "body_simplified") or to_simplified(body)
    sig = dedup.signature(simplified or body)
    if not sig.normalized:
        sig.content_hash = hashlib.sha256(("empty:" + canon).encode()).hexdigest()
    return body, simplified, sig


#: 信息公开 fields of an extraction result stored as article columns (migration 0006)
DISCLOSURE_FIELDS = ("index_no", "doc_number", "issuer", "written_at", "topic", "validity", "subject_words")


def disclosure_values(article: Any) -> dict[str, Any]:
    """The :data:`DISCLOSURE_FIELDS` of an extraction result (``written_at`` as a ``date``; an ISO
    string from a dict is read, anything unreadable is ``None``)."""
    out = {name: article_field(article, name) or None for name in DISCLOSURE_FIELDS}
    when = out["written_at"]
    if isinstance(when, datetime):
        out["written_at"] = when.date()
    elif isinstance(when, str):
        try:
            out["written_at"] = date.fromisoformat(when[:10])
        except ValueError:
            out["written_at"] = None
    return out


def prepare(article: Any, *, url: str | None, site_id: int, page_id: int | None, status: int | None,
            now: datetime | None = None) -> StoreContext:
    """The :class:`StoreContext` of one extraction result (``ValueError`` without a URL)."""
    canon = canonical_url(url or article_field(article, "url") or "")
    if not canon:
        raise ValueError("store_article needs a URL")
    body, simplified, sig = signed_text(article, canon)
    fields = dict(
        title=article_field(article, "title"),
        published_at=article_field(article, "published_at"),
        source=article_field(article, "source"),
        author=article_field(article, "author"),
        editor=article_field(article, "editor"),
        original_title=article_field(article, "original_title"),
        summary=article_field(article, "summary"),
        column=article_field(article, "column"),
        body=body,
        body_simplified=simplified,
        flags=jsonable(article_field(article, "flags") or {}),
        images=[jsonable(i) for i in (article_field(article, "images") or [])],
        # 信息公开 columns (0006, issue 16)
        **disclosure_values(article),
    )
    return StoreContext(canon=canon, site_id=site_id, sig=sig, fields=fields, page_id=page_id,
                        status=status, now=now or utcnow())


# ---------------------------------------------------------------------------- bands
def add_bands(conn: Connection, article_id: int, sig: dedup.TextSignature,
              skip: Collection[Band] = frozenset()) -> None:
    """Insert the LSH band rows of ``sig`` for ``article_id`` (except ``skip``; existing ones ignored)."""
    bands = [(b, h) for b, h in sig.bands if (b, h) not in skip]
    if not bands:
        return
    if conn.dialect.name == "postgresql":
        # one statement with two array parameters instead of 32 executions
        conn.execute(text(
            "INSERT INTO minhash_bands (band_hash, band_idx, article_id) "
            "SELECT h, i, CAST(:aid AS integer) FROM unnest(CAST(:h AS bigint[]), CAST(:i AS smallint[])) AS t(h, i) "
            "ON CONFLICT DO NOTHING"),
            {"aid": article_id, "h": [h for _, h in bands], "i": [b for b, _ in bands]})
        return
    conn.execute(
        dialect_insert(conn.dialect.name, _T_BAND).on_conflict_do_nothing(),
        [{"band_idx": b, "band_hash": h, "article_id": article_id} for b, h in bands],
    )


def _lock_bands(conn: Connection, sig: dedup.TextSignature) -> None:
    if conn.dialect.name != "postgresql":
        return  # BEGIN IMMEDIATE already serialises writers
    keys = sorted({h for _, h in sig.bands} | {int(sig.content_hash[:15], 16)})
    conn.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM "
             "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS s"),
        {"keys": keys},
    )


def _lookup(conn: Connection, canon: str, h: str) -> tuple[tuple[int, int] | None, int | None, int | None]:
    """One query: the sighting of ``canon`` and the owner of the content hash ``h``.

    Returns ``(sighting, owner_article_id, owner_revision_id)``; sighting is ``(id, article_id)``
    or ``None``.
    """
    q = union_all(
        select(literal("s").label("k"), _T_SIGHT.c.id, _T_SIGHT.c.article_id).where(_T_SIGHT.c.url == canon),
        select(literal("a").label("k"), _T_ART.c.id, _T_ART.c.id).where(_T_ART.c.content_hash == h),
        select(literal("r").label("k"), _T_REV.c.id, _T_REV.c.article_id).where(_T_REV.c.content_hash == h),
    )
    sight: tuple[int, int] | None = None
    owner = owner_rev = None
    for k, rid, aid in conn.execute(q):
        if k == "s":
            sight = (rid, aid)
        elif k == "a":
            owner, owner_rev = aid, None
        elif owner is None:
            owner, owner_rev = aid, rid
    return sight, owner, owner_rev


def candidates(conn: Connection, sig: dedup.TextSignature) -> tuple[list[int], dict[int, set[Band]]]:
    """``(candidate ids, {article_id: bands of sig it already has})`` from one indexed query."""
    if not sig.bands:
        return [], {}
    # ``band_hash IN (...)`` uses the (band_hash, band_idx, article_id) primary key on both
    # backends (SQLite plans a row-value IN as a full scan); band_idx is checked here.
    wanted = set(sig.bands)
    rows = conn.execute(
        select(_T_BAND.c.band_idx, _T_BAND.c.band_hash, _T_BAND.c.article_id)
        .where(_T_BAND.c.band_hash.in_([h for _, h in sig.bands]))
    ).all()
    shared: dict[int, set[Band]] = {}
    for b, h, aid in rows:
        if (b, h) in wanted:
            shared.setdefault(aid, set()).add((b, h))
    cands = sorted(shared, key=lambda a: (-len(shared[a]), a))[: dedup.MAX_CANDIDATES]
    return cands, shared


def _verify(conn: Connection, sig: dedup.TextSignature,
            cands: list[int]) -> tuple[int | None, dedup.Similarity | None]:
    if not cands:
        return None, None
    texts: dict[int, list[str]] = {}
    for aid, b, bs in conn.execute(union_all(
        select(_T_ART.c.id, _T_ART.c.body, _T_ART.c.body_simplified).where(_T_ART.c.id.in_(cands)),
        select(_T_REV.c.article_id, _T_REV.c.body, _T_REV.c.body_simplified)
        .where(_T_REV.c.article_id.in_(cands)),
    )):
        texts.setdefault(aid, []).append(bs or b or "")
    best: tuple[int | None, dedup.Similarity | None] = (None, None)
    for aid in cands:
        for t in texts.get(aid, []):
            s = dedup.verify(sig.shingles, dedup.shingles(dedup.normalize_text(t)))
            if s is not None and (best[1] is None or s.containment > best[1].containment):
                best = (aid, s)
    return best


# ---------------------------------------------------------------------------- the transaction
def store(conn: Connection, ctx: StoreContext) -> StoreResult:
    """Deduplicate and store one copy (see the module docstring) inside the caller's transaction."""
    # PostgreSQL: lock the band keys first (a separate statement, so that the lookups below run on
    # a snapshot taken after the lock); it is also taken for a known URL, which costs one
    # statement and saves a second round trip for the lookups.
    _lock_bands(conn, ctx.sig)
    sight, owner, owner_rev = _lookup(conn, ctx.canon, ctx.sig.content_hash)

    if sight is not None:
        sight_id, sight_aid = sight
        sight_vals: dict[str, Any] = dict(last_seen=ctx.now, status=ctx.status)
        if ctx.page_id is not None:
            sight_vals["page_id"] = ctx.page_id
        if owner is not None:  # same text (or a text archived elsewhere): nothing new
            conn.execute(update(_T_SIGHT).where(_T_SIGHT.c.id == sight_id).values(**sight_vals))
            return StoreResult(sight_aid, "seen", owner_rev, sight_id)
        # the page at a known URL changed: a revision of the story it carried
        rev_id = _add_revision(conn, ctx, sight_aid, None)
        conn.execute(update(_T_SIGHT).where(_T_SIGHT.c.id == sight_id)
                     .values(revision_id=rev_id, **sight_vals))
        return StoreResult(sight_aid, "revision", rev_id, sight_id)

    if owner is not None:
        rev = owner_rev
        if _promote_if_better(conn, ctx, owner, owner_rev, None):
            rev = None  # the incoming copy is now the article's own text
        sid = _add_sighting(conn, ctx, owner, rev)
        return StoreResult(owner, "duplicate", rev, sid)

    cands, shared = candidates(conn, ctx.sig)
    match, sim = _verify(conn, ctx.sig, cands)
    if match is not None and sim is not None:
        rev_id = _add_revision(conn, ctx, match, sim.containment, skip_bands=shared.get(match, frozenset()))
        rev = rev_id
        if _promote_if_better(conn, ctx, match, rev_id, sim.containment):
            rev = None
        sid = _add_sighting(conn, ctx, match, rev)
        return StoreResult(match, "revision", rev_id, sid, sim.containment)

    aid = conn.execute(_T_ART.insert().values(
        site_id=ctx.site_id, url=ctx.canon, content_hash=ctx.sig.content_hash, first_seen=ctx.now,
        updated_at=ctx.now, page_id=ctx.page_id, **ctx.fields,
    ).returning(_T_ART.c.id)).scalar_one()
    add_bands(conn, aid, ctx.sig)
    sid = _add_sighting(conn, ctx, aid, None)
    return StoreResult(aid, "new", None, sid)


def _promote_if_better(conn: Connection, ctx: StoreContext, aid: int, carrier_rev: int | None,
                       sim: float | None) -> bool:
    """Make the incoming copy the article's representative if it is a better copy.

    Better = strictly higher :func:`storage.dedup.copy_quality` (not spam-flagged, simplified
    script, fewer pinyin glosses removed). The article's displayed fields, URL, site and page
    switch to the incoming copy. If the texts differ (``carrier_rev`` holds the incoming text,
    as a new or an earlier revision), the article and that revision swap texts: the old
    representative text stays in the archive as that revision, and sightings follow their
    text. If the normalised texts are equal (an exact duplicate of the article's own text), the
    old copy stays as its sighting (and its page's raw bytes).
    """
    fields = ctx.fields
    new_q = dedup.copy_quality(fields["title"], fields["body"], fields["body_simplified"], fields["flags"])
    cur = conn.execute(select(
        _T_ART.c.title, _T_ART.c.body, _T_ART.c.body_simplified, _T_ART.c.flags, _T_ART.c.content_hash,
        _T_ART.c.url, _T_ART.c.page_id, _T_ART.c.first_seen,
    ).where(_T_ART.c.id == aid)).one()
    if new_q <= dedup.copy_quality(cur.title, cur.body, cur.body_simplified, cur.flags or {}):
        return False
    vals = {k: v for k, v in fields.items() if k != "published_at" or v is not None}
    vals.update(url=ctx.canon, site_id=ctx.site_id, page_id=ctx.page_id, updated_at=ctx.now)
    # the search column (migration 0002) is filled by the model default on insert only
    vals["title_simplified"] = to_simplified(vals["title"]) if vals.get("title") else vals.get("title")
    if ctx.sig.content_hash != cur.content_hash and carrier_rev is not None:
        # swap texts: the revision row that carried the incoming text takes the old one
        conn.execute(update(_T_REV).where(_T_REV.c.id == carrier_rev).values(
            content_hash=cur.content_hash, title=cur.title, body=cur.body,
            body_simplified=cur.body_simplified, url=cur.url, page_id=cur.page_id,
            first_seen=cur.first_seen, similarity=sim if sim is not None else _T_REV.c.similarity))
        conn.execute(update(_T_SIGHT)
                     .where(_T_SIGHT.c.article_id == aid,
                            (_T_SIGHT.c.revision_id.is_(None)) | (_T_SIGHT.c.revision_id == carrier_rev))
                     .values(revision_id=case((_T_SIGHT.c.revision_id.is_(None), carrier_rev), else_=None)))
        vals["content_hash"] = ctx.sig.content_hash
    conn.execute(update(_T_ART).where(_T_ART.c.id == aid).values(**vals))
    return True


def _add_sighting(conn: Connection, ctx: StoreContext, aid: int, rev_id: int | None) -> int:
    return conn.execute(_T_SIGHT.insert().values(
        article_id=aid, revision_id=rev_id, url=ctx.canon, site_id=ctx.site_id, first_seen=ctx.now,
        last_seen=ctx.now, status=ctx.status, page_id=ctx.page_id,
    ).returning(_T_SIGHT.c.id)).scalar_one()


def _add_revision(conn: Connection, ctx: StoreContext, aid: int, sim: float | None,
                  skip_bands: Collection[Band] = frozenset()) -> int:
    fields = ctx.fields
    rev_id = conn.execute(_T_REV.insert().values(
        article_id=aid, content_hash=ctx.sig.content_hash, title=fields["title"],
        body=fields["body"], body_simplified=fields["body_simplified"], url=ctx.canon,
        similarity=sim, first_seen=ctx.now, page_id=ctx.page_id,
    ).returning(_T_REV.c.id)).scalar_one()
    add_bands(conn, aid, ctx.sig, skip_bands)  # bands the article already has are not rewritten
    conn.execute(update(_T_ART).where(_T_ART.c.id == aid).values(updated_at=ctx.now))
    return rev_id
