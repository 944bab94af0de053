"""Small Scrapy middlewares, each switched and tuned by settings.

* :class:`HostGuardMiddleware` (downloader): refuses requests to private, loopback and link-local
  addresses unless the site profile allows that host (``allow_private_hosts``).
* :class:`ConditionalGetMiddleware` (downloader): ETag / Last-Modified for list pages and feeds.
* :class:`IncrementalMiddleware` (spider): drops article requests already archived, in one batch
  query per list page, and stops paging when a list page brings no unknown article.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.services import get_archive
from crawler.spiders.gov_news import CHAIN, KIND, PAGING

logger = logging.getLogger(__name__)

CONDITIONAL_KINDS = ("list", "feed", "sitemap")


def _resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


def is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified)


class HostGuardMiddleware:
    """Never connect to private/loopback/link-local addresses unless the profile names the host.

    Runs for every request, so redirects (which come back as new requests) are checked too.
    ``resolver`` is injectable so tests assert the refusal without any connection being made.
    """

    def __init__(self, crawler, resolver: Callable[[str], list[str]] = _resolve):
        self.crawler = crawler
        self.resolver = resolver
        self._cache: dict[str, bool] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVNEWS_HOST_GUARD_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    def allowed_private(self) -> set[str]:
        spider = self.crawler.spider
        profile = getattr(spider, "profile", None)
        extra = self.crawler.settings.getlist("GOVNEWS_ALLOW_PRIVATE_HOSTS")
        return {h.lower() for h in (getattr(profile, "allow_private_hosts", []) or []) + extra}

    def process_request(self, request: Request):
        host = (request.url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1])
        host = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:host.index("]")]
        host = host.lower()
        if host in self.allowed_private():
            return None
        if host not in self._cache:
            try:
                addresses = [host] if _is_ip(host) else self.resolver(host)
            except (OSError, UnicodeError):
                addresses = []  # resolution failures surface later as DNS errors
            self._cache[host] = any(is_private_address(a) for a in addresses)
        if self._cache[host]:
            self.crawler.stats.inc_value("govnews/refused/private_address")
            raise IgnoreRequest(f"refused private/loopback address for host {host!r} ({request.url})")
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class ConditionalGetMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` for list pages and feeds.

    New validators are written only when the crawl finishes normally, so a crawl that dies
    half-way never makes the next crawl believe a list page was fully read.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = get_archive(crawler)
        self._new: dict[str, tuple[str | None, str | None]] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVNEWS_CONDITIONAL_GET", True):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request):
        if request.meta.get(KIND) not in CONDITIONAL_KINDS or b"If-None-Match" in request.headers:
            return None
        if getattr(self.crawler.spider, "full_walk", False):
            return None
        try:
            etag, modified = self.archive.get_validators(request.url) or (None, None)
        except Exception as exc:  # archive down: fetch unconditionally (pages go to the dead-letter file)
            self.crawler.stats.inc_value("govnews/db_errors/validators")
            logger.warning("no validators for %s: %s", request.url, str(exc).splitlines()[0][:200])
            etag, modified = None, None
        if etag:
            request.headers[b"If-None-Match"] = etag
        if modified:
            request.headers[b"If-Modified-Since"] = modified
        return None

    def process_response(self, request: Request, response):
        if request.meta.get(KIND) in CONDITIONAL_KINDS and response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                self._new[request.url] = (etag and etag.decode("latin-1"), modified and modified.decode("latin-1"))
        elif response.status == 304:
            self.crawler.stats.inc_value("govnews/not_modified")
        return response

    def spider_closed(self, spider, reason):
        if reason != "finished" or not self._new:
            return
        sink = getattr(self.crawler, "govnews_validator_sink", None)  # distributed: written when the run ends
        if sink is not None:
            sink(self._new)
            return
        try:
            for url, (etag, modified) in self._new.items():
                self.archive.set_validators(url, etag, modified)
        except Exception:  # archive down: the next crawl fetches these pages unconditionally, nothing lost
            logger.exception("could not save HTTP validators")


class IncrementalMiddleware:
    """Skip archived articles before requesting them; stop paging when nothing is new."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = get_archive(crawler)
        #: article URLs this crawl let through: archived by now, but new to the archive this run
        self.passed: set[str] = set()
        #: per pagination chain (keyed by its first list page): the article URLs it brought
        self.chains: dict[str, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVNEWS_INCREMENTAL", True):
            raise NotConfigured
        return cls(crawler)

    def _filter(self, response, outputs: list[Any]) -> Iterable[Any]:
        stats = self.crawler.stats
        articles = [o for o in outputs if isinstance(o, Request) and o.meta.get(KIND) == "article"]
        try:
            known = self.archive.known_urls([r.url for r in articles]) if articles else set()
        except Exception as exc:  # archive down: request them all; storage dedup makes that harmless
            stats.inc_value("govnews/db_errors/known_urls")
            logger.warning("archive unavailable, not skipping known articles: %s", str(exc).splitlines()[0][:200])
            known = set()
        # A list page ends its pagination when it brings no article that is new both to the archive
        # (as it was before this crawl) and to its own pagination chain: a column whose first page
        # was already linked from the home page goes on, a topic chain or calendar whose pages only
        # repeat the same sidebar, or hold no article link at all, stops.
        chain = self.chains.setdefault(response.meta.get(CHAIN) or response.url, set())
        known_before_run = known - self.passed
        run_seen = getattr(self.crawler, "govnews_run_seen", None)  # distributed: scheduled by any worker this run
        if run_seen is not None and known_before_run:
            known_before_run -= run_seen([r for r in articles if r.url in known_before_run])
        fresh = [r for r in articles if r.url not in known_before_run and r.url not in chain]
        chain.update(r.url for r in articles)
        spider = self.crawler.spider
        stop_paging = not fresh and not getattr(spider, "full_walk", False)
        for o in outputs:
            if isinstance(o, Request):
                if o.meta.get(KIND) == "article":
                    if o.url in known:
                        stats.inc_value("govnews/skipped_known")
                        continue
                    self.passed.add(o.url)
                if stop_paging and o.meta.get(PAGING):
                    stats.inc_value("govnews/paging_stopped")
                    logger.info("no new articles on %s: not following %s", response.url, o.url)
                    continue
            yield o

    def process_spider_output(self, response, result):
        yield from self._filter(response, list(result))

    async def process_spider_output_async(self, response, result: AsyncIterator[Any]):
        outputs = [o async for o in result]
        for o in self._filter(response, outputs):
            yield o
