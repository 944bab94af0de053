"""Item pipelines: thin Scrapy adapters over :class:`crawler.ingest.IngestService`.

Items are :class:`crawler.items.FetchedPage` objects made by the spider (``kind``: article | list |
feed | sitemap | failed | refused). Nothing fetched is dropped silently: every item becomes a
``pages`` row with an outcome, and articles additionally an article / revision / sighting.

* :class:`ExtractPipeline` classifies and extracts article pages with the spider's profile hints, in a
  worker thread (``GOVNEWS_EXTRACT_THREADS``, default 1, at once), so neither CPU-heavy pages nor the
  contained extraction worker's deadline (:mod:`crawler.containment`) hold up the reactor;
* :class:`StorePipeline` writes them to the archive in a worker thread (``deferToThread``), one
  write at a time (``GOVNEWS_STORE_THREADS``, default 1), so the reactor keeps downloading while the
  database works; a failed write goes to the dead-letter file (:class:`crawler.deadletter.DeadLetterGuard`).
  Disabled with ``GOVNEWS_STORE_ENABLED = False``.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredSemaphore

from crawler.deadletter import COOLDOWN_SETTING, DEFAULT_COOLDOWN, DeadLetterGuard, DeadLetterWriter, deadletter_dir
from crawler.ingest import IngestService, profile_hints
from crawler.items import FetchedPage
from crawler.services import InThread, get_archive, in_thread

logger = logging.getLogger(__name__)

STORE_ENABLED_SETTING = "GOVNEWS_STORE_ENABLED"
STORE_THREADS_SETTING = "GOVNEWS_STORE_THREADS"
DEFAULT_STORE_THREADS = 1
EXTRACT_THREADS_SETTING = "GOVNEWS_EXTRACT_THREADS"
DEFAULT_EXTRACT_THREADS = 1


class LimitedThreads:
    """``await runner(func, *args)``: :func:`crawler.services.in_thread` with at most ``limit`` calls
    at once (1: pages are stored one after another, in the order they reach the pipeline, as when
    the reactor thread stored them, and a SQLite archive sees no write contention from the crawl)."""

    def __init__(self, limit: int = DEFAULT_STORE_THREADS, run: InThread = in_thread):
        self.semaphore = DeferredSemaphore(max(1, limit))
        self.run = run

    async def __call__(self, func, *args: Any) -> Any:
        await maybe_deferred_to_future(self.semaphore.acquire())
        try:
            return await self.run(func, *args)
        finally:
            self.semaphore.release()


class ExtractPipeline:
    """Classify -> extract -> hostile check (:meth:`crawler.ingest.IngestService.extract`)."""

    def __init__(self, crawler, *, in_thread: InThread | None = None):
        self.crawler = crawler
        self.ingest = IngestService(None, stats=crawler.stats, hints_for=self.hints_for)
        self._hints: dict[str, Any] | None = None
        limit = crawler.settings.getint(EXTRACT_THREADS_SETTING, DEFAULT_EXTRACT_THREADS)
        self.run = LimitedThreads(limit, in_thread) if in_thread is not None else LimitedThreads(limit)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def hints_for(self, site: str | None) -> dict[str, Any]:
        """The crawl's own profile hints (the profile the spider was started with)."""
        if self._hints is None:
            self._hints = profile_hints(getattr(self.crawler.spider, "profile", None))
        return self._hints

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        if item.kind != "article":       # nothing to extract: no thread hop
            return self.ingest.extract(item)
        return await self.run(self.ingest.extract, item)


class StorePipeline:
    """Writes every page and every article to the archive (:meth:`crawler.ingest.IngestService.store`)."""

    def __init__(self, crawler, *, in_thread: InThread | None = None):
        self.crawler = crawler
        self.archive = get_archive(crawler)
        self.ingest = IngestService(self.archive, stats=crawler.stats)
        self.in_thread = in_thread or LimitedThreads(
            crawler.settings.getint(STORE_THREADS_SETTING, DEFAULT_STORE_THREADS))
        self.guard: DeadLetterGuard | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool(STORE_ENABLED_SETTING, True):
            raise NotConfigured
        return cls(crawler)

    def open_spider(self, spider=None):
        profile = (spider or self.crawler.spider).profile
        settings = self.crawler.settings
        self.guard = DeadLetterGuard(DeadLetterWriter(deadletter_dir(settings), self.archive.url),
                                     settings.getfloat(COOLDOWN_SETTING, DEFAULT_COOLDOWN), self.crawler.stats)
        try:
            self.archive.ensure_site(profile.name, profile.title, profile.allowed_domains)
        except Exception:  # the database is down: pages go to the dead-letter file (crawler/deadletter.py)
            logger.exception("could not register site %s in the archive", profile.name)

    def close_spider(self, spider=None):
        if self.guard is not None:
            self.guard.writer.close()

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        """Store the item off the reactor thread; when the archive fails, keep it as a dead letter
        (never lose a page)."""
        if self.guard is None:
            return await self.store(item)
        return await self.guard.process_async(item, self.store)

    async def store(self, item: FetchedPage) -> FetchedPage:
        return await self.in_thread(self.ingest.store, item)
