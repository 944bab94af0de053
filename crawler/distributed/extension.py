"""The worker's run bookkeeping (replacing ``CrawlRunExtension`` in distributed mode) and the spider
middleware that drops the profile's start requests (``govnews enqueue`` pushed them)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task, threads

from crawler.distributed.connection import redis_url_from_settings
from crawler.distributed.finish import finish_distributed_run, run_summary
from crawler.distributed.scheduler import DistributedScheduler, bound_run
from crawler.runstats import COUNTER_STATS, counters_from_stats, failures_from_stats
from crawler.services import InThread, get_archive, in_thread
from storage import runs
from storage.enums import RunStatus

if TYPE_CHECKING:
    from storage.archive import Archive

logger = logging.getLogger(__name__)

#: worker stats (``govnews/distributed/<name>``) summed into the run's Redis ``stats`` hash
DISTRIBUTED_COUNTERS = ("requeued", "dead_lettered", "redelivered", "acked", "acked_at_idle")


class DistributedStartMiddleware:
    """Workers do not yield the profile's start URLs: ``govnews enqueue`` pushed them."""

    @classmethod
    def from_crawler(cls, crawler):
        if not redis_url_from_settings(crawler.settings):
            raise NotConfigured
        return cls()

    async def process_start(self, start):
        return
        yield  # pragma: no cover - makes this an async generator


class DistributedRunExtension:
    """Adds this worker's counters into the run, renews the run's site lock, finishes the run.

    Counters and failures are read from the worker's Scrapy stats with
    :func:`crawler.runstats.counters_from_stats` / :func:`~crawler.runstats.failures_from_stats`, the
    same functions as the local ``CrawlRunExtension``. The periodic flush and the final one (with the
    run's finish) run in threads, so Redis and database round trips stay off the reactor; a lock
    keeps two flushes from adding the same delta twice.
    """

    FLUSH_SECONDS = 5.0

    def __init__(self, crawler, archive: Archive | None = None, *, run_blocking: InThread = in_thread):
        self.crawler = crawler
        self._archive = archive
        self.run_blocking = run_blocking
        self._flushed: dict[str, int] = {}
        self._flushed_failures: dict[str, int] = {}
        self._flush_lock = threading.Lock()
        self._loop: task.LoopingCall | None = None
        self._lock_lost = False
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not redis_url_from_settings(crawler.settings) or \
                not crawler.settings.getbool("GOVNEWS_RUNS_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    @property
    def archive(self) -> Archive:
        return self._archive if self._archive is not None else get_archive(self.crawler)

    @property
    def scheduler(self) -> DistributedScheduler | None:
        return bound_run(self.crawler)

    def spider_opened(self, spider):
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.FLUSH_SECONDS, now=False)

    def _tick(self):
        sched = self.scheduler
        if sched is None:
            return None
        stats = dict(self.crawler.stats.get_stats())      # read on the reactor thread
        archive = self.archive
        d = threads.deferToThread(self._bookkeeping, sched, stats, archive)
        d.addCallback(self._after_bookkeeping, sched)
        d.addErrback(lambda f: logger.error("distributed run bookkeeping failed: %s", f.getTraceback()))
        return d

    def _bookkeeping(self, sched: DistributedScheduler, stats: Mapping[str, Any], archive: Archive) -> bool:
        """(thread) Flush the counts; renew the site lock. Returns False when the lock is lost."""
        self.flush(sched, stats, archive)
        return self.renew_lock(sched, archive)

    def _after_bookkeeping(self, lock_held: bool, sched: DistributedScheduler) -> None:
        if lock_held or self._lock_lost:
            return
        self._lock_lost = True
        logger.error("site lock of %s is no longer held by run %s (%s); stopping", sched.site,
                     sched.run_id, sched.meta.get("holder"))
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="locked"))

    def renew_lock(self, sched: DistributedScheduler, archive: Archive | None = None) -> bool:
        """Extend the run's site lock; False if it is held by someone else now."""
        holder = sched.meta.get("holder")
        if not holder or sched.run_done:
            return True
        ttl = float(sched.meta.get("lock_ttl") or 600)
        return runs.renew_lock((archive or self.archive).engine, sched.site, holder, ttl_seconds=ttl)

    def flush(self, sched: DistributedScheduler, stats: Mapping[str, Any] | None = None,
              archive: Archive | None = None) -> dict[str, int]:
        """Add this worker's new counts (``stats``: default the crawl's Scrapy stats) into the run's
        Redis totals; mirror the totals into the run's ``crawl_runs`` row."""
        if stats is None:
            stats = self.crawler.stats.get_stats()
        engine = (archive or self.archive).engine
        assert sched.keys is not None and sched.run_id is not None
        with self._flush_lock:
            k = sched.keys
            current = counters_from_stats(stats)
            failures = failures_from_stats(stats)
            pipe = sched.server.pipeline(transaction=True)
            for name, value in current.items():
                if value - self._flushed.get(name, 0):
                    pipe.hincrby(k.stats, name, value - self._flushed.get(name, 0))
            for name, value in failures.items():
                if value - self._flushed_failures.get(name, 0):
                    pipe.hincrby(k.failures, name, value - self._flushed_failures.get(name, 0))
            delta_pages = current["pages"] - self._flushed.get("pages", 0)
            if delta_pages:
                pipe.hincrby(k.worker_pages, sched.worker, delta_pages)
            for name in DISTRIBUTED_COUNTERS:
                key = f"govnews/distributed/{name}"
                value = int(stats.get(key, 0) or 0)
                if value - self._flushed.get(key, 0):
                    pipe.hincrby(k.stats, name, value - self._flushed.get(key, 0))
                self._flushed[key] = value
            pipe.hgetall(k.stats)
            pipe.hgetall(k.failures)
            res = pipe.execute()
            self._flushed.update(current)
            self._flushed_failures = failures
            totals = {kk.decode(): int(v) for kk, v in res[-2].items()}
            fail_totals = {kk.decode(): int(v) for kk, v in res[-1].items()}
            counters: dict[str, Any] = {name: totals.get(name, 0) for name in COUNTER_STATS}
            runs.update_run(engine, sched.run_id, failures=fail_totals, **counters)
        return totals

    async def spider_closed(self, spider=None, reason: str = "finished") -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        sched = self.scheduler
        if sched is None:
            return
        stats = dict(self.crawler.stats.get_stats())      # read on the reactor thread
        await self.run_blocking(self._close, sched, stats, self.archive)

    def _close(self, sched: DistributedScheduler, stats: Mapping[str, Any], archive: Archive) -> None:
        """(thread) The last flush; the finisher closes the run, a late worker adds its summary."""
        assert sched.keys is not None and sched.run_id is not None
        self.flush(sched, stats, archive)
        engine = archive.engine
        if sched.finisher:
            finish_distributed_run(sched.server, sched.keys, engine, site=sched.site, archive=archive)
        elif sched.run_done:   # finished by another worker before this one's last counts arrived
            row = runs.get_run(engine, sched.run_id)
            if row is not None and row["status"] != RunStatus.RUNNING:
                runs.update_run(engine, sched.run_id, log_tail=run_summary(sched.server, sched.keys))
