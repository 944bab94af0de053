"""The archive API used by the crawler (see docs/CONTRACTS.md and docs/STORAGE.md).

:class:`Archive` is a facade over modules with one job each:

* :mod:`storage.pages` — fetched pages (:class:`~storage.pages.RawPage`, headers kept, outcomes);
* :mod:`storage.articles` — the deduplication / store transaction (:class:`~storage.articles.StoreResult`);
* :mod:`storage.sites`, :mod:`storage.validators` — site rows, HTTP validators;
* :mod:`storage.codecs` — compression of the raw bytes;
* :mod:`storage.transactions` — write transactions with retries.

Thread safety: an ``Archive`` holds only its engine (thread-safe), its codec and a lock-protected
cache of site ids. Every call takes its own connection and transaction, so the methods may be
called from several threads at once (the crawler runs them off the reactor thread).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, event, select

from storage import articles, pages, sites, validators
from storage.articles import StoreResult
from storage.codecs import compress, decompress  # compat: govnews.commands.export imports decompress here
from storage.db import make_engine, normalize_db_url
from storage.models import Sighting
from storage.pages import SELECTED_HEADERS, RawPage, select_headers
from storage.transactions import MAX_ATTEMPTS, retrying, write
from storage.urls import canonical_url

__all__ = ["MAX_ATTEMPTS", "SELECTED_HEADERS", "SQLITE_CACHE_KIB", "Archive", "RawPage", "StoreResult",
           "compress", "decompress", "select_headers"]

#: SQLite page cache per connection, KiB. SQLite's default (2 MB) holds almost nothing of a large
#: archive: at 1M articles each of the 32 band probes of a store read the whole root-to-leaf path
#: (4 pages) back from the OS, and the content-hash probe another 3-4; with 16 MB the interior
#: pages of those indexes (about 6 MB at 1M articles) stay cached and a probe reads one leaf.
#: Fixed size, so memory does not grow with the archive.
SQLITE_CACHE_KIB = 16384
_T_SIGHT = cast(Table, Sighting.__table__)


def _sqlite_cache_pragma(dbapi_conn: Any, _rec: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cur.close()


class Archive:
    """Engine + archive operations; safe to share between threads (see the module docstring)."""

    def __init__(self, db_url: str | None = None, *, engine: Engine | None = None,
                 codec: str = "zlib"):
        self.engine = engine if engine is not None else make_engine(
            normalize_db_url(db_url) if db_url else None)
        self.url = self.engine.url.render_as_string(hide_password=False)
        self.codec = codec
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._site_ids: dict[str, int] = {}
        self._site_lock = threading.Lock()
        # once per engine: an Archive made again on the same engine adds no second listener
        if self.engine.dialect.name == "sqlite" and not event.contains(self.engine, "connect", _sqlite_cache_pragma):
            event.listen(self.engine, "connect", _sqlite_cache_pragma)

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self):
        """A write transaction on a connection of its own (:func:`storage.transactions.write`)."""
        return write(self.engine)

    # ------------------------------------------------------------------ sites
    def ensure_site(self, name: str, title: str | None = None,
                    allowed_domains: Iterable[str] = ()) -> int:
        """Create or update the site row; returns its id."""
        sid = retrying(self.engine, lambda conn: sites.ensure_site(conn, name, title, allowed_domains))
        with self._site_lock:
            self._site_ids[name] = sid
        return sid

    def site_id(self, name: str) -> int:
        """The id of site ``name`` (the row is created when missing)."""
        with self._site_lock:
            sid = self._site_ids.get(name)
        if sid is not None:
            return sid
        with self.engine.connect() as conn:
            found = sites.find_site_id(conn, name)
        if found is None:
            return self.ensure_site(name)
        with self._site_lock:
            self._site_ids[name] = found
        return found

    # ------------------------------------------------------------------ pages
    def record_page(self, site: str, url: str, *, status: int | None,
                    headers: Mapping | None = None, body: bytes | None = None,
                    outcome: str, reason: str | None = None,
                    fetched_at: datetime | None = None) -> int:
        """Store one fetch (raw bytes compressed, selected headers); returns ``page_id``.

        Failures are recorded too (``outcome="failed"``, ``reason=...``, ``status``/``body`` may
        be ``None``). ``outcome`` must be a :class:`storage.enums.PageOutcome` value (``ValueError``).
        """
        pages.check_outcome(outcome)
        row = pages.page_row(self.site_id(site), url, status=status, headers=headers, body=body,
                             outcome=outcome, reason=reason, fetched_at=fetched_at, codec=self.codec)
        return retrying(self.engine, lambda conn: pages.record_page(conn, row))

    def set_page_outcome(self, page_id: int, outcome: str, reason: str | None = None) -> None:
        pages.check_outcome(outcome)
        retrying(self.engine, lambda conn: pages.set_page_outcome(conn, page_id, outcome, reason))

    def page_body(self, page_id: int) -> bytes | None:
        """The raw bytes of a stored fetch, decompressed."""
        with self.engine.connect() as conn:
            return pages.page_body(conn, page_id)

    def raw_page(self, page_id: int) -> RawPage | None:
        """The stored fetch ``page_id`` as a :class:`~storage.pages.RawPage`, or ``None``."""
        with self.engine.connect() as conn:
            return pages.load_raw_page(conn, page_id)

    # ------------------------------------------------------------------ articles
    def store_article(self, site: str, url: str | None, article: Any, *, page_id: int | None = None,
                      status: int | None = 200, seen_at: datetime | None = None) -> StoreResult:
        """Deduplicate and store one extracted article (an extraction ``Article`` or a dict)."""
        ctx = articles.prepare(article, url=url, site_id=self.site_id(site), page_id=page_id,
                               status=status, now=seen_at)
        return retrying(self.engine, lambda conn: articles.store(conn, ctx))

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
            return validators.get_validators(conn, url)

    def set_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        retrying(self.engine, lambda conn: validators.set_validators(conn, url, etag, last_modified))
