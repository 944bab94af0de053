"""Closing a distributed run: the worker that finds it complete writes its ``crawl_runs`` row, the
validators all workers collected, and releases the site lock (``storage.runs``, no app layer)."""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from crawler.distributed.queue import DONE_KEY_TTL, RunKeys, counts, expire_keys, run_meta
from crawler.runstats import COUNTER_STATS
from storage import runs
from storage.enums import RunStatus

if TYPE_CHECKING:
    from storage.archive import Archive

logger = logging.getLogger(__name__)


def run_summary(server, keys: RunKeys) -> str:
    """The run's ``log_tail``: each worker and its page count, re-queued, redelivered, dead-lettered,
    acknowledged (of which when a worker was idle: leases not followed to their end)."""
    pages = counts(server, keys.worker_pages)
    stats = counts(server, keys.stats)
    workers = ", ".join(f"{w}: {n} pages" for w, n in sorted(pages.items())) or "none"
    return (f"[distributed] run {keys.run_id} (redis prefix {keys.prefix}) workers: {workers}; "
            f"re-queued after lease expiry: {stats.get('requeued', 0)}; "
            f"redelivered: {stats.get('redelivered', 0)}; dead-lettered: {stats.get('dead_lettered', 0)}; "
            f"acknowledged: {stats.get('acked', 0)} ({stats.get('acked_at_idle', 0)} when idle)")


def finish_distributed_run(server, keys: RunKeys, engine, *, site: str, archive: Archive | None = None,
                           status: str = RunStatus.OK) -> None:
    """Write the run's totals and status, the collected HTTP validators; release the lock; drop the
    work keys (fingerprints, queue) and let the bookkeeping keys expire."""
    meta = run_meta(server, keys.prefix, keys.run_id)
    totals = counts(server, keys.stats)
    failures = counts(server, keys.failures)
    dead = server.llen(keys.dead)
    if dead:
        failures["dead_lettered"] = dead
    if status == RunStatus.OK and archive is not None:
        for url, value in server.hgetall(keys.validators).items():
            etag, modified = json.loads(value)
            archive.set_validators(url.decode(), etag, modified)
    counters: dict[str, Any] = {name: totals.get(name, 0) for name in COUNTER_STATS}
    runs.finish_run(engine, keys.run_id, status=status, exit_code=0 if status == RunStatus.OK else None,
                    failures=failures, log_tail=run_summary(server, keys), **counters)
    if meta.get("holder"):
        runs.release_lock(engine, site, meta["holder"])
    server.delete(*keys.work_keys())
    expire_keys(server, keys.bookkeeping_keys(), DONE_KEY_TTL)
    logger.info("distributed run %s of %s finished: %s", keys.run_id, site, status)
