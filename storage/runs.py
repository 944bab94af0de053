"""Crawl runs, per-site locks (leases) and HTTP validators.

Locks are lease rows in ``site_locks`` on every backend (SQLite and PostgreSQL alike): a holder
takes the row when it is absent, expired, or already its own; it renews before ``expires_at``; a
dead holder's lease simply expires. The take-over is one atomic ``UPDATE ... WHERE expires_at < now``
so two contenders can never both succeed.

Every function accepts an :class:`~sqlalchemy.Engine` or a database URL.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine
from storage.models import CrawlRun, HttpValidator, SiteLock, utcnow
from storage.urls import canonical_url

__all__ = [
    "start_run", "finish_run", "update_run", "get_run",
    "acquire_lock", "renew_lock", "release_lock", "lock_holder", "default_holder",
    "get_validators", "set_validators",
]

RUN_STATUSES = ("running", "ok", "failed", "interrupted", "timeout", "locked")
TRIGGERS = ("schedule", "manual", "due", "worker")
_COUNTERS = ("requests", "pages", "new_articles", "duplicates", "revisions", "bytes")
_engines: dict[str, Engine] = {}


def _engine(e) -> Engine:
    if isinstance(e, Engine):
        return e
    key = str(e)
    if key not in _engines:
        _engines[key] = make_engine(key)
    return _engines[key]


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------- runs
def start_run(engine, site: str, trigger: str = "manual", *, pid: int | None = None,
              host: str | None = None, started_at: datetime | None = None) -> int:
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {TRIGGERS}, not {trigger!r}")
    with _engine(engine).begin() as conn:
        return conn.execute(insert(CrawlRun).values(
            site=site, trigger=trigger, started_at=started_at or utcnow(), status="running",
            requests=0, pages=0, new_articles=0, duplicates=0, revisions=0, failures={}, bytes=0,
            pid=os.getpid() if pid is None else pid, host=host or socket.gethostname(),
        ).returning(CrawlRun.id)).scalar_one()


def update_run(engine, run_id: int, **values: Any) -> None:
    """Set counters (``requests``, ``pages``, ..., ``failures``) or other columns of a run."""
    if values:
        with _engine(engine).begin() as conn:
            conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**values))


def finish_run(engine, run_id: int, status: str = "ok", *, exit_code: int | None = None,
               log_tail: str | None = None, failures: dict[str, int] | None = None,
               **counters: int) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
    unknown = set(counters) - set(_COUNTERS)
    if unknown:
        raise TypeError(f"unknown counters: {sorted(unknown)}")
    values: dict[str, Any] = dict(status=status, finished_at=utcnow(), exit_code=exit_code,
                                  **counters)
    if log_tail is not None:
        values["log_tail"] = log_tail[-20000:]
    if failures is not None:
        values["failures"] = dict(failures)
    update_run(engine, run_id, **values)


def get_run(engine, run_id: int) -> dict | None:
    with _engine(engine).connect() as conn:
        r = conn.execute(select(CrawlRun.__table__).where(CrawlRun.id == run_id)).mappings().first()
    return dict(r) if r else None


# ---------------------------------------------------------------------------- locks
def acquire_lock(engine, site: str, holder: str | None = None, ttl_seconds: float = 3600) -> bool:
    """Take the lease on ``site`` for ``holder``; ``False`` if someone else holds a live lease."""
    holder = holder or default_holder()
    eng = _engine(engine)
    now = utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    try:
        with eng.begin() as conn:
            conn.execute(insert(SiteLock).values(site=site, holder=holder, acquired_at=now,
                                                 expires_at=expires))
        return True
    except IntegrityError:
        pass
    with eng.begin() as conn:
        res = conn.execute(
            update(SiteLock)
            .where(SiteLock.site == site)
            .where((SiteLock.expires_at < now) | (SiteLock.holder == holder))
            .values(holder=holder, acquired_at=now, expires_at=expires)
        )
        return res.rowcount == 1


def renew_lock(engine, site: str, holder: str | None = None, ttl_seconds: float = 3600) -> bool:
    """Extend the lease if ``holder`` still holds it (even if it lapsed and nobody took it)."""
    holder = holder or default_holder()
    with _engine(engine).begin() as conn:
        res = conn.execute(
            update(SiteLock).where(SiteLock.site == site, SiteLock.holder == holder)
            .values(expires_at=utcnow() + timedelta(seconds=ttl_seconds))
        )
        return res.rowcount == 1


def release_lock(engine, site: str, holder: str | None = None) -> bool:
    holder = holder or default_holder()
    with _engine(engine).begin() as conn:
        res = conn.execute(delete(SiteLock).where(SiteLock.site == site, SiteLock.holder == holder))
        return res.rowcount == 1


def lock_holder(engine, site: str) -> dict | None:
    """``{"holder", "acquired_at", "expires_at", "expired"}`` or ``None``."""
    with _engine(engine).connect() as conn:
        r = conn.execute(select(SiteLock.holder, SiteLock.acquired_at, SiteLock.expires_at)
                         .where(SiteLock.site == site)).first()
    if r is None:
        return None
    return dict(holder=r.holder, acquired_at=r.acquired_at, expires_at=r.expires_at,
                expired=r.expires_at < utcnow())


# ---------------------------------------------------------------------------- crawl locks
#: holders written by crawl processes ("host:pid"); other holders (a distributed run's
#: "redis-run:<id>@host") hold no advisory lock and are never taken over
CRAWL_HOLDER_RE = re.compile(r"^[^:\s@]+:\d+$")


def advisory_key(site: str) -> int:
    """The PostgreSQL advisory-lock key of a site (a stable signed 63-bit integer)."""
    return int(hashlib.sha256(f"govnews-site:{site}".encode()).hexdigest()[:15], 16)


class CrawlLock:
    """The lock one crawl process holds on its site for the whole crawl (see :func:`acquire_crawl_lock`)."""

    def __init__(self, engine: Engine, site: str, holder: str, session_conn=None):
        self.engine, self.site, self.holder, self.session_conn = engine, site, holder, session_conn

    def renew(self, ttl_seconds: float) -> bool:
        return renew_lock(self.engine, self.site, self.holder, ttl_seconds)

    def release(self) -> None:
        try:
            release_lock(self.engine, self.site, self.holder)
        finally:
            if self.session_conn is not None:
                try:
                    self.session_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(self.site)})
                    self.session_conn.commit()
                finally:
                    self.session_conn.invalidate()  # never hand a lock-holding session back to the pool
                    self.session_conn.close()
                    self.session_conn = None


def acquire_crawl_lock(engine, site: str, holder: str | None = None,
                       ttl_seconds: float = 3600) -> CrawlLock | None:
    """Lock ``site`` for one crawl process, or ``None`` when another live holder has it.

    Both backends use the lease row (:func:`acquire_lock`), which also shows who holds the site.
    On PostgreSQL the crawl additionally holds a session-level advisory lock on a connection kept
    open for the whole crawl. The server drops that lock the moment the crawl's process dies, so a
    crawl lease whose advisory lock is free belongs to a dead process and is taken over at once,
    instead of blocking the site until the lease expires.
    """
    holder = holder or default_holder()
    eng = _engine(engine)
    session_conn = None
    if eng.dialect.name == "postgresql":
        session_conn = eng.connect()
        got = session_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(site)}).scalar()
        session_conn.commit()
        if not got:
            session_conn.close()
            return None
    try:
        ok = acquire_lock(eng, site, holder, ttl_seconds)
        if not ok and session_conn is not None:
            current = lock_holder(eng, site)
            if current and CRAWL_HOLDER_RE.match(current["holder"]):
                ok = _take_over(eng, site, current["holder"], holder, ttl_seconds)
    except BaseException:
        if session_conn is not None:
            session_conn.invalidate()
            session_conn.close()
        raise
    if not ok:
        if session_conn is not None:
            session_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(site)})
            session_conn.commit()
            session_conn.close()
        return None
    return CrawlLock(eng, site, holder, session_conn)


def live_lock_holder(engine, site: str) -> dict | None:
    """:func:`lock_holder` when the holder is alive: the lease has not expired and, on PostgreSQL,
    a crawl holder still holds its advisory lock (a dead crawl's lease reads as free)."""
    eng = _engine(engine)
    info = lock_holder(eng, site)
    if not info or info["expired"]:
        return None
    if eng.dialect.name == "postgresql" and CRAWL_HOLDER_RE.match(info["holder"]):
        with eng.connect() as conn:
            free = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(site)}).scalar()
            if free:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(site)})
            conn.commit()
        if free:
            return None
    return info


def _take_over(engine: Engine, site: str, old_holder: str, holder: str, ttl_seconds: float) -> bool:
    now = utcnow()
    with engine.begin() as conn:
        res = conn.execute(update(SiteLock).where(SiteLock.site == site, SiteLock.holder == old_holder)
                           .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl_seconds)))
        return res.rowcount == 1


# ---------------------------------------------------------------------------- validators
def get_validators(engine, url: str) -> tuple[str | None, str | None] | None:
    with _engine(engine).connect() as conn:
        r = conn.execute(select(HttpValidator.etag, HttpValidator.last_modified)
                         .where(HttpValidator.url == canonical_url(url))).first()
    return None if r is None else (r.etag, r.last_modified)


def set_validators(engine, url: str, etag: str | None, last_modified: str | None) -> None:
    eng = _engine(engine)
    from storage.archive import Archive

    Archive(engine=eng).set_validators(url, etag, last_modified)
