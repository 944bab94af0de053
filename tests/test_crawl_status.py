"""Issue 14, "a crawl's status tells the truth": each reproduction of the issue, crawled for real
(`govnews crawl` -> runner -> `scrapy crawl` subprocess), ends with the right status, a one-line
reason in crawl_runs and on the terminal, and a non-zero exit for `failed`."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from crawler.extensions.crawl_runs import run_verdict
from govnews.demosite import DemoSite, serve
from storage import runs
from storage.enums import RunStatus
from tests.support.crawl import write_profile

FAST = ["-s", "RETRY_ENABLED=0", "-s", "ROBOTSTXT_OBEY=0", "-s", "DOWNLOAD_TIMEOUT=5"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def govnews(*args, home, timeout=120):
    env = dict(os.environ, GOVNEWS_HOME=str(home))
    env.pop("GOVNEWS_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "govnews.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=str(home))


def last_run(db_url):
    return runs.last_run(db_url, "demo", skip_statuses=())


@pytest.fixture(scope="module")
def demo():
    with serve(DemoSite(), host="127.0.0.1", port=0) as server:
        yield server


def test_site_down_is_failed_with_reason_and_exit_1(sqlite_url, tmp_path):
    """Was: a traceback, then `demo: ok (run 2, exit 0)`."""
    profile = write_profile(tmp_path, f"http://127.0.0.1:{free_port()}/")
    res = govnews("crawl", str(profile), "--db", sqlite_url, *FAST, home=tmp_path)
    assert res.returncode == 1, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    row = last_run(sqlite_url)
    assert row["status"] == "failed"
    assert row["reason"].startswith("every request failed (connection_refused=")
    assert f"demo: failed (run {row['id']}, exit 1): every request failed" in res.stderr


def test_start_url_404_is_failed(sqlite_url, tmp_path, demo):
    profile = tmp_path / "demo.toml"
    profile.write_text(f'name = "demo"\nstart_urls = ["{demo.url}no/such/page.html"]\n'
                       'allow_private_hosts = ["127.0.0.1"]\n', encoding="utf-8")
    res = govnews("crawl", str(profile), "--db", sqlite_url, *FAST, home=tmp_path)
    row = last_run(sqlite_url)
    assert res.returncode == 1 and row["status"] == "failed", res.stderr[-3000:]
    assert "http_404" in row["reason"] and "exit 1" in res.stderr


def test_every_host_refused_by_the_host_guard_is_failed(sqlite_url, tmp_path, demo):
    """A loopback site without allow_private_hosts: every request refused."""
    profile = tmp_path / "demo.toml"
    profile.write_text(f'name = "demo"\nstart_urls = ["{demo.url}"]\n', encoding="utf-8")
    res = govnews("crawl", str(profile), "--db", sqlite_url, *FAST, home=tmp_path)
    row = last_run(sqlite_url)
    assert res.returncode == 1 and row["status"] == "failed", res.stderr[-3000:]
    assert "refused" in row["reason"] and "allow_private_hosts" in row["reason"]


def test_start_page_without_articles_is_empty(sqlite_url, tmp_path, demo):
    profile = tmp_path / "demo.toml"
    profile.write_text(f'name = "demo"\nstart_urls = ["{demo.url}robots.txt"]\n'
                       'allow_private_hosts = ["127.0.0.1"]\n', encoding="utf-8")
    res = govnews("crawl", str(profile), "--db", sqlite_url, *FAST, home=tmp_path)
    row = last_run(sqlite_url)
    assert row["status"] == "empty", res.stderr[-3000:]
    assert res.returncode == 0 and "none held an article" in row["reason"]
    assert "empty (run" in res.stderr


def test_a_good_crawl_is_ok_with_a_summary(sqlite_url, tmp_path, demo):
    profile = write_profile(tmp_path, demo.url)
    res = govnews("crawl", str(profile), "--db", sqlite_url, "-s", "DOWNLOAD_DELAY=0", home=tmp_path)
    row = last_run(sqlite_url)
    assert res.returncode == 0 and row["status"] == "ok", res.stderr[-3000:]
    assert row["reason"].endswith(f"{row['new_articles']} new articles") or "new articles" in row["reason"]
    for label in ("new articles", "revisions", "duplicates", "attachments", "requests", "pages", "failures",
                  "time"):
        assert f"  {label} " in res.stderr, label
    assert "[scrapy.core.engine] INFO" not in res.stderr, "Scrapy's INFO log is off by default"
    assert "\x1egovnews-progress" not in res.stderr, "no progress line when not a terminal"
    again = govnews("crawl", str(profile), "--db", sqlite_url, "-v", home=tmp_path)
    assert again.returncode == 0 and "[scrapy.core.engine] INFO" in again.stderr      # -v: INFO
    assert last_run(sqlite_url)["status"] == "ok", "a recrawl with nothing new is ok, not empty"
    # issue 14: unchanged pages fetched again (list pages, non-articles) add a fetch record, not a
    # blob; without conditional GET every list page comes back whole
    third = govnews("crawl", str(profile), "--db", sqlite_url, "-s", "GOVNEWS_CONDITIONAL_GET=0", home=tmp_path)
    assert third.returncode == 0, third.stderr[-2000:]
    from sqlalchemy import text

    from storage.db import make_engine
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        copies = conn.execute(text("SELECT url, sha256, count(*) FROM pages WHERE raw IS NOT NULL "
                                   "GROUP BY url, sha256 HAVING count(*) > 1")).all()
        pointers = conn.scalar(text("SELECT count(*) FROM pages WHERE raw_page_id IS NOT NULL"))
    engine.dispose()
    assert copies == [] and pointers > 0


def test_progress_lines_when_asked(sqlite_url, tmp_path, demo):
    """`govnews crawl` on a terminal sets GOVNEWS_PROGRESS: the crawl prints a progress line a second."""
    from crawler.profiles import load_profile
    from govnews.commands.crawl import Progress
    from govnews.runner import PROGRESS_ENV, PROGRESS_MARKER, run_crawl

    lines = []
    profile = load_profile(str(write_profile(tmp_path, demo.url)))
    res = run_crawl(profile, db_url=sqlite_url, env={PROGRESS_ENV: "1"}, on_line=lines.append,
                    command=None, time_limit=120)
    assert res.status == "ok"
    progress = [line for line in lines if line.startswith(PROGRESS_MARKER)]
    assert progress, "no progress line"
    import json
    assert set(json.loads(progress[-1][len(PROGRESS_MARKER):])) == {"pages", "new", "dup", "failed", "queue"}
    shown = Progress(enabled=True)
    shown.on_line(progress[-1])
    assert shown.bar is not None and shown.bar.n == json.loads(progress[-1][len(PROGRESS_MARKER):])["pages"]
    shown.close()


def test_bad_hint_is_a_profile_error_before_crawling(sqlite_url, tmp_path, demo):
    """`max_pages = "lots"` crashed the spider at start and ended `ok`."""
    profile = write_profile(tmp_path, demo.url)
    profile.write_text(profile.read_text(encoding="utf-8").replace("max_pages = 2000", 'max_pages = "lots"'),
                       encoding="utf-8")
    res = govnews("crawl", str(profile), "--db", sqlite_url, home=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "hints.max_pages" in res.stderr and str(profile) in res.stderr
    assert last_run(sqlite_url) is None, "nothing was crawled"


@pytest.mark.parametrize(("reason", "stats", "status", "why"), [
    ("start_error", {}, RunStatus.FAILED, "spider start error: ValueError: bad"),
    ("shutdown", {"downloader/request_count": 3}, RunStatus.INTERRUPTED, "stopped"),
    ("locked", {}, RunStatus.LOCKED, "another process"),
    ("finished", {}, RunStatus.FAILED, "no request was made"),
    ("finished", {"downloader/request_count": 2, "govnews/refused/private_address": 2}, RunStatus.FAILED,
     "every request was refused"),
    ("finished", {"downloader/request_count": 2, "downloader/response_status_count/200": 2},
     RunStatus.FAILED, "no start URL answered"),
    ("finished", {"downloader/request_count": 2, "downloader/response_status_count/200": 2,
                  "govnews/start/ok": 1}, RunStatus.EMPTY, "2 pages fetched, none held an article"),
    ("finished", {"downloader/request_count": 2, "downloader/response_status_count/304": 2,
                  "govnews/start/ok": 2, "govnews/list_not_modified": 2}, RunStatus.OK, "2 pages, 0 new"),
    ("finished", {"downloader/request_count": 9, "downloader/response_status_count/200": 9,
                  "govnews/start/ok": 1, "govnews/outcome/article": 5, "govnews/articles/new": 5,
                  "govnews/failed/http_404": 1}, RunStatus.OK, "9 pages, 5 new articles; failures: http_404=1"),
])
def test_run_verdict(reason, stats, status, why):
    got, text = run_verdict(reason, stats, error="ValueError: bad")
    assert got == status and text.startswith(why), text
