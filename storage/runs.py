"""Crawl runs, per-site locks (leases) and HTTP validators.

Locks are lease rows in ``site_locks`` on every backend (SQLite and PostgreSQL alike): a holder
takes the row when it is absent, expired, or already its own; it renews before ``expires_at``; a
dead holder's lease simply expires. The take-over is one atomic ``UPDATE ... WHERE expires_at < now``
so two contenders can never both succeed.

Every function accepts an :class:`~sqlalchemy.Engine` or a database URL. Every function that reads
the time takes ``now`` (default :func:`common.clock.utcnow`), so tests pass a clock instead of
sleeping. Statuses and triggers are :class:`storage.enums.RunStatus` / :class:`~storage.enums.Trigger`
values (CHECK constraints since migration 0003); holders default to :func:`common.hosts.holder_id`.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, text, update

from common.clock import utcnow
from common.hosts import holder_id, parse_holder, process_alive
from storage import validators
from storage.db import make_engine
from storage.enums import RunStatus, Trigger
from storage.models import CrawlRun, SiteLock, UTCDateTime
from storage.transactions import dialect_insert, retrying

_LOCKS = cast(Table, SiteLock.__table__)

__all__ = [
    "start_run", "finish_run", "update_run", "get_run", "last_run", "one_line", "latest_runs_by_site",
    "acquire_lock", "renew_lock", "release_lock", "lock_holder", "live_lock_holder", "default_holder",
    "acquire_crawl_lock", "CrawlLock", "advisory_key", "describe_holder", "holder_gone",
    "get_validators", "set_validators",
]

RUN_STATUSES = tuple(s.value for s in RunStatus)  # compat: the values as strings
TRIGGERS = tuple(t.value for t in Trigger)        # compat
_COUNTERS = ("requests", "pages", "new_articles", "duplicates", "revisions", "bytes")
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
EngineOrUrl = Engine | str


def _engine(e: EngineOrUrl) -> Engine:
    if isinstance(e, Engine):
        return e
    key = str(e)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = make_engine(key)
        return _engines[key]


def default_holder() -> str:
    """compat alias of :func:`common.hosts.holder_id` (``host:pid`` of this process)."""
    return holder_id()


def _status(status: str) -> RunStatus:
    try:
        return RunStatus(status)
    except ValueError:
        raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}") from None


def _trigger(trigger: str) -> Trigger:
    try:
        return Trigger(trigger)
    except ValueError:
        raise ValueError(f"trigger must be one of {TRIGGERS}, not {trigger!r}") from None


# ---------------------------------------------------------------------------- runs
def start_run(engine: EngineOrUrl, site: str, trigger: str = Trigger.MANUAL, *, pid: int | None = None,
              host: str | None = None, started_at: datetime | None = None, now: datetime | None = None) -> int:
    """A new ``running`` row; ``started_at`` (alias ``now``) defaults to the current time."""
    trig = _trigger(trigger)
    row: dict[str, Any] = dict(
        site=site, trigger=trig.value, started_at=started_at or now or utcnow(), status=RunStatus.RUNNING.value,
        requests=0, pages=0, new_articles=0, duplicates=0, revisions=0, failures={}, bytes=0,
        pid=os.getpid() if pid is None else pid, host=host or socket.gethostname())
    return retrying(_engine(engine), lambda conn: conn.execute(
        insert(CrawlRun).values(**row).returning(CrawlRun.id)).scalar_one())


def update_run(engine: EngineOrUrl, run_id: int, **values: Any) -> None:
    """Set counters (``requests``, ``pages``, ..., ``failures``) or other columns of a run. Like every write of
    this module it is retried while a busy SQLite archive is locked (:func:`storage.transactions.retrying`)."""
    if "status" in values:
        values["status"] = _status(values["status"]).value
    if "trigger" in values:
        values["trigger"] = _trigger(values["trigger"]).value
    if values:
        stmt = update(CrawlRun).where(CrawlRun.id == run_id).values(**values)
        retrying(_engine(engine), lambda conn: conn.execute(stmt))


def finish_run(engine: EngineOrUrl, run_id: int, status: str = RunStatus.OK, *, exit_code: int | None = None,
               log_tail: str | None = None, failures: dict[str, int] | None = None,
               reason: str | None = None, now: datetime | None = None, **counters: int) -> None:
    """Close a run: final ``status``, ``finished_at`` = ``now``, counters, failures, log tail (last
    20k), ``reason`` (one line, why it ended so; kept as it is when None)."""
    st = _status(status)
    unknown = set(counters) - set(_COUNTERS)
    if unknown:
        raise TypeError(f"unknown counters: {sorted(unknown)}")
    values: dict[str, Any] = dict(status=st.value, finished_at=now or utcnow(), exit_code=exit_code,
                                  **counters)
    if log_tail is not None:
        values["log_tail"] = log_tail[-20000:]
    if failures is not None:
        values["failures"] = dict(failures)
    if reason is not None:
        values["reason"] = one_line(reason)
    update_run(engine, run_id, **values)


REASON_CHARS = 500


def one_line(text: str) -> str:
    """``text`` on one line (whitespace runs collapsed), at most :data:`REASON_CHARS` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 1] + "…"


