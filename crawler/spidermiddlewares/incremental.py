"""Incremental crawls: skip archived articles before requesting them; stop paging when nothing is new.

:class:`IncrementalMiddleware` asks the archive which of a list page's article links it already holds
(one batch query per list page, in a thread, never on the reactor) and drops those requests. A list
page ends its pagination when it brings no article that is new both to the archive (as it was before
this crawl) and to its own pagination chain. In a distributed run, articles another worker scheduled
this run count as new (``crawler.distributed.bound_run``).

Catching up (``spider.catch_up``, set by the run extension when the site's previous run was
interrupted, timed out or failed): a list page counts its article links as new unless its own
pagination chain already brought them, i.e. columns are paged to their end as on a first crawl, while
a chain that only repeats the same links still stops; archived articles are still skipped.

A full walk (``spider.full_walk``, ``govnews crawl --full``) pages every column to its end whatever
the archive holds; only a chain that keeps repeating its own links (a rotating 下一页 chain, a calendar,
a topic page whose "pages" show the same sidebar) stops, after :data:`FULL_WALK_STALE_PAGES` pages in
a row that brought no link new to that chain.

Settings: ``GOVNEWS_INCREMENTAL`` (default True).
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.exceptions import NotConfigured

from crawler.distributed.scheduler import bound_run
from crawler.services import InThread, get_archive, in_thread
from crawler.spiders.gov_news import CHAIN, KIND, PAGING

if TYPE_CHECKING:
    from storage.archive import Archive

__all__ = ["ENABLED_SETTING", "IncrementalMiddleware"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_INCREMENTAL"
#: a full walk stops a pagination chain after this many pages in a row with no link new to the chain
FULL_WALK_STALE_PAGES = 3


class IncrementalMiddleware:
    def __init__(self, crawler: Any, archive: Archive, *, run_blocking: InThread = in_thread):
        self.crawler = crawler
        self.archive = archive
        self.run_blocking = run_blocking
        #: article URLs this crawl let through: archived by now, but new to the archive this run
        self.passed: set[str] = set()
        #: per pagination chain (keyed by its first list page): the article URLs it brought
        self.chains: dict[str, set[str]] = {}
        #: per pagination chain: pages in a row that brought no link new to the chain (full walks)
        self.stale: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> IncrementalMiddleware:
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        return cls(crawler, get_archive(crawler))

    async def _known(self, articles: list[Request]) -> set[str]:
        """Which of these article URLs are archived (none when the archive cannot say)."""
        if not articles:
            return set()
        try:
            return await self.run_blocking(self.archive.known_urls, [r.url for r in articles])
        except Exception as exc:  # archive down: request them all; storage dedup makes that harmless
            self.crawler.stats.inc_value("govnews/db_errors/known_urls")
            logger.warning("archive unavailable, not skipping known articles: %s", str(exc).splitlines()[0][:200])
            return set()

    async def _seen_by_run(self, articles: list[Request]) -> set[str]:
        run = bound_run(self.crawler)
        return await self.run_blocking(run.seen_urls, articles) if run is not None and articles else set()

    def _filter(self, response: Any, outputs: list[Any], known: set[str], run_seen: set[str]) -> Iterable[Any]:
        stats = self.crawler.stats
        articles = [o for o in outputs if isinstance(o, Request) and o.meta.get(KIND) == "article"]
        # a column whose first page was already linked from the home page goes on; a topic chain or
        # calendar whose pages only repeat the same sidebar, or hold no article link at all, stops
        chain_key = response.meta.get(CHAIN) or response.url
        chain = self.chains.setdefault(chain_key, set())
        spider = self.crawler.spider
        full_walk = getattr(spider, "full_walk", False)
        known_before_run = set() if full_walk or getattr(spider, "catch_up", False) else known - self.passed - run_seen
        fresh = [r for r in articles if r.url not in known_before_run and r.url not in chain]
        chain.update(r.url for r in articles)
        if full_walk:
            self.stale[chain_key] = 0 if fresh else self.stale.get(chain_key, 0) + 1
            stop_paging = self.stale[chain_key] >= FULL_WALK_STALE_PAGES
        else:
            stop_paging = not fresh
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

    async def process_spider_output(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        outputs = [o async for o in result]
        articles = [o for o in outputs if isinstance(o, Request) and o.meta.get(KIND) == "article"]
        known = await self._known(articles)
        run_seen = await self._seen_by_run([r for r in articles if r.url in known - self.passed]) if known else set()
        for o in self._filter(response, outputs, known, run_seen):
            yield o
