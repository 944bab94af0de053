"""Distributed crawling on scrapy-redis (shared request queue + duplicate filter) and one PostgreSQL
archive. Off unless the Scrapy setting ``REDIS_URL`` is set (``-s REDIS_URL=...``,
``GOVNEWS_REDIS_URL`` in the environment, or ``govnews worker --redis-url``); see docs/DISTRIBUTED.md.

Design in one paragraph: ``govnews enqueue SITE`` (or the scheduler daemon) creates the
``crawl_runs`` row, takes the site lock with the holder ``redis-run:<run id>@<host>`` and pushes the
site's start requests into per-run Redis keys; ``HSET <prefix>:runs <site> <run id>`` publishes the
run. A worker process is an ordinary ``scrapy crawl gov_news -a site=...`` (one spider, one site
profile) whose scheduler is :class:`DistributedScheduler`, a scrapy-redis scheduler made reliable:

* requests are *leased*, not popped: one Lua script moves a request from the priority queue (zset)
  to the run's in-flight zset with a deadline and an owner; the worker renews its leases while it
  holds them and acknowledges a request only once Scrapy is completely done with it (downloaded,
  callback run, items stored, follow-up requests pushed). Leases of a worker that died expire and a
  reaper (any live worker) puts them back into the queue; a request delivered ``max_deliveries``
  times is dead-lettered instead of killing workers forever.
* the duplicate filter (scrapy-redis fingerprints) is one Redis set *per run*, deleted when the run
  ends (every run key also carries an expiry), so fingerprints never grow without bound; the
  fingerprint ``SADD`` and the queue ``ZADD`` are one atomic script, so a worker dying between the
  two cannot leave a "seen" request that is in no queue.
* the run is complete when its queue and its in-flight set are both empty (checked atomically); the
  one worker whose compare-and-delete on ``<prefix>:runs`` succeeds finishes the ``crawl_runs`` row,
  writes the HTTP validators collected by all workers and releases the site lock. Workers of a
  finished run exit; a worker started before any run waits ``GOVNEWS_IDLE_TIMEOUT`` seconds.
* :class:`DistributedRunExtension` (replacing ``CrawlRunExtension`` in this mode) adds each worker's
  counters into the run (Redis ``HINCRBY``, mirrored into ``crawl_runs``) and renews the site lock.

Article deduplication across workers is the archive's job (unique constraints and PostgreSQL
advisory locks in ``storage.archive``), not Redis's.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis import connection as redis_connection
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

logger = logging.getLogger(__name__)

REDIS_URL_SETTING = "REDIS_URL"                 # the scrapy-redis setting; switches the mode on
REDIS_URL_ENV = "GOVNEWS_REDIS_URL"
PREFIX_SETTING = "GOVNEWS_REDIS_PREFIX"
DEFAULT_PREFIX = "govnews"
LEASE_SETTING = "GOVNEWS_LEASE_SECONDS"
DEFAULT_LEASE = 60.0              # a dead worker's requests are back in the queue after this
IDLE_SETTING = "GOVNEWS_IDLE_TIMEOUT"
DEFAULT_IDLE = 60.0               # a worker with no run for its site exits after this (0: never)
MAX_DELIVERIES_SETTING = "GOVNEWS_MAX_DELIVERIES"
DEFAULT_MAX_DELIVERIES = 5
WORKER_NAME_ENV = "GOVNEWS_WORKER_NAME"
RUN_KEY_TTL = 7 * 24 * 3600       # seconds; refreshed while workers are active
DONE_KEY_TTL = 3600               # bookkeeping keys of a finished run linger this long
TICK_SECONDS = 0.5
REDELIVERED = "govnews_redelivered"   # request.meta: how many times this request was delivered before


# --------------------------------------------------------------------------------------- keys


def runs_key(prefix: str) -> str:
    """Hash ``site -> run id`` of the distributed runs in progress."""
    return f"{prefix}:runs"


@dataclass(frozen=True)
class RunKeys:
    prefix: str
    run_id: int

    def _k(self, name: str) -> str:
        return f"{self.prefix}:run:{self.run_id}:{name}"

    queue = property(lambda self: self._k("queue"))            # zset: pickled request, -priority
    inflight = property(lambda self: self._k("inflight"))      # zset: pickled request, lease deadline
    owner = property(lambda self: self._k("owner"))            # hash: sha1(member) -> worker
    scores = property(lambda self: self._k("scores"))          # hash: sha1(member) -> queue score
    deliveries = property(lambda self: self._k("deliveries"))  # hash: sha1(member) -> deliveries
    dead = property(lambda self: self._k("dead"))              # list: dead-lettered requests
    dupefilter = property(lambda self: self._k("dupefilter"))  # set: request fingerprints
    meta = property(lambda self: self._k("meta"))              # hash: site, profile, holder, ...
    stats = property(lambda self: self._k("stats"))            # hash: counters summed over workers
    failures = property(lambda self: self._k("failures"))      # hash: reason -> count
    workers = property(lambda self: self._k("workers"))        # hash: worker -> json
    worker_pages = property(lambda self: self._k("worker_pages"))  # hash: worker -> pages
    validators = property(lambda self: self._k("validators"))  # hash: url -> json [etag, modified]

    def work_keys(self) -> list[str]:
        return [self.queue, self.inflight, self.owner, self.scores, self.deliveries, self.dupefilter]

    def bookkeeping_keys(self) -> list[str]:
        return [self.dead, self.meta, self.stats, self.failures, self.workers, self.worker_pages,
                self.validators]

    def all_keys(self) -> list[str]:
        return self.work_keys() + self.bookkeeping_keys()


def mask_redis_url(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url or "")


def redis_url_from_settings(settings) -> str | None:
    return settings.get(REDIS_URL_SETTING) or None


def default_worker_name() -> str:
    return os.environ.get(WORKER_NAME_ENV) or f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------------------- Lua

_PUSH = """
if ARGV[1] ~= '' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_LEASE = """
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then return false end
local member, score = r[1], r[2]
local h = redis.sha1hex(member)
redis.call('ZADD', KEYS[2], ARGV[2], member)
redis.call('HSET', KEYS[3], h, ARGV[1])
redis.call('HSET', KEYS[4], h, score)
local n = redis.call('HINCRBY', KEYS[5], h, 1)
return {member, n}
"""

