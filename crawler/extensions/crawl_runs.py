"""Crawl-run bookkeeping: the per-site lock and the ``crawl_runs`` row of this crawl.

The crawl process itself takes the site lock, so the scheduler daemon, ``govnews crawl`` and a bare
``scrapy crawl`` exclude each other, also across machines sharing one PostgreSQL archive. The
database calls run in threads (the ``spider_opened`` / ``spider_closed`` handlers return once they are
done), never on the reactor.

The run's status tells the truth (:func:`run_verdict`): ``ok`` only when pages were fetched and
processed; ``empty`` when the crawl worked but no page held an article and nothing was known
already; ``failed`` when no start URL answered, every request failed or was refused, or the spider
could not start (``start_error``); each with a one-line ``reason``. Under the runner
(``GOVNEWS_RUN_ID``) the extension writes ``failed``/``empty``/``locked`` and the reason, and the
runner keeps them.

No holes: when the site's previous run did not end cleanly (``interrupted``, ``timeout``, ``failed``,
or a ``running`` row left by a killed process), this crawl catches up (``spider.catch_up``, see
:mod:`crawler.spidermiddlewares.incremental`): every column is paged to its end as on a first crawl
(archived articles are still not requested again), instead of stopping at the first list page with
nothing new, which would leave the articles the interrupted run never reached unarchived for good.

Settings: ``GOVNEWS_RUNS_ENABLED`` (default True), ``GOVNEWS_LOCK_TTL`` (seconds, default 600; the
lease is renewed every TTL/3). Environment: ``GOVNEWS_RUN_ID`` (the scheduler's run row).
"""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from common.hosts import holder_id
from crawler.extensions.jobdir import JobdirRecoveryExtension
from crawler.runstats import COUNTER_STATS, counters_from_stats, failures_from_stats, skipped_from_stats
from crawler.services import InThread, get_archive, in_thread
from crawler.spiders.gov_news import START
from storage import runs
from storage.enums import RunStatus, Trigger

__all__ = ["COUNTER_STATS", "DEFAULT_LOCK_TTL", "INCOMPLETE_STATUSES", "LOCK_TTL_SETTING", "RUN_ID_ENV",
           "CrawlRunExtension", "run_verdict"]

logger = logging.getLogger(__name__)

RUN_ID_ENV = "GOVNEWS_RUN_ID"
#: set by ``govnews crawl`` on a terminal: a progress line (marker + JSON) on stderr every second
PROGRESS_ENV = "GOVNEWS_PROGRESS"
PROGRESS_MARKER = "\x1egovnews-progress "
LOCK_TTL_SETTING = "GOVNEWS_LOCK_TTL"
DEFAULT_LOCK_TTL = 600.0        # seconds; renewed every TTL/3 while the crawl runs
#: Scrapy close reason -> status of a run this crawl owns
CLOSE_STATUS = {"finished": RunStatus.OK, "locked": RunStatus.LOCKED, "shutdown": RunStatus.INTERRUPTED}
#: a previous run with one of these statuses may have left a hole: the next crawl is a full walk
INCOMPLETE_STATUSES = (RunStatus.INTERRUPTED, RunStatus.TIMEOUT, RunStatus.FAILED, RunStatus.RUNNING)
START_OK_STAT = "govnews/start/ok"          # start URLs (lists, feeds, sitemaps) that answered 2xx/304
START_ANSWERED_STAT = "govnews/start/answered"
ARTICLE_OUTCOMES = ("article", "duplicate", "revision")


def _ok_responses(stats: dict[str, Any]) -> int:
    return sum(int(v or 0) for k, v in stats.items()
               if k.startswith("downloader/response_status_count/")
               and (k.rsplit("/", 1)[1].startswith("2") or k.endswith("/304")))


def _summary(failures: dict[str, int], limit: int = 4) -> str:
    items = sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k}={v}" for k, v in items[:limit])
    return text + (", ..." if len(items) > limit else "") if text else "no response"


