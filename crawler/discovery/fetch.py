"""One-page fetches for ``govnews links URL`` and ``govnews discover URL``, with the crawl's host
rules: http(s) only, the profile's ``allowed_domains`` (redirects included), private / loopback
addresses refused unless the host is in ``allow_private_hosts`` (checked on the resolved address, as
:mod:`crawler.resolver` does for a crawl), a size cap and a timeout. Plain ``http.client``: no Scrapy
reactor for one page.
"""
from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from crawler.resolver import is_private_address, literal_ip, normalize_host

__all__ = ["DEFAULT_USER_AGENT", "FetchRefused", "Fetched", "fetch_page"]

DEFAULT_USER_AGENT = "govnews-discover/1.0 (+https://github.com/; archive of government news)"
MAX_BYTES = 10_000_000
MAX_REDIRECTS = 5


class FetchRefused(Exception):
    """The URL may not or could not be fetched (one-line reason)."""


@dataclass
class Fetched:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")


def _host_ok(host: str, allowed_domains: Iterable[str] | None) -> bool:
    doms = [d.lower().lstrip(".") for d in (allowed_domains or ())]
    return not doms or any(host == d or host.endswith("." + d) for d in doms)


def _address(host: str, port: int, allow_private: set[str]) -> str:
    ip = literal_ip(host)
    if ip is not None:
        addresses = [str(ip)]
    else:
        try:
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
        except OSError as exc:
            raise FetchRefused(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise FetchRefused(f"cannot resolve {host}")
    for address in addresses:
        if is_private_address(address) and host not in allow_private:
            raise FetchRefused(f"{host} resolves to the private address {address} (allow it with the "
                               "profile's allow_private_hosts)")
    return addresses[0]


def fetch_page(url: str, *, allowed_domains: Iterable[str] | None = None, allow_private_hosts: Iterable[str] = (),
               timeout: float = 20.0, max_bytes: int = MAX_BYTES, user_agent: str = DEFAULT_USER_AGENT) -> Fetched:
    """GET ``url`` under the host rules (see the module docstring); raises :class:`FetchRefused`."""
    allow_private = {normalize_host(h) for h in allow_private_hosts}
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"not an http(s) URL: {url}")
        host = normalize_host(parts.hostname)
        if not _host_ok(host, allowed_domains):
            raise FetchRefused(f"{host} is not in the allowed domains ({', '.join(allowed_domains or ())})")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _address(host, port, allow_private)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(address, port, timeout=timeout)   # the checked address
        try:
            conn.request("GET", target, headers={"Host": parts.netloc, "User-Agent": user_agent,
                                                 "Accept": "text/html,application/json;q=0.9,*/*;q=0.8"})
            resp = conn.getresponse()
            body = resp.read(max_bytes + 1)
            headers = {k: v for k, v in resp.getheaders()}
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            raise FetchRefused(f"fetching {url} failed: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        if len(body) > max_bytes:
            raise FetchRefused(f"{url} is larger than {max_bytes} bytes")
        location = next((v for k, v in headers.items() if k.lower() == "location"), None)
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return Fetched(url, status, headers, body)
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects from {url}")