def last_run(engine: EngineOrUrl, site: str, *, exclude_id: int | None = None,
             skip_statuses: Iterable[str] = (RunStatus.LOCKED,)) -> dict | None:
    """The most recent run of ``site`` (by start time), not counting ``exclude_id`` (the current
    run) nor runs with a status in ``skip_statuses`` (a ``locked`` run did not crawl)."""
    t = CrawlRun.__table__
    q = select(t).where(t.c.site == site)
    if exclude_id is not None:
        q = q.where(t.c.id != exclude_id)
    skip = [_status(s).value for s in skip_statuses]
    if skip:
        q = q.where(t.c.status.not_in(skip))
    with _engine(engine).connect() as conn:
        r = conn.execute(q.order_by(t.c.started_at.desc(), t.c.id.desc()).limit(1)).mappings().first()
    return dict(r) if r else None


def get_run(engine: EngineOrUrl, run_id: int) -> dict | None:
    with _engine(engine).connect() as conn:
        r = conn.execute(select(CrawlRun.__table__).where(CrawlRun.id == run_id)).mappings().first()
    return dict(r) if r else None


#: columns of the view ``site_latest_crawl`` (migration 0002; docs/SQL.md), in order
LATEST_CRAWL_COLUMNS = ("site", "run_id", "triggered_by", "status", "started_at", "started_at_local",
                        "finished_at", "finished_at_local", "duration_seconds", "requests", "pages",
                        "new_articles", "duplicates", "revisions", "bytes", "exit_code", "host")


def latest_runs_by_site(engine: EngineOrUrl, sites: Iterable[str] | None = None) -> dict[str, dict]:
    """``{site: row of site_latest_crawl}``: the most recent run of each site, in one query.

    ``sites``: only these (``None``: every site with a run). Times are aware UTC datetimes.
    """
    sql = f"SELECT {', '.join(LATEST_CRAWL_COLUMNS)} FROM site_latest_crawl"
    params: dict[str, Any] = {}
    wanted = None if sites is None else sorted(set(sites))
    if wanted is not None:
        if not wanted:
            return {}
        sql += " WHERE site IN :sites"
        params["sites"] = wanted
    stmt = text(sql + " ORDER BY site").columns(started_at=UTCDateTime(), finished_at=UTCDateTime())
    if wanted is not None:
        stmt = stmt.bindparams(bindparam("sites", expanding=True))
    with _engine(engine).connect() as conn:
        return {r["site"]: dict(r) for r in conn.execute(stmt, params).mappings()}


# ---------------------------------------------------------------------------- locks
def acquire_lock(engine: EngineOrUrl, site: str, holder: str | None = None, ttl_seconds: float = 3600, *,
                 now: datetime | None = None) -> bool:
    """Take the lease on ``site`` for ``holder``; ``False`` if someone else holds a live lease."""
    holder = holder or holder_id()
    eng = _engine(engine)
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    # a held lease is a conflict, not a race to retry: the insert does nothing then
    ins = dialect_insert(eng.dialect.name, _LOCKS).values(site=site, holder=holder, acquired_at=now,
                                                          expires_at=expires).on_conflict_do_nothing()
    if retrying(eng, lambda conn: conn.execute(ins).rowcount) == 1:
        return True
    taken = retrying(eng, lambda conn: conn.execute(
        update(SiteLock)
        .where(SiteLock.site == site)
        .where((SiteLock.expires_at < now) | (SiteLock.holder == holder))
        .values(holder=holder, acquired_at=now, expires_at=expires)
    ).rowcount)
    if taken == 1:
        return True
    current = lock_holder(eng, site, now=now)
    if current and holder_gone(current["holder"]):        # its process is gone: take it over now
        return _take_over(eng, site, current["holder"], holder, ttl_seconds, now=now)
    return False


def holder_gone(holder: str | None) -> bool:
    """Whether ``holder`` (``host:pid``) is a process of this host that no longer runs. Holders of
    other hosts, or not of that form (a distributed run), are never judged gone."""
    parsed = parse_holder(holder)
    if parsed is None or parsed[0] != socket.gethostname():
        return False
    return not process_alive(parsed[1])


def describe_holder(info: dict | None) -> str:
    """``host example, pid 1234, since 2026-12-02 08:00:01 UTC (lease until ...)`` of a
    :func:`lock_holder` row (``"nobody"`` for None)."""
    if not info:
        return "nobody"
    parsed = parse_holder(info.get("holder"))
    who = f"host {parsed[0]}, pid {parsed[1]}" if parsed else str(info.get("holder"))
    since, until = info.get("acquired_at"), info.get("expires_at")
    return (who + (f", since {since:%Y-%m-%d %H:%M:%S} UTC" if since else "")
            + (f" (lease until {until:%Y-%m-%d %H:%M:%S} UTC)" if until else ""))


