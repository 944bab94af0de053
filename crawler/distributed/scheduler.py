"""The worker's Scrapy scheduler: a scrapy-redis scheduler bound to the current run of its site,
leasing requests from the run's :class:`~crawler.distributed.queue.ReliableQueue` and acknowledging
them once Scrapy is completely done with them."""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from typing import TYPE_CHECKING

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis import connection as redis_connection
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task  # not the reactor: importing it here would install the default one

from crawler.distributed.connection import (
    DEFAULT_IDLE,
    DEFAULT_LEASE,
    DEFAULT_MAX_DELIVERIES,
    DEFAULT_PREFIX,
    IDLE_SETTING,
    LEASE_SETTING,
    MAX_DELIVERIES_SETTING,
    PREFIX_SETTING,
    default_worker_name,
)
from crawler.distributed.queue import (
    RUN_KEY_TTL,
    ReliableQueue,
    RunKeys,
    claim_completion,
    epoch_now,
    expire_keys,
    runs_key,
)
from crawler.distributed.tracker import LEASE_META, LeaseTracker

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.5
REDELIVERED = "govnews_redelivered"   # request.meta: how many times this request was delivered before


class RunDupeFilter(RFPDupeFilter):
    """scrapy-redis' fingerprints, in one set per run (deleted when the run ends)."""

    def __init__(self, server, keys: RunKeys, debug: bool = False):
        super().__init__(server, keys.dupefilter, debug)

    def seen_urls(self, requests: list[Request]) -> set[str]:
        """URLs of ``requests`` already scheduled by some worker of this run."""
        if not requests:
            return set()
        flags = self.server.smismember(self.key, [self.request_fingerprint(r) for r in requests])
        return {r.url for r, f in zip(requests, flags) if f}

    def close(self, reason=""):
        pass    # shared by every worker of the run: the run's finisher deletes it


def bound_run(crawler: Crawler) -> DistributedScheduler | None:
    """The crawl's :class:`DistributedScheduler` once it is bound to a run, else None.

    THE seam for other components (the run extension; ``ConditionalGetMiddleware`` and
    ``IncrementalMiddleware`` call :meth:`DistributedScheduler.store_validators` and
    :meth:`DistributedScheduler.seen_urls` on it), found through the public ``crawler.engine.scheduler``.
    """
    try:
        engine = crawler.engine
    except (AttributeError, RuntimeError):     # Scrapy sets it when the crawl starts
        return None
    sched = engine.scheduler if engine is not None else None
    return sched if isinstance(sched, DistributedScheduler) and sched.run_id is not None else None


def _tracker_of(crawler: Crawler) -> LeaseTracker:
    """The crawl's :class:`LeaseTracker` extension (the add-on enables it); a scheduler built without
    one (tests) gets its own, which acknowledges at idle and close only (no middleware feeds it)."""
    try:
        tracker = crawler.get_extension(LeaseTracker)
    except RuntimeError:        # no extension manager yet
        tracker = None
    return tracker if tracker is not None else LeaseTracker(crawler)


