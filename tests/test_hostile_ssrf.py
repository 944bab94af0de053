"""Issue 17 SSRF and redirect findings, with a stub resolver (no name is resolved through the system
resolver, nothing is connected to): every host form is refused before connecting, a name that does
not resolve fails closed, redirect targets pass URLLENGTH_LIMIT and the crawl budget, and meta
refreshes never follow non-http(s) targets nor leave the site without their body."""
from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.discovery.traps import CrawlBudget
from crawler.downloadermiddlewares.host_guard import HostGuardMiddleware
from crawler.downloadermiddlewares.meta_refresh import MetaRefreshOffsite, SafeMetaRefreshMiddleware
from crawler.downloadermiddlewares.redirect_budget import RedirectBudgetMiddleware, RedirectRefused
from crawler.resolver import PrivateAddressPolicy, PrivateAddressRefused, PrivateAddressResolver

PUBLIC = "180.101.49.11"
TABLE = {"www.example.gov.cn": PUBLIC, "intranet.example.gov.cn": "10.1.2.3", "metadata.example": "100.100.100.200",
         "v6.example": "::ffff:127.0.0.1"}


class StubResolver(PrivateAddressResolver):
    def __init__(self, policy):
        self.policy, self.looked_up = policy, []

    def getHostByName(self, name, timeout=()):   # noqa: N802
        self.looked_up.append(name)
        d = defer.succeed(TABLE[name]) if name in TABLE else defer.fail(DNSLookupError(name))
        return d.addCallback(self._check, name)


class Spider:
    allowed_domains = ["example.gov.cn"]

    def __init__(self):
        self.budget = CrawlBudget(max_pages=3)


def crawler_with_spider(**settings):
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = Spider()
    crawler.stats.open_spider()
    return crawler


def outcome(mw, resolver, url):
    """'refused' (before connecting), 'refused-at-lookup', or the resolved address."""
    request = Request(url)
    try:
        mw.process_request(request)
    except IgnoreRequest:
        return "refused"
    host = urlparse_cached(request).hostname       # the downloader's own parser
    out = []
    resolver.getHostByName(host).addBoth(out.append)
    result = out[0]
    if isinstance(result, str):
        return result
    return "refused-at-lookup" if result.check(DNSLookupError) else repr(result)


@pytest.mark.parametrize("url", [
    "http://localhost#frag", "http://localhost/#top", "http://LOCALHOST./x", "http://a.localhost/",
    "http://intranet.example.gov.cn#top", "http://intranet.example.gov.cn./#x",
    "http://user:pw@127.0.0.1/", "http://user@intranet.example.gov.cn/", "http://www.example.gov.cn@127.0.0.1/",
    "http://127.0.0.1./", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://[::ffff:10.1.2.3]/", "http://[fe80::1%25eth0]/",
    "http://2130706433/", "http://0x7f.1/", "http://0x7f000001/", "http://0177.0.0.1/", "http://017700000001/",
    "http://127.1/", "http://0/", "http://0.0.0.0/", "http://169.254.169.254/latest/", "http://100.100.100.200/",
    "http://metadata.example/", "http://v6.example/", "http://nx.example.gov.cn/", "http://①②⑦.0.0.1/",
])
def test_every_host_form_is_refused_before_connecting(url):
    policy = PrivateAddressPolicy()
    mw = HostGuardMiddleware(crawler_with_spider(), policy=policy)
    assert outcome(mw, StubResolver(policy), url) in ("refused", "refused-at-lookup")


def test_a_public_name_passes_and_a_private_one_is_remembered_as_private():
    policy = PrivateAddressPolicy()
    mw = HostGuardMiddleware(crawler_with_spider(), policy=policy)
    resolver = StubResolver(policy)
    assert outcome(mw, resolver, "http://www.example.gov.cn/#frag") == PUBLIC
    assert outcome(mw, resolver, "http://intranet.example.gov.cn#top") == "refused-at-lookup"
    assert policy.refused_address("intranet.example.gov.cn") == "10.1.2.3"
    failure = []
    resolver.getHostByName("intranet.example.gov.cn").addBoth(failure.append)
    assert failure[0].check(PrivateAddressRefused)
    assert "nx.example" not in TABLE and resolver.looked_up      # only the stub was asked


