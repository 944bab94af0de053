"""Incremental and conditional-GET middlewares with stub archives; archive calls go through an
injected inline runner (in a crawl they run in threads). No network."""
import asyncio

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.downloadermiddlewares.conditional_get import ConditionalGetMiddleware
from crawler.spidermiddlewares.incremental import IncrementalMiddleware
from crawler.spiders.gov_news import CHAIN, KIND, PAGING


class StubProfile:
    allow_private_hosts = ["127.0.0.1"]


class StubSpider:
    profile = StubProfile()
    full_walk = False
    site = "a"
    allowed_domains = ["a.cn"]


class StubArchive:
    def __init__(self, known=(), validators=None, down=False):
        self.known = set(known)
        self.validators = validators or {}
        self.saved = {}
        self.queries = 0
        self.down = down

    def known_urls(self, urls):
        if self.down:
            raise ConnectionError("archive down")
        self.queries += 1
        return {u for u in urls if u in self.known}

    def get_validators(self, url):
        if self.down:
            raise ConnectionError("archive down")
        return self.validators.get(url, (None, None))

    def set_validators(self, url, etag, modified):
        self.saved[url] = (etag, modified)


async def inline(func, *args):
    """Stands in for crawler.services.in_thread: the call, without a reactor thread pool."""
    return func(*args)


def make_crawler(**settings):
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = StubSpider()
    return crawler


def incremental(archive):
    return IncrementalMiddleware(make_crawler(), archive, run_blocking=inline)


def run(mw, response, outputs):
    async def collect():
        async def source():
            for o in outputs:
                yield o
        return [o async for o in mw.process_spider_output(response, source())]
    return asyncio.run(collect())


def urls(outputs):
    return [getattr(o, "url", o) for o in outputs]


def test_incremental_skips_known_articles_in_one_query():
    archive = StubArchive(known={"http://a.cn/t20240101_1.html"})
    mw = incremental(archive)
    response = HtmlResponse("http://a.cn/index.html", body=b"", request=Request("http://a.cn/index.html"))
    out = [Request("http://a.cn/t20240101_1.html", meta={KIND: "article"}),
           Request("http://a.cn/t20240101_2.html", meta={KIND: "article"}),
           Request("http://a.cn/index_1.html", meta={KIND: "list", PAGING: True}),
           {"kind": "list"}]
    assert urls(run(mw, response, out)) == ["http://a.cn/t20240101_2.html", "http://a.cn/index_1.html",
                                            {"kind": "list"}]
    assert archive.queries == 1
    assert mw.crawler.stats.get_value("govnews/skipped_known") == 1


def test_incremental_stops_paging_when_nothing_is_new():
    archive = StubArchive(known={"http://a.cn/t20240101_1.html"})
    mw = incremental(archive)
    response = HtmlResponse("http://a.cn/index.html", body=b"", request=Request("http://a.cn/index.html"))
    out = [Request("http://a.cn/t20240101_1.html", meta={KIND: "article"}),
           Request("http://a.cn/index_1.html", meta={KIND: "list", PAGING: True}),
           Request("http://a.cn/other-column/index.html", meta={KIND: "list"})]
    assert urls(run(mw, response, out)) == ["http://a.cn/other-column/index.html"]
    mw.crawler.spider.full_walk = True
    assert "http://a.cn/index_1.html" in urls(run(mw, response, out))


def test_incremental_requests_everything_when_the_archive_is_down():
    mw = incremental(StubArchive(down=True))
    response = HtmlResponse("http://a.cn/index.html", body=b"", request=Request("http://a.cn/index.html"))
    out = [Request("http://a.cn/t20240101_1.html", meta={KIND: "article"})]
    assert urls(run(mw, response, out)) == ["http://a.cn/t20240101_1.html"]
    assert mw.crawler.stats.get_value("govnews/db_errors/known_urls") == 1


def test_articles_archived_during_this_crawl_do_not_stop_paging():
    """First crawl: the home page links article X; the column page lists only X (archived by then).
    Paging must go on: X was new to the archive when this crawl began."""
    archive = StubArchive()
    mw = incremental(archive)
    home = HtmlResponse("http://a.cn/", body=b"", request=Request("http://a.cn/"))
    x = "http://a.cn/t20240101_1.html"
    assert urls(run(mw, home, [Request(x, meta={KIND: "article"})])) == [x]
    archive.known.add(x)                                   # stored by the pipeline meanwhile
    column = HtmlResponse("http://a.cn/col/index.html", body=b"", request=Request("http://a.cn/col/index.html"))
    out = [Request(x, meta={KIND: "article"}), Request("http://a.cn/col/index_1.html", meta={KIND: "list", PAGING: True})]
    assert urls(run(mw, column, out)) == ["http://a.cn/col/index_1.html"]


