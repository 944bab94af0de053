"""End to end: the demo government site on loopback, ``scrapy crawl gov_news`` as a subprocess,
the archive checked article by article (SQLite and PostgreSQL)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from govnews.demosite import DemoSite, serve
from storage.db import make_engine
from storage.models import Article, CrawlRun, Page, Sighting
from storage.urls import canonical_url
from tests.support.crawl import scrapy_crawl, write_profile

SHANGHAI = ZoneInfo("Asia/Shanghai")


def t2s(text):
    import opencc
    return opencc.OpenCC("t2s").convert(text or "")


def archive_state(engine):
    with engine.connect() as conn:
        sightings = dict(conn.execute(select(Sighting.url, Sighting.article_id)).all())
        articles = {a.id: a for a in conn.execute(select(Article)).all()}
        pages = conn.scalar(select(func.count(Page.id)))
        runs = conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all()
    return sightings, articles, pages, runs


@pytest.fixture(scope="module")
def demo_server():
    site = DemoSite()
    with serve(site, host="127.0.0.1", port=0) as server:
        yield site, server


def test_crawl_archives_every_demo_article_once_and_recrawl_adds_nothing(db_url, tmp_path, demo_server):
    site, server = demo_server
    server.requests.clear()
    profile = write_profile(tmp_path, server.url)
    scrapy_crawl(profile, db_url)
    engine = make_engine(db_url)
    sightings, articles, pages, runs = archive_state(engine)

    expected = {canonical_url(server.url.rstrip("/") + e.url_path): e for e in site.expected_articles}
    assert set(sightings) == set(expected), "exactly the demo's article URLs are archived"
    groups = {}
    for url, e in expected.items():
        groups.setdefault(e.canonical_group, set()).add(sightings[url])
    assert all(len(ids) == 1 for ids in groups.values()), f"a story split into several articles: {groups}"
    assert len(articles) == len(groups), "one article per story, copies are sightings"

    for group, (article_id,) in groups.items():
        art = articles[article_id]
        story = next(e for e in site.expected_articles if e.canonical_group == group)
        assert t2s(art.title) == story.title_simplified, group
        assert art.published_at is not None, group
        assert art.published_at.astimezone(SHANGHAI).date() == story.published_at.date(), group

    paths = [p for _, p, _ in server.requests]
    assert not [p for p in paths if p.startswith("/private/")], "robots.txt is obeyed"
    assert len([p for p in paths if p.startswith("/calendar")]) <= 1, "the calendar trap is not walked"
    assert len([p for p in paths if p.startswith("/zt/list.html")]) <= 21, "the ?page=N chain is bounded"
    assert runs and runs[-1].status == "ok" and runs[-1].new_articles == len(groups)

    first_requests = len(server.requests)
    server.requests.clear()
    scrapy_crawl(profile, db_url)
    sightings2, articles2, pages2, runs2 = archive_state(engine)
    engine.dispose()
    assert sightings2 == sightings and set(articles2) == set(articles), "a second crawl adds no rows"
    assert runs2[-1].new_articles == 0
    assert len(server.requests) < first_requests / 3, "the recrawl is incremental"
    assert not [p for _, p, _ in server.requests if p.startswith(("/art/", "/xwzx/zwyw/20", "/news/20"))], \
        "archived articles are not requested again"
