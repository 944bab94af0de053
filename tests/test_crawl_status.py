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


# ------------------------------------------------------------------------------------ issue 14: batch runs


def test_a_batch_crawl_ends_with_a_table_per_site_and_exit_1_when_a_site_failed(sqlite_url, tmp_path, demo):
    """`govnews crawl good dead`: one Scrapy process; a row per site and a total; exit 1 (dead failed)."""
    from govnews.demosite import demo_profile_toml

    good = write_profile(tmp_path, demo.url)
    dead = tmp_path / "dead.toml"
    dead.write_text(demo_profile_toml(f"http://127.0.0.1:{free_port()}/", name="dead"), encoding="utf-8")
    res = govnews("crawl", str(good), str(dead), "--db", sqlite_url, *FAST, "-s", "DOWNLOAD_DELAY=0",
                  home=tmp_path, timeout=240)
    assert res.returncode == 1, res.stderr[-3000:]
    lines = res.stderr.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["site", "status", "new"])
    assert "attach new/known/failed" in lines[header] and "failures" in lines[header]
    rows = {line.split()[0]: line for line in lines[header + 1:header + 4]}
    assert set(rows) == {"demo", "dead", "total"}, lines[header:header + 4]
    demo_row = runs.last_run(sqlite_url, "demo", skip_statuses=())
    assert rows["demo"].split()[1:3] == ["ok", str(demo_row["new_articles"])] and demo_row["new_articles"] > 0
    assert rows["dead"].split()[1] == "failed" and "connection_refused=" in rows["dead"]
    assert "2 sites, 1 failed" in rows["total"]
    assert "article=" in rows["demo"] and "article=" in rows["total"], "pages by outcome"
    assert "dead: failed" in res.stdout and "demo: ok" in res.stdout
    assert "\x1egovnews-progress" not in res.stderr and '"event": "progress"' not in res.stderr, \
        "no live line when not a terminal"


def test_the_summary_counts_a_crawls_attachments(sqlite_url, tmp_path):
    """The attachments row was `-`: new (stored by this run), known (stored before), failed."""
    from sqlalchemy import func, select

    from govnews.commands.crawl import run_summary
    from storage.db import make_engine
    from storage.models import Attachment
    from tests.support.attachsite import AttachmentSite, profile_toml, serve_attachment_site

    with serve_attachment_site(AttachmentSite()) as server:
        profile = tmp_path / "attach.toml"
        profile.write_text(profile_toml(server.url), encoding="utf-8")
        res = govnews("crawl", str(profile), "--db", sqlite_url, "-s", "GOVNEWS_ATTACHMENT_MAX_SIZE=200000",
                      "-s", "GOVNEWS_ATTACHMENT_TEXT_TIMEOUT=20", home=tmp_path, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        by_outcome = dict(conn.execute(select(Attachment.outcome, func.count()).group_by(Attachment.outcome)).all())
    engine.dispose()
    assert by_outcome.get("ok", 0) > 0 and by_outcome.get("failed", 0) > 0, by_outcome
    line = next(line for line in res.stderr.splitlines() if line.startswith("  attachments "))
    assert line.split(None, 1)[1] == f"{by_outcome['ok']} new, 0 known, {by_outcome['failed']} failed", line
    row = runs.last_run(sqlite_url, "attach", skip_statuses=())
    assert run_summary(sqlite_url, row["id"])["attachments"] == {
        "new": by_outcome["ok"], "known": 0, "failed": by_outcome["failed"]}


def test_attachment_counts_of_a_run_window(sqlite_url):
    """new: first stored within the run; known: stored before, linked or revalidated within it;
    failed: fetched within it without success; other sites, older links, later rows do not count."""
    from datetime import timedelta

    from sqlalchemy import select

    from common.clock import utcnow
    from crawler.extract.article import Article
    from govnews.commands.crawl import attachment_counts
    from storage.archive import Archive
    from storage.models import Article as ArticleRow
    from storage.models import ArticleAttachment, Attachment, Site

    archive = Archive(sqlite_url)
    t0 = utcnow() - timedelta(hours=3)
    ids = {}
    for site in ("s", "other"):
        archive.ensure_site(site, site, [f"{site}.example"])
        url = f"http://{site}.example/a.html"
        page = archive.record_page(site, url, status=200, headers={}, body=b"x", outcome="article")
        art = Article(url=url, title="通知", body="正文内容。" * 40, body_simplified="正文内容。" * 40)
        archive.store_article(site, url, art, page_id=page)
    with archive.engine.begin() as conn:
        site_ids = dict(conn.execute(select(Site.name, Site.id)).all())
        article_of = dict(conn.execute(select(ArticleRow.site_id, ArticleRow.id)).all())
        rows = [  # name, site, first_seen, fetched_at, outcome, linked_at
            ("new", "s", t0 + timedelta(minutes=10), t0 + timedelta(minutes=10), "ok", t0 + timedelta(minutes=10)),
            ("known", "s", t0 - timedelta(days=1), None, "ok", t0 + timedelta(minutes=5)),
            ("revalidated", "s", t0 - timedelta(days=40), t0 + timedelta(minutes=15), "ok", None),
            ("failed", "s", t0 - timedelta(days=1), t0 + timedelta(minutes=20), "failed", None),
            ("failed-new", "s", t0 + timedelta(minutes=30), None, "failed", None),
            ("old-link", "s", t0 - timedelta(days=1), t0 - timedelta(days=1), "ok", t0 - timedelta(days=1)),
            ("other-site", "other", t0 + timedelta(minutes=10), t0 + timedelta(minutes=10), "ok", None),
            ("later", "s", t0 + timedelta(hours=2), t0 + timedelta(hours=2), "ok", t0 + timedelta(hours=2)),
        ]
        for name, site, first, fetched, outcome, linked in rows:
            ids[name] = conn.execute(Attachment.__table__.insert().values(
                url=f"http://{site}.example/{name}.pdf", site_id=site_ids[site], outcome=outcome,
                first_seen=first, fetched_at=fetched)).inserted_primary_key[0]
            if linked is not None:
                conn.execute(ArticleAttachment.__table__.insert().values(
                    article_id=article_of[site_ids[site]], attachment_id=ids[name], linked_at=linked))
        counts = attachment_counts(conn, "s", t0, t0 + timedelta(hours=1))
        assert counts == {"new": 1, "known": 2, "failed": 2}, counts
        assert attachment_counts(conn, "s", t0, None)["new"] == 2, "a run still going: no upper bound"
        assert attachment_counts(conn, "nosuchsite", t0, None) == {"new": 0, "known": 0, "failed": 0}
    archive.close()