def test_paging_a_list_without_any_article_link_stops():
    mw = incremental(StubArchive())
    page = HtmlResponse("http://a.cn/zt/list.html?page=3", body=b"", request=Request("http://a.cn/zt/list.html?page=3"))
    out = [Request("http://a.cn/zt/list.html?page=4", meta={KIND: "list", PAGING: True}),
           Request("http://a.cn/zt/sub/index.html", meta={KIND: "list"})]
    assert urls(run(mw, page, out)) == ["http://a.cn/zt/sub/index.html"]


def test_chain_that_only_repeats_its_sidebar_stops_even_when_the_sidebar_is_new():
    mw = incremental(StubArchive())
    new = "http://a.cn/t20240101_9.html"

    def page(n):
        url = f"http://a.cn/zt/list.html?page={n}"
        meta = {CHAIN: "http://a.cn/zt/list.html?page=1"} if n > 1 else {}
        resp = HtmlResponse(url, body=b"", request=Request(url, meta=meta))
        out = [Request(new, meta={KIND: "article"}),
               Request(f"http://a.cn/zt/list.html?page={n + 1}", meta={KIND: "list", PAGING: True})]
        return urls(run(mw, resp, out))

    assert page(1) == [new, "http://a.cn/zt/list.html?page=2"]   # the new sidebar article is news once
    assert page(2) == [new]                                      # page 2 brings nothing new to the chain


def _walk_chain(mw, links_on_page, pages=12):
    """Walk one pagination chain page by page as the spider does; return the pages requested."""
    walked, n = [], 1
    while n <= pages:
        url = f"http://a.cn/col/index_{n}.html"
        meta = {CHAIN: "http://a.cn/col/index_1.html"} if n > 1 else {}
        resp = HtmlResponse(url, body=b"", request=Request(url, meta=meta))
        out = [Request(u, meta={KIND: "article"}) for u in links_on_page(n)]
        out.append(Request(f"http://a.cn/col/index_{n + 1}.html", meta={KIND: "list", PAGING: True}))
        walked.append(n)
        if not any(getattr(o, "url", "").endswith(f"index_{n + 1}.html") for o in run(mw, resp, out)):
            break
        n += 1
    return walked


def test_full_walk_pages_known_columns_to_the_end():
    archive = StubArchive(known={f"http://a.cn/col/t{n}.html" for n in range(1, 13)})
    mw = incremental(archive)
    mw.crawler.spider.full_walk = True
    assert _walk_chain(mw, lambda n: [f"http://a.cn/col/t{n}.html"]) == list(range(1, 13))


def test_full_walk_goes_past_a_couple_of_empty_pages():
    mw = incremental(StubArchive())
    mw.crawler.spider.full_walk = True
    links = {n: [] if n in (4, 5) else [f"http://a.cn/col/t{n}.html"] for n in range(1, 13)}
    assert _walk_chain(mw, links.__getitem__) == list(range(1, 13))


def test_full_walk_stops_a_rotating_chain_that_only_repeats_its_links():
    """A 下一页 chain that never ends (page n+1 for every n) showing the same links: a full walk
    stops it after FULL_WALK_STALE_PAGES pages with nothing new, instead of walking to the page cap."""
    from crawler.spidermiddlewares.incremental import FULL_WALK_STALE_PAGES
    mw = incremental(StubArchive())
    mw.crawler.spider.full_walk = True
    same = ["http://a.cn/col/t1.html", "http://a.cn/col/t2.html"]
    assert _walk_chain(mw, lambda n: same) == list(range(1, FULL_WALK_STALE_PAGES + 2))


def test_conditional_get_sends_validators_and_saves_new_ones_only_on_clean_finish():
    url = "http://a.cn/index.html"
    archive = StubArchive(validators={url: ('"v1"', "Mon, 01 Jan 2024 00:00:00 GMT")})
    mw = ConditionalGetMiddleware(make_crawler(), archive, run_blocking=inline)
    req = Request(url, meta={KIND: "list"})
    assert asyncio.run(mw.process_request(req)) is None
    assert req.headers[b"If-None-Match"] == b'"v1"'
    assert req.headers[b"If-Modified-Since"].startswith(b"Mon")
    art = Request("http://a.cn/t20240101_1.html", meta={KIND: "article"})
    asyncio.run(mw.process_request(art))
    assert b"If-None-Match" not in art.headers
    resp = HtmlResponse(url, body=b"x", headers={"ETag": '"v2"'}, request=req)
    mw.process_response(req, resp)
    asyncio.run(mw.spider_closed(None, "shutdown"))
    assert archive.saved == {}
    asyncio.run(mw.spider_closed(None, "finished"))
    assert archive.saved == {url: ('"v2"', None)}


def test_conditional_get_fetches_unconditionally_when_the_archive_is_down():
    mw = ConditionalGetMiddleware(make_crawler(), StubArchive(down=True), run_blocking=inline)
    req = Request("http://a.cn/index.html", meta={KIND: "list"})
    asyncio.run(mw.process_request(req))
    assert b"If-None-Match" not in req.headers
    assert mw.crawler.stats.get_value("govnews/db_errors/validators") == 1