_ACK = """
local n = 0
for i = 2, #ARGV do
  local m = ARGV[i]
  local h = redis.sha1hex(m)
  if redis.call('HGET', KEYS[2], h) == ARGV[1] then
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[2], h)
    redis.call('HDEL', KEYS[3], h)
    n = n + 1
  end
end
return n
"""

_RENEW = """
local n = 0
for i = 3, #ARGV do
  local m = ARGV[i]
  if redis.call('HGET', KEYS[2], redis.sha1hex(m)) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m)
    n = n + 1
  end
end
return n
"""

_REAP = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local requeued, dead = 0, 0
for _, m in ipairs(expired) do
  local h = redis.sha1hex(m)
  local score = redis.call('HGET', KEYS[4], h) or '0'
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], h)
  redis.call('HDEL', KEYS[4], h)
  local n = tonumber(redis.call('HGET', KEYS[5], h) or '0')
  if n >= tonumber(ARGV[2]) then
    redis.call('RPUSH', KEYS[6], m)
    dead = dead + 1
  else
    redis.call('ZADD', KEYS[1], score, m)
    requeued = requeued + 1
  end
end
return {requeued, dead}
"""

_COMPLETE = """
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

_DEL_IF = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""


# --------------------------------------------------------------------------------------- queue


class ReliableQueue(PriorityQueue):
    """scrapy-redis' priority queue (same encoding, same zset ordering) with leases and acks.

    ``push`` records the fingerprint in the run's duplicate filter and queues the request in one
    atomic script; ``lease`` moves the best request to the in-flight zset with a deadline and an
    owner; ``ack`` removes it for good; ``reap`` puts expired leases back.
    """

    def __init__(self, server, spider, keys: RunKeys, serializer=None):
        super().__init__(server, spider, keys.queue, serializer)
        self.keys = keys
        self._push = server.register_script(_PUSH)
        self._lease = server.register_script(_LEASE)
        self._ack = server.register_script(_ACK)
        self._renew = server.register_script(_RENEW)
        self._reap = server.register_script(_REAP)

    def push(self, request: Request, fingerprint: str = "") -> bool:  # type: ignore[override]
        data = self._encode_request(request)
        return bool(self._push(keys=[self.keys.dupefilter, self.keys.queue],
                               args=[fingerprint or "", -request.priority, data]))

    def pop(self, timeout=0):  # plain pop is not reliable: refuse it
        raise NotImplementedError("use lease()")

    def lease(self, worker: str, lease_seconds: float) -> tuple[Request, bytes, int] | None:
        k = self.keys
        got = self._lease(keys=[k.queue, k.inflight, k.owner, k.scores, k.deliveries],
                          args=[worker, time.time() + lease_seconds])
        if not got:
            return None
        member, deliveries = got[0], int(got[1])
        return self._decode_request(member), member, deliveries

    def ack(self, worker: str, members: Iterable[bytes]) -> int:
        members = list(members)
        if not members:
            return 0
        k = self.keys
        return int(self._ack(keys=[k.inflight, k.owner, k.scores], args=[worker, *members]))

    def renew(self, worker: str, members: Iterable[bytes], lease_seconds: float) -> int:
        members = list(members)
        if not members:
            return 0
        k = self.keys
        return int(self._renew(keys=[k.inflight, k.owner],
                               args=[worker, time.time() + lease_seconds, *members]))

    def reap(self, max_deliveries: int, limit: int = 1000) -> tuple[int, int]:
        k = self.keys
        requeued, dead = self._reap(keys=[k.queue, k.inflight, k.owner, k.scores, k.deliveries, k.dead],
                                    args=[time.time(), max_deliveries, limit])
        return int(requeued), int(dead)

    def inflight_count(self) -> int:
        return int(self.server.zcard(self.keys.inflight))


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


