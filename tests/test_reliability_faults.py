"""Faults: the archive goes away mid-crawl (dead letters, replay).
The dead-letter writer, guard and replay themselves are tested in tests/test_deadletter.py; private
redirects in tests/test_host_guard.py, log redaction in tests/test_redact.py."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from crawler.deadletter import letter_files
from storage.db import make_engine
from storage.models import Article, Page, Sighting
from tests.support.crawl import REPO


def counts(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        out = tuple(conn.scalar(select(func.count(t.id))) for t in (Page, Article, Sighting))
    engine.dispose()
    return out


@pytest.mark.postgres
def test_postgres_goes_away_mid_crawl_nothing_lost_nothing_doubled(pg_url, tmp_path):
    """The demo crawl; PostgreSQL refuses connections half-way (ALTER DATABASE ... ALLOW_CONNECTIONS
    false + terminated backends); pages go to dead letters; after it is back, ``govnews replay``
    stores them, and the archive equals that of an undisturbed crawl. A password in the URL never
    reaches the log."""
    import psycopg

    from govnews.demosite import DemoSite, serve
    from storage.urls import canonical_url
    from tests.conftest import _pg_connect_params
    from tests.support.crawl import write_profile

    params = _pg_connect_params()
    dbname = pg_url.rsplit("/", 1)[1]
    secret_url = pg_url.replace(f"{params['user']}@", f"{params['user']}:s3cr3t-pw@")   # trust auth ignores it
    site = DemoSite()
    dl = tmp_path / "deadletter"

    def admin(sql):
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(sql)

    with serve(site) as server:
        server.delay_seconds = 0.05
        profile = write_profile(tmp_path, server.url)

        def cut_when_half_done():
            while len(server.requests) < 25:
                time.sleep(0.02)
            admin(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'")

        cutter = threading.Thread(target=cut_when_half_done, daemon=True)
        cutter.start()
        env = dict(os.environ, GOVNEWS_DB_URL=secret_url, GOVNEWS_DEADLETTER_DIR=str(dl),
                   GOVNEWS_DB_RETRY_SECONDS="5")
        env.pop("GOVNEWS_RUN_ID", None)
        proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
        cutter.join(timeout=5)
        admin(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        assert "s3cr3t-pw" not in proc.stderr + proc.stdout
        files = letter_files(dl)
        assert files, proc.stderr[-3000:]
        before = counts(pg_url)

        res = CliRunner().invoke(__import__("govnews.cli", fromlist=["main"]).main,
                                 ["replay", "--db", secret_url, "--dir", str(dl)])
        assert res.exit_code == 0, res.output
        assert "s3cr3t-pw" not in res.output
        after = counts(pg_url)
        assert after[0] > before[0] and not letter_files(dl)

        engine = make_engine(pg_url)
        with engine.connect() as conn:
            sightings = set(conn.execute(select(Sighting.url)).scalars())
        engine.dispose()
        expected = {canonical_url(server.url.rstrip("/") + e.url_path) for e in site.expected_articles}
        assert expected <= sightings | _failed_urls(pg_url), "every demo article archived or recorded as failed"
        assert len(sightings) == len(set(sightings))
        # replaying again (e.g. after a crash mid-replay) changes nothing
        res = CliRunner().invoke(__import__("govnews.cli", fromlist=["main"]).main,
                                 ["replay", "--db", pg_url, "--dir", str(dl)])
        assert counts(pg_url) == after


def _failed_urls(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        out = set(conn.execute(select(Page.url).where(Page.outcome == "failed")).scalars())
    engine.dispose()
    return out

