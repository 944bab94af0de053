"""Distributed runs, the app side: ``govnews enqueue`` and the scheduler daemon create a run here
(the ``crawl_runs`` row, the site lock, the start requests in Redis); ``govnews worker`` processes
crawl it with the Scrapy components of :mod:`crawler.distributed`. See docs/DISTRIBUTED.md.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from scrapy import Request

from common.clock import utcnow
from common.hosts import holder_id
from crawler.distributed import (
    DEFAULT_PREFIX,
    REDIS_URL_ENV,
    ReliableQueue,
    RunDupeFilter,
    RunKeys,
    active_runs,
    connect,
    mask_redis_url,
    run_meta,
)
from crawler.distributed.connection import IDLE_SETTING, LEASE_SETTING, PREFIX_SETTING, WORKER_NAME_ENV
from crawler.distributed.finish import run_summary
from crawler.distributed.queue import RUN_KEY_TTL, epoch_now, expire_keys, publish_run, runs_key, unpublish_run
from crawler.spiders.gov_news import GovNewsSpider
from govnews.runner import DB_URL_ENV, RUN_ID_ENV, RunResult, StorageRunStore, absolute_db_url, terminate
from storage import runs
from storage.db import default_db_url, make_engine
from storage.enums import RunStatus, Trigger

logger = logging.getLogger(__name__)

__all__ = ["Worker", "abandon_run", "enqueue_site", "redis_run_holder", "start_requests_for"]


def redis_run_holder(run_id: int) -> str:
    """The site-lock holder of a distributed run: ``redis-run:<id>@<host>`` (not ``host:pid``: no
    process holds it, and ``storage.runs`` never takes it over)."""
    return f"redis-run:{run_id}@{socket.gethostname()}"


def start_requests_for(spider) -> list[Request]:
    """The requests of ``spider.start()`` (start URLs, feeds, sitemaps), outside any reactor."""
    async def collect():
        return [r async for r in spider.start() if isinstance(r, Request)]

    return asyncio.run(collect())


def abandon_run(server, prefix: str, site: str, run_id: int, engine, note: str) -> None:
    """Drop a run whose workers are gone (its site lock expired): record it failed, delete its keys."""
    keys = RunKeys(prefix, run_id)
    row = runs.get_run(engine, run_id)
    if row is not None and row["status"] == RunStatus.RUNNING:
        runs.finish_run(engine, run_id, status=RunStatus.FAILED,
                        log_tail=note + "\n" + run_summary(server, keys))
    unpublish_run(server, keys, site)
    server.delete(*keys.all_keys())


def enqueue_site(profile, *, redis_url: str, db_url: str | None = None, engine=None,
                 prefix: str = DEFAULT_PREFIX, trigger: str = Trigger.MANUAL, lock_ttl: float = 600.0,
                 full_walk: bool = False, server=None) -> RunResult:
    """Create the run of ``profile`` (a ``SiteProfile``), take the site lock for it and push the
    start requests into Redis. Returns a :class:`govnews.runner.RunResult` with status ``enqueued``
    or ``locked`` (another crawl or distributed run of the site holds the lock)."""
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
            store.finish(run_id, status=RunStatus.LOCKED, exit_code=None, log_tail=note)
            logger.warning("%s (run %s)", note, run_id)
            return RunResult(site, RunStatus.LOCKED, run_id=run_id, log_tail=note, started_at=started,
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
        holder = redis_run_holder(run_id)
        if not runs.acquire_lock(engine, site, holder, ttl_seconds=lock_ttl):
            note = f"[enqueue] lost the lock race for {site!r}"
            store.finish(run_id, status=RunStatus.LOCKED, exit_code=None, log_tail=note)
            return RunResult(site, RunStatus.LOCKED, run_id=run_id, log_tail=note, started_at=started,
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
                "enqueued_at": epoch_now(), "enqueued_by": holder_id(),
            })
            expire_keys(server, keys.all_keys(), RUN_KEY_TTL)
            publish_run(server, keys, site)      # published: workers may start now
        except BaseException as exc:
            store.finish(run_id, status=RunStatus.FAILED, exit_code=None, log_tail=f"[enqueue] failed: {exc!r}")
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


# --------------------------------------------------------------------------------------- worker

CHILD_IDLE_TIMEOUT = 10.0      # a crawl process whose run vanished before it joined exits after this
RESPAWN_COOLDOWN = 3.0         # seconds before a crawl of a still-active run is started again
POLL_SECONDS = 0.5
#: environment of a crawl child: secrets travel here, never on its command line (readable in ``ps``)
CHILD_REDIS_URL_ENV = REDIS_URL_ENV
CHILD_DB_URL_ENV = DB_URL_ENV


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the crawl gets SIGKILL when its worker dies, so "kill the worker" kills its crawl."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass
class Child:
    site: str
    run_id: int
    proc: subprocess.Popen
    started: float = field(default_factory=time.monotonic)


class Worker:
    """``govnews worker``: watches ``<prefix>:runs`` and runs one ``scrapy crawl gov_news`` process
    per run of a site it serves (at most ``max_parallel`` at once), with the run's profile (sent in
    Redis by enqueue) written to a temporary file. The Redis and database URLs reach the child in
    its environment (``GOVNEWS_REDIS_URL``, ``GOVNEWS_DB_URL``), not on its command line."""

    def __init__(self, *, redis_url: str, db_url: str, prefix: str, idle_timeout: float,
                 sites: tuple[str, ...] | list[str] = (), max_parallel: int = 1, lease: float = 60.0,
                 name: str | None = None, settings: tuple[str, ...] | list[str] = (), grace: float = 30.0,
                 server=None):
        self.redis_url, self.db_url, self.prefix = redis_url, db_url, prefix
        self.idle_timeout, self.sites, self.max_parallel = idle_timeout, set(sites), max(1, max_parallel)
        self.lease, self.name, self.settings, self.grace = lease, name or holder_id(), tuple(settings), grace
        self.server = server if server is not None else connect(redis_url)
        self.children: dict[str, Child] = {}
        self.cooldown: dict[tuple[str, int], float] = {}
        self.stopping = False
        self.tmp = Path(tempfile.mkdtemp(prefix="govnews-worker-"))
        self.crawls = 0

    def command(self, site: str, run_id: int, meta: dict[str, str]) -> list[str]:
        """The crawl child's argv (no secret in it: see :meth:`child_env`)."""
        profile = self.tmp / f"{site}-{run_id}.toml"
        profile.write_text(meta.get("profile", ""), encoding="utf-8")
        cmd = [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
               "-s", f"{PREFIX_SETTING}={self.prefix}", "-s", f"{IDLE_SETTING}={CHILD_IDLE_TIMEOUT}",
               "-s", f"{LEASE_SETTING}={self.lease}"]
        if meta.get("full_walk") == "1":
            cmd += ["-a", "full_walk=1"]
        for s in self.settings:
            cmd += ["-s", s]
        return cmd

    def child_env(self) -> dict[str, str]:
        """The crawl child's environment: the worker's, plus the Redis and database URLs, the worker
        name and the Scrapy settings module (so the child does not depend on the working directory)."""
        env = dict(os.environ)
        env.pop(RUN_ID_ENV, None)
        env.update({CHILD_REDIS_URL_ENV: self.redis_url, CHILD_DB_URL_ENV: self.db_url,
                    WORKER_NAME_ENV: self.name, "PYTHONUNBUFFERED": "1"})
        env.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
        return env

    def spawn(self, site: str, run_id: int) -> None:
        meta = run_meta(self.server, self.prefix, run_id)
        if not meta.get("profile"):
            logger.error("run %s of %s has no profile in Redis; skipped", run_id, site)
            self.cooldown[(site, run_id)] = time.monotonic() + 60
            return
        proc = subprocess.Popen(self.command(site, run_id, meta), env=self.child_env(),
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.children[site] = Child(site, run_id, proc)
        self.crawls += 1
        logger.info("worker %s: crawling run %s of %s (pid %s)", self.name, run_id, site, proc.pid)

    def reap_children(self) -> None:
        for site, child in list(self.children.items()):
            rc = child.proc.poll()
            if rc is None:
                continue
            del self.children[site]
            logger.info("worker %s: crawl of %s (run %s) exited with %s", self.name, site, child.run_id, rc)
            self.cooldown[(site, child.run_id)] = time.monotonic() + RESPAWN_COOLDOWN

    def eligible(self) -> dict[str, int]:
        now = time.monotonic()
        return {site: rid for site, rid in active_runs(self.server, self.prefix).items()
                if (not self.sites or site in self.sites) and self.cooldown.get((site, rid), 0) <= now}

    def stop(self, *_args) -> None:
        self.stopping = True

    def step(self) -> bool:
        """One round: reap exited crawls, start crawls of eligible runs. True when there is work."""
        self.reap_children()
        eligible = self.eligible()
        for site, rid in sorted(eligible.items()):
            if len(self.children) >= self.max_parallel:
                break
            if site not in self.children:
                self.spawn(site, rid)
        return bool(self.children or eligible)

    def run(self) -> int:
        logger.info("worker %s: watching %s (prefix %s) for %s; idle timeout %s", self.name,
                    mask_redis_url(self.redis_url), self.prefix,
                    ", ".join(sorted(self.sites)) or "every site", self.idle_timeout or "none")
        idle_since = time.monotonic()
        try:
            while not self.stopping:
                if self.step():
                    idle_since = time.monotonic()
                elif self.idle_timeout and time.monotonic() - idle_since >= self.idle_timeout:
                    logger.info("worker %s: no work for %ss; exiting", self.name, self.idle_timeout)
                    break
                time.sleep(POLL_SECONDS)
        finally:
            self.close()
        return 0

    def close(self) -> None:
        for child in self.children.values():
            terminate(child.proc, self.grace)
        for f in self.tmp.glob("*"):
            f.unlink(missing_ok=True)
        self.tmp.rmdir()
