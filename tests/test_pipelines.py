"""Item pipelines: extraction outcomes, and storage of every page (no page dropped)."""
from datetime import UTC, datetime
from pathlib import Path

from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler.pipelines import ExtractPipeline, StorePipeline
from storage.models import Page

FIXTURE = Path(__file__).parent / "fixtures" / "extract" / "trs_spam_glosses.html"
WAF = b'<html><script>window.location="/?adfwkey=x7k2p";</script></html>'


class StubProfile:
    name, title, allowed_domains = "demo", "示范县", ["127.0.0.1"]


class StubSpider:
    profile = StubProfile()


def item(url, body, kind="article", **extra):
    return {"kind": kind, "site": "demo", "url": url, "status": 200,
            "headers": {"Content-Type": "text/html"}, "body": body, "charset": None,
            "fetched_at": datetime.now(UTC), **extra}


def crawler_for(db_url=None, tmp_path=None):
    settings = {"GOVNEWS_DB_URL": db_url} if db_url else {}
    if tmp_path is not None:
        settings["GOVNEWS_DEADLETTER_DIR"] = str(tmp_path / "dead")
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = StubSpider()
    return crawler


def test_extract_article_blocked_and_non_article_items():
    pipe = ExtractPipeline(crawler_for())
    art = pipe.process_item(item("http://127.0.0.1/x/t20211029_1.html", FIXTURE.read_bytes()))
    assert art["outcome"] == "article" and art["article"].title and "(qū)" not in art["article"].body
    waf = pipe.process_item(item("http://127.0.0.1/x/t20211029_2.html", WAF))
    assert waf["outcome"] == "blocked" and "article" not in waf
    lst = pipe.process_item(item("http://127.0.0.1/x/index.html", b"<html></html>", kind="list"))
    assert lst["outcome"] == "list"


def test_extraction_errors_are_recorded_not_raised(monkeypatch):
    import crawler.extract.pipeline as ex

    def boom(*a, **k):
        raise RuntimeError("parser exploded")
    monkeypatch.setattr(ex, "_extract", boom)
    out = ExtractPipeline(crawler_for()).process_item(item("http://127.0.0.1/x/t20211029_3.html", FIXTURE.read_bytes()))
    assert out["outcome"] == "failed" and out["reason"].startswith("extract_error: RuntimeError: parser exploded")


def test_store_pipeline_records_pages_and_marks_duplicates(db_url, tmp_path):
    crawler = crawler_for(db_url, tmp_path)
    extract, store = ExtractPipeline(crawler), StorePipeline(crawler)
    store.open_spider(StubSpider())
    first = store.process_item(extract.process_item(item("http://127.0.0.1/a/t20211029_1.html", FIXTURE.read_bytes())))
    copy = store.process_item(extract.process_item(item("http://127.0.0.1/b/t20211029_9.html", FIXTURE.read_bytes())))
    failed = store.process_item(item("http://127.0.0.1/c.html", b"", kind="failed", outcome="failed", reason="http_500"))
    store.close_spider(StubSpider())
    assert first["store_outcome"] == "new" and copy["store_outcome"] == "duplicate"
    assert copy["article_id"] == first["article_id"]
    with store.archive.engine.connect() as conn:
        pages = {r.url: (r.outcome, r.reason) for r in conn.execute(select(Page.url, Page.outcome, Page.reason))}
    assert pages["http://127.0.0.1/a/t20211029_1.html"] == ("article", None)
    assert pages["http://127.0.0.1/b/t20211029_9.html"][0] == "duplicate"
    assert pages["http://127.0.0.1/c.html"] == ("failed", "http_500")
    store.archive.close()
