"""Crawl-run bookkeeping: the per-site lock and the ``crawl_runs`` row of this crawl.

The crawl process itself takes the site lock, so the scheduler daemon, ``govnews crawl`` and a bare
``scrapy crawl`` exclude each other, also across machines sharing one PostgreSQL archive. The
database calls run in threads (the ``spider_opened`` / ``spider_closed`` handlers return once they are
done), never on the reactor.

Settings: ``GOVNEWS_RUNS_ENABLED`` (default True), ``GOVNEWS_LOCK_TTL`` (seconds, default 600; the
lease is renewed every TTL/3). Environment: ``GOVNEWS_RUN_ID`` (the scheduler's run row).
"""
from __future__ import annotations

import logging
import os
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from common.hosts import holder_id
from crawler.extensions.jobdir import JobdirRecoveryExtension
from crawler.runstats import COUNTER_STATS, counters_from_stats, failures_from_stats
from crawler.services import InThread, get_archive, in_thread
from storage import runs
from storage.enums import RunStatus, Trigger

__all__ = ["COUNTER_STATS", "DEFAULT_LOCK_TTL", "LOCK_TTL_SETTING", "RUN_ID_ENV", "CrawlRunExtension"]

logger = logging.getLogger(__name__)

RUN_ID_ENV = "GOVNEWS_RUN_ID"
LOCK_TTL_SETTING = "GOVNEWS_LOCK_TTL"
DEFAULT_LOCK_TTL = 600.0        # seconds; renewed every TTL/3 while the crawl runs
#: Scrapy close reason -> status of a run this crawl owns
CLOSE_STATUS = {"finished": RunStatus.OK, "locked": RunStatus.LOCKED, "shutdown": RunStatus.INTERRUPTED}


class CrawlRunExtension:
    def __init__(self, crawler: Any, ttl: float, *, run_blocking: InThread = in_thread):
        self.crawler = crawler
        self.ttl = ttl
        self.run_blocking = run_blocking
        self.holder = holder_id()
        self.run_id: int | None = None
        self.own_run = False
        self.locked = False
        self.lock: Any = None
        self._renew: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRunExtension:
        if not crawler.settings.getbool("GOVNEWS_RUNS_ENABLED", True):
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat(LOCK_TTL_SETTING, DEFAULT_LOCK_TTL))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _open(self, site: str) -> Any:
        engine = get_archive(self.crawler).engine
        recovery = self.crawler.get_extension(JobdirRecoveryExtension)
        if recovery is not None:            # a killed crawl of the same JOBDIR may still hold the lease
            recovery.release_killed(engine, site)
        env_run = os.environ.get(RUN_ID_ENV)
        if env_run:
            self.run_id = int(env_run)
        else:
            self.run_id = runs.start_run(engine, site, trigger=Trigger.MANUAL)
            self.own_run = True
        return runs.acquire_crawl_lock(engine, site, self.holder, ttl_seconds=self.ttl)

    async def spider_opened(self, spider: Any) -> None:
        self.lock = await self.run_blocking(self._open, spider.site)
        if self.lock is None:
            logger.error("site %s is being crawled by another process; stopping", spider.site)
            self.crawler.stats.set_value("govnews/locked", 1)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="locked"))
            return
        self.locked = True
        self._renew = task.LoopingCall(self._renew_lock, spider.site)
        self._renew.start(max(self.ttl / 3, 1.0), now=False)

    def _renew_lock(self, site: str) -> None:
        """Renew the lease in a thread; the loop does not wait (the next renewal is TTL/3 later)."""
        deferred_from_coro(self.run_blocking(self._renew_now, site))

    def _renew_now(self, site: str) -> None:
        """A failure (archive locked or down for a moment) must not stop the loop: tried again in TTL/3."""
        try:
            self.lock.renew(self.ttl)
        except Exception as exc:  # noqa: BLE001
            logger.warning("could not renew the lease on %s: %s", site, str(exc).splitlines()[0][:200])

    def _close(self, reason: str, stats: dict[str, Any]) -> None:
        engine = get_archive(self.crawler).engine
        if self.locked:
            self.lock.release()
        counters = counters_from_stats(stats)
        failures = failures_from_stats(stats)
        if not self.own_run:  # the scheduler's runner owns the status, except for a lost lock race
            extra = {"status": RunStatus.LOCKED} if reason == "locked" else {}
            runs.update_run(engine, self.run_id, failures=failures, **counters, **extra)
            return
        status = CLOSE_STATUS.get(reason, RunStatus.FAILED)
        runs.finish_run(engine, self.run_id, status=status, failures=failures, **counters)

    async def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        if self._renew is not None and self._renew.running:
            self._renew.stop()
        if self.run_id is None:      # spider_opened never got as far as the run row
            return
        self.crawler.stats.set_value("govnews/run_id", self.run_id)
        await self.run_blocking(self._close, reason, dict(self.crawler.stats.get_stats()))
