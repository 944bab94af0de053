"""CrawlRunExtension: every crawl records a crawl_runs row and holds its site's lock."""
from sqlalchemy import select

from govnews.demosite import DemoSite, serve
from storage import runs
from storage.db import make_engine
from storage.models import CrawlRun
from tests.support.crawl import scrapy_crawl, write_profile


def test_a_crawl_records_its_run_and_refuses_a_locked_site(db_url, tmp_path):
    engine = make_engine(db_url)
    with serve(DemoSite(n_articles=6), host="127.0.0.1", port=0) as server:
        profile = write_profile(tmp_path, server.url)
        scrapy_crawl(profile, db_url)
        assert runs.lock_holder(engine, "demo") is None, "the lock is released at the end"
        other = runs.acquire_crawl_lock(engine, "demo", "otherhost:1", ttl_seconds=600)
        server.requests.clear()
        scrapy_crawl(profile, db_url)
        locked_requests = len(server.requests)
        other.release()
    with engine.connect() as conn:
        rows = conn.execute(select(CrawlRun.status, CrawlRun.trigger, CrawlRun.new_articles, CrawlRun.requests,
                                   CrawlRun.finished_at).order_by(CrawlRun.id)).all()
    engine.dispose()
    assert [(r.status, r.trigger) for r in rows] == [("ok", "manual"), ("locked", "manual")]
    assert rows[0].new_articles == 6 and rows[0].requests > 6 and rows[0].finished_at is not None
    assert rows[1].new_articles == 0 and locked_requests <= 1, "a locked site is not crawled"
