"""The spider middleware that tells the :class:`~crawler.distributed.tracker.LeaseTracker` what a
leased request's callback yields and when its output has ended. It is the middleware closest to the
engine (``LEASE_MIDDLEWARE_ORDER``), so it sees exactly what the engine gets."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.exceptions import NotConfigured

from crawler.distributed.connection import redis_url_from_settings
from crawler.distributed.tracker import LeaseTracker

#: SPIDER_MIDDLEWARES order: below every other one (Scrapy's lowest is 25), i.e. last on the output
LEASE_MIDDLEWARE_ORDER = 1


class LeaseMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not redis_url_from_settings(crawler.settings):
            raise NotConfigured
        return cls(crawler)

    @property
    def tracker(self) -> LeaseTracker | None:
        return self.crawler.get_extension(LeaseTracker)

    async def process_spider_output(self, response, result) -> AsyncIterator[Any]:
        tracker = self.tracker
        if tracker is None:
            async for out in result:
                yield out
            return
        try:
            async for out in result:
                tracker.output(response, out)
                yield out
        finally:        # also when the callback raised: nothing more will come
            tracker.output_done(response)
