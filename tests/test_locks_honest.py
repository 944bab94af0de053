"""Issue 14, "locks never leak": released on every exit path, a lease of a process that is gone
(same host) is taken over at once, and the message names the holder (host, pid, since)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

from govnews.demosite import DemoSite, serve
from govnews.runner import run_crawl
from storage import runs
from storage.db import make_engine
from tests.support.crawl import write_profile


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_local_holder_is_taken_over_at_once(db_url):
    engine = make_engine(db_url)
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    try:
        gone = f"{socket.gethostname()}:{dead_pid()}"
        assert runs.acquire_lock(engine, "demo", gone, ttl_seconds=600, now=now)
        assert runs.live_lock_holder(engine, "demo", now=now) is None, "a dead holder does not count"
        assert runs.acquire_lock(engine, "demo", "me:1", ttl_seconds=600, now=now), "taken over, no 600 s wait"
        assert runs.lock_holder(engine, "demo")["holder"] == "me:1"
        # a live holder, and a holder on another host, are never taken over
        alive = f"{socket.gethostname()}:{os.getpid()}"
        assert runs.acquire_lock(engine, "other", alive, ttl_seconds=600, now=now)
        assert not runs.acquire_lock(engine, "other", "me:1", ttl_seconds=600, now=now)
        assert runs.acquire_lock(engine, "far", "elsewhere:1", ttl_seconds=600, now=now)
        assert not runs.acquire_lock(engine, "far", "me:1", ttl_seconds=600, now=now)
        info = runs.lock_holder(engine, "other", now=now)
        assert runs.describe_holder(info) == (f"host {socket.gethostname()}, pid {os.getpid()}, since "
                                              "2026-12-01 08:00:00 UTC (lease until 2026-12-01 08:10:00 UTC)")
    finally:
        engine.dispose()


def test_time_limit_2_leaves_no_lease_and_the_next_crawl_is_not_locked(sqlite_url, tmp_path):
    """Was: `crawl --time-limit 2` could leak the lease; later crawls printed `locked (exit None)`."""
    site = DemoSite(n_articles=300)
    with serve(site, host="127.0.0.1", port=0) as server:
        profile = write_profile(tmp_path, server.url)
        from crawler.profiles import load_profile

        p = load_profile(str(profile))
        engine = make_engine(sqlite_url)
        try:
            for grace in (30.0, 0.0):          # graceful stop, and a SIGKILL right after SIGTERM
                res = run_crawl(p, db_url=sqlite_url, engine=engine, time_limit=2, grace=grace,
                                command=None)
                assert res.status == "timeout", res.log_tail[-2000:]
                assert runs.lock_holder(engine, "demo") is None, f"grace {grace}: the lease leaked"
                assert runs.get_run(engine, res.run_id)["reason"].startswith("time limit of 2s reached")
            res = run_crawl(p, db_url=sqlite_url, engine=engine, time_limit=2, grace=30)
            assert res.status != "locked"
        finally:
            engine.dispose()