# --------------------------------------------------------------------------------------- scheduler


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
        self.queue: ReliableQueue | None = None  # type: ignore[assignment]
        self.df: RunDupeFilter | None = None  # type: ignore[assignment]
        self.run_done = False
        self.finisher = False             # this worker found the run complete and must finish it
        self.meta: dict[str, str] = {}
        self._leased: dict[Request, bytes] = {}
        self._opened_at = time.monotonic()
        self._next_maintenance = 0.0
        self._loop = None
        self._wake_call = None
        self._complete = server.register_script(_COMPLETE)

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
        from twisted.internet import task

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
        # hooks read by crawler.middlewares (Incremental, ConditionalGet)
        self.crawler.govnews_run_seen = self.df.seen_urls
        self.crawler.govnews_validator_sink = self.store_validators
        self.server.hset(self.keys.workers, self.worker,
                         json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}))
        self.stats.set_value("govnews/distributed/run_id", self.run_id)
        logger.info("worker %s joined distributed run %s of site %s (%d requests queued)", self.worker,
                    self.run_id, self.site, len(self.queue))
        return True

    def close(self, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._wake_call is not None and self._wake_call.active():
            self._wake_call.cancel()
        if self.queue is not None:
            self._ack_done(closing=True)
            if self._leased:   # not processed (should not happen): let them expire back into the queue
                logger.warning("%d leased requests left unacknowledged; they return to the queue "
                               "after the lease", len(self._leased))

    def __len__(self):
        return len(self.queue) if self.queue is not None else 0

    # ---- scheduling
    def has_pending_requests(self):
        return self.queue is not None and not self.run_done and len(self.queue) > 0

    def enqueue_request(self, request):
        if self.queue is None or self.run_done:
            self.stats.inc_value("govnews/distributed/dropped_without_run")
            return False
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
        self._leased[request] = member
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # ---- acknowledgement, leases, completion
    def _inprogress(self) -> set | None:
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "inprogress", None)

    def _ack_done(self, closing: bool = False) -> None:
        """Acknowledge leased requests Scrapy is done with: handed out by next_request, which the
        engine puts into its in-progress set before it yields to the reactor, and removed from it
        only after the callback's output (items through the pipelines, follow-up requests pushed)."""
        if not self._leased:
            return
        inprogress = self._inprogress()
        if inprogress is None:
            if not closing:
                return
            inprogress = set()
        done = [r for r in self._leased if r not in inprogress]
        if done:
            acked = self.queue.ack(self.worker, [self._leased.pop(r) for r in done])
            self.stats.inc_value("govnews/distributed/acked", acked)
            if acked < len(done):   # our lease had expired and someone else re-leased it
                self.stats.inc_value("govnews/distributed/ack_lost", len(done) - acked)

    def _maintenance(self) -> None:
        now = time.monotonic()
        if now < self._next_maintenance or self.queue is None:
            return
        self._next_maintenance = now + max(self.lease_seconds / 3.0, TICK_SECONDS)
        self.queue.renew(self.worker, self._leased.values(), self.lease_seconds)
        requeued, dead = self.queue.reap(self.max_deliveries)
        if requeued or dead:
            logger.warning("re-queued %d expired leases (dead-lettered %d) of run %s", requeued, dead,
                           self.run_id)
            self.stats.inc_value("govnews/distributed/requeued", requeued)
            self.stats.inc_value("govnews/distributed/dead_lettered", dead)
            if requeued:
                self._wake()
        with self.server.pipeline(transaction=False) as pipe:
            for key in self.keys.all_keys():
                pipe.expire(key, RUN_KEY_TTL)
            pipe.execute()

    def _tick(self) -> None:
        try:
            if self.queue is None:
                return
            self._ack_done()
            self._maintenance()
        except Exception:  # never let a Redis hiccup kill the looping call
            logger.exception("distributed scheduler maintenance failed")

    def _wake(self, delay: float = 0.0) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is None:
            return
        if delay:
            from twisted.internet import reactor

            if self._wake_call is None or not self._wake_call.active():
                self._wake_call = reactor.callLater(delay, slot.nextcall.schedule)
        else:
            slot.nextcall.schedule()

    def check_complete(self) -> bool:
        if self.run_done:
            return True
        self._ack_done()
        self._next_maintenance = 0.0
        self._maintenance()
        k = self.keys
        res = int(self._complete(keys=[k.queue, k.inflight, runs_key(self.prefix)],
                                 args=[self.site, str(self.run_id)]))
        if res == 1:
            self.finisher = True
            logger.info("distributed run %s of %s is complete; this worker finishes it", self.run_id,
                        self.site)
        if res != 0:
            self.run_done = True
        return self.run_done

    def on_idle(self, spider=None):
        if self.queue is None:
            if self._bind():
                self._wake()
                raise DontCloseSpider
            if self.idle_timeout and time.monotonic() - self._opened_at >= self.idle_timeout:
                logger.info("no distributed run for %s within %ss; closing", self.site, self.idle_timeout)
                return
            self._wake(TICK_SECONDS)
            raise DontCloseSpider
        if self.check_complete():
            return
        # the queue is empty but other workers hold leases: their requests may bring more work
        self._wake(TICK_SECONDS)
        raise DontCloseSpider

    # ---- validators (ConditionalGetMiddleware hook)
    def store_validators(self, new: dict[str, tuple[str | None, str | None]]) -> None:
        if self.keys is None or not new:
            return
        self.server.hset(self.keys.validators, mapping={u: json.dumps(v) for u, v in new.items()})


