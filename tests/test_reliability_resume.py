"""Interrupted crawls: a crawl killed with SIGKILL and started again with the same ``JOBDIR``, and a
crawl whose SQLite archive is locked by another process for a while. Both end with every demo
article archived exactly once (docs/RELIABILITY.md). Loopback only."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from crawler.deadletter import letter_files, read_records, replay
from govnews.demosite import DemoSite, serve
from storage.db import make_engine, sqlite_busy_timeout_ms
from storage.models import Article, CrawlRun, Page, Sighting
from storage.urls import canonical_url
from tests.support.crawl import REPO, scrapy_crawl, write_profile

ARTICLE_PREFIXES = ("/art/", "/xwzx/zwyw/20", "/news/20", "/mirror/html/")


def _db_path(url: str) -> Path:
    return Path(url.split("///", 1)[1])


def _count_sightings(url: str) -> int:
    con = sqlite3.connect(_db_path(url), timeout=30)
    try:
        return con.execute("SELECT count(*) FROM sightings").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def state(url: str):
    engine = make_engine(url)
    with engine.connect() as conn:
        sightings = dict(conn.execute(select(Sighting.url, Sighting.article_id)).all())
        articles = conn.scalar(select(func.count(Article.id)))
        pages = conn.execute(select(Page.url, Page.fetched_at, Page.outcome)).all()
        runs = conn.execute(select(CrawlRun.status).order_by(CrawlRun.id)).scalars().all()
    engine.dispose()
    return sightings, articles, pages, runs


def start_crawl(profile: Path, db_url: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    full_env = dict(os.environ, GOVNEWS_DB_URL=db_url, **(env or {}))
    full_env.pop("GOVNEWS_RUN_ID", None)
    return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}", *args],
                            cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def article_paths(paths):
    return [p for p in paths if p.startswith(ARTICLE_PREFIXES)]


def test_sqlite_busy_timeout_is_configurable(monkeypatch, tmp_path):
    monkeypatch.delenv("GOVNEWS_SQLITE_BUSY_TIMEOUT", raising=False)
    assert sqlite_busy_timeout_ms() == 30_000
    monkeypatch.setenv("GOVNEWS_SQLITE_BUSY_TIMEOUT", "2.5")
    assert sqlite_busy_timeout_ms() == 2500 and sqlite_busy_timeout_ms(0.2) == 200
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    engine.dispose()


def test_crawl_killed_with_sigkill_resumes_without_loss_or_duplicates(sqlite_url, tmp_path, _sqlite_template):
    """150 demo stories; the crawl is SIGKILLed once a third is archived, then started again with
    the same JOBDIR: every story is archived exactly once, no article archived before the kill is
    requested again, and the second run requests fewer pages than a full crawl."""
    import shutil

    site = DemoSite(n_articles=150, seed=1)
    jobdir = tmp_path / "job"
    with serve(site) as server:
        server.delay_seconds = 0.03
        profile = write_profile(tmp_path, server.url)
        expected = {canonical_url(server.url.rstrip("/") + e.url_path) for e in site.expected_articles}
        assert len(expected) == 150

        # reference: a full, undisturbed crawl of the same site into another archive
        full_db = tmp_path / "full.db"
        shutil.copyfile(_sqlite_template, full_db)
        scrapy_crawl(profile, f"sqlite:///{full_db}")
        full_requests = len(server.requests)
        server.clear()

        proc = start_crawl(profile, sqlite_url, "-s", f"JOBDIR={jobdir}")
        try:
            wait_for(lambda: _count_sightings(sqlite_url) >= 50 or proc.poll() is not None, 120, "50 articles")
            assert proc.poll() is None, "the crawl finished before it could be killed: " + proc.stderr.read()[-3000:]
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL
        assert (jobdir / "govnews.running").exists(), "the killed crawl left its marker"
        before, _, pages_before, runs_before = state(sqlite_url)
        assert 50 <= len(before) < 150 and runs_before == ["running"]
        first_paths = server.paths()
        server.clear()

        res = scrapy_crawl(profile, sqlite_url, "-s", f"JOBDIR={jobdir}")
        second_paths = server.paths()

    assert "was left by a crawl that did not close" in res.stderr
    assert "released the lease" in res.stderr, "the dead crawl's lease did not block the restart"
    assert list(tmp_path.glob("job.crashed-*")), "the untrustworthy JOBDIR was set aside"
    assert not (jobdir / "govnews.running").exists(), "a clean close removes the marker"

    sightings, articles, pages, runs = state(sqlite_url)
    assert set(sightings) == expected, "every story archived"
    assert articles == 150 == len(set(sightings.values())), "each exactly once"
    assert runs == ["interrupted", "ok"], "the killed run is closed as interrupted"

    per_url = Counter(p.url for p in pages)
    assert all(per_url[u] >= 1 for u in expected)
    doubled = [u for u in expected if per_url[u] > 1]
    # a page recorded in the instant between its pages row and its article (one item at a time)
    assert len(doubled) <= 1 and all(per_url[u] == 2 for u in doubled), doubled
    assert len({(p.url, p.fetched_at) for p in pages}) == len(pages)

    # archived before the kill -> never requested again; the second run is much less than a full crawl
    archived_paths = {u.split(server.url.rstrip("/"), 1)[1] for u in before}
    again = [p for p in article_paths(second_paths) if p in archived_paths]
    assert not again, f"archived articles fetched again: {again[:5]}"
    assert len(article_paths(second_paths)) <= 150 - len(before) + 2
    assert len(second_paths) < full_requests, (len(second_paths), full_requests)
    print(f"\nfull crawl {full_requests} requests; killed run {len(first_paths)} ({len(before)} archived); "
          f"resumed run {len(second_paths)} ({len(article_paths(second_paths))} article pages)")


def test_sqlite_locked_mid_crawl_pages_go_to_dead_letters_then_replay(sqlite_url, tmp_path):
    """Another process holds the SQLite write lock (``BEGIN IMMEDIATE``) for 12 s mid-crawl: the
    crawl's writes give up within seconds (``GOVNEWS_SQLITE_BUSY_TIMEOUT``, 5 s in crawls, instead
    of 12 attempts x 30 s), pages go to the dead-letter file, the crawl finishes; replay completes
    the archive, nothing lost, nothing doubled; replaying again changes nothing."""
    from storage.archive import Archive

    site = DemoSite()
    dl = tmp_path / "deadletter"
    db_path = _db_path(sqlite_url)
    held = {}
    with serve(site) as server:
        server.delay_seconds = 0.1
        profile = write_profile(tmp_path, server.url)
        expected = {canonical_url(server.url.rstrip("/") + e.url_path): e for e in site.expected_articles}

        def hold_lock():
            wait_for(lambda: _count_sightings(sqlite_url) >= 3, 120, "3 articles")
            con = sqlite3.connect(db_path, isolation_level=None, timeout=30)
            con.execute("BEGIN IMMEDIATE")
            held["at"] = time.time()
            time.sleep(12)
            con.execute("ROLLBACK")
            held["released"] = time.time()
            con.close()

        holder = threading.Thread(target=hold_lock, daemon=True)
        holder.start()
        t0 = time.monotonic()
        res = scrapy_crawl(profile, sqlite_url, env={"GOVNEWS_DEADLETTER_DIR": str(dl),
                                                     "GOVNEWS_DB_RETRY_SECONDS": "2"})
        elapsed = time.monotonic() - t0
        holder.join(timeout=30)
    assert "at" in held and "released" in held

    files = letter_files(dl, "demo")
    assert files, res.stderr[-3000:]
    records = [r for f in files for r in read_records(f)]
    assert records and all("locked" in r["error"] or "circuit open" in r["error"] for r in records)
    from datetime import datetime
    first = min(datetime.fromisoformat(r["written_at"]).timestamp() for r in records)
    assert first - held["at"] < 15, f"first dead letter {first - held['at']:.1f}s after the lock was taken"
    assert elapsed < 120

    _, _, pages_before, _ = state(sqlite_url)
    with Archive(sqlite_url) as archive:
        report = replay(archive, dl, db_url=sqlite_url)
    assert report.failed == 0 and report.stored == len(records) and not letter_files(dl)
    sightings, articles, pages, runs = state(sqlite_url)
    assert set(sightings) == set(expected), "every demo article archived after the replay"
    groups = {e.canonical_group for e in expected.values()}
    assert articles == len(groups) == len(set(sightings.values())), "one article per story"
    per_url = Counter(p.url for p in pages)
    assert all(per_url[u] == 1 for u in expected), {u: n for u, n in per_url.items() if n != 1}
    assert len(pages) == len(pages_before) + sum(1 for r in records if r["item"].get("page_id") is None)
    assert runs[-1] == "ok"
    counts = json.dumps({"letters": len(records), "pages": len(pages)})
    # a second replay (say after a crash mid-replay) changes nothing
    with Archive(sqlite_url) as archive:
        assert replay(archive, dl, db_url=sqlite_url).records == 0
    assert state(sqlite_url)[2] == pages, counts