class DistributedScheduler(RedisScheduler):
    """A scrapy-redis scheduler bound to the current run of the spider's site."""

    def __init__(self, server, crawler, *, prefix: str, lease_seconds: float, idle_timeout: float,
                 max_deliveries: int, worker: str):
        super().__init__(server, persist=True, idle_before_close=0)
        self.crawler = crawler
        self.stats = crawler.stats
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.idle_timeout = idle_timeout
        self.max_deliveries = max_deliveries
        self.worker = worker
        self.run_id: int | None = None
        self.keys: RunKeys | None = None
        self.queue: ReliableQueue | None = None
        self.df: RunDupeFilter | None = None
        self.run_done = False
        self.finisher = False             # this worker found the run complete and must finish it
        self.meta: dict[str, str] = {}
        self._leased: dict[int, bytes] = {}      # lease token (LeaseTracker) -> queue member
        self.tracker: LeaseTracker = _tracker_of(crawler)
        self._opened_at = time.monotonic()
        self._next_maintenance = 0.0
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        server = redis_connection.get_redis_from_settings(s)
        server.ping()
        return cls(server, crawler, prefix=s.get(PREFIX_SETTING) or DEFAULT_PREFIX,
                   lease_seconds=s.getfloat(LEASE_SETTING, DEFAULT_LEASE),
                   idle_timeout=s.getfloat(IDLE_SETTING, DEFAULT_IDLE),
                   max_deliveries=s.getint(MAX_DELIVERIES_SETTING, DEFAULT_MAX_DELIVERIES),
                   worker=default_worker_name())

    # ---- lifecycle
    def open(self, spider):
        self.spider = spider
        self.site = spider.site
        self.crawler.signals.connect(self.on_idle, signal=signals.spider_idle)
        self._bind()
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(TICK_SECONDS, now=False)
        if self.run_id is None:
            logger.info("no distributed run for site %s yet; waiting up to %ss", self.site,
                        self.idle_timeout or "∞")

    def _bind(self) -> bool:
        rid = self.server.hget(runs_key(self.prefix), self.site)
        if rid is None:
            return False
        self.run_id = int(rid)
        self.keys = RunKeys(self.prefix, self.run_id)
        self.queue = ReliableQueue(self.server, self.spider, self.keys, self.serializer)
        self.df = RunDupeFilter(self.server, self.keys, self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        self.meta = {k.decode(): v.decode() for k, v in self.server.hgetall(self.keys.meta).items()}
        self.server.hset(self.keys.workers, self.worker,
                         json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "since": epoch_now()}))
        self.stats.set_value("govnews/distributed/run_id", self.run_id)
        logger.info("worker %s joined distributed run %s of site %s (%d requests queued)", self.worker,
                    self.run_id, self.site, len(self.queue))
        return True

    def close(self, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.queue is not None:
            self._ack_done(everything=True)      # the engine closed: it is done with every request
            if self._leased:   # not processed (should not happen): let them expire back into the queue
                logger.warning("%d leased requests left unacknowledged; they return to the queue "
                               "after the lease", len(self._leased))

    def __len__(self):
        return len(self.queue) if self.queue is not None else 0

    # ---- scheduling
    def has_pending_requests(self):
        return self.queue is not None and not self.run_done and len(self.queue) > 0

    def enqueue_request(self, request):
        if self.queue is None or self.df is None or self.run_done:
            self.stats.inc_value("govnews/distributed/dropped_without_run")
            return False
        request.meta.pop(LEASE_META, None)     # a redirect's or retry's copy: this worker's token only
        fp = "" if request.dont_filter else self.df.request_fingerprint(request)
        if not self.queue.push(request, fp):
            self.df.log(request, self.spider)
            self.stats.inc_value("dupefilter/filtered")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        if self.queue is None or self.run_done:
            return None
        got = self.queue.lease(self.worker, self.lease_seconds)
        if got is None:
            return None
        request, member, deliveries = got
        if deliveries > 1:
            request.meta[REDELIVERED] = deliveries - 1
            self.stats.inc_value("govnews/distributed/redelivered")
        self._leased[self.tracker.lease(request)] = member
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # ---- acknowledgement, leases, completion
    def _ack_done(self, everything: bool = False) -> None:
        """Acknowledge the leased requests Scrapy is done with (:class:`LeaseTracker`); with
        ``everything``, all of them (the engine is idle or closed)."""
        if self.queue is None:
            return
        tokens = self.tracker.pop_all() if everything else self.tracker.pop_done()
        members = [self._leased.pop(t) for t in tokens if t in self._leased]
        if everything:
            members += self._leased.values()
            self._leased.clear()
        if members:
            acked = self.queue.ack(self.worker, members)
            self.stats.inc_value("govnews/distributed/acked", acked)
            if everything:      # not followed to their end (errbacks; see LeaseTracker)
                self.stats.inc_value("govnews/distributed/acked_at_idle", acked)
            if acked < len(members):   # our lease had expired and someone else re-leased it
                self.stats.inc_value("govnews/distributed/ack_lost", len(members) - acked)

    def _maintenance(self) -> None:
        now = time.monotonic()
        if now < self._next_maintenance or self.queue is None or self.keys is None:
            return
        self._next_maintenance = now + max(self.lease_seconds / 3.0, TICK_SECONDS)
        self.queue.renew(self.worker, self._leased.values(), self.lease_seconds)
        requeued, dead = self.queue.reap(self.max_deliveries)
        if requeued or dead:
            logger.warning("re-queued %d expired leases (dead-lettered %d) of run %s", requeued, dead,
                           self.run_id)
            self.stats.inc_value("govnews/distributed/requeued", requeued)
            self.stats.inc_value("govnews/distributed/dead_lettered", dead)
        expire_keys(self.server, self.keys.all_keys(), RUN_KEY_TTL)

    def _tick(self) -> None:
        try:
            if self.queue is None:
                return
            self._ack_done()
            self._maintenance()
        except Exception:  # never let a Redis hiccup kill the looping call
            logger.exception("distributed scheduler maintenance failed")

    def check_complete(self) -> bool:
        """(the engine is idle) Acknowledge everything; is the run complete (claimed atomically)?"""
        if self.run_done:
            return True
        assert self.keys is not None
        self._ack_done(everything=True)
        self._next_maintenance = 0.0
        self._maintenance()
        res = claim_completion(self.server, self.keys, self.site)
        if res == 1:
            self.finisher = True
            logger.info("distributed run %s of %s is complete; this worker finishes it", self.run_id,
                        self.site)
        if res != 0:
            self.run_done = True
        return self.run_done

    def on_idle(self, spider=None):
        """spider_idle. Keeping the spider open is enough: the engine polls this scheduler again on
        its own heartbeat (every 5 s in Scrapy 2.13+), which also picks up re-queued leases."""
        if self.queue is None:
            if self._bind():
                raise DontCloseSpider
            if self.idle_timeout and time.monotonic() - self._opened_at >= self.idle_timeout:
                logger.info("no distributed run for %s within %ss; closing", self.site, self.idle_timeout)
                return
            raise DontCloseSpider
        if self.check_complete():
            return
        # the queue is empty but other workers hold leases: their requests may bring more work
        raise DontCloseSpider

    # ---- what other components ask of the run (see bound_run)
    def seen_urls(self, requests: list[Request]) -> set[str]:
        """URLs of ``requests`` some worker of this run already scheduled (IncrementalMiddleware)."""
        return self.df.seen_urls(requests) if self.df is not None else set()

    def store_validators(self, new: dict[str, tuple[str | None, str | None]]) -> None:
        """Collect HTTP validators (ConditionalGetMiddleware); the run's finisher writes them all
        to the archive when the run completes."""
        if self.keys is None or not new:
            return
        self.server.hset(self.keys.validators, mapping={u: json.dumps(v) for u, v in new.items()})
