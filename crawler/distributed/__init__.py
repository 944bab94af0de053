"""Distributed crawling on scrapy-redis (shared request queue + duplicate filter) and one PostgreSQL
archive. Off unless the Scrapy setting ``REDIS_URL`` is set (``-s REDIS_URL=...``,
``GOVNEWS_REDIS_URL`` in the environment, or ``govnews worker --redis-url``); see docs/DISTRIBUTED.md.

Design in one paragraph: ``govnews enqueue SITE`` (or the scheduler daemon; both in
:mod:`govnews.distributed`) creates the ``crawl_runs`` row, takes the site lock with the holder
``redis-run:<run id>@<host>`` and pushes the site's start requests into per-run Redis keys;
``HSET <prefix>:runs <site> <run id>`` publishes the run. A worker process is an ordinary
``scrapy crawl gov_news -a site=...`` (one spider, one site profile) whose scheduler is
:class:`DistributedScheduler`, a scrapy-redis scheduler made reliable:

* requests are *leased*, not popped: one Lua script moves a request from the priority queue (zset)
  to the run's in-flight zset with a deadline and an owner; the worker renews its leases while it
  holds them and acknowledges a request only once Scrapy is completely done with it (downloaded,
  callback run, items stored, follow-up requests pushed: :class:`LeaseTracker`, public Scrapy
  signals and a spider middleware only). Leases of a worker that died expire and a
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
advisory locks in ``storage``), not Redis's.

Modules, one job each: :mod:`~crawler.distributed.connection` (settings, Redis connection, worker
names), :mod:`~crawler.distributed.queue` (key layout, Lua scripts, the leasing queue),
:mod:`~crawler.distributed.scheduler` (per-run duplicate filter, the Scrapy scheduler, the
:func:`bound_run` seam), :mod:`~crawler.distributed.tracker` (when Scrapy is done with a leased
request, from public signals) and :mod:`~crawler.distributed.middleware` (the spider middleware
feeding it), :mod:`~crawler.distributed.extension` (run bookkeeping, start middleware),
:mod:`~crawler.distributed.finish` (closing a completed run), :mod:`~crawler.distributed.addon`.
"""
from crawler.distributed.addon import DistributedAddon
from crawler.distributed.connection import (
    DEFAULT_PREFIX,
    REDIS_URL_ENV,
    REDIS_URL_SETTING,
    connect,
    default_worker_name,
    mask_redis_url,
    redis_url_from_settings,
)
from crawler.distributed.extension import DistributedRunExtension, DistributedStartMiddleware
from crawler.distributed.finish import finish_distributed_run, run_summary
from crawler.distributed.queue import (
    ReliableQueue,
    RunKeys,
    active_runs,
    purge_prefix,
    run_meta,
    runs_key,
)
from crawler.distributed.scheduler import DistributedScheduler, RunDupeFilter, bound_run
from crawler.distributed.tracker import LeaseTracker

__all__ = [
    "DEFAULT_PREFIX", "REDIS_URL_ENV", "REDIS_URL_SETTING", "DistributedAddon", "DistributedRunExtension",
    "DistributedScheduler", "DistributedStartMiddleware", "LeaseTracker", "ReliableQueue", "RunDupeFilter", "RunKeys",
    "active_runs", "bound_run", "connect", "default_worker_name", "finish_distributed_run", "mask_redis_url",
    "purge_prefix", "redis_url_from_settings", "run_meta", "run_summary", "runs_key",
]
