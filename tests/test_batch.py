"""Many sites, one process (govnews.batch): a batch of 20 demo-site variants on loopback.

One site's server is dead, one is slow and hits its time limit, one is locked by another crawl:
the others finish ``ok`` and each failure is recorded on its own ``crawl_runs`` row; every row was
written by the one batch process. A batch process that dies leaves its runs ``interrupted``.
"""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from govnews.batch import BatchSession, batch_groups, parse_settings, run_batch, site_spec
from storage import runs
from storage.db import make_engine
from storage.enums import RunStatus


def _sites(tmp_path, n, **site_kw):
    from crawler.profiles import load_profile
    from govnews.demosite import DemoSite
    from govnews.demosite.profile import demo_profile_toml
    from govnews.demosite.server import DemoServer

    servers, profiles = [], []
    for i in range(n):
        server = DemoServer(DemoSite(n_articles=10 + i % 3, seed=100 + i, **site_kw)).start()
        servers.append(server)
        path = tmp_path / f"v{i:02d}.toml"
        path.write_text(demo_profile_toml(server.url, name=f"v{i:02d}", max_pages=200), encoding="utf-8")
        profiles.append(load_profile(str(path)))
    return servers, profiles


FAST = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "RETRY_TIMES=0", "LOG_LEVEL=INFO"]


def test_batch_of_20_sites_isolates_failures(sqlite_url, tmp_path):
    pytest.importorskip("crawler.spiders.gov_news")
    servers, profiles = _sites(tmp_path, 20)
    engine = make_engine(sqlite_url)
    try:
        servers[3].stop()                      # dead before the batch starts
        servers[7].delay_seconds = 0.5         # slow: cannot finish within its time limit
        assert runs.acquire_lock(engine, "v11", "otherhost:4242", ttl_seconds=600)   # another crawl
        limits = {p.name: 20.0 for p in profiles}
        limits["v07"] = 3.0
        t0 = time.monotonic()
        results = run_batch(profiles, db_url=sqlite_url, engine=engine, time_limit=20, grace=5,
                            concurrency=6, settings=FAST, trigger="due")
        elapsed = time.monotonic() - t0
    finally:
        for s in servers:
            s.stop()
    by_site = {r.site: r for r in results}
    assert sorted(by_site) == [p.name for p in profiles]
    rows = {r.site: runs.get_run(engine, r.run_id) for r in results}
    pids = {row["pid"] for row in rows.values()}
    assert len(pids) == 1 and os.getpid() not in pids          # one batch process wrote every row
    assert rows["v03"]["status"] == RunStatus.FAILED, rows["v03"]
    assert rows["v11"]["status"] == RunStatus.LOCKED and "otherhost:4242" in rows["v11"]["log_tail"]
    for name, row in rows.items():
        assert row["finished_at"] is not None and row["trigger"] == "due", row
        if name in ("v03", "v07", "v11"):
            continue
        assert row["status"] == RunStatus.OK, (name, row["status"], row["log_tail"])
        assert row["new_articles"] + row["duplicates"] + row["revisions"] >= 10 and row["requests"] > 0, \
            str({k: row[k] for k in ("new_articles", "duplicates", "revisions", "requests", "pages", "failures", "log_tail")})
    assert runs.lock_holder(engine, "v05") is None                # locks released
    engine.dispose()
    assert elapsed < 120


def test_batch_time_limit_ends_only_that_site(sqlite_url, tmp_path):
    pytest.importorskip("crawler.spiders.gov_news")
    servers, profiles = _sites(tmp_path, 2)
    servers[1].delay_seconds = 0.5
    engine = make_engine(sqlite_url)
    try:
        session = BatchSession(db_url=sqlite_url, engine=engine, concurrency=2, grace=5,
                               settings=parse_settings(FAST)).start()
        fast = session.submit(site_spec(profiles[0], trigger="manual", time_limit=30))
        slow = session.submit(site_spec(profiles[1], trigger="manual", time_limit=2))
        session.close_input()
        assert session.wait(90)
        r_fast, r_slow = fast.result(), slow.result()
    finally:
        for s in servers:
            s.stop()
    assert r_fast.status == RunStatus.OK
    assert r_slow.status == RunStatus.TIMEOUT
    row = runs.get_run(engine, r_slow.run_id)
    assert row["status"] == RunStatus.TIMEOUT and "time limit" in row["log_tail"]
    assert runs.lock_holder(engine, profiles[1].name) is None
    engine.dispose()


