"""The archive API used by the Scrapy pipeline (see docs/CONTRACTS.md and docs/STORAGE.md).

Deduplication order in :meth:`Archive.store_article`, all inside one write transaction:

1. canonical URL already has a sighting -> ``seen`` (same text) or ``revision`` (the page changed);
2. the content hash (normalised text) matches an article or a revision -> ``duplicate``: one more
   sighting, no new article;
3. MinHash LSH bands (table ``minhash_bands``, one indexed query) give candidates; each is verified
   on the full texts (:func:`storage.dedup.verify`) -> ``revision``;
4. otherwise -> ``new`` article, its bands and its first sighting.

Concurrency: the unique constraints on ``articles.content_hash``, ``article_revisions.content_hash``
and ``sightings.url`` reject a racing duplicate; the transaction is then retried and finds the row
the other process committed. Near-duplicates (different hashes) cannot be caught by a constraint,
so the lookup and insert are serialised per LSH band: PostgreSQL takes transaction-scoped advisory
locks on the band hashes of the text (two near-duplicates share at least one band, otherwise LSH
would not find them either); SQLite runs the transaction under ``BEGIN IMMEDIATE``.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
import zlib
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime

from sqlalchemy import Engine, case, event, literal, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from storage import dedup
from storage.db import make_engine, normalize_db_url
from storage.models import (
    Article,
    ArticleRevision,
    HttpValidator,
    MinHashBand,
    Page,
    Sighting,
    Site,
    utcnow,
)
from storage.urls import canonical_url

__all__ = ["Archive", "StoreResult", "compress", "decompress", "SELECTED_HEADERS"]

SELECTED_HEADERS = ("etag", "last-modified", "content-type", "content-length", "location",
                    "content-encoding", "cache-control")
_T_ART = Article.__table__
_T_REV = ArticleRevision.__table__
_T_SIGHT = Sighting.__table__
_T_BAND = MinHashBand.__table__
_T_PAGE = Page.__table__
_T_SITE = Site.__table__
_T_VAL = HttpValidator.__table__
MAX_ATTEMPTS = 12
#: SQLite page cache per connection, KiB. SQLite's default (2 MB) holds almost nothing of a large
#: archive: at 1M articles each of the 32 band probes of a store read the whole root-to-leaf path
#: (4 pages) back from the OS, and the content-hash probe another 3-4; with 16 MB the interior
#: pages of those indexes (about 6 MB at 1M articles) stay cached and a probe reads one leaf.
#: Fixed size, so memory does not grow with the archive.
SQLITE_CACHE_KIB = 16384


@dataclass(frozen=True)
class StoreResult:
    article_id: int
    outcome: str  # "new" | "duplicate" | "revision" | "seen"
    revision_id: int | None = None
    sighting_id: int | None = None
    similarity: float | None = None  # containment of the verified near-duplicate


# ---------------------------------------------------------------------------- raw bytes
def compress(data: bytes, codec: str = "zlib") -> bytes:
    if codec == "zlib":
        return zlib.compress(data, 6)
    if codec == "zstd":
        return _zstd().compress(data)
    if codec == "none":
        return data
    raise ValueError(f"unknown codec {codec!r}")


def decompress(data: bytes | None, codec: str) -> bytes | None:
    if data is None:
        return None
    if codec == "zlib":
        return zlib.decompress(data)
    if codec == "zstd":
        return _zstd().decompress(data)
    if codec == "none":
        return bytes(data)
    raise ValueError(f"unknown codec {codec!r}")


def _zstd():
    try:
        from compression import zstd  # Python 3.14
    except ImportError:  # pragma: no cover - depends on the interpreter
        from backports import zstd  # type: ignore[no-redef]
    return zstd


def _text(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(v).decode("latin-1")
    return str(v)


def select_headers(headers: Mapping | None) -> dict[str, str]:
    """ETag, Last-Modified, Content-Type, ... from a dict or Scrapy ``Headers`` (bytes, lists)."""
    out: dict[str, str] = {}
    if not headers:
        return out
    for k, v in dict(headers).items():
        name = _text(k).lower()
        if name not in SELECTED_HEADERS:
            continue
        if isinstance(v, (list, tuple)):
            v = v[0] if v else ""
        out[name] = _text(v)
    return out


def _field(article, name, default=None):
    if isinstance(article, Mapping):
        return article.get(name, default)
    return getattr(article, name, default)


def _jsonable(v):
    if is_dataclass(v) and not isinstance(v, type):
        v = asdict(v)
    return json.loads(json.dumps(v, default=str, ensure_ascii=False))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, OperationalError):
        msg = str(exc.orig).lower()
        return "locked" in msg or "busy" in msg or "deadlock" in msg or "serializ" in msg
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        return code in ("40001", "40P01")  # serialization failure, deadlock
    return False


def _sqlite_cache_pragma(dbapi_conn, _rec):
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cur.close()


class Archive:
    """Engine + archive operations. Thread-safe as far as the engine is (one per process)."""

    def __init__(self, db_url: str | None = None, *, engine: Engine | None = None,
                 codec: str = "zlib"):
        self.engine = engine if engine is not None else make_engine(
            normalize_db_url(db_url) if db_url else None)
        self.url = self.engine.url.render_as_string(hide_password=False)
        self.codec = codec
        self._site_ids: dict[str, int] = {}
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_cache_pragma)

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def _write(self):
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    def _retrying(self, fn):
        delay = 0.01
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._write() as conn:
                    return fn(conn)
            except DBAPIError as exc:
                if attempt == MAX_ATTEMPTS - 1 or not _retryable(exc):
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert(self, table):
        return (postgresql.insert(table) if self.is_postgres else sqlite.insert(table))

    # ------------------------------------------------------------------ sites
    def ensure_site(self, name: str, title: str | None = None,
                    allowed_domains: Iterable[str] = ()) -> int:
        """Create or update the site row; returns its id."""
        domains = sorted(set(allowed_domains or ()))

        def fn(conn):
            sid = conn.execute(select(_T_SITE.c.id).where(_T_SITE.c.name == name)).scalar()
            if sid is None:
                return conn.execute(_T_SITE.insert().values(
                    name=name, title=title, allowed_domains=domains, created_at=utcnow()
                ).returning(_T_SITE.c.id)).scalar_one()
            vals = {}
            if title is not None:
                vals["title"] = title
            if domains:
                vals["allowed_domains"] = domains
            if vals:
                conn.execute(update(_T_SITE).where(_T_SITE.c.id == sid).values(**vals))
            return sid

        sid = self._retrying(fn)
        self._site_ids[name] = sid
        return sid

    def site_id(self, name: str) -> int:
        sid = self._site_ids.get(name)
        if sid is None:
            with self.engine.connect() as conn:
                sid = conn.execute(select(_T_SITE.c.id).where(_T_SITE.c.name == name)).scalar()
            if sid is None:
                sid = self.ensure_site(name)
            self._site_ids[name] = sid
        return sid

    # ------------------------------------------------------------------ pages
    def record_page(self, site: str, url: str, *, status: int | None,
                    headers: Mapping | None = None, body: bytes | None = None,
                    outcome: str, reason: str | None = None,
                    fetched_at: datetime | None = None) -> int:
        """Store one fetch (raw bytes compressed, selected headers); returns ``page_id``.

        Failures are recorded too (``outcome="failed"``, ``reason=...``, ``status``/``body`` may
        be ``None``).
        """
        site_id = self.site_id(site)
        raw = None if body is None else bytes(body)
        row = dict(
            url=url, site_id=site_id, status=status, headers=select_headers(headers),
            fetched_at=fetched_at or utcnow(), codec=self.codec,
            raw=None if raw is None else compress(raw, self.codec),
            length=0 if raw is None else len(raw),
            sha256=None if raw is None else hashlib.sha256(raw).hexdigest(),
            outcome=outcome, reason=reason,
        )
        return self._retrying(
            lambda conn: conn.execute(_T_PAGE.insert().values(**row).returning(_T_PAGE.c.id)).scalar_one()
        )

    def set_page_outcome(self, page_id: int, outcome: str, reason: str | None = None) -> None:
        self._retrying(lambda conn: conn.execute(
            update(_T_PAGE).where(_T_PAGE.c.id == page_id).values(outcome=outcome, reason=reason)))

    def page_body(self, page_id: int) -> bytes | None:
        """The raw bytes of a stored fetch, decompressed."""
        with self.engine.connect() as conn:
            r = conn.execute(select(_T_PAGE.c.raw, _T_PAGE.c.codec).where(_T_PAGE.c.id == page_id)).first()
        return None if r is None else decompress(r.raw, r.codec)

    # ------------------------------------------------------------------ articles
    def store_article(self, site: str, url: str | None, article, *, page_id: int | None = None,
                      status: int | None = 200, seen_at: datetime | None = None) -> StoreResult:
        """Deduplicate and store one extracted article (``crawler.extract.Article`` or a dict)."""
        canon = canonical_url(url or _field(article, "url") or "")
        if not canon:
            raise ValueError("store_article needs a URL")
        body = _field(article, "body") or ""
        simplified = _field(article, "body_simplified") or dedup.to_simplified(body)
        sig = dedup.signature(simplified or body)
        if not sig.normalized:
            # no text at all: never merge two empty pages through their (equal) empty hash
            sig.content_hash = hashlib.sha256(("empty:" + canon).encode()).hexdigest()
        site_id = self.site_id(site)
        now = seen_at or utcnow()
        images = [_jsonable(i) for i in (_field(article, "images") or [])]
        fields = dict(
            title=_field(article, "title"),
            published_at=_field(article, "published_at"),
            source=_field(article, "source"),
            author=_field(article, "author"),
            editor=_field(article, "editor"),
            original_title=_field(article, "original_title"),
            summary=_field(article, "summary"),
            column=_field(article, "column"),
            body=body,
            body_simplified=simplified,
            flags=_jsonable(_field(article, "flags") or {}),
            images=images,
        )
        return self._retrying(
            lambda conn: self._store(conn, canon, site_id, sig, fields, page_id, status, now))

    def _lock_bands(self, conn, sig: dedup.TextSignature) -> None:
        if not self.is_postgres:
            return  # BEGIN IMMEDIATE already serialises writers
        keys = sorted({h for _, h in sig.bands} | {int(sig.content_hash[:15], 16)})
        conn.execute(
            text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                 "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS s"),
            {"keys": keys},
        )

    def _lookup(self, conn, canon: str, h: str):
        """One query: the sighting of ``canon`` and the owner of the content hash ``h``.

        Returns ``(sighting, owner_article_id, owner_revision_id)``; sighting is ``(id, article_id)``
        or ``None``. (Three separate lookups before; one round trip now.)
        """
        q = union_all(
            select(literal("s").label("k"), _T_SIGHT.c.id, _T_SIGHT.c.article_id).where(_T_SIGHT.c.url == canon),
            select(literal("a").label("k"), _T_ART.c.id, _T_ART.c.id).where(_T_ART.c.content_hash == h),
            select(literal("r").label("k"), _T_REV.c.id, _T_REV.c.article_id).where(_T_REV.c.content_hash == h),
        )
        sight = owner = owner_rev = None
        for k, rid, aid in conn.execute(q):
            if k == "s":
                sight = (rid, aid)
            elif k == "a":
                owner, owner_rev = aid, None
            elif owner is None:
                owner, owner_rev = aid, rid
        return sight, owner, owner_rev

    def _add_bands(self, conn, article_id: int, sig: dedup.TextSignature, skip=frozenset()) -> None:
        bands = [(b, h) for b, h in sig.bands if (b, h) not in skip]
        if not bands:
            return
        if self.is_postgres:
            # one statement with two array parameters instead of 32 executions
            conn.execute(text(
                "INSERT INTO minhash_bands (band_hash, band_idx, article_id) "
                "SELECT h, i, CAST(:aid AS integer) FROM unnest(CAST(:h AS bigint[]), CAST(:i AS smallint[])) AS t(h, i) "
                "ON CONFLICT DO NOTHING"),
                {"aid": article_id, "h": [h for _, h in bands], "i": [b for b, _ in bands]})
            return
        conn.execute(
            self._insert(_T_BAND).on_conflict_do_nothing(),
            [{"band_idx": b, "band_hash": h, "article_id": article_id} for b, h in bands],
        )

    def candidates(self, conn, sig: dedup.TextSignature) -> list[int]:
        """Article ids sharing at least one LSH band with ``sig`` (one indexed query)."""
        return self._candidates(conn, sig)[0]

    def _candidates(self, conn, sig: dedup.TextSignature) -> tuple[list[int], dict[int, set]]:
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
        shared: dict[int, set] = {}
        for b, h, aid in rows:
            if (b, h) in wanted:
                shared.setdefault(aid, set()).add((b, h))
        cands = sorted(shared, key=lambda a: (-len(shared[a]), a))[: dedup.MAX_CANDIDATES]
        return cands, shared

    def _verify(self, conn, sig: dedup.TextSignature, cands: list[int]):
        if not cands:
            return None, None
        texts: dict[int, list[str]] = {}
        for aid, b, bs in conn.execute(union_all(
            select(_T_ART.c.id, _T_ART.c.body, _T_ART.c.body_simplified).where(_T_ART.c.id.in_(cands)),
            select(_T_REV.c.article_id, _T_REV.c.body, _T_REV.c.body_simplified)
            .where(_T_REV.c.article_id.in_(cands)),
        )):
            texts.setdefault(aid, []).append(bs or b or "")
        best = (None, None)
        for aid in cands:
            for t in texts.get(aid, []):
                s = dedup.verify(sig.shingles, dedup.shingles(dedup.normalize_text(t)))
                if s is not None and (best[1] is None or s.containment > best[1].containment):
                    best = (aid, s)
        return best

    def _store(self, conn, canon, site_id, sig, fields, page_id, status, now) -> StoreResult:
        # PostgreSQL: lock the band keys first (a separate statement, so that the lookups below run on
        # a snapshot taken after the lock); it is also taken for a known URL, which costs one
        # statement and saves a second round trip for the lookups.
        self._lock_bands(conn, sig)
        sight, owner, owner_rev = self._lookup(conn, canon, sig.content_hash)

        if sight is not None:
            sight_id, sight_aid = sight
            sight_vals = dict(last_seen=now, status=status)
            if page_id is not None:
                sight_vals["page_id"] = page_id
            if owner is not None:  # same text (or a text archived elsewhere): nothing new
                conn.execute(update(_T_SIGHT).where(_T_SIGHT.c.id == sight_id).values(**sight_vals))
                return StoreResult(sight_aid, "seen", owner_rev, sight_id)
            # the page at a known URL changed: a revision of the story it carried
            rev_id = self._add_revision(conn, sight_aid, canon, sig, fields, page_id, now, None)
            conn.execute(update(_T_SIGHT).where(_T_SIGHT.c.id == sight_id)
                         .values(revision_id=rev_id, **sight_vals))
            return StoreResult(sight_aid, "revision", rev_id, sight_id)

        if owner is not None:
            rev = owner_rev
            if self._promote_if_better(conn, owner, owner_rev, sig, fields, canon, site_id, page_id, now, None):
                rev = None  # the incoming copy is now the article's own text
            sid = self._add_sighting(conn, owner, rev, canon, site_id, now, status, page_id)
            return StoreResult(owner, "duplicate", rev, sid)

        cands, shared = self._candidates(conn, sig)
        match, sim = self._verify(conn, sig, cands)
        if match is not None:
            rev_id = self._add_revision(conn, match, canon, sig, fields, page_id, now, sim.containment,
                                        skip_bands=shared.get(match, frozenset()))
            rev = rev_id
            if self._promote_if_better(conn, match, rev_id, sig, fields, canon, site_id, page_id, now,
                                       sim.containment):
                rev = None
            sid = self._add_sighting(conn, match, rev, canon, site_id, now, status, page_id)
            return StoreResult(match, "revision", rev_id, sid, sim.containment)

        aid = conn.execute(_T_ART.insert().values(
            site_id=site_id, url=canon, content_hash=sig.content_hash, first_seen=now,
            updated_at=now, page_id=page_id, **fields,
        ).returning(_T_ART.c.id)).scalar_one()
        self._add_bands(conn, aid, sig)
        sid = self._add_sighting(conn, aid, None, canon, site_id, now, status, page_id)
        return StoreResult(aid, "new", None, sid)

    def _promote_if_better(self, conn, aid, carrier_rev, sig, fields, canon, site_id, page_id, now,
                           sim) -> bool:
        """Make the incoming copy the article's representative if it is a better copy.

        Better = strictly higher :func:`storage.dedup.copy_quality` (not spam-flagged, simplified
        script, fewer pinyin glosses removed). The article's displayed fields, URL, site and page
        switch to the incoming copy. If the texts differ (``carrier_rev`` holds the incoming text,
        as a new or an earlier revision), the article and that revision swap texts: the old
        representative text stays in the archive as that revision, and sightings follow their
        text. If the normalised texts are equal (an exact duplicate of the article's own text), the
        old copy stays as its sighting (and its page's raw bytes).
        """
        new_q = dedup.copy_quality(fields["title"], fields["body"], fields["body_simplified"], fields["flags"])
        cur = conn.execute(select(
            _T_ART.c.title, _T_ART.c.body, _T_ART.c.body_simplified, _T_ART.c.flags, _T_ART.c.content_hash,
            _T_ART.c.url, _T_ART.c.page_id, _T_ART.c.first_seen,
        ).where(_T_ART.c.id == aid)).one()
        if new_q <= dedup.copy_quality(cur.title, cur.body, cur.body_simplified, cur.flags or {}):
            return False
        vals = {k: v for k, v in fields.items() if k != "published_at" or v is not None}
        vals.update(url=canon, site_id=site_id, page_id=page_id, updated_at=now)
        if "title_simplified" in _T_ART.c:  # search column (migration 0002), filled on insert only
            vals["title_simplified"] = dedup.to_simplified(vals["title"]) if vals.get("title") else vals.get("title")
        if sig.content_hash != cur.content_hash and carrier_rev is not None:
            # swap texts: the revision row that carried the incoming text takes the old one
            conn.execute(update(_T_REV).where(_T_REV.c.id == carrier_rev).values(
                content_hash=cur.content_hash, title=cur.title, body=cur.body,
                body_simplified=cur.body_simplified, url=cur.url, page_id=cur.page_id,
                first_seen=cur.first_seen, similarity=sim if sim is not None else _T_REV.c.similarity))
            conn.execute(update(_T_SIGHT)
                         .where(_T_SIGHT.c.article_id == aid,
                                (_T_SIGHT.c.revision_id.is_(None)) | (_T_SIGHT.c.revision_id == carrier_rev))
                         .values(revision_id=case((_T_SIGHT.c.revision_id.is_(None), carrier_rev), else_=None)))
            vals["content_hash"] = sig.content_hash
        conn.execute(update(_T_ART).where(_T_ART.c.id == aid).values(**vals))
        return True

    def _add_sighting(self, conn, aid, rev_id, canon, site_id, now, status, page_id) -> int:
        return conn.execute(_T_SIGHT.insert().values(
            article_id=aid, revision_id=rev_id, url=canon, site_id=site_id, first_seen=now,
            last_seen=now, status=status, page_id=page_id,
        ).returning(_T_SIGHT.c.id)).scalar_one()

    def _add_revision(self, conn, aid, canon, sig, fields, page_id, now, sim, skip_bands=frozenset()) -> int:
        rev_id = conn.execute(_T_REV.insert().values(
            article_id=aid, content_hash=sig.content_hash, title=fields["title"],
            body=fields["body"], body_simplified=fields["body_simplified"], url=canon,
            similarity=sim, first_seen=now, page_id=page_id,
        ).returning(_T_REV.c.id)).scalar_one()
        self._add_bands(conn, aid, sig, skip_bands)  # bands the article already has are not rewritten
        conn.execute(update(_T_ART).where(_T_ART.c.id == aid).values(updated_at=now))
        return rev_id

    # ------------------------------------------------------------------ lookups
    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """The canonical forms of ``urls`` that already have a sighting (batched queries)."""
        canon = sorted({canonical_url(u) for u in urls if u})
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(canon), 500):
                chunk = canon[i : i + 500]
                found.update(conn.execute(
                    select(_T_SIGHT.c.url).where(_T_SIGHT.c.url.in_(chunk))).scalars())
        return found

    def get_validators(self, url: str) -> tuple[str | None, str | None] | None:
        """``(etag, last_modified)`` remembered for ``url`` (canonicalised), or ``None``."""
        with self.engine.connect() as conn:
            r = conn.execute(select(_T_VAL.c.etag, _T_VAL.c.last_modified)
                             .where(_T_VAL.c.url == canonical_url(url))).first()
        return None if r is None else (r.etag, r.last_modified)

    def set_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        row = dict(url=canonical_url(url), etag=etag, last_modified=last_modified, checked_at=utcnow())
        stmt = self._insert(_T_VAL).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_T_VAL.c.url],
            set_=dict(etag=etag, last_modified=last_modified, checked_at=row["checked_at"]),
        )
        self._retrying(lambda conn: conn.execute(stmt))
