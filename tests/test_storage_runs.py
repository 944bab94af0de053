"""Crawl runs, site lock leases and validators on both backends."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from storage import runs
from storage.db import make_engine
from storage.enums import RunStatus, Trigger

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_run_lifecycle(db_url):
    eng = make_engine(db_url)
    try:
        rid = runs.start_run(eng, "demo", trigger="schedule")
        r = runs.get_run(eng, rid)
        assert r["status"] == "running" and r["trigger"] == "schedule" and r["started_at"].tzinfo
        runs.finish_run(eng, rid, status="ok", exit_code=0, log_tail="x" * 30000, requests=10,
                        pages=9, new_articles=5, duplicates=2, revisions=1, bytes=12345,
                        failures={"timeout": 1})
        r = runs.get_run(eng, rid)
        assert (r["status"], r["exit_code"], r["new_articles"], r["failures"]) == ("ok", 0, 5, {"timeout": 1})
        assert len(r["log_tail"]) == 20000 and r["finished_at"] >= r["started_at"]
    finally:
        eng.dispose()


def test_lock_exclusion_expiry_and_release(db_url):
    eng = make_engine(db_url)
    try:
        assert runs.acquire_lock(eng, "demo", "h1:1", ttl_seconds=60)
        assert runs.acquire_lock(eng, "demo", "h1:1", ttl_seconds=60)  # re-entrant for the holder
        assert not runs.acquire_lock(eng, "demo", "h2:2", ttl_seconds=60)
        assert runs.renew_lock(eng, "demo", "h1:1", ttl_seconds=60)
        assert not runs.renew_lock(eng, "demo", "h2:2")
        assert not runs.release_lock(eng, "demo", "h2:2")
        assert runs.release_lock(eng, "demo", "h1:1")
        assert runs.lock_holder(eng, "demo") is None
        # a dead holder's lease expires (the clock is injected: no sleeping)
        assert runs.acquire_lock(eng, "demo", "dead:9", ttl_seconds=60, now=T0)
        assert not runs.lock_holder(eng, "demo", now=T0 + timedelta(seconds=59))["expired"]
        assert not runs.acquire_lock(eng, "demo", "h2:2", ttl_seconds=60, now=T0 + timedelta(seconds=59))
        assert runs.lock_holder(eng, "demo", now=T0 + timedelta(seconds=61))["expired"]
        assert runs.acquire_lock(eng, "demo", "h2:2", ttl_seconds=60, now=T0 + timedelta(seconds=61))
        assert runs.lock_holder(eng, "demo")["holder"] == "h2:2"
        assert not runs.renew_lock(eng, "demo", "dead:9")
    finally:
        eng.dispose()


def test_lock_race_single_winner(db_url):
    engines = [make_engine(db_url) for _ in range(6)]
    try:
        with ThreadPoolExecutor(6) as ex:
            got = list(ex.map(lambda i: runs.acquire_lock(engines[i], "race", f"h:{i}", 60), range(6)))
        assert sum(got) == 1
    finally:
        for e in engines:
            e.dispose()


def test_validators_module_functions(db_url):
    eng = make_engine(db_url)
    try:
        runs.set_validators(eng, "http://a.gov.cn/x", '"e"', "Tue, 02 Jan 2024 00:00:00 GMT")
        assert runs.get_validators(eng, "HTTP://a.gov.cn/x#f") == ('"e"', "Tue, 02 Jan 2024 00:00:00 GMT")
    finally:
        eng.dispose()


def test_lease_renewal_with_injected_clock(db_url):
    eng = make_engine(db_url)
    try:
        assert runs.acquire_lock(eng, "demo", "h1:1", ttl_seconds=60, now=T0)
        assert runs.renew_lock(eng, "demo", "h1:1", ttl_seconds=60, now=T0 + timedelta(seconds=50))
        info = runs.lock_holder(eng, "demo", now=T0 + timedelta(seconds=100))
        assert info["expires_at"] == T0 + timedelta(seconds=110) and not info["expired"]
        # the crawl lock and its live check follow the same clock
        later = T0 + timedelta(seconds=200)
        assert runs.live_lock_holder(eng, "demo", now=later) is None
        lock = runs.acquire_crawl_lock(eng, "demo", "h2:2", ttl_seconds=60, now=later)
        assert lock is not None and runs.lock_holder(eng, "demo")["acquired_at"] == later
        assert lock.renew(60, now=later + timedelta(seconds=30))
        assert runs.lock_holder(eng, "demo")["expires_at"] == later + timedelta(seconds=90)
        lock.release()
    finally:
        eng.dispose()


def test_runs_take_now_enums_and_refuse_unknown_values(db_url):
    eng = make_engine(db_url)
    try:
        rid = runs.start_run(eng, "demo", Trigger.DUE, now=T0)
        runs.finish_run(eng, rid, RunStatus.EMPTY, now=T0 + timedelta(minutes=3))
        r = runs.get_run(eng, rid)
        assert (r["trigger"], r["status"]) == ("due", "empty")
        assert (r["started_at"], r["finished_at"]) == (T0, T0 + timedelta(minutes=3))
        with pytest.raises(ValueError, match="trigger"):
            runs.start_run(eng, "demo", "cron")
        with pytest.raises(ValueError, match="status"):
            runs.finish_run(eng, rid, "exploded")
        with pytest.raises(ValueError, match="status"):
            runs.update_run(eng, rid, status="exploded")
    finally:
        eng.dispose()


def test_default_holder_is_the_common_holder_id():
    from common.hosts import holder_id

    assert runs.default_holder() == holder_id()


def test_latest_runs_by_site_one_query(db_url):
    from sqlalchemy import event

    eng = make_engine(db_url)
    try:
        for site, minutes, status in (("a", 0, "failed"), ("a", 10, "ok"), ("b", 5, "locked"), ("c", 1, "ok")):
            rid = runs.start_run(eng, site, "schedule", now=T0 + timedelta(minutes=minutes))
            runs.finish_run(eng, rid, status, now=T0 + timedelta(minutes=minutes + 1), pages=minutes)
        statements: list[str] = []
        event.listen(eng, "before_cursor_execute", lambda *a: statements.append(a[2]))
        latest = runs.latest_runs_by_site(eng)
        queries = [q for q in statements if q.strip().upper() != "BEGIN"]
        assert len(queries) == 1 and "site_latest_crawl" in queries[0]
        assert sorted(latest) == ["a", "b", "c"]
        assert (latest["a"]["status"], latest["a"]["pages"]) == ("ok", 10)
        assert latest["a"]["started_at"] == T0 + timedelta(minutes=10)
        assert latest["a"]["finished_at"].tzinfo is not None and latest["a"]["duration_seconds"] == 60
        assert latest["b"]["triggered_by"] == "schedule" and latest["b"]["status"] == "locked"
        assert set(runs.latest_runs_by_site(eng, ["a", "zzz"])) == {"a"}
        assert runs.latest_runs_by_site(eng, []) == {}
    finally:
        eng.dispose()


def test_run_and_lock_writes_wait_out_a_busy_sqlite_archive(sqlite_url):
    """In a batch every crawler writes to one SQLite archive, whose per-statement busy timeout is short
    (the page writes retry); a run's bookkeeping must retry too instead of failing with "database is
    locked" (seen: a finished site's counters lost)."""
    import threading

    from sqlalchemy import text
    engine = make_engine(sqlite_url, busy_timeout=0.05)
    run_id = runs.start_run(engine, "busy")
    holder = make_engine(sqlite_url)
    locked, release = threading.Event(), threading.Event()

    def hold():
        with holder.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
            conn.execute(text("UPDATE crawl_runs SET pages = 1 WHERE id = :i"), {"i": run_id})
            locked.set()
            release.wait(10)

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(hold)
        assert locked.wait(10)
        writes = pool.submit(lambda: (runs.finish_run(engine, run_id, RunStatus.OK, new_articles=12),
                                      runs.acquire_lock(engine, "busy", "h:1"), runs.release_lock(engine, "busy", "h:1")))
        threading.Timer(0.3, release.set).start()       # the other writer commits while ours retry
        held.result(10)
        assert writes.result(10)[1:] == (True, True)
    row = runs.get_run(engine, run_id)
    assert row["status"] == RunStatus.OK and row["new_articles"] == 12
    engine.dispose()
    holder.dispose()


def test_a_held_lease_is_refused_at_once_not_retried(db_url):
    """A lease someone holds is a conflict, not a race: acquire_lock answers False without the write
    retries' backoff (which would add seconds to every locked site of a batch)."""
    import time
    engine = make_engine(db_url)
    assert runs.acquire_lock(engine, "held", "otherhost:1", ttl_seconds=600)
    t0 = time.monotonic()
    assert runs.acquire_lock(engine, "held", "otherhost:2", ttl_seconds=600) is False
    assert time.monotonic() - t0 < 1.0
    assert runs.lock_holder(engine, "held")["holder"] == "otherhost:1"
    engine.dispose()