def test_killed_batch_leaves_its_runs_interrupted(sqlite_url, tmp_path):
    pytest.importorskip("crawler.spiders.gov_news")
    servers, profiles = _sites(tmp_path, 2)
    for s in servers:
        s.delay_seconds = 0.5
    engine = make_engine(sqlite_url)
    try:
        session = BatchSession(db_url=sqlite_url, engine=engine, concurrency=2, grace=1,
                               settings=parse_settings(FAST)).start()
        futs = [session.submit(site_spec(p, trigger="schedule", time_limit=60)) for p in profiles]
        deadline = time.monotonic() + 60
        while len(session._started) < 2 and time.monotonic() < deadline:
            session.wait(0.2)
        assert len(session._started) == 2
        os.killpg(session.pid, signal.SIGKILL)            # the batch crashes; we (the daemon) do not
        assert session.wait(30)
        results = [f.result() for f in futs]
    finally:
        for s in servers:
            s.stop()
    for r in results:
        assert r.status == RunStatus.INTERRUPTED and r.run_id
        row = runs.get_run(engine, r.run_id)
        assert row["status"] == RunStatus.INTERRUPTED and "batch process ended" in row["log_tail"]
    engine.dispose()


def test_groups_by_private_allow_list():
    class P:
        def __init__(self, name, hosts):
            self.name, self.allow_private_hosts = name, hosts

    a, b, c, d = P("a", []), P("b", ["127.0.0.1"]), P("c", []), P("d", ["127.0.0.1."])
    assert [[p.name for p in g] for g in batch_groups([a, b, c, d])] == [["a", "c"], ["b", "d"]]
    with pytest.raises(ValueError):
        parse_settings(["NOVALUE"])
    assert parse_settings(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    assert threading.active_count() >= 1


def test_a_batch_reports_progress_only_when_asked(sqlite_url, tmp_path):
    """Issue 14: the batch process sends a progress event a second (sites done/running/pending,
    pages, articles new/dup, failures) when the parent asks; `govnews crawl`'s live line shows it."""
    pytest.importorskip("crawler.spiders.gov_news")
    from govnews.commands.crawl import BatchProgress

    servers, profiles = _sites(tmp_path, 3)
    servers[1].stop()                          # a dead site: its failure shows in the line
    servers[0].delay_seconds = 0.05            # long enough for a few events while it runs
    events: list[dict] = []
    lines: list[str] = []
    try:
        results = run_batch(profiles, db_url=sqlite_url, time_limit=60, grace=5, concurrency=2,
                            settings=FAST, on_progress=events.append, on_line=lines.append)
    finally:
        for s in servers:
            s.stop()
    assert {r.site: r.status for r in results}["v01"] == RunStatus.FAILED
    assert events, "no progress event"
    keys = {"event", "done", "running", "pending", "pages", "new", "dup", "failed"}
    assert all(set(e) == keys for e in events)
    assert any(e["running"] for e in events[:-1]), "events while sites run"
    last = events[-1]
    assert (last["done"], last["running"], last["pending"]) == (3, 0, 0)
    assert last["new"] + last["dup"] >= 20 and last["pages"] > last["new"] and last["failed"] >= 1, last
    assert [e["pages"] for e in events] == sorted(e["pages"] for e in events), "the totals only grow"
    assert not any('"progress"' in line for line in lines), "events are not log lines"

    shown = BatchProgress(enabled=True)
    shown.on_progress(events[len(events) // 2])
    assert shown.bar is not None and shown.bar.total == 3 and shown.bar.n == events[len(events) // 2]["done"]
    shown.on_progress(last)
    assert shown.bar.n == 3 and "failed" in shown.bar.postfix
    shown.close()
    hidden = BatchProgress(enabled=False)
    hidden.on_progress(last)
    assert hidden.bar is None, "off when not a terminal"


def test_a_batch_sends_no_progress_unasked(sqlite_url):
    unasked = BatchSession(db_url=sqlite_url, concurrency=1)
    asked = BatchSession(db_url=sqlite_url, concurrency=1, on_progress=lambda e: None)
    assert '"progress": false' in unasked.command[-1] and '"progress": true' in asked.command[-1]
    for session in (unasked, asked):
        session.engine.dispose()
