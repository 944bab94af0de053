"""Incremental crawling end to end: after a full crawl and 5 new articles, the recrawl fetches the 5
new pages, no archived article, and only the list pages needed to find them (benchmark at 1,000
articles: benchmarks/bench_incremental.py)."""
from sqlalchemy import func, select

from govnews.demosite import DemoSite, serve
from storage.db import make_engine
from storage.models import Article
from tests.support.crawl import scrapy_crawl, write_profile

N_ARTICLES = 150
NEW = 5


def test_recrawl_after_publish_fetches_only_the_new_articles(sqlite_url, tmp_path):
    site = DemoSite(n_articles=N_ARTICLES)
    engine = make_engine(sqlite_url)
    with serve(site, host="127.0.0.1", port=0) as server:
        profile = write_profile(tmp_path, server.url)
        scrapy_crawl(profile, sqlite_url)
        first = len(server.requests)
        with engine.connect() as conn:
            assert conn.scalar(select(func.count(Article.id))) == N_ARTICLES
        archived = {e.url_path for e in site.expected_articles}
        new = {e.url_path for e in site.publish(NEW)}
        server.requests.clear()
        scrapy_crawl(profile, sqlite_url)
        paths = [p for _, p, _ in server.requests]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Article.id))) == N_ARTICLES + NEW
    engine.dispose()
    assert new <= set(paths), "every new article is fetched"
    assert not archived & set(paths), "no archived article is requested again"
    assert len(paths) <= 0.15 * first, f"{len(paths)} requests vs {first} for the full crawl: {paths}"
