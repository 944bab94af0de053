"""Record redirects that Scrapy drops without any errback, so no asked-for URL is lost silently.

* A redirect to an off-site URL: Scrapy's ``OffsiteMiddleware`` drops it at scheduling time
  (``request_scheduled``) -> ``redirect_offsite``.
* A redirect to a URL this crawl already requested — a loop A -> B -> A, or onto a page fetched
  before — is dropped by the duplicate filter (``request_dropped``) -> ``redirect_loop`` /
  ``redirect_to_seen``.

:class:`RedirectFailureExtension` counts ``govnews/failed/<reason>`` and sends a failed
:class:`crawler.items.FetchedPage` for the URL that was asked for (``Location`` kept in its
headers) through the crawl's item pipelines, found with the public ``crawler.get_item_pipeline``, as
the engine would, then sends ``item_scraped``. While such a page is on its way, the spider is kept
open (``spider_idle`` -> ``DontCloseSpider``).

Settings: ``GOVNEWS_REDIRECT_FAILURES`` (default True).
"""
from __future__ import annotations

import inspect
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, DropItem, NotConfigured
from scrapy.utils.conf import build_component_list
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy.utils.url import url_is_from_any_domain
from twisted.internet.defer import Deferred

from crawler.items import FetchedPage

__all__ = ["ENABLED_SETTING", "RedirectFailureExtension"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_REDIRECT_FAILURES"
KIND_META = "govnews_kind"      # crawler.spiders.gov_news.KIND (not imported: the spider imports nothing of this)


def _hostless(url: str) -> str:
    """``url`` without its port, for ``url_is_from_any_domain`` (which compares the whole netloc)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname or "")) if parts.hostname else url


class RedirectFailureExtension:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.pending: set[Deferred] = set()
        self._pipelines: list[Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectFailureExtension:
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    # --- what is dropped -------------------------------------------------------------------------------
    def request_scheduled(self, request: Request, spider: Any = None) -> None:
        if not request.meta.get("redirect_urls"):
            return
        allowed = getattr(self.crawler.spider, "allowed_domains", None)
        if allowed and not url_is_from_any_domain(_hostless(request.url), allowed):
            self.record(request, "redirect_offsite")

    def request_dropped(self, request: Request, spider: Any = None) -> None:
        chain = request.meta.get("redirect_urls")
        if chain:
            self.record(request, "redirect_loop" if request.url in chain else "redirect_to_seen")

    def record(self, request: Request, reason: str) -> None:
        chain = request.meta["redirect_urls"]
        spider = self.crawler.spider
        self.crawler.stats.inc_value(f"govnews/failed/{reason}")
        page = FetchedPage.failure(getattr(spider, "site", None) or "", chain[0], reason,
                                   headers={"Location": request.url}, request_url=chain[0],
                                   request_kind=request.meta.get(KIND_META))
        d = deferred_from_coro(self._process(page))
        self.pending.add(d)
        d.addBoth(self._done, d)

    def _done(self, result: Any, d: Deferred) -> None:
        self.pending.discard(d)
        if hasattr(result, "value") and not isinstance(result.value, DropItem):   # a Failure
            logger.error("could not record %s", getattr(result, "getErrorMessage", lambda: result)())
        return None

    # --- through the item pipelines ----------------------------------------------------------------------
    def pipelines(self) -> list[Any]:
        """The crawl's item pipelines in their ``ITEM_PIPELINES`` order."""
        if self._pipelines is None:
            paths = build_component_list(self.crawler.settings.get_component_priority_dict_with_base("ITEM_PIPELINES"))
            found = (self.crawler.get_item_pipeline(load_object(p)) for p in paths)
            self._pipelines = [p for p in found if p is not None]
        return self._pipelines

    async def _process(self, item: Any) -> None:
        for pipeline in self.pipelines():
            result = pipeline.process_item(item)
            item = await result if inspect.isawaitable(result) else result
        await self.crawler.signals.send_catch_log_async(signal=signals.item_scraped, item=item, response=None,
                                                        spider=self.crawler.spider)

    def spider_idle(self, spider: Any = None) -> None:
        if self.pending:
            raise DontCloseSpider
