"""ETag / Last-Modified for list pages, feeds and sitemaps: an unchanged list costs a 304.

:class:`ConditionalGetMiddleware` sends ``If-None-Match`` / ``If-Modified-Since`` with the validators
the archive holds for the URL (looked up in a thread, never on the reactor) and collects the new ones.
They are written only when the crawl finishes normally, so a crawl that dies half-way never makes
the next one believe a list page was fully read. In a distributed run they go to the run
(``crawler.distributed.bound_run``), whose finisher writes them once every worker is done.

Settings: ``GOVNEWS_CONDITIONAL_GET`` (default True). A full walk (``spider.full_walk``) sends none.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from crawler.distributed.scheduler import bound_run
from crawler.services import InThread, get_archive, in_thread
from crawler.spiders.gov_news import KIND

if TYPE_CHECKING:
    from storage.archive import Archive

__all__ = ["CONDITIONAL_KINDS", "ENABLED_SETTING", "ConditionalGetMiddleware"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_CONDITIONAL_GET"
CONDITIONAL_KINDS = ("list", "feed", "sitemap")
Validators = dict[str, tuple[str | None, str | None]]


class ConditionalGetMiddleware:
    def __init__(self, crawler: Any, archive: Archive, *, run_blocking: InThread = in_thread):
        self.crawler = crawler
        self.archive = archive
        self.run_blocking = run_blocking
        self._new: Validators = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalGetMiddleware:
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        mw = cls(crawler, get_archive(crawler))
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    async def process_request(self, request: Request) -> None:
        if request.meta.get(KIND) not in CONDITIONAL_KINDS or b"If-None-Match" in request.headers:
            return None
        if getattr(self.crawler.spider, "full_walk", False):
            return None
        try:
            etag, modified = await self.run_blocking(self.archive.get_validators, request.url) or (None, None)
        except Exception as exc:  # archive down: fetch unconditionally (pages go to the dead-letter file)
            self.crawler.stats.inc_value("govnews/db_errors/validators")
            logger.warning("no validators for %s: %s", request.url, str(exc).splitlines()[0][:200])
            etag, modified = None, None
        if etag:
            request.headers[b"If-None-Match"] = etag
        if modified:
            request.headers[b"If-Modified-Since"] = modified
        return None

    def process_response(self, request: Request, response: Any) -> Any:
        if request.meta.get(KIND) in CONDITIONAL_KINDS and response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                self._new[request.url] = (etag and etag.decode("latin-1"), modified and modified.decode("latin-1"))
        elif response.status == 304:
            self.crawler.stats.inc_value("govnews/not_modified")
        return response

    async def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        if reason != "finished" or not self._new:
            return
        new, self._new = self._new, {}
        run = bound_run(self.crawler)
        try:
            if run is not None:       # distributed: the run's finisher writes them when every worker is done
                await self.run_blocking(run.store_validators, new)
            else:
                await self.run_blocking(self._save, new)
        except Exception:  # archive down: the next crawl fetches these pages unconditionally, nothing lost
            logger.exception("could not save HTTP validators")

    def _save(self, new: Validators) -> None:
        for url, (etag, modified) in new.items():
            self.archive.set_validators(url, etag, modified)
