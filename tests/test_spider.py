"""The gov_news spider's callbacks on fixture responses (no network, no reactor)."""
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_reactor_settings
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawler.items import FetchedPage
from crawler.spiders.gov_news import CHAIN, KIND, PAGING, PENDING, GovNewsSpider, failure_reason

FIX = Path(__file__).parent / "fixtures" / "discovery"
PROFILE = """
name = "t"
title = "测试站"
start_urls = ["http://gov.example.cn/xwzx/gzdt/index.html"]
{extra}
[hints]
download_delay = 0.5
{hints}
"""


def make_spider(tmp_path, extra="", hints=""):
    path = tmp_path / "t.toml"
    path.write_text(PROFILE.format(extra=extra, hints=hints), encoding="utf-8")
    crawler = Crawler(GovNewsSpider, {"REMOTE_CONTROL_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                                      **get_reactor_settings()})   # spider first, then settings, as crawl() does
    spider = GovNewsSpider.from_crawler(crawler, site=str(path))
    crawler._apply_settings()
    crawler.spider = spider
    return spider, crawler


def response(url, name=None, body=None, status=200, meta=None):
    body = body if body is not None else (FIX / name).read_bytes()
    return HtmlResponse(url, body=body, status=status, encoding="utf-8",
                        request=Request(url, meta=meta or {}))


def split(outputs):
    outputs = list(outputs)
    reqs = [o for o in outputs if isinstance(o, Request)]
    return reqs, [o for o in outputs if isinstance(o, FetchedPage)]


def test_profile_delay_goes_to_settings_and_site_args_are_required(tmp_path):
    spider, crawler = make_spider(tmp_path)
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == 0.5
    assert spider.allowed_domains == ["gov.example.cn"]
    with pytest.raises(ValueError, match="usage"):
        GovNewsSpider()


def test_trs_list_page_yields_articles_one_next_page_and_a_page_record(tmp_path):
    spider, _ = make_spider(tmp_path)
    url = "http://gov.example.cn/xwzx/gzdt/index.html"
    reqs, items = split(spider.parse_list(response(url, "trs_list.html")))
    articles = [r.url for r in reqs if r.meta[KIND] == "article"]
    assert articles == ["http://gov.example.cn/xwzx/gzdt/202110/t20211029_123456.html",
                        "http://gov.example.cn/xwzx/gzdt/202110/t20211028_123455.html",
                        "http://gov.example.cn/zwgk/202110/t20211027_123001.shtml"]
    paging = [r for r in reqs if r.meta.get(PAGING)]
    assert [r.url for r in paging] == ["http://gov.example.cn/xwzx/gzdt/index_1.html"]
    assert paging[0].meta[CHAIN] == url and paging[0].meta["handle_httpstatus_list"] == [304]
    assert not [r for r in reqs if "calendar" in r.url or r.url.endswith(".pdf")]
    assert [i.kind for i in items] == ["list"] and items[0].body.startswith(b"<html>")
    assert items[0].site == "t" and items[0].request_url == url and items[0].charset is None


def test_hanweb_column_walks_dataproxy_pages_one_after_another(tmp_path):
    spider, _ = make_spider(tmp_path)
    reqs, _ = split(spider.parse_list(response("http://gov.example.cn/col/col1234/index.html",
                                               "hanweb_column.html")))
    paging = [r for r in reqs if r.meta.get(PAGING)]
    assert len(paging) == 1 and "startrecord=3" in paging[0].url
    assert len(paging[0].meta[PENDING]) == 1 and "startrecord=5" in paging[0].meta[PENDING][0]
    assert {r.url for r in reqs if r.meta[KIND] == "article"} == {
        "http://gov.example.cn/art/2024/10/24/art_1234_5678.html",
        "http://gov.example.cn/art/2024/10/23/art_1234_5677.html"}


def test_profile_regexes_decide_articles_and_columns(tmp_path):
    spider, _ = make_spider(tmp_path, hints='article_url_regex = "/view/\\\\d+$"\nlist_url_regex = "/lanmu/\\\\w+$"')
    body = ('<html><body><a href="/view/77">县政府召开常务会议研究部署工作</a>'
            '<a href="/lanmu/tzgg">通知公告</a><a href="/about">关于我们</a></body></html>').encode()
    reqs, _ = split(spider.parse_list(response("http://gov.example.cn/", body=body)))
    assert {(r.url, r.meta[KIND]) for r in reqs} == {("http://gov.example.cn/view/77", "article"),
                                                      ("http://gov.example.cn/lanmu/tzgg", "list")}


def test_not_modified_list_yields_nothing(tmp_path):
    spider, crawler = make_spider(tmp_path)
    resp = response("http://gov.example.cn/xwzx/gzdt/index.html", body=b"", status=304)
    assert list(spider.parse_list(resp)) == []
    assert crawler.stats.get_value("govnews/list_not_modified") == 1


def test_feed_links_become_article_requests_on_site_only(tmp_path):
    spider, _ = make_spider(tmp_path)
    rss = (b"<rss><channel><item><link>http://gov.example.cn/art/2024/10/24/art_1_2.html</link></item>"
           b"<item><link>http://elsewhere.cn/x.html</link></item></channel></rss>")
    reqs, items = split(spider.parse_feed(TextResponse("http://gov.example.cn/rss.xml", body=rss,
                                                       request=Request("http://gov.example.cn/rss.xml"))))
    assert [r.url for r in reqs] == ["http://gov.example.cn/art/2024/10/24/art_1_2.html"]
    assert items[0].kind == "feed"


def test_errors_become_records_with_reasons(tmp_path):
    spider, crawler = make_spider(tmp_path)
    req = Request("http://gov.example.cn/a.html", meta={KIND: "article"})

    def record(exc):
        f = Failure(exc)
        f.request = req
        return list(spider.on_error(f))[0]

    not_found = HtmlResponse(req.url, status=404, body=b"gone", request=req)
    gone = record(HttpError(not_found, "404"))
    assert (gone.kind, gone.reason, gone.status, gone.body) == ("failed", "http_404", 404, b"gone")
    assert (gone.url, gone.request_kind, gone.fetched_at.tzinfo is not None) == (req.url, "article", True)
    assert record(TimeoutError()).reason == "timeout"
    assert record(DNSLookupError()).reason == "dns"
    robots = record(IgnoreRequest("Forbidden by robots.txt"))
    assert robots.kind == "refused" and robots.reason == "robots_disallowed"
    assert crawler.stats.get_value("govnews/failed/http_404") == 1


def test_failure_reason_of_unknown_errors_is_snake_case():
    assert failure_reason(Failure(KeyError("x"))) == "key_error"


def test_article_items_carry_the_link_and_charset_but_no_hints(tmp_path):
    spider, _ = make_spider(tmp_path, hints='body_selector = "div.TRS_Editor"')
    url = "http://gov.example.cn/xwzx/gzdt/202110/t20211029_1.html"
    resp = HtmlResponse(url, body=b"<html><body>x</body></html>", encoding="utf-8",
                        headers={"Content-Type": "text/html; charset=GBK"},
                        request=Request(url, meta={"govnews_link_text": "标题", "govnews_list_url": "http://l/"}))
    (page,) = spider.parse_article(resp)
    assert isinstance(page, FetchedPage) and page.kind == "article" and page.charset == "GBK"
    assert (page.link_text, page.list_url) == ("标题", "http://l/")
    assert page.headers["Content-Type"] == "text/html; charset=GBK"
    assert not hasattr(page, "hints")     # the pipeline takes the profile's hints (crawler.ingest)


def test_redirected_request_failure_records_the_url_asked_for(tmp_path):
    spider, _ = make_spider(tmp_path)
    req = Request("http://gov.example.cn/b.html", meta={KIND: "list", "redirect_urls": ["http://gov.example.cn/a.html"]})
    f = Failure(TimeoutError())
    f.request = req
    (page,) = spider.on_error(f)
    assert (page.url, page.request_url, page.status, page.body) == ("http://gov.example.cn/a.html", req.url, None, b"")


def test_a_list_page_is_yielded_before_its_links_are_analysed(tmp_path, monkeypatch):
    """Issue 17: the list page's ``pages`` row (with its body) goes out before link discovery runs, so a
    discovery failure on a hostile page never loses the page itself."""
    import crawler.spiders.gov_news as mod

    spider, _crawler = make_spider(tmp_path)

    def explode(*args, **kwargs):
        raise RuntimeError("discovery exploded")
    monkeypatch.setattr(mod, "analyze_page", explode)
    outputs = spider.parse_list(response("http://127.0.0.1/list.html", body=b"<html><body><a href='/a'>x</a></body></html>"))
    first = next(outputs)
    assert isinstance(first, FetchedPage) and first.kind == "list" and first.body.startswith(b"<html>")
    with pytest.raises(RuntimeError, match="discovery exploded"):
        next(outputs)


def test_a_failed_page_of_a_pagination_chain_does_not_lose_the_pages_behind_it(tmp_path):
    """A list page that fails after its retries: the chain goes on with the next queued page."""
    spider, _crawler = make_spider(tmp_path)
    req = Request("http://127.0.0.1/list_2.html", meta={KIND: "list", PAGING: True, CHAIN: "http://127.0.0.1/list.html",
                                                        PENDING: ["http://127.0.0.1/list_3.html",
                                                                  "http://127.0.0.1/list_4.html"]})
    failure = Failure(TimeoutError())
    failure.request = req
    reqs, items = split(spider.on_error(failure))
    assert [i.reason for i in items] == ["timeout"]
    assert [r.url for r in reqs] == ["http://127.0.0.1/list_3.html"]
    assert reqs[0].meta[PENDING] == ["http://127.0.0.1/list_4.html"] and reqs[0].meta[PAGING]
    plain = Request("http://127.0.0.1/a/1.html", meta={KIND: "article"})
    failure = Failure(TimeoutError())
    failure.request = plain
    assert split(spider.on_error(failure))[0] == []
