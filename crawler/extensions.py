"""Crawl-run bookkeeping: the per-site lock and the ``crawl_runs`` row of this crawl.

The crawl process itself takes the site lock, so the scheduler daemon, ``govnews crawl`` and a bare
``scrapy crawl`` exclude each other, also across machines sharing one PostgreSQL archive.
"""
from __future__ import annotations

import logging
import os
import socket

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import _schedule_coro
from twisted.internet import task

from crawler.services import get_archive

logger = logging.getLogger(__name__)

RUN_ID_ENV = "GOVNEWS_RUN_ID"
LOCK_TTL_SETTING = "GOVNEWS_LOCK_TTL"
DEFAULT_LOCK_TTL = 600.0        # seconds; renewed every TTL/3 while the crawl runs
COUNTER_STATS = {
    "requests": "downloader/request_count",
    "pages": "item_scraped_count",
    "new_articles": "govnews/articles/new",
    "duplicates": "govnews/articles/duplicate",
    "revisions": "govnews/articles/revision",
    "bytes": "govnews/bytes",
}


class CrawlRunExtension:
    def __init__(self, crawler, ttl: float):
        self.crawler = crawler
        self.ttl = ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.run_id: int | None = None
        self.own_run = False
        self.locked = False
        self.lock = None
        self._renew: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVNEWS_RUNS_ENABLED", True):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat(LOCK_TTL_SETTING, DEFAULT_LOCK_TTL))

    def spider_opened(self, spider):
        from storage import runs
        engine = get_archive(self.crawler).engine
        env_run = os.environ.get(RUN_ID_ENV)
        if env_run:
            self.run_id = int(env_run)
        else:
            self.run_id = runs.start_run(engine, spider.site, trigger="manual")
            self.own_run = True
        self.lock = runs.acquire_crawl_lock(engine, spider.site, self.holder, ttl_seconds=self.ttl)
        if self.lock is None:
            logger.error("site %s is being crawled by another process; stopping", spider.site)
            self.crawler.stats.set_value("govnews/locked", 1)
            _schedule_coro(self.crawler.engine.close_spider_async(reason="locked"))
            return
        self.locked = True
        self._renew = task.LoopingCall(self._renew_lock, engine, spider.site)
        self._renew.start(max(self.ttl / 3, 1.0), now=False)

    def _renew_lock(self, engine, site):
        """Renew the lease; a failure (archive locked or down for a moment) must not stop the loop."""
        try:
            self.lock.renew(self.ttl)
        except Exception as exc:  # noqa: BLE001 - tried again in TTL/3
            logger.warning("could not renew the lease on %s: %s", site, str(exc).splitlines()[0][:200])

    def spider_closed(self, spider, reason):
        from storage import runs
        engine = get_archive(self.crawler).engine
        if self._renew is not None and self._renew.running:
            self._renew.stop()
        if self.locked:
            self.lock.release()
        stats = self.crawler.stats.get_stats()
        counters = {name: int(stats.get(key, 0) or 0) for name, key in COUNTER_STATS.items()}
        failures = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("govnews/failed/")}
        for k, v in stats.items():
            if k.startswith("govnews/outcome/") and k.rsplit("/", 1)[1] in ("failed", "blocked", "binary", "empty", "soft404"):
                failures["outcome_" + k.rsplit("/", 1)[1]] = v
        for k, v in stats.items():      # what the crawl refused (traps, budget, private hosts) and kept aside
            if k.startswith("govnews/refused/"):
                failures["refused_" + k.split("/", 2)[2]] = v
            elif k == "govnews/deadletter/written":
                failures["deadlettered"] = v
        self.crawler.stats.set_value("govnews/run_id", self.run_id)
        if not self.own_run:  # the scheduler's runner owns the status, except for a lost lock race
            extra = {"status": "locked"} if reason == "locked" else {}
            runs.update_run(engine, self.run_id, failures=failures, **counters, **extra)
            return
        status = {"finished": "ok", "locked": "locked", "shutdown": "interrupted"}.get(reason, "failed")
        runs.finish_run(engine, self.run_id, status=status, failures=failures, **counters)
