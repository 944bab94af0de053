"""A Scrapy DNS resolver that refuses private, loopback, link-local and reserved addresses.

``TWISTED_DNS_RESOLVER = "crawler.resolver.PrivateAddressResolver"`` (crawler/settings.py): Scrapy
installs it on the reactor, so the address a connection is actually made to is the one checked —
resolved once, in Scrapy's resolver thread pool, never on the reactor thread, and cached by Scrapy's
DNS cache. A name that resolves into a private range is refused (the lookup fails), which also closes
the DNS-rebinding gap of a check made before connecting: there is no second lookup to differ.

Hosts named by the site profile (``allow_private_hosts``) or the ``GOVNEWS_ALLOW_PRIVATE_HOSTS``
setting may resolve anywhere. The resolver is one per process (Scrapy builds it from the process's
settings before any spider exists), so the allow-list is the process's :class:`PrivateAddressPolicy`;
:class:`crawler.downloadermiddlewares.host_guard.HostGuardMiddleware` adds the profile's hosts to it
when the crawl starts and turns the refused lookup into an ``IgnoreRequest`` (reason
``private_address``).

Only Scrapy's Twisted download handlers (``http11``, the default) resolve through the reactor; the
optional ``httpx`` / ``aiohttp`` handlers resolve on their own and are not guarded by this resolver.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = ["ALLOW_SETTING", "POLICY", "PrivateAddressPolicy", "PrivateAddressRefused", "PrivateAddressResolver",
           "is_private_address", "literal_ip", "normalize_host"]

logger = logging.getLogger(__name__)

ALLOW_SETTING = "GOVNEWS_ALLOW_PRIVATE_HOSTS"
#: a host made of digits, dots and hex: maybe an IPv4 address in one of inet_aton's forms
#: (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``)
_NUMERIC_HOST_RE = re.compile(r"^(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*\.?$", re.I)
#: names that are loopback by definition (RFC 6761), refused without any lookup
LOOPBACK_NAMES = ("localhost",)


def normalize_host(host: str) -> str:
    """Lowercase, without brackets, a trailing dot or an IPv6 zone; IDNA-encoded (``ValueError`` when
    it cannot be)."""
    host = (host or "").strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.split("%", 1)[0].rstrip(".")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return host


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells without any lookup: dotted or IPv6 literals and inet_aton's
    decimal / hex / octal / short IPv4 forms (which a system resolver would accept too); else None."""
    host = normalize_host(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST_RE.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_private_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not a global unicast address: private, shared (``100.64.0.0/10``, where Alibaba Cloud keeps its
    metadata service), loopback, link-local, reserved, multicast or unspecified; IPv4-mapped and 6to4
    IPv6 by the IPv4 address inside. An address that cannot be parsed counts as private (fail closed)."""
    try:
        ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    mapped = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
    if mapped is not None:          # what it reaches is the IPv4 address inside
        return is_private_address(mapped)
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


def is_loopback_name(host: str) -> bool:
    host = normalize_host(host)
    return any(host == name or host.endswith("." + name) for name in LOOPBACK_NAMES)


class PrivateAddressRefused(DNSLookupError):
    """A name resolved into a private range and is not allowed to (a ``DNSLookupError``, so Twisted
    treats it as a failed lookup)."""

    govnews_reason = "private_address"


class PrivateAddressPolicy:
    """Which hosts may reach private addresses, and which names the resolver refused (thread-safe)."""

    #: refused names remembered for the middleware (bounded: oldest forgotten first)
    MAX_REFUSED = 10_000

    def __init__(self, allowed: Iterable[str] = ()):
        self._lock = threading.Lock()
        self._allowed: set[str] = set()
        self._refused: dict[str, str] = {}
        self.allow(allowed)

    def allow(self, hosts: Iterable[str]) -> None:
        with self._lock:
            for host in hosts or ():
                try:
                    self._allowed.add(normalize_host(host))
                except ValueError:
                    logger.warning("ignoring allowed private host %r: not a host name", host)

    def allowed(self, host: str) -> bool:
        try:
            host = normalize_host(host)
        except ValueError:
            return False
        with self._lock:
            return host in self._allowed

    def refused(self, host: str, address: str) -> None:
        with self._lock:
            if len(self._refused) >= self.MAX_REFUSED:
                self._refused.pop(next(iter(self._refused)))
            self._refused[host] = address

    def refused_address(self, host: str) -> str | None:
        """The private address ``host`` resolved to when the resolver refused it, else None."""
        try:
            host = normalize_host(host)
        except ValueError:
            return None
        with self._lock:
            return self._refused.get(host)


#: the process's policy (the resolver is installed once per process)
POLICY = PrivateAddressPolicy()


class PrivateAddressResolver(CachingThreadedResolver):
    """Scrapy's caching threaded resolver, failing lookups that land on a private address."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float,
                 policy: PrivateAddressPolicy | None = None):
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy if policy is not None else POLICY

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PrivateAddressResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy.allow(crawler.settings.getlist(ALLOW_SETTING))
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        return super().getHostByName(name, timeout).addCallback(self._check, name)

    def _check(self, address: str, name: str) -> str:
        try:
            host = normalize_host(name)
        except ValueError:
            raise DNSLookupError(f"invalid host name {name!r}") from None
        if is_private_address(address) and not self.policy.allowed(host):
            self.policy.refused(host, address)
            logger.warning("refused %s: resolves to the private address %s", host, address)
            raise PrivateAddressRefused(f"{host} resolves to the private address {address} (refused)")
        return address
