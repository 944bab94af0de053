"""Issue 14, "no holes": a crawl killed half-way (SIGTERM, as the daemon or Ctrl-C does) left list
pages it never reached; the next plain crawl stopped paging at the first list page with nothing new,
so the archive kept its hole until someone thought of --full. Now the run after an interrupted,
timed-out or failed run walks every list page."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from govnews.demosite import DemoSite, serve
from storage import runs
from storage.db import make_engine
from storage.models import Article
from tests.support.crawl import REPO, scrapy_crawl, write_profile

N_ARTICLES = 150


def articles(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count(Article.id)))


def test_next_plain_crawl_completes_the_archive_after_a_crawl_killed_half_way(sqlite_url, tmp_path):
    site = DemoSite(n_articles=N_ARTICLES)
    engine = make_engine(sqlite_url)
    with serve(site, host="127.0.0.1", port=0) as server:
        profile = write_profile(tmp_path, server.url)
        env = dict(os.environ, GOVNEWS_DB_URL=sqlite_url)
        env.pop("GOVNEWS_RUN_ID", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
             "-s", "CONCURRENT_REQUESTS=1", "-s", "DOWNLOAD_DELAY=0.02", "-s", "LOG_LEVEL=WARNING"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        # wait (bounded) until the crawl is well under way, then stop it as the daemon does
        while articles(engine) < 30 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the crawl finished before it could be interrupted"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
        first = articles(engine)
        interrupted = runs.last_run(engine, "demo", skip_statuses=())
        assert interrupted["status"] == "interrupted"
        assert first < N_ARTICLES, "the interrupted crawl left a hole"
        scrapy_crawl(profile, sqlite_url, "-s", "DOWNLOAD_DELAY=0")      # a plain crawl, no --full
        after = runs.last_run(engine, "demo", skip_statuses=())
        assert articles(engine) == N_ARTICLES, f"{first} -> {articles(engine)}: the hole was not filled"
        assert after["status"] == "ok" and after["new_articles"] == N_ARTICLES - first
        server.requests.clear()
        scrapy_crawl(profile, sqlite_url, "-s", "DOWNLOAD_DELAY=0")      # after an ok run: incremental again
        assert len(server.requests) < N_ARTICLES / 3, "the walk after a complete run is incremental"
    engine.dispose()