def run_verdict(close_reason: str, stats: dict[str, Any], *, error: str | None = None
                ) -> tuple[RunStatus, str]:
    """``(status, one-line reason)`` of a crawl from its Scrapy close reason and stats.

    ``error``: the first spider error (a start error's message)."""
    failures = failures_from_stats(stats)
    requests = int(stats.get(COUNTER_STATS["requests"], 0) or 0)
    refused = {k: v for k, v in failures.items() if k.startswith("refused_")}
    if close_reason == "locked":
        return RunStatus.LOCKED, "another process holds the site lock"
    if close_reason == "start_error":
        return RunStatus.FAILED, "spider start error" + (f": {error}" if error else " (see the log)")
    if close_reason == "shutdown":
        return RunStatus.INTERRUPTED, f"stopped (SIGTERM/Ctrl-C) after {requests} requests"
    start_ok = int(stats.get(START_OK_STAT, 0) or 0)
    others = {k: v for k, v in failures.items() if k not in refused and k != "deadlettered"}
    if refused and _ok_responses(stats) == 0 and not others:
        return RunStatus.FAILED, (f"every request was refused ({_summary(refused)}); a loopback or private "
                                  "host needs allow_private_hosts in the profile")
    if requests == 0:
        return RunStatus.FAILED, "no request was made (no start URL admitted)"
    if _ok_responses(stats) == 0:
        return RunStatus.FAILED, f"every request failed ({_summary(failures)})"
    if start_ok == 0:
        return RunStatus.FAILED, f"no start URL answered ({_summary(failures)})"
    articles = sum(int(stats.get(f"govnews/outcome/{o}", 0) or 0) for o in ARTICLE_OUTCOMES)
    known = int(stats.get("govnews/skipped_known", 0) or 0)
    unchanged = sum(int(stats.get(k, 0) or 0) for k in
                    ("govnews/list_not_modified", "govnews/feed_not_modified", "govnews/not_modified"))
    new = int(stats.get(COUNTER_STATS["new_articles"], 0) or 0)
    pages = _ok_responses(stats)
    if articles == 0 and known == 0 and unchanged == 0:
        return RunStatus.EMPTY, (f"{pages} pages fetched, none held an article (check start_urls and "
                                 "hints.article_url_regex)")
    extra = f"; failures: {_summary(failures)}" if failures else ""
    how = f" ({close_reason})" if close_reason not in ("finished", "") else ""
    return RunStatus.OK, f"{pages} pages, {new} new articles{how}{extra}"


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
        self.first_error: str | None = None
        self._progress: task.LoopingCall | None = None
        self.previous: dict | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRunExtension:
        if not crawler.settings.getbool("GOVNEWS_RUNS_ENABLED", True):
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat(LOCK_TTL_SETTING, DEFAULT_LOCK_TTL))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        if request is not None and request.meta.get(START):
            self.crawler.stats.inc_value(START_ANSWERED_STAT)
            if 200 <= response.status < 300 or response.status == 304:
                self.crawler.stats.inc_value(START_OK_STAT)

    def spider_error(self, failure: Any, response: Any = None, spider: Any = None) -> None:
        if self.first_error is None:
            value = getattr(failure, "value", failure)
            self.first_error = f"{type(value).__name__}: {value}"

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
        lock = runs.acquire_crawl_lock(engine, site, self.holder, ttl_seconds=self.ttl)
        if lock is not None:
            self.previous = runs.last_run(engine, site, exclude_id=self.run_id)
        else:
            self.holder_info = runs.describe_holder(runs.lock_holder(engine, site))
        return lock

    async def spider_opened(self, spider: Any) -> None:
        self.lock = await self.run_blocking(self._open, spider.site)
        if self.lock is None:
            logger.error("site %s is being crawled by another process (%s); stopping", spider.site,
                         getattr(self, "holder_info", "?"))
            self.crawler.stats.set_value("govnews/locked", 1)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="locked"))
            return
        self.locked = True
        prev = self.previous
        if prev and prev["status"] in INCOMPLETE_STATUSES and not getattr(spider, "full_walk", False):
            spider.catch_up = True
            self.crawler.stats.set_value("govnews/catch_up_after_run", prev["id"])
            logger.warning("the previous run of %s (run %s) ended %s: walking every column to its end this "
                           "time, so what it did not reach is archived", spider.site, prev["id"], prev["status"])
        self._renew = task.LoopingCall(self._renew_lock, spider.site)
        self._renew.start(max(self.ttl / 3, 1.0), now=False)
        if os.environ.get(PROGRESS_ENV):
            self._progress = task.LoopingCall(self._print_progress)
            self._progress.start(1.0, now=False)

    def _print_progress(self) -> None:
        st = self.crawler.stats
        failed = sum(int(v or 0) for k, v in st.get_stats().items() if k.startswith("govnews/failed/"))
        queue = int(st.get_value("scheduler/enqueued", 0) or 0) - int(st.get_value("scheduler/dequeued", 0) or 0)
        line = json.dumps({"pages": int(st.get_value("downloader/response_count", 0) or 0),
                           "new": int(st.get_value("govnews/articles/new", 0) or 0),
                           "dup": int(st.get_value("govnews/articles/duplicate", 0) or 0),
                           "failed": failed, "queue": max(queue, 0)})
        print(PROGRESS_MARKER + line, file=sys.stderr, flush=True)

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
        try:
            if self.locked:
                self.lock.release()
                self.locked = False
        except Exception as exc:  # noqa: BLE001 - the runner releases a crawl's lease after it exits
            logger.error("could not release the lock on %s: %s", self.crawler.spider.site,
                         str(exc).splitlines()[0][:200])
        counters = counters_from_stats(stats)
        failures = failures_from_stats(stats)
        runs.update_run(engine, self.run_id, skipped=skipped_from_stats(stats))   # issue 13 (DISCOVERY)
        status, why = run_verdict(reason, stats, error=self.first_error)
        self.crawler.stats.set_value("govnews/verdict", f"{status.value}: {why}")
        log = logger.error if status == RunStatus.FAILED else logger.info
        log("crawl %s: %s", status.value, why)
        if not self.own_run:
            # the runner owns the final status; what the crawl knows better (nothing worked, nothing
            # found, lost the lock race) it writes, and the runner keeps it
            extra = {"status": status.value} if status in (RunStatus.LOCKED, RunStatus.FAILED, RunStatus.EMPTY) \
                else {}
            runs.update_run(engine, self.run_id, failures=failures, reason=runs.one_line(why), **counters, **extra)
            return
        runs.finish_run(engine, self.run_id, status=status, failures=failures, reason=why, **counters)

    async def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        if self._renew is not None and self._renew.running:
            self._renew.stop()
        if self._progress is not None and self._progress.running:
            self._progress.stop()
        if self.run_id is None:      # spider_opened never got as far as the run row
            return
        self.crawler.stats.set_value("govnews/run_id", self.run_id)
        await self.run_blocking(self._close, reason, dict(self.crawler.stats.get_stats()))