def redirected(crawler, source: Request, location: str) -> Request:
    redirect = RedirectMiddleware(crawler.settings)
    redirect.crawler = crawler
    follow = redirect.process_response(source, Response(source.url, status=302, headers={"Location": location},
                                                        request=source))
    assert isinstance(follow, Request)
    return follow


def test_redirect_to_a_very_long_url_is_refused():
    crawler = crawler_with_spider()
    mw = RedirectBudgetMiddleware(crawler)
    source = Request("http://www.example.gov.cn/a.html")
    follow = redirected(crawler, source, "http://www.example.gov.cn/" + "x" * 10_000)
    with pytest.raises(RedirectRefused) as refused:
        mw.process_request(follow)
    assert refused.value.govnews_reason == "redirect_url_too_long"
    assert crawler.stats.get_value("govnews/failed/redirect_url_too_long") == 1


def test_redirect_targets_pass_the_trap_and_page_budget_rules():
    crawler = crawler_with_spider()
    mw = RedirectBudgetMiddleware(crawler)
    source = Request("http://www.example.gov.cn/a.html")
    with pytest.raises(RedirectRefused, match="path_too_deep|repeated_path_segment"):
        mw.process_request(redirected(crawler, source, "http://www.example.gov.cn/" + "a/" * 12 + "x.html"))
    for i in range(3):                       # max_pages=3
        ok = redirected(crawler, source, f"http://www.example.gov.cn/b{i}.html")
        assert mw.process_request(ok) is None
        assert mw.process_request(ok) is None        # a retry is not counted again
    with pytest.raises(RedirectRefused) as refused:
        mw.process_request(redirected(crawler, source, "http://www.example.gov.cn/b9.html"))
    assert refused.value.govnews_reason == "redirect_page_budget"
    assert mw.process_request(Request("http://www.example.gov.cn/not-a-redirect.html")) is None


def meta_refresh(target: str, delay: int = 0):
    crawler = crawler_with_spider()
    mw = SafeMetaRefreshMiddleware(crawler.settings)
    mw.crawler = crawler
    request = Request("http://www.example.gov.cn/a.html")
    body = f"<html><head><meta http-equiv='refresh' content='{delay};url={target}'></head><body>x</body></html>"
    response = HtmlResponse(request.url, body=body.encode(), encoding="utf-8", request=request)
    return mw, request, response


@pytest.mark.parametrize("target", ["javascript:alert(1)", "javascript:", "file:///etc/passwd", "data:text/html,hi",
                                    "mailto:a@b.c", "ftp://www.example.gov.cn/x", "http://[bad"])
def test_meta_refresh_to_non_http_is_never_followed_and_the_page_kept(target):
    mw, request, response = meta_refresh(target)
    assert mw.process_response(request, response) is response


def test_meta_refresh_off_the_site_keeps_the_body():
    mw, request, response = meta_refresh("http://casino.example.com/")
    with pytest.raises(MetaRefreshOffsite) as offsite:
        mw.process_response(request, response)
    assert offsite.value.govnews_reason == "redirect_offsite"
    assert offsite.value.response.body == response.body


def test_meta_refresh_on_the_site_is_followed():
    mw, request, response = meta_refresh("/new/a.html")
    follow = mw.process_response(request, response)
    assert isinstance(follow, Request) and follow.url == "http://www.example.gov.cn/new/a.html"


def test_offsite_refresh_page_is_hostile_checked_with_its_body():
    from crawler.ingest import IngestService
    from crawler.items import FetchedPage

    body = (b"<html><head><meta http-equiv='refresh' content='0;url=http://casino.example.com/'></head>"
            b"<body>x</body></html>")
    page = FetchedPage.failure("s", "http://www.example.gov.cn/a.html", "redirect_offsite", status=200, body=body)
    out = IngestService(None).extract(page)
    assert out.body == body and out.reason == "redirect_offsite; hostile: meta_refresh_offsite"


def test_settings_swap_in_the_safe_middlewares():
    from crawler import settings

    mws = settings.DOWNLOADER_MIDDLEWARES
    assert mws["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert "crawler.downloadermiddlewares.meta_refresh.SafeMetaRefreshMiddleware" in mws
    assert "crawler.downloadermiddlewares.redirect_budget.RedirectBudgetMiddleware" in mws
