"""One crawl of a misbehaving loopback site (tests/support/badserver.py) into SQLite, then one test
per case: what became of each URL. Every case URL must end as an article or as a ``pages`` row with
an outcome and a reason; nothing is requested off the allowed hosts. docs/RELIABILITY.md lists them."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import select

from storage.db import make_engine
from storage.models import Article, CrawlRun, Page
from tests.support.badserver import ARCHIVED, CASES, BadServer, bad_profile_toml
from tests.support.crawl import REPO

RETRY_AFTER_MAX = 1.5
TIMEOUT = 1.5
CRAWL_ARGS = ["-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-s", "RETRY_TIMES=1", "-s",
              f"GOVNEWS_RETRY_AFTER_MAX={RETRY_AFTER_MAX}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


class Crawled:
    def __init__(self, server, pages, articles, run, log, deadletter_dir):
        self.server, self.pages, self.articles, self.run, self.log = server, pages, articles, run, log
        self.deadletter_dir = deadletter_dir

    def url(self, case: str) -> str:
        return f"{self.server.url}a/{case}.html"

    def page(self, case: str):
        rows = [p for p in self.pages if p.url == self.url(case)]
        assert rows, f"{case}: no pages row - the fetch was lost"
        return rows[-1]

    def article(self, case: str):
        rows = [a for a in self.articles if a.url == self.url(case)]
        return rows[0] if rows else None


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, _sqlite_template):
    tmp = tmp_path_factory.mktemp("badcrawl")
    db = tmp / "archive.db"
    shutil.copyfile(_sqlite_template, db)
    url = f"sqlite:///{db}"
    with BadServer() as server:
        profile = tmp / "badsite.toml"
        profile.write_text(bad_profile_toml(server), encoding="utf-8")
        env = dict(os.environ, GOVNEWS_DB_URL=url, GOVNEWS_DEADLETTER_DIR=str(tmp / "deadletter"))
        env.pop("GOVNEWS_RUN_ID", None)
        proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
                               *CRAWL_ARGS], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr[-5000:]
        engine = make_engine(url)
        with engine.connect() as conn:
            pages = conn.execute(select(Page.url, Page.status, Page.outcome, Page.reason, Page.length).order_by(Page.id)).all()
            articles = conn.execute(select(Article.id, Article.url, Article.title, Article.body, Article.flags)).all()
            run = conn.execute(select(CrawlRun.status, CrawlRun.failures).order_by(CrawlRun.id.desc())).first()
        engine.dispose()
        yield Crawled(server, pages, articles, run, proc.stderr, tmp / "deadletter")


def failed(crawled, case, reason, status=None):
    page = crawled.page(case)
    assert (page.outcome, page.reason) == ("failed", reason), (case, page.outcome, page.reason)
    if status is not None:
        assert page.status == status
    assert crawled.article(case) is None
    return page


# ---------------------------------------------------------------------------- nothing lost
def test_every_case_url_is_archived_or_recorded_with_a_reason(crawled):
    for case in CASES:
        page = crawled.page(case)
        if case in ARCHIVED:
            assert crawled.article(case) is not None, f"{case}: not archived ({page.outcome} {page.reason})"
        else:
            assert page.outcome != "article" and page.reason, (case, page.outcome, page.reason)
    assert crawled.run.status == "ok"
    assert not crawled.deadletter_dir.exists() or not any(crawled.deadletter_dir.rglob("*.jsonl"))


def test_failures_and_refusals_are_in_the_run_record(crawled):
    failures = crawled.run.failures
    for key in ("http_404", "http_410", "http_500", "http_503", "timeout", "connection_lost", "truncated",
                "too_large", "redirect_loop", "redirect_offsite", "outcome_blocked", "outcome_empty",
                "outcome_binary", "outcome_soft404", "refused_private_address", "refused_session_id",
                "refused_url_too_long", "refused_query_variants"):
        assert failures.get(key), f"{key} missing from crawl_runs.failures: {failures}"
    assert failures["too_large"] == 3                    # Content-Length, streamed, gzip bomb


# ---------------------------------------------------------------------------- bad content
def test_empty_response_is_recorded_empty(crawled):
    page = crawled.page("empty")
    assert (page.outcome, page.reason, page.length) == ("empty", "0 bytes", 0)


def test_truncated_html_is_archived_from_what_arrived(crawled):
    assert crawled.article("truncated-html").body.strip()


def test_truncated_transfer_is_retried_then_recorded_truncated(crawled):
    failed(crawled, "truncated-transfer", "truncated")
    assert crawled.server.hits["/a/truncated-transfer.html"] == 2          # RETRY_TIMES=1


def test_pdf_served_as_html_is_recorded_binary(crawled):
    page = crawled.page("pdf")
    assert (page.outcome, page.reason) == ("binary", "pdf") and page.length > 10000   # raw bytes kept


def test_invalid_bytes_mid_page_do_not_lose_the_article(crawled):
    art = crawled.article("bad-bytes")
    assert art is not None and len(art.body) > 200


def test_invalid_bytes_mid_page_keep_the_utf8_title(crawled):
    from tests.support.badserver import article_html
    title, _ = article_html("bad-bytes", CASES.index("bad-bytes"))
    assert crawled.article("bad-bytes").title.startswith(title)


def test_wrong_and_missing_charset_are_decoded(crawled):
    from tests.support.badserver import article_html
    for case in ("gbk-as-utf8", "no-charset"):
        title, _ = article_html(case, CASES.index(case))
        assert crawled.article(case).title.startswith(title), case


def test_50mb_page_is_recorded_too_large(crawled):
    failed(crawled, "huge", "too_large")
    failed(crawled, "huge-stream", "too_large")          # no Content-Length: cut at DOWNLOAD_MAXSIZE


def test_gzip_bomb_is_recorded_too_large(crawled):
    failed(crawled, "gzip-bomb", "too_large")
    assert crawled.article("gzip-ok") is not None         # ordinary gzip pages are fine


def test_waf_challenge_is_recorded_blocked_never_archived(crawled):
    page = crawled.page("waf")
    assert page.outcome == "blocked" and page.length == 217
    assert not [p for p in crawled.server.paths() if "adfwkey" in p], "challenge links are not followed"


def test_soft_404_is_recorded_soft404(crawled):
    assert crawled.page("soft404").outcome == "soft404" and crawled.article("soft404") is None


def test_hacked_page_is_flagged_and_spam_kept_out_of_the_text(crawled):
    page, art = crawled.page("hacked"), crawled.article("hacked")
    assert page.reason == "hostile: hidden_links:3, cloaking_script"
    assert art.flags["hostile"] == ["hidden_links:3", "cloaking_script"]
    assert "博彩" not in art.body and "六合彩" not in art.body


# ---------------------------------------------------------------------------- bad servers
def test_404_and_410_are_recorded_with_status(crawled):
    failed(crawled, "http-404", "http_404", 404)
    failed(crawled, "http-410", "http_410", 410)
    assert crawled.server.hits["/a/http-404.html"] == 1     # not retried


def test_500_and_503_are_retried_then_recorded(crawled):
    failed(crawled, "http-500", "http_500", 500)
    failed(crawled, "http-503", "http_503", 503)
    assert crawled.server.hits["/a/http-500.html"] == 2
    assert crawled.article("flaky-500") is not None          # a transient 500 is retried into an article


def test_429_retry_after_is_honoured(crawled):
    first, second = crawled.server.times("/a/retry-after.html")
    assert second - first >= 1.0                             # Retry-After: 1
    assert crawled.article("retry-after") is not None


def test_retry_after_is_bounded(crawled):
    first, second = crawled.server.times("/a/retry-after-long.html")
    assert RETRY_AFTER_MAX <= second - first < 30            # Retry-After: 3600, bounded to 1.5 s
    assert crawled.article("retry-after-long") is not None


def test_timeout_is_retried_then_recorded(crawled):
    failed(crawled, "hang", "timeout")
    assert crawled.server.hits["/a/hang.html"] == 2


def test_slow_response_within_the_timeout_is_archived(crawled):
    assert crawled.article("slow") is not None


def test_connection_reset_is_recorded(crawled):
    failed(crawled, "reset", "connection_lost")


def test_redirect_loop_is_recorded(crawled):
    failed(crawled, "loop", "redirect_loop")


def test_redirect_off_the_allowed_domains_is_refused_and_recorded(crawled):
    failed(crawled, "offsite-redirect", "redirect_offsite")
    assert not crawled.server.paths(host_prefix="127.0.0.2"), "nothing reached the other host"


def test_links_off_the_allowed_domains_are_never_requested(crawled):
    assert "/a/offsite.html" not in crawled.server.paths()


def test_redirect_to_a_private_host_is_refused_before_connecting(crawled):
    page = crawled.page("private-redirect")
    assert (page.outcome, page.reason) == ("refused", "private_address")
    assert not crawled.server.paths(host_prefix="localhost"), "no request was made to localhost"


# ---------------------------------------------------------------------------- traps
def test_traps_are_bounded_and_reported(crawled):
    paths = crawled.server.paths()
    assert not [p for p in paths if p.startswith("/calendar")], "calendar links are never followed"
    assert not [p for p in paths if "sid=" in p], "session-id URLs are refused"
    assert not [p for p in paths if len(p) > 500], "over-long URLs are refused"
    chain = [p for p in paths if p.startswith("/col/list.html")]
    assert 1 <= len(chain) <= 5, chain                     # hints.max_query_variants = 5
    deep = [p for p in paths if p.startswith("/deep/")]
    assert deep and max(p.count("/x/") for p in deep) <= 2, deep
    assert "refused" in json.dumps(crawled.run.failures)
