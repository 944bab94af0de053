"""The crawl lock: lease rows on both backends, plus a PostgreSQL session advisory lock that the
server drops when the crawl process dies (so a dead crawl's lease is taken over at once)."""
from datetime import timedelta

from sqlalchemy import insert

from common.clock import utcnow
from storage import runs
from storage.db import make_engine
from storage.models import SiteLock


def live_lease(engine, site, holder):
    with engine.begin() as conn:
        conn.execute(insert(SiteLock).values(site=site, holder=holder, acquired_at=utcnow(),
                                             expires_at=utcnow() + timedelta(hours=1)))


def test_one_crawl_at_a_time_and_release(db_url):
    engine = make_engine(db_url)
    a = runs.acquire_crawl_lock(engine, "demo", "host-a:1", ttl_seconds=600)
    assert a is not None
    assert runs.acquire_crawl_lock(engine, "demo", "host-b:2", ttl_seconds=600) is None
    assert runs.acquire_crawl_lock(engine, "other", "host-b:2", ttl_seconds=600) is not None
    a.release()
    b = runs.acquire_crawl_lock(engine, "demo", "host-b:2", ttl_seconds=600)
    assert b is not None and runs.lock_holder(engine, "demo")["holder"] == "host-b:2"
    b.release()
    engine.dispose()


def test_a_dead_crawls_lease_is_taken_over_at_once_on_postgresql_only(db_url):
    engine = make_engine(db_url)
    live_lease(engine, "demo", "crashed-host:4242")       # its process died: no session holds the key
    lock = runs.acquire_crawl_lock(engine, "demo", "host-b:2", ttl_seconds=600)
    if engine.dialect.name == "postgresql":
        assert lock is not None and runs.lock_holder(engine, "demo")["holder"] == "host-b:2"
        lock.release()
    else:                                                 # SQLite: the lease must expire first
        assert lock is None
    engine.dispose()


def test_a_distributed_runs_lease_is_never_taken_over(db_url):
    engine = make_engine(db_url)
    live_lease(engine, "demo", "redis-run:7@queue-host")
    assert runs.acquire_crawl_lock(engine, "demo", "host-b:2", ttl_seconds=600) is None
    engine.dispose()


def test_advisory_lock_is_released_when_the_holding_session_ends(pg_url):
    engine = make_engine(pg_url)
    other = make_engine(pg_url)
    lock = runs.acquire_crawl_lock(other, "demo", "host-a:1", ttl_seconds=600)
    assert runs.acquire_crawl_lock(engine, "demo", "host-b:2", ttl_seconds=600) is None
    lock.session_conn.invalidate()          # the crawl process dies: its session ends, lease stays
    lock.session_conn = None
    other.dispose()
    taken = runs.acquire_crawl_lock(engine, "demo", "host-b:2", ttl_seconds=600)
    assert taken is not None
    taken.release()
    engine.dispose()


def test_live_lock_holder_sees_through_a_dead_crawls_lease(db_url):
    engine = make_engine(db_url)
    live_lease(engine, "demo", "crashed-host:4242")
    holder = runs.live_lock_holder(engine, "demo")
    if engine.dialect.name == "postgresql":
        assert holder is None
    else:
        assert holder["holder"] == "crashed-host:4242"
    lock = runs.acquire_crawl_lock(engine, "other", "host-a:1", ttl_seconds=600)
    assert runs.live_lock_holder(engine, "other")["holder"] == "host-a:1"
    lock.release()
    assert runs.live_lock_holder(engine, "other") is None
    engine.dispose()
