"""The scheduler daemon as a subprocess (``python scheduler.py``), against the loopback demo site.

* two scheduled crawls (profile ``interval_seconds = 2``) of the demo site are recorded in
  ``crawl_runs``; SIGTERM stops the daemon, which exits 0 and leaves no run ``running``;
* SIGHUP re-reads the profile directory (jobs added and removed in the ``apscheduler_jobs`` table).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def start_daemon(sites: Path, db_url: str, log: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("GOVNEWS_DB_URL", None)
    return subprocess.Popen(
        [sys.executable, str(REPO / "scheduler.py"), "--sites", str(sites), "--db", db_url, *extra],
        cwd=str(REPO), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"))


def wait_for(predicate, timeout: float, what: str, proc=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n--- daemon log ---\n{tail}")


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def finished_runs(engine, site: str) -> list[dict]:
    from sqlalchemy import select

    from storage.models import CrawlRun

    with engine.connect() as conn:
        rows = conn.execute(select(CrawlRun.__table__).where(CrawlRun.site == site)
                            .order_by(CrawlRun.id)).mappings().all()
    return [dict(r) for r in rows]


def job_ids(engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs")))


def test_daemon_crawls_demo_site_twice_and_stops_on_sigterm(db_url, tmp_path):
    demosite = pytest.importorskip("govnews.demosite")
    pytest.importorskip("crawler.spiders.gov_news")
    from storage.db import make_engine

    sites = tmp_path / "sites"
    sites.mkdir()
    log = tmp_path / "daemon.log"
    engine = make_engine(db_url)
    t0 = time.monotonic()
    with demosite.serve(demosite.DemoSite()) as server:
        toml = demosite.demo_profile_toml(server.url)
        assert "[hints]" in toml
        toml = toml.replace("[hints]", "interval_seconds = 2\n\n[hints]", 1)
        (sites / "demo.toml").write_text(toml, encoding="utf-8")
        proc = start_daemon(sites, db_url, log, "--grace", "10", "--time-limit", "40",
                            "--log-dir", str(tmp_path / "logs"))
        try:
            wait_for(lambda: len([r for r in finished_runs(engine, "demo")
                                  if r["status"] != "running"]) >= 2,
                     45, "two finished runs", proc, log)
            assert job_ids(engine) == ["govnews:site:demo"]
        finally:
            rc = stop(proc)
    runs = finished_runs(engine, "demo")
    engine.dispose()
    text = log.read_text(errors="replace")
    assert rc == 0, text[-3000:]
    assert "scheduler stopped" in text
    assert "Traceback" not in text and " ERROR " not in text, text[-3000:]   # a clean SIGTERM is clean
    assert not [r for r in runs if r["status"] == "running"], runs
    ok = [r for r in runs if r["status"] == "ok"]
    assert len(ok) >= 2, [(r["status"], r["log_tail"]) for r in runs]
    for r in ok:
        assert r["trigger"] == "schedule" and r["exit_code"] == 0 and r["finished_at"] is not None
        assert "Spider closed (finished)" in (r["log_tail"] or "")
    assert ok[0]["requests"] > 0          # the crawl wrote its counters into the daemon's run row
    assert all(r["status"] in ("ok", "interrupted") for r in runs)
    assert server.requests, "the demo site was never fetched"
    assert len(list((tmp_path / "logs" / "demo").glob("*.log"))) >= 2
    assert time.monotonic() - t0 < 60


def _profile(d: Path, name: str, interval: int = 3600) -> None:
    (d / f"{name}.toml").write_text(textwrap.dedent(f"""\
        name = "{name}"
        start_urls = ["http://127.0.0.1:9/"]
        interval_seconds = {interval}
    """), encoding="utf-8")


def test_sighup_reloads_profiles_and_sigint_exits_0(sqlite_url, tmp_path):
    from storage.db import make_engine

    sites = tmp_path / "sites"
    sites.mkdir()
    _profile(sites, "alpha")
    log = tmp_path / "daemon.log"
    engine = make_engine(sqlite_url)
    proc = start_daemon(sites, sqlite_url, log, "--reload-interval", "3600")
    try:
        wait_for(lambda: "scheduler started" in log.read_text(errors="replace"), 20,
                 "daemon start", proc, log)
        assert job_ids(engine) == ["govnews:site:alpha"]
        _profile(sites, "beta")
        (sites / "alpha.toml").unlink()
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: job_ids(engine) == ["govnews:site:beta"], 10, "reload on SIGHUP", proc, log)
        text = log.read_text(errors="replace")
        assert "SIGHUP" in text and "added beta" in text and "removed alpha" in text
        proc.send_signal(signal.SIGINT)     # Ctrl-C stops it like SIGTERM
        proc.wait(timeout=20)
    finally:
        rc = stop(proc)
    engine.dispose()
    assert rc == 0, log.read_text(errors="replace")[-3000:]


def test_sigterm_during_a_crawl_stops_scrapy_gracefully_and_records_interrupted(sqlite_url, tmp_path):
    """A slow crawl (download_delay) is running when the daemon gets SIGTERM: the daemon passes
    SIGTERM to Scrapy, which closes the spider (reason "shutdown"); the run is ``interrupted``."""
    demosite = pytest.importorskip("govnews.demosite")
    pytest.importorskip("crawler.spiders.gov_news")
    from storage.db import make_engine

    sites = tmp_path / "sites"
    sites.mkdir()
    log = tmp_path / "daemon.log"
    engine = make_engine(sqlite_url)
    with demosite.serve(demosite.DemoSite()) as server:
        toml = demosite.demo_profile_toml(server.url)
        toml = toml.replace("[hints]", "interval_seconds = 1\n\n[hints]", 1)
        toml = toml.replace("download_delay = 0", "download_delay = 0.5")
        (sites / "demo.toml").write_text(toml, encoding="utf-8")
        proc = start_daemon(sites, sqlite_url, log, "--grace", "15")

        def crawling():
            pages = [p for p in server.paths() if p != "/robots.txt"]
            running = [r for r in finished_runs(engine, "demo") if r["status"] == "running"]
            return running if len(pages) >= 3 and running else None

        try:
            deadline = time.monotonic() + 30
            running = None
            while running is None and time.monotonic() < deadline and proc.poll() is None:
                running = crawling()
                time.sleep(0.1)
            if running is None:
                pages = [p for p in server.paths() if p != "/robots.txt"]
                if not pages:
                    pytest.skip("the gov_news spider fetched nothing but robots.txt from the demo "
                                "site, so no crawl was slow enough to interrupt")
                pytest.fail("no running crawl seen\n" + log.read_text(errors="replace")[-3000:])
            [run] = running
            t0 = time.monotonic()
        finally:
            rc = stop(proc)
        stopped_in = time.monotonic() - t0
    runs = finished_runs(engine, "demo")
    engine.dispose()
    assert rc == 0, log.read_text(errors="replace")[-3000:]
    assert stopped_in < 15
    row = next(r for r in runs if r["id"] == run["id"])
    assert row["status"] == "interrupted", row
    assert row["finished_at"] is not None
    assert "Spider closed (shutdown)" in row["log_tail"]
    # one subprocess per crawl: the runner's note; a batch process: the batch's (govnews.batch)
    assert ("it exited within the grace period" in row["log_tail"]
            or "[batch] stop requested" in row["log_tail"]), row["log_tail"]
    assert not [r for r in runs if r["status"] == "running"]
