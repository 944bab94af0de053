"""Never fetch from a private, loopback or link-local address unless the site profile allows the host.

:class:`HostGuardMiddleware` makes only cheap checks, without any lookup: the scheme, IP literals
(dotted, IPv6, IPv4-mapped IPv6 and the decimal / hex / octal forms a resolver would accept too) and
loopback names (``localhost``). Names are checked where they are resolved, by
:class:`crawler.resolver.PrivateAddressResolver` (``TWISTED_DNS_RESOLVER``); this middleware adds the
profile's ``allow_private_hosts`` to the resolver's allow-list and turns its refused lookup into an
``IgnoreRequest`` (reason ``private_address``, not retried as a DNS error). Redirects come back as new
requests, so they are checked too.

Settings: ``GOVNEWS_HOST_GUARD_ENABLED`` (default True), ``GOVNEWS_ALLOW_PRIVATE_HOSTS`` (list).
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.reactor import is_reactor_installed
from twisted.internet.error import DNSLookupError

from crawler.resolver import (
    ALLOW_SETTING,
    POLICY,
    PrivateAddressPolicy,
    PrivateAddressResolver,
    is_loopback_name,
    is_private_address,
    literal_ip,
    normalize_host,
)

__all__ = ["ENABLED_SETTING", "SCHEMES", "HostGuardMiddleware"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_HOST_GUARD_ENABLED"
#: schemes the crawl may fetch
SCHEMES = ("http", "https")
REFUSED_STAT = "govnews/refused/private_address"


class HostGuardMiddleware:
    def __init__(self, crawler: Any, policy: PrivateAddressPolicy | None = None):
        self.crawler = crawler
        self.policy = policy if policy is not None else POLICY
        self.policy.allow(crawler.settings.getlist(ALLOW_SETTING))
        profile = getattr(getattr(crawler, "spider", None), "profile", None)
        self.policy.allow(getattr(profile, "allow_private_hosts", None) or [])

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostGuardMiddleware:
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        mw = cls(crawler)
        mw._ensure_resolver(crawler)
        return mw

    @staticmethod
    def _ensure_resolver(crawler: Any) -> None:
        """Names are only checked by :class:`PrivateAddressResolver`: install it when the reactor has
        another one (a crawl started by a ``CrawlerRunner``, which installs none, or an overridden
        ``TWISTED_DNS_RESOLVER``)."""
        if not is_reactor_installed():
            return
        from twisted.internet import reactor  # the installed reactor (importing earlier would install one)

        if not isinstance(getattr(reactor, "resolver", None), PrivateAddressResolver):
            PrivateAddressResolver.from_crawler(crawler, reactor).install_on_reactor()
            logger.info("installed crawler.resolver.PrivateAddressResolver on the reactor")

    def _refuse(self, request: Request, host: str, why: str) -> IgnoreRequest:
        if not request.meta.get("dont_obey_robotstxt") or urlparse_cached(request).path != "/robots.txt":
            self.crawler.stats.inc_value(REFUSED_STAT)      # robots.txt fetches are not the crawl's requests
        return IgnoreRequest(f"refused private/loopback address for host {host!r} ({why}): {request.url}")

    def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        if parts.scheme not in SCHEMES:
            return None                 # data:, file: ... are not network fetches; Scrapy refuses the rest
        try:
            host = normalize_host(parts.hostname or "")
        except (ValueError, UnicodeError):
            raise self._refuse(request, parts.netloc, "not a valid host name") from None
        if not host:
            raise self._refuse(request, parts.netloc, "no host")
        if self.policy.allowed(host):
            return None
        ip = literal_ip(host)
        if ip is not None and is_private_address(ip):
            raise self._refuse(request, host, f"address {ip}")
        if ip is None and is_loopback_name(host):
            raise self._refuse(request, host, "loopback name")
        return None

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A lookup the resolver refused: an ``IgnoreRequest`` instead of a (retried) DNS error."""
        if not isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            return None
        host = urlparse_cached(request).hostname or ""
        address = self.policy.refused_address(host)
        if address is not None:
            raise self._refuse(request, host, f"resolves to {address}") from exception
        return None