def renew_lock(engine: EngineOrUrl, site: str, holder: str | None = None, ttl_seconds: float = 3600, *,
               now: datetime | None = None) -> bool:
    """Extend the lease if ``holder`` still holds it (even if it lapsed and nobody took it)."""
    holder = holder or holder_id()
    expires = (now or utcnow()) + timedelta(seconds=ttl_seconds)
    return retrying(_engine(engine), lambda conn: conn.execute(
        update(SiteLock).where(SiteLock.site == site, SiteLock.holder == holder).values(expires_at=expires)
    ).rowcount) == 1


def release_lock(engine: EngineOrUrl, site: str, holder: str | None = None) -> bool:
    holder = holder or holder_id()
    return retrying(_engine(engine), lambda conn: conn.execute(
        delete(SiteLock).where(SiteLock.site == site, SiteLock.holder == holder)).rowcount) == 1


def lock_holder(engine: EngineOrUrl, site: str, *, now: datetime | None = None) -> dict | None:
    """``{"holder", "acquired_at", "expires_at", "expired"}`` or ``None`` (``expired`` as of ``now``)."""
    with _engine(engine).connect() as conn:
        r = conn.execute(select(SiteLock.holder, SiteLock.acquired_at, SiteLock.expires_at)
                         .where(SiteLock.site == site)).first()
    if r is None:
        return None
    return dict(holder=r.holder, acquired_at=r.acquired_at, expires_at=r.expires_at,
                expired=r.expires_at < (now or utcnow()))


# ---------------------------------------------------------------------------- crawl locks
#: holders written by crawl processes ("host:pid"); other holders (a distributed run's
#: "redis-run:<id>@host") hold no advisory lock and are never taken over
CRAWL_HOLDER_RE = re.compile(r"^[^:\s@]+:\d+$")


def advisory_key(site: str) -> int:
    """The PostgreSQL advisory-lock key of a site (a stable signed 63-bit integer)."""
    return int(hashlib.sha256(f"govnews-site:{site}".encode()).hexdigest()[:15], 16)


class CrawlLock:
    """The lock one crawl process holds on its site for the whole crawl (see :func:`acquire_crawl_lock`)."""

    def __init__(self, engine: Engine, site: str, holder: str, session_conn: Connection | None = None):
        self.engine, self.site, self.holder, self.session_conn = engine, site, holder, session_conn

    def renew(self, ttl_seconds: float, *, now: datetime | None = None) -> bool:
        return renew_lock(self.engine, self.site, self.holder, ttl_seconds, now=now)

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


def acquire_crawl_lock(engine: EngineOrUrl, site: str, holder: str | None = None,
                       ttl_seconds: float = 3600, *, now: datetime | None = None) -> CrawlLock | None:
    """Lock ``site`` for one crawl process, or ``None`` when another live holder has it.

    Both backends use the lease row (:func:`acquire_lock`), which also shows who holds the site.
    On PostgreSQL the crawl additionally holds a session-level advisory lock on a connection kept
    open for the whole crawl. The server drops that lock the moment the crawl's process dies, so a
    crawl lease whose advisory lock is free belongs to a dead process and is taken over at once,
    instead of blocking the site until the lease expires.
    """
    holder = holder or holder_id()
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
        ok = acquire_lock(eng, site, holder, ttl_seconds, now=now)
        if not ok and session_conn is not None:
            current = lock_holder(eng, site, now=now)
            if current and CRAWL_HOLDER_RE.match(current["holder"]):
                ok = _take_over(eng, site, current["holder"], holder, ttl_seconds, now=now)
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


def live_lock_holder(engine: EngineOrUrl, site: str, *, now: datetime | None = None) -> dict | None:
    """:func:`lock_holder` when the holder is alive: the lease has not expired and, on PostgreSQL,
    a crawl holder still holds its advisory lock (a dead crawl's lease reads as free)."""
    eng = _engine(engine)
    info = lock_holder(eng, site, now=now)
    if not info or info["expired"] or holder_gone(info["holder"]):
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


def _take_over(engine: Engine, site: str, old_holder: str, holder: str, ttl_seconds: float, *,
               now: datetime | None = None) -> bool:
    now = now or utcnow()
    return retrying(engine, lambda conn: conn.execute(
        update(SiteLock).where(SiteLock.site == site, SiteLock.holder == old_holder)
        .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl_seconds))).rowcount) == 1


# ---------------------------------------------------------------------------- validators
def get_validators(engine: EngineOrUrl, url: str) -> tuple[str | None, str | None] | None:
    with _engine(engine).connect() as conn:
        return validators.get_validators(conn, url)


def set_validators(engine: EngineOrUrl, url: str, etag: str | None, last_modified: str | None, *,
                   now: datetime | None = None) -> None:
    retrying(_engine(engine), lambda conn: validators.set_validators(conn, url, etag, last_modified, now=now))
