"""HostGuardMiddleware (cheap checks, no lookup) and PrivateAddressResolver (names checked where they
are resolved) with a stub system resolver: no name is ever resolved through the network."""
import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.downloadermiddlewares.host_guard import HostGuardMiddleware
from crawler.resolver import (
    PrivateAddressPolicy,
    PrivateAddressRefused,
    PrivateAddressResolver,
    is_private_address,
    literal_ip,
)
from crawler.spiders.gov_news import failure_reason


class StubProfile:
    allow_private_hosts = ["127.0.0.1"]


class StubSpider:
    profile = StubProfile()


def guard(**settings):
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = StubSpider()
    return HostGuardMiddleware(crawler, policy=PrivateAddressPolicy())


class StubResolver(PrivateAddressResolver):
    """The real resolver's check over a table instead of the system resolver (no network)."""

    def __init__(self, table, policy):
        self.table, self.looked_up = table, []
        self.policy = policy

    def getHostByName(self, name, timeout=()):   # noqa: N802
        self.looked_up.append(name)
        d = defer.succeed(self.table[name]) if name in self.table else defer.fail(DNSLookupError(name))
        return d.addCallback(self._check, name)


def resolve(resolver, name):
    out = []
    resolver.getHostByName(name).addBoth(out.append)
    return out[0]


def test_host_guard_refuses_private_addresses_before_connecting():
    mw = guard()
    for url in ("http://192.168.1.1/", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data/",
                "http://10.1.2.3/a.html", "http://0.0.0.0/", "http://localhost/", "http://a.localhost/",
                "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
                "http://[::ffff:10.0.0.1]/", "http://[fe80::1%25eth0]/"):
        with pytest.raises(IgnoreRequest, match="private"):
            mw.process_request(Request(url))
    assert mw.process_request(Request("http://www.gov.cn/a.html")) is None        # names: the resolver's job
    assert mw.process_request(Request("http://180.101.49.11/a.html")) is None     # a public literal
    assert mw.process_request(Request("http://127.0.0.1:8765/a.html")) is None    # the profile allows it
    assert mw.crawler.stats.get_value("govnews/refused/private_address") == 13


def test_literal_forms_and_private_ranges():
    assert str(literal_ip("2130706433")) == "127.0.0.1" and str(literal_ip("0x7f.1")) == "127.0.0.1"
    assert literal_ip("www.gov.cn") is None and literal_ip("cafe") is None and literal_ip("1e100.net") is None
    assert all(is_private_address(a) for a in ("10.0.0.8", "172.16.0.1", "100.64.0.1", "::1", "fc00::1",
                                               "::ffff:192.168.0.1", "224.0.0.1", "240.0.0.1", "not-an-ip"))
    assert not any(is_private_address(a) for a in ("180.101.49.11", "2400:3200::1", "::ffff:8.8.8.8"))


def test_allowed_hosts_come_from_the_profile_and_the_setting():
    mw = guard(GOVNEWS_ALLOW_PRIVATE_HOSTS=["intranet.local", "10.0.0.8"])
    assert mw.process_request(Request("http://10.0.0.8/")) is None
    assert mw.policy.allowed("INTRANET.local") and mw.policy.allowed("127.0.0.1")
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://10.0.0.9/"))


def test_resolver_refuses_names_that_resolve_to_private_addresses():
    policy = PrivateAddressPolicy(["allowed.example"])
    resolver = StubResolver({"www.gov.cn": "180.101.49.11", "intranet.gov.cn": "10.0.0.8",
                             "rebind.example": "169.254.169.254", "allowed.example": "10.9.9.9"}, policy)
    assert resolve(resolver, "www.gov.cn") == "180.101.49.11"
    assert resolve(resolver, "allowed.example") == "10.9.9.9"
    for name in ("intranet.gov.cn", "rebind.example"):
        failure = resolve(resolver, name)
        assert failure.check(PrivateAddressRefused) and failure.check(DNSLookupError)   # a failed lookup
    assert policy.refused_address("intranet.gov.cn") == "10.0.0.8"
    assert resolve(resolver, "nx.example").check(DNSLookupError)                      # fails closed
    assert policy.refused_address("nx.example") is None


def test_resolver_is_scrapys_caching_resolver_built_from_settings():
    from twisted.internet.base import ReactorBase

    crawler = get_crawler(settings_dict={"GOVNEWS_ALLOW_PRIVATE_HOSTS": ["x.internal"]})
    resolver = PrivateAddressResolver.from_crawler(crawler, ReactorBase.__new__(ReactorBase))
    assert resolver.timeout == crawler.settings.getfloat("DNS_TIMEOUT")
    assert resolver.policy.allowed("x.internal")


def test_a_refused_lookup_becomes_ignore_request_not_a_dns_error():
    mw = guard()
    mw.policy.refused("intranet.gov.cn", "10.0.0.8")
    request = Request("http://intranet.gov.cn/admin")
    with pytest.raises(IgnoreRequest, match="private") as refused:
        mw.process_exception(request, CannotResolveHostError("no results for hostname lookup: intranet.gov.cn"))
    from twisted.python.failure import Failure
    assert failure_reason(Failure(refused.value)) == "private_address"
    # an ordinary DNS failure stays one (retried, then recorded "dns")
    assert mw.process_exception(Request("http://nx.gov.cn/"), CannotResolveHostError("nx")) is None


def test_redirect_to_private_address_is_refused_before_any_connection():
    """Redirects come back to HostGuard as new requests: a 302 to the cloud metadata address, a
    loopback literal or name is refused before connecting; one to a name resolving into a private
    range is refused by the resolver, which the middleware turns into the same refusal."""
    mw = guard()
    crawler = mw.crawler
    redirect = RedirectMiddleware(crawler.settings)
    redirect.crawler = crawler
    resolver = StubResolver({"www.gov.cn": "180.101.49.11", "intranet.gov.cn": "10.0.0.8"}, mw.policy)
    source = Request("http://www.gov.cn/a.html")
    assert mw.process_request(source) is None
    for target in ("http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://localhost/",
                   "http://intranet.gov.cn/admin"):
        resp = Response(source.url, status=302, headers={"Location": target}, request=source)
        follow = redirect.process_response(source, resp)
        assert isinstance(follow, Request) and follow.meta["redirect_urls"] == [source.url]
        with pytest.raises(IgnoreRequest, match="private"):
            if mw.process_request(follow) is None:        # a name: the download resolves it
                failure = resolve(resolver, "intranet.gov.cn")
                assert failure.check(PrivateAddressRefused)
                mw.process_exception(follow, CannotResolveHostError(str(failure.value)))
    assert resolver.looked_up == ["intranet.gov.cn"]        # literals and loopback names never looked up
