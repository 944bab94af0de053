"""Middlewares tested with Scrapy's own test crawler and stub archives/resolvers (no network)."""
import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares import ConditionalGetMiddleware, HostGuardMiddleware, IncrementalMiddleware
from crawler.spiders.gov_news import KIND, PAGING


class StubProfile:
    allow_private_hosts = ["127.0.0.1"]


class StubSpider:
    profile = StubProfile()
    full_walk = False


class StubArchive:
    def __init__(self, known=(), validators=None):
        self.known = set(known)
        self.validators = validators or {}
        self.saved = {}
        self.queries = 0

    def known_urls(self, urls):
        self.queries += 1
        return {u for u in urls if u in self.known}

    def get_validators(self, url):
        return self.validators.get(url, (None, None))

    def set_validators(self, url, etag, modified):
        self.saved[url] = (etag, modified)


def make_crawler(archive=None, **settings):
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = StubSpider()
    if archive is not None:
        crawler._govnews_archive = archive
    return crawler


def test_host_guard_refuses_private_addresses_before_connecting():
    calls = []

    def resolver(host):
        calls.append(host)
        return {"intranet.gov.cn": ["10.1.2.3"], "evil.cn": ["169.254.169.254"], "www.gov.cn": ["180.101.49.11"]}[host]

    mw = HostGuardMiddleware(make_crawler(), resolver=resolver)
    with pytest.raises(IgnoreRequest, match="private"):
        mw.process_request(Request("http://intranet.gov.cn/a.html"))
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://evil.cn/latest/meta-data/"))
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://[::1]:8080/"))
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://192.168.1.1/"))
    assert mw.process_request(Request("http://www.gov.cn/a.html")) is None
    assert mw.process_request(Request("http://127.0.0.1:8765/a.html")) is None   # the profile allows it
    assert calls == ["intranet.gov.cn", "evil.cn", "www.gov.cn"]                 # IP literals not resolved
    mw.process_request(Request("http://www.gov.cn/b.html"))
    assert calls.count("www.gov.cn") == 1                                         # cached


def test_incremental_skips_known_articles_in_one_query():
    archive = StubArchive(known={"http://a.cn/t20240101_1.html"})
    mw = IncrementalMiddleware(make_crawler(archive))
    response = HtmlResponse("http://a.cn/index.html", body=b"", request=Request("http://a.cn/index.html"))
    out = [Request("http://a.cn/t20240101_1.html", meta={KIND: "article"}),
           Request("http://a.cn/t20240101_2.html", meta={KIND: "article"}),
           Request("http://a.cn/index_1.html", meta={KIND: "list", PAGING: True}),
           {"kind": "list"}]
    kept = list(mw.process_spider_output(response, iter(out)))
    assert [getattr(o, "url", o) for o in kept] == ["http://a.cn/t20240101_2.html", "http://a.cn/index_1.html",
                                                    {"kind": "list"}]
    assert archive.queries == 1


def test_incremental_stops_paging_when_nothing_is_new():
    archive = StubArchive(known={"http://a.cn/t20240101_1.html"})
    mw = IncrementalMiddleware(make_crawler(archive))
    response = HtmlResponse("http://a.cn/index.html", body=b"", request=Request("http://a.cn/index.html"))
    out = [Request("http://a.cn/t20240101_1.html", meta={KIND: "article"}),
           Request("http://a.cn/index_1.html", meta={KIND: "list", PAGING: True}),
           Request("http://a.cn/other-column/index.html", meta={KIND: "list"})]
    kept = [o.url for o in mw.process_spider_output(response, iter(out))]
    assert kept == ["http://a.cn/other-column/index.html"]
    StubSpider.full_walk = True
    try:
        kept = [o.url for o in mw.process_spider_output(response, iter(out))]
        assert "http://a.cn/index_1.html" in kept
    finally:
        StubSpider.full_walk = False


def test_conditional_get_sends_validators_and_saves_new_ones_only_on_clean_finish():
    url = "http://a.cn/index.html"
    archive = StubArchive(validators={url: ('"v1"', "Mon, 01 Jan 2024 00:00:00 GMT")})
    mw = ConditionalGetMiddleware(make_crawler(archive))
    req = Request(url, meta={KIND: "list"})
    mw.process_request(req)
    assert req.headers[b"If-None-Match"] == b'"v1"'
    assert req.headers[b"If-Modified-Since"].startswith(b"Mon")
    art = Request("http://a.cn/t20240101_1.html", meta={KIND: "article"})
    mw.process_request(art)
    assert b"If-None-Match" not in art.headers
    resp = HtmlResponse(url, body=b"x", headers={"ETag": '"v2"'}, request=req)
    mw.process_response(req, resp)
    mw.spider_closed(None, "shutdown")
    assert archive.saved == {}
    mw.spider_closed(None, "finished")
    assert archive.saved == {url: ('"v2"', None)}


def test_articles_archived_during_this_crawl_do_not_stop_paging():
    """First crawl: the home page links article X; the column page lists only X (archived by then).
    Paging must go on: X was new to the archive when this crawl began."""
    archive = StubArchive()
    mw = IncrementalMiddleware(make_crawler(archive))
    home = HtmlResponse("http://a.cn/", body=b"", request=Request("http://a.cn/"))
    x = "http://a.cn/t20240101_1.html"
    assert [o.url for o in mw.process_spider_output(home, iter([Request(x, meta={KIND: "article"})]))] == [x]
    archive.known.add(x)                                   # stored by the pipeline meanwhile
    column = HtmlResponse("http://a.cn/col/index.html", body=b"", request=Request("http://a.cn/col/index.html"))
    out = [Request(x, meta={KIND: "article"}), Request("http://a.cn/col/index_1.html", meta={KIND: "list", PAGING: True})]
    assert [o.url for o in mw.process_spider_output(column, iter(out))] == ["http://a.cn/col/index_1.html"]


def test_paging_a_list_without_any_article_link_stops():
    mw = IncrementalMiddleware(make_crawler(StubArchive()))
    page = HtmlResponse("http://a.cn/zt/list.html?page=3", body=b"", request=Request("http://a.cn/zt/list.html?page=3"))
    out = [Request("http://a.cn/zt/list.html?page=4", meta={KIND: "list", PAGING: True}),
           Request("http://a.cn/zt/sub/index.html", meta={KIND: "list"})]
    assert [o.url for o in mw.process_spider_output(page, iter(out))] == ["http://a.cn/zt/sub/index.html"]


def test_chain_that_only_repeats_its_sidebar_stops_even_when_the_sidebar_is_new():
    from crawler.spiders.gov_news import CHAIN
    mw = IncrementalMiddleware(make_crawler(StubArchive()))
    new = "http://a.cn/t20240101_9.html"

    def page(n):
        url = f"http://a.cn/zt/list.html?page={n}"
        meta = {CHAIN: "http://a.cn/zt/list.html?page=1"} if n > 1 else {}
        resp = HtmlResponse(url, body=b"", request=Request(url, meta=meta))
        out = [Request(new, meta={KIND: "article"}),
               Request(f"http://a.cn/zt/list.html?page={n + 1}", meta={KIND: "list", PAGING: True})]
        return [o.url for o in mw.process_spider_output(resp, iter(out))]

    assert page(1) == [new, "http://a.cn/zt/list.html?page=2"]   # the new sidebar article is news once
    assert page(2) == [new]                                      # page 2 brings nothing new to the chain