# --------------------------------------------------------------------------------------- start


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


# --------------------------------------------------------------------------------------- run bookkeeping


def failures_from_stats(stats: dict[str, Any]) -> dict[str, int]:
    failures = {k.split("/", 2)[2]: int(v) for k, v in stats.items() if k.startswith("govnews/failed/")}
    for k, v in stats.items():
        if k.startswith("govnews/outcome/") and k.rsplit("/", 1)[1] in ("failed", "blocked", "binary", "empty", "soft404"):
            failures["outcome_" + k.rsplit("/", 1)[1]] = int(v)
    return failures


class DistributedRunExtension:
    """Adds this worker's counters into the run, renews the run's site lock, finishes the run."""

    FLUSH_SECONDS = 5.0

    def __init__(self, crawler):
        self.crawler = crawler
        self._flushed: dict[str, int] = {}
        self._flushed_failures: dict[str, int] = {}
        self._loop = None
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
    def scheduler(self) -> DistributedScheduler | None:
        sched = getattr(self.crawler.engine, "scheduler", None)
        return sched if isinstance(sched, DistributedScheduler) and sched.run_id is not None else None

    def spider_opened(self, spider):
        from twisted.internet import task

        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.FLUSH_SECONDS, now=False)

    def _engine(self):
        from crawler.services import get_archive

        return get_archive(self.crawler).engine

    def _tick(self):
        try:
            sched = self.scheduler
            if sched is None:
                return
            self.flush(sched)
            self.renew_lock(sched)
        except Exception:
            logger.exception("distributed run bookkeeping failed")

    def renew_lock(self, sched: DistributedScheduler) -> None:
        from scrapy.utils.defer import _schedule_coro

        from storage import runs

        holder = sched.meta.get("holder")
        if not holder or sched.run_done:
            return
        ttl = float(sched.meta.get("lock_ttl") or 600)
        if not runs.renew_lock(self._engine(), sched.site, holder, ttl_seconds=ttl) and not self._lock_lost:
            self._lock_lost = True
            logger.error("site lock of %s is no longer held by run %s (%s); stopping", sched.site,
                         sched.run_id, holder)
            _schedule_coro(self.crawler.engine.close_spider_async(reason="locked"))

    def flush(self, sched: DistributedScheduler) -> dict[str, int]:
        """Add this worker's new counts into the run's Redis totals; mirror them into crawl_runs."""
        from crawler.extensions import COUNTER_STATS
        from storage import runs

        stats = self.crawler.stats.get_stats()
        k = sched.keys
        current = {name: int(stats.get(key, 0) or 0) for name, key in COUNTER_STATS.items()}
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
        for name in ("requeued", "dead_lettered", "redelivered"):
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
        counters = {name: totals.get(name, 0) for name in COUNTER_STATS}
        runs.update_run(self._engine(), sched.run_id, failures=fail_totals, **counters)
        return totals

    def spider_closed(self, spider, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        sched = self.scheduler
        if sched is None:
            return
        self.flush(sched)
        if sched.finisher:
            finish_distributed_run(sched.server, sched.keys, self._engine(), site=sched.site,
                                   archive=_archive(self.crawler))
        elif sched.run_done:   # finished by another worker before this one's last counts arrived
            from storage import runs

            row = runs.get_run(self._engine(), sched.run_id)
            if row is not None and row["status"] != "running":
                runs.update_run(self._engine(), sched.run_id, log_tail=run_summary(sched.server, sched.keys))


def _archive(crawler):
    from crawler.services import get_archive

    return get_archive(crawler)


def run_summary(server, keys: RunKeys) -> str:
    pages = {k.decode(): int(v) for k, v in server.hgetall(keys.worker_pages).items()}
    stats = {k.decode(): int(v) for k, v in server.hgetall(keys.stats).items()}
    workers = ", ".join(f"{w}: {n} pages" for w, n in sorted(pages.items())) or "none"
    return (f"[distributed] run {keys.run_id} (redis prefix {keys.prefix}) workers: {workers}; "
            f"re-queued after lease expiry: {stats.get('requeued', 0)}; "
            f"redelivered: {stats.get('redelivered', 0)}; dead-lettered: {stats.get('dead_lettered', 0)}")


def finish_distributed_run(server, keys: RunKeys, engine, *, site: str, archive=None,
                           status: str = "ok") -> None:
    """Write the run's totals and status, the collected HTTP validators; release the lock; drop the
    work keys (fingerprints, queue) and let the bookkeeping keys expire."""
    from crawler.extensions import COUNTER_STATS
    from storage import runs

    meta = {k.decode(): v.decode() for k, v in server.hgetall(keys.meta).items()}
    totals = {k.decode(): int(v) for k, v in server.hgetall(keys.stats).items()}
    failures = {k.decode(): int(v) for k, v in server.hgetall(keys.failures).items()}
    dead = server.llen(keys.dead)
    if dead:
        failures["dead_lettered"] = dead
    if status == "ok" and archive is not None:
        for url, value in server.hgetall(keys.validators).items():
            etag, modified = json.loads(value)
            archive.set_validators(url.decode(), etag, modified)
    runs.finish_run(engine, keys.run_id, status=status, exit_code=0 if status == "ok" else None,
                    failures=failures, log_tail=run_summary(server, keys),
                    **{name: totals.get(name, 0) for name in COUNTER_STATS})
    if meta.get("holder"):
        runs.release_lock(engine, site, meta["holder"])
    server.delete(*keys.work_keys())
    with server.pipeline(transaction=False) as pipe:
        for key in keys.bookkeeping_keys():
            pipe.expire(key, DONE_KEY_TTL)
        pipe.execute()
    logger.info("distributed run %s of %s finished: %s", keys.run_id, site, status)


# --------------------------------------------------------------------------------------- addon


class DistributedAddon:
    """Scrapy add-on (``ADDONS`` in crawler/settings.py): switches the distributed mode on when the
    ``REDIS_URL`` setting is set, and changes nothing otherwise."""

    def update_settings(self, settings):
        if not settings.get(REDIS_URL_SETTING):
            return
        settings.set("SCHEDULER", "crawler.distributed.DistributedScheduler", priority="addon")
        settings.set_in_component_priority_dict("EXTENSIONS", "crawler.extensions.CrawlRunExtension", None)
        settings.set_in_component_priority_dict("EXTENSIONS", DistributedRunExtension, 500)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", DistributedStartMiddleware, 10)


# --------------------------------------------------------------------------------------- enqueue


def connect(redis_url: str):
    import redis

    server = redis.Redis.from_url(redis_url, socket_timeout=30, socket_connect_timeout=10,
                                  retry_on_timeout=True)
    server.ping()
    return server


def start_requests_for(spider) -> list[Request]:
    async def collect():
        return [r async for r in spider.start() if isinstance(r, Request)]

    return asyncio.run(collect())


def abandon_run(server, prefix: str, site: str, run_id: int, engine, note: str) -> None:
    """Drop a run whose workers are gone (its site lock expired): record it failed, delete its keys."""
    from storage import runs

    keys = RunKeys(prefix, run_id)
    row = runs.get_run(engine, run_id)
    if row is not None and row["status"] == "running":
        runs.finish_run(engine, run_id, status="failed", log_tail=note + "\n" + run_summary(server, keys))
    server.register_script(_DEL_IF)(keys=[runs_key(prefix)], args=[site, str(run_id)])
    server.delete(*keys.all_keys())


def enqueue_site(profile, *, redis_url: str, db_url: str | None = None, engine=None,
                 prefix: str = DEFAULT_PREFIX, trigger: str = "manual", lock_ttl: float = 600.0,
                 full_walk: bool = False, server=None):
    """Create the run of ``profile`` (a ``SiteProfile``), take the site lock for it and push the
    start requests into Redis. Returns a :class:`govnews.runner.RunResult` with status ``enqueued``
    or ``locked`` (another crawl or distributed run of the site holds the lock)."""
    from crawler.spiders.gov_news import GovNewsSpider
    from govnews.runner import RunResult, StorageRunStore, absolute_db_url, utcnow
    from storage import runs
    from storage.db import default_db_url, make_engine

    site = profile.name
    started = utcnow()
    own_engine = None
    if engine is None:
        engine = own_engine = make_engine(absolute_db_url(db_url or default_db_url()))
    server = server or connect(redis_url)
    try:
        store = StorageRunStore(engine)

        def locked(holder: str) -> RunResult:
            note = f"[enqueue] not enqueued: site {site!r} is locked by {holder}"
            run_id = store.start(site, trigger)
            store.finish(run_id, status="locked", exit_code=None, log_tail=note)
            logger.warning("%s (run %s)", note, run_id)
            return RunResult(site, "locked", run_id=run_id, log_tail=note, started_at=started,
                             finished_at=utcnow(), holder=holder)

        existing = server.hget(runs_key(prefix), site)
        if existing is not None:
            old = RunKeys(prefix, int(existing))
            holder = (server.hget(old.meta, "holder") or b"").decode()
            info = runs.lock_holder(engine, site)
            if info and not info["expired"] and info["holder"] == holder:
                return locked(f"distributed run {int(existing)} ({holder})")
            abandon_run(server, prefix, site, int(existing), engine,
                        f"[enqueue] abandoned: the site lock of run {int(existing)} expired "
                        "(no live worker renewed it)")
        other = store.lock_holder(site)
        if other:
            return locked(other)
        run_id = store.start(site, trigger)
        holder = f"redis-run:{run_id}@{socket.gethostname()}"
        if not runs.acquire_lock(engine, site, holder, ttl_seconds=lock_ttl):
            note = f"[enqueue] lost the lock race for {site!r}"
            store.finish(run_id, status="locked", exit_code=None, log_tail=note)
            return RunResult(site, "locked", run_id=run_id, log_tail=note, started_at=started,
                             finished_at=utcnow())
        try:
            keys = RunKeys(prefix, run_id)
            spider = GovNewsSpider(site=str(profile.path) if profile.path else site,
                                   full_walk="1" if full_walk else None)
            queue = ReliableQueue(server, spider, keys)
            df = RunDupeFilter(server, keys)
            pushed = 0
            for request in start_requests_for(spider):
                fp = "" if request.dont_filter else df.request_fingerprint(request)
                pushed += queue.push(request, fp)
            profile_text = Path(profile.path).read_text(encoding="utf-8") if profile.path else ""
            server.hset(keys.meta, mapping={
                "site": site, "run_id": run_id, "holder": holder, "lock_ttl": lock_ttl,
                "profile": profile_text, "full_walk": int(bool(full_walk or profile.full_walk)),
                "enqueued_at": time.time(), "enqueued_by": f"{socket.gethostname()}:{os.getpid()}",
            })
            with server.pipeline(transaction=False) as pipe:
                for key in keys.all_keys():
                    pipe.expire(key, RUN_KEY_TTL)
                pipe.execute()
            server.hset(runs_key(prefix), site, run_id)      # published: workers may start now
        except BaseException as exc:
            store.finish(run_id, status="failed", exit_code=None, log_tail=f"[enqueue] failed: {exc!r}")
            runs.release_lock(engine, site, holder)
            raise
        note = (f"[enqueue] {pushed} start requests in redis {mask_redis_url(redis_url)} "
                f"(prefix {prefix}); waiting for workers")
        runs.update_run(engine, run_id, log_tail=note)
        logger.info("run %s: %s", run_id, note)
        return RunResult(site, "enqueued", run_id=run_id, log_tail=note, started_at=started,
                         finished_at=utcnow())
    finally:
        if own_engine is not None:
            own_engine.dispose()


def active_runs(server, prefix: str = DEFAULT_PREFIX) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in server.hgetall(runs_key(prefix)).items()}


def run_meta(server, prefix: str, run_id: int) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in server.hgetall(RunKeys(prefix, run_id).meta).items()}


def purge_prefix(server, prefix: str) -> int:
    """Delete every key under ``prefix:`` (tests, and `govnews enqueue --purge`)."""
    n = 0
    for key in server.scan_iter(match=f"{prefix}:*", count=1000):
        n += server.delete(key)
    return n
