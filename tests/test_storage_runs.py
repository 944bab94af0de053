"""Crawl runs, site lock leases and validators on both backends."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from storage import runs
from storage.db import make_engine


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
        # a dead holder's lease expires
        assert runs.acquire_lock(eng, "demo", "dead:9", ttl_seconds=0.2)
        time.sleep(0.4)
        assert runs.lock_holder(eng, "demo")["expired"]
        assert runs.acquire_lock(eng, "demo", "h2:2", ttl_seconds=60)
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
