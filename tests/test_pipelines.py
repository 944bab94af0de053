"""Item pipelines: extraction outcomes, and storage of every page (no page dropped), built on a
Scrapy crawler (``get_crawler``); the ingest steps themselves are tested in tests/test_ingest.py."""
import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from crawler.deadletter import letter_files, read_records
from crawler.items import FetchedPage
from crawler.pipelines import ExtractPipeline, StorePipeline
from crawler.profiles import Hints
from storage.models import Page

FIXTURE = Path(__file__).parent / "fixtures" / "extract" / "trs_spam_glosses.html"
WAF = b'<html><script>window.location="/?adfwkey=x7k2p";</script></html>'


class StubProfile:
    name, title, allowed_domains = "demo", "示范县", ["127.0.0.1"]
    hints = Hints()


class StubSpider:
    profile = StubProfile()


def item(url, body, kind="article", **extra):
    return FetchedPage(kind=kind, site="demo", url=url, status=200, headers={"Content-Type": "text/html"},
                       body=body, fetched_at=datetime.now(UTC), **extra)


def crawler_for(db_url=None, tmp_path=None, **settings):
    if db_url:
        settings["GOVNEWS_DB_URL"] = db_url
    if tmp_path is not None:
        settings["GOVNEWS_DEADLETTER_DIR"] = str(tmp_path / "dead")
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = StubSpider()
    return crawler


class InlineThreads:
    """Stands in for the reactor's thread pool (no reactor in unit tests): runs the call in a real
    worker thread, one at a time, and remembers which thread it was."""

    def __init__(self):
        self.threads = []

    async def __call__(self, fn, *args):
        out = {}

        def run():
            self.threads.append(threading.current_thread())
            try:
                out["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's side
                out["error"] = exc
        t = threading.Thread(target=run)
        t.start()
        t.join()
        if "error" in out:
            raise out["error"]
        return out["value"]


class SyncExtract:
    """An :class:`ExtractPipeline` whose ``process_item`` is awaited in place (threads stood in by
    :class:`InlineThreads`), so a test reads like the pipeline chain."""

    def __init__(self, crawler):
        self.threads = InlineThreads()
        self.pipe = ExtractPipeline(crawler, in_thread=self.threads)

    def process_item(self, page):
        return asyncio.run(self.pipe.process_item(page))


def store_pipeline(crawler):
    threads = InlineThreads()
    pipe = StorePipeline(crawler, in_thread=threads)
    pipe.open_spider(StubSpider())
    return pipe, threads


def test_extract_article_blocked_and_non_article_items():
    crawler = crawler_for()
    pipe = SyncExtract(crawler)
    art = pipe.process_item(item("http://127.0.0.1/x/t20211029_1.html", FIXTURE.read_bytes()))
    assert art.outcome == "article" and art.article.title and "(qū)" not in art.article.body
    waf = pipe.process_item(item("http://127.0.0.1/x/t20211029_2.html", WAF))
    assert waf.outcome == "blocked" and waf.article is None
    lst = pipe.process_item(item("http://127.0.0.1/x/index.html", b"<html></html>", kind="list"))
    assert lst.outcome == "list"
    assert crawler.stats.get_value("govnews/outcome/article") == 1
    assert crawler.stats.get_value("govnews/outcome/blocked") == 1
    assert len(pipe.threads.threads) == 2 and threading.current_thread() not in pipe.threads.threads, \
        "article pages are extracted off the calling (reactor) thread; other kinds need no hop"


def test_extract_pipeline_applies_the_spider_profile_hints():
    class Profile(StubProfile):
        hints = Hints(body_selector="div.only", encoding="gbk", max_pages=5)

    crawler = crawler_for()
    crawler.spider.profile = Profile()
    pipe = ExtractPipeline(crawler)
    assert pipe.hints_for("demo") == {"body_selector": "div.only", "encoding": "gbk"}


def test_extraction_errors_are_recorded_not_raised(monkeypatch):
    import crawler.ingest as ingest

    def boom(*a, **k):
        raise RuntimeError("parser exploded")
    monkeypatch.setattr(ingest, "extract_page", boom)
    out = SyncExtract(crawler_for()).process_item(item("http://127.0.0.1/x/t20211029_3.html", FIXTURE.read_bytes()))
    assert out.outcome == "failed" and out.reason.startswith("extract_error: RuntimeError: parser exploded")


def test_store_pipeline_records_pages_and_marks_duplicates_off_the_calling_thread(db_url, tmp_path):
    crawler = crawler_for(db_url, tmp_path)
    extract = SyncExtract(crawler)
    store, threads = store_pipeline(crawler)

    def run(page):
        return asyncio.run(store.process_item(extract.process_item(page)))
    first = run(item("http://127.0.0.1/a/t20211029_1.html", FIXTURE.read_bytes()))
    copy = run(item("http://127.0.0.1/b/t20211029_9.html", FIXTURE.read_bytes()))
    failed = run(FetchedPage.failure("demo", "http://127.0.0.1/c.html", "http_500", status=500))
    store.close_spider(StubSpider())
    assert first.store_outcome == "new" and copy.store_outcome == "duplicate"
    assert copy.article_id == first.article_id and failed.page_id
    assert len(threads.threads) == 3 and threading.current_thread() not in threads.threads
    with store.archive.engine.connect() as conn:
        pages = {r.url: (r.outcome, r.reason) for r in conn.execute(select(Page.url, Page.outcome, Page.reason))}
    assert pages["http://127.0.0.1/a/t20211029_1.html"] == ("article", None)
    assert pages["http://127.0.0.1/b/t20211029_9.html"][0] == "duplicate"
    assert pages["http://127.0.0.1/c.html"] == ("failed", "http_500")
    assert crawler.stats.get_value("govnews/articles/new") == 1
    assert crawler.stats.get_value("govnews/articles/duplicate") == 1
    assert crawler.stats.get_value("govnews/bytes") == 2 * len(FIXTURE.read_bytes())
    store.archive.close()


def test_failed_store_goes_to_the_dead_letter_file(sqlite_url, tmp_path, monkeypatch):
    crawler = crawler_for(sqlite_url, tmp_path)
    store, _ = store_pipeline(crawler)

    def down(*a, **k):
        raise OperationalError("INSERT", {}, Exception("database is locked"))
    monkeypatch.setattr(store.archive, "record_page", down)
    page = asyncio.run(store.process_item(item("http://127.0.0.1/d.html", b"<html>x</html>", kind="list",
                                               outcome="list")))
    later = asyncio.run(store.process_item(item("http://127.0.0.1/e.html", b"<html>y</html>", kind="list",
                                                outcome="list")))   # circuit open: straight to the file
    store.close_spider(StubSpider())
    assert page.deadletter and later.deadletter and page.page_id is None
    (path,) = letter_files(tmp_path / "dead", "demo")
    records = list(read_records(path))
    assert [r["item"]["url"] for r in records] == ["http://127.0.0.1/d.html", "http://127.0.0.1/e.html"]
    assert "database is locked" in records[0]["error"] and "circuit open" in records[1]["error"]
    assert crawler.stats.get_value("govnews/deadletter/written") == 2
    assert crawler.stats.get_value("govnews/db_errors/store") == 1
    store.archive.close()


def test_store_pipeline_is_off_when_storage_is_disabled():
    with pytest.raises(NotConfigured):
        StorePipeline.from_crawler(crawler_for(GOVNEWS_STORE_ENABLED=False))
