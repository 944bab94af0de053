"""Issue 17 through real crawls of a hostile loopback site (tests/support/hostileserver.py).

* meta refresh: ``javascript:`` and ``file://`` targets are not followed, the page is stored with its
  body; an off-site target is recorded ``failed`` / ``redirect_offsite`` with its body, hostile-checked;
  nothing is ever requested from the off-site host;
* a redirect to a 10,000-character URL is refused (``redirect_url_too_long``), never fetched;
* an endlessly recursive sitemap index stops at the nesting limit;
* passwords of the redirect URL and of the database URL appear in no log line, ``LOG_FILE``,
  ``crawl_runs`` row, dead letter, nor in the worker's child command line;
* containment: with a per-page deadline no extraction can meet, every article ends ``failed`` /
  ``extract_timeout`` with its raw bytes kept, and the crawl goes on to the end.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from crawler.discovery.feeds import MAX_SITEMAP_DEPTH
from storage.db import make_engine
from storage.models import Page
from tests.support.crawl import REPO
from tests.support.hostileserver import SECRET, HostileSite

DB_SECRET = "DBpa55-HOSTILE"


def profile(tmp: Path, site: HostileSite) -> Path:
    path = tmp / "hostile.toml"
    path.write_text("\n".join([
        'name = "hostile"', 'title = "敌意示范县"', f'start_urls = ["{site.url}"]',
        'allowed_domains = ["127.0.0.1"]', 'allow_private_hosts = ["127.0.0.1"]',
        f'sitemaps = ["{site.url}sitemap-0.xml"]', 'schedule = "0 * * * *"', "", "[hints]",
        "download_delay = 0", "max_pages = 200", r"article_url_regex = '/a/[\w\-]+\.html$'", ""]), encoding="utf-8")
    return path


def crawl(tmp: Path, site: HostileSite, db_url: str, *args: str):
    log_file = tmp / "crawl.log"
    env = dict(os.environ, GOVNEWS_DB_URL=db_url, GOVNEWS_DEADLETTER_DIR=str(tmp / "deadletter"))
    env.pop("GOVNEWS_RUN_ID", None)
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile(tmp, site)}",
                           "-s", f"LOG_FILE={log_file}", "-s", "LOG_FILE_APPEND=False", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, (proc.stderr + log_file.read_text("utf-8", "replace"))[-5000:]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        pages = {p.url: p for p in conn.execute(select(Page.url, Page.outcome, Page.reason, Page.length, Page.status))}
        runs = [" ".join(map(str, row)) for row in conn.execute(text("SELECT * FROM crawl_runs"))]
    engine.dispose()
    return proc, log_file.read_text("utf-8", "replace"), pages, runs


@pytest.fixture(scope="module")
def site():
    with HostileSite() as s:
        yield s


def test_hostile_crawl_outcomes_and_no_password_anywhere(tmp_path, site, pg_url):
    db_url = pg_url.replace("://", "://", 1)
    user_part = db_url.split("://", 1)[1].split("@", 1)[0] if "@" in db_url else ""
    user = user_part.split(":", 1)[0] or "root"
    rest = db_url.split("://", 1)[1].split("@", 1)[-1]
    secret_url = f"{db_url.split('://', 1)[0]}://{user}:{DB_SECRET}@{rest}"
    proc, log, pages, runs = crawl(tmp_path, site, secret_url)

    def page(case):
        return pages[f"{site.url}a/{case}.html"]

    for case in ("meta-js", "meta-file"):            # stored with the body, never followed
        assert page(case).length > 1000 and page(case).outcome != "failed", page(case)
    off = page("meta-offsite")
    assert (off.outcome, off.reason) == ("failed", "redirect_offsite; hostile: meta_refresh_offsite")
    assert off.length > 1000
    assert not [p for p in site.paths if p.startswith("127.0.0.2")], "the off-site host was contacted"
    assert not [p for p in site.paths if "file:" in p or "javascript" in p]
    long_ = page("long-redirect")
    assert (long_.outcome, long_.reason) == ("failed", "redirect_url_too_long")
    assert not [p for p in site.paths if "xxxxxxxxxx" in p]
    sitemaps = [p for p in site.paths if "/sitemap-" in p]
    assert len(sitemaps) == MAX_SITEMAP_DEPTH + 1, sitemaps

    deadletters = "".join(p.read_text("utf-8", "replace") for p in (tmp_path / "deadletter").rglob("*") if p.is_file())
    for where, content in (("stderr", proc.stderr), ("stdout", proc.stdout), ("LOG_FILE", log),
                           ("crawl_runs", "\n".join(runs)), ("dead letters", deadletters)):
        assert SECRET not in content, where
        assert DB_SECRET not in content, where
    assert "pw-redirect" in log or any("pw-redirect" in u for u in pages)


def test_worker_child_command_line_carries_no_secret(tmp_path):
    from govnews.distributed import Worker

    worker = Worker(redis_url=f"redis://:{SECRET}@127.0.0.1:6379/0", db_url=f"postgresql://u:{DB_SECRET}@127.0.0.1/x",
                    prefix="t", idle_timeout=1, sites=(), server=object())
    argv = " ".join(worker.command("demo", 1, {}))
    assert SECRET not in argv and DB_SECRET not in argv


def test_containment_keeps_the_page_and_the_crawl_goes_on(tmp_path, site, sqlite_url):
    proc, log, pages, runs = crawl(tmp_path, site, sqlite_url, "-s", "GOVNEWS_EXTRACT_TIMEOUT=0.000001")
    ok = pages[f"{site.url}a/ok.html"]
    assert (ok.outcome, ok.reason) == ("failed", "extract_timeout: more than 1e-06 s")
    assert ok.length > 1000                                  # raw bytes kept
    assert f"{site.url}a/meta-js.html" in pages              # the crawl went on
    assert "'govnews/outcome/failed'" in proc.stderr + log
