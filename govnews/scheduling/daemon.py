"""The crawl daemon (``govnews schedule`` / ``python scheduler.py``).

An APScheduler 3 ``BackgroundScheduler`` with one job per site profile (see
:mod:`govnews.scheduling.jobs`). Jobs live in the archive database (``SQLAlchemyJobStore``, table
:data:`JOBSTORE_TABLE`), so a restart keeps each job's next run time; a run missed while the daemon
was down is made up once (``coalesce=True``) if it is less than ``misfire_grace_time`` late.
``max_instances=1``: a site never overlaps itself in one daemon; the DB site lock excludes other
processes and machines.

Each job hands its site to a batch process (:class:`govnews.batch.BatchDispatcher`: the sites
whose jobs fire crawl together in one Scrapy process, ``max_parallel`` at a time, each with its own
lock, ``crawl_runs`` row and time limit; the process exits after ``batch_idle`` seconds with nothing
to do, and a crash of it leaves the daemon running and its runs closed ``interrupted``). With
``batch=False`` (or an injected ``run_crawl``) each job calls :func:`govnews.runner.run_crawl`
instead (one subprocess per crawl).
Profiles are re-read on SIGHUP and every ``reload_interval`` seconds; added, removed and changed
profiles add, remove and reschedule jobs (a file that stops parsing keeps its last good version).
SIGTERM/SIGINT: no new runs start, running crawls get SIGTERM and ``grace`` seconds, then SIGKILL,
and are recorded as ``interrupted``; the scheduler stops submitting jobs before its executor shuts
down; the daemon exits 0.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import Engine

from common.clock import LOCAL_TZ_NAME, utcnow
from crawler.profiles import SiteProfile, sites_dir
from govnews.runner import DEFAULT_GRACE, DEFAULT_TIME_LIMIT, absolute_db_url
from govnews.runner import run_crawl as _runner_run_crawl
from govnews.scheduling.jobs import (
    DEFAULT_MISFIRE_GRACE,
    SyncReport,
    active_runner,
    job_id,
    job_options,
    set_active_runner,
    sync_jobs,
)
from govnews.scheduling.profiles import load_profile_dir
from govnews.scheduling.triggers import describe_schedule
from storage import runs
from storage.db import default_db_url, make_engine, mask_url
from storage.enums import RunStatus, Trigger

__all__ = [
    "DEFAULT_MAX_PARALLEL", "DEFAULT_RELOAD_INTERVAL", "JOBSTORE_TABLE", "Daemon", "DaemonConfig",
    "DaemonScheduler", "run_daemon", "setup_logging",
]

logger = logging.getLogger("govnews.scheduler")

#: the level of a finished run's log line by its status (anything else: INFO)
RESULT_LOG_LEVELS: dict[str, int] = {RunStatus.FAILED: logging.ERROR, RunStatus.EMPTY: logging.WARNING,
                     RunStatus.TIMEOUT: logging.WARNING, RunStatus.LOCKED: logging.WARNING,
                     RunStatus.INTERRUPTED: logging.WARNING}

JOBSTORE_TABLE = "apscheduler_jobs"    # created by APScheduler in the archive DB; not an Alembic table
DEFAULT_RELOAD_INTERVAL = 60.0         # seconds between re-reads of sites/
DEFAULT_MAX_PARALLEL = 4               # crawls at once in one daemon
LOOP_SECONDS = 0.2                     # how often the main loop looks at its stop/reload flags


@dataclass
class DaemonConfig:
    sites_dir: str | os.PathLike | None = None
    db_url: str | None = None
    reload_interval: float = DEFAULT_RELOAD_INTERVAL
    time_limit: float | None = DEFAULT_TIME_LIMIT
    grace: float = DEFAULT_GRACE
    misfire_grace_time: int | None = DEFAULT_MISFIRE_GRACE
    max_parallel: int = DEFAULT_MAX_PARALLEL
    log_dir: str | os.PathLike | None = None
    jobstore: str = "db"                 # "db" (SQLAlchemyJobStore in the archive) or "memory"
    timezone: str = LOCAL_TZ_NAME
    redis_url: str | None = None         # distributed mode: enqueue runs for `govnews worker`s
    redis_prefix: str = "govnews"
    batch: bool = True                   # crawl in one batch process (govnews.batch), max_parallel at once
    include_unverified: bool = False     # also schedule `verified = false` profiles (issue 14)
    batch_idle: float = 10.0             # seconds a batch process waits for more sites before it exits


class DaemonScheduler(BackgroundScheduler):
    """A ``BackgroundScheduler`` that submits no job unless it is running.

    APScheduler 3's ``shutdown()`` marks the scheduler stopped, shuts its executors down and only
    then wakes the scheduler thread, which processes due jobs once more before it notices the stop
    (a paused scheduler is "stopped" by then, not "paused"). Any job that became due while the
    daemon waited for its crawls was submitted to the closed pool and logged with a traceback
    ("cannot schedule new futures after shutdown"). Here nothing is submitted once the scheduler
    is paused or stopped, so a clean SIGTERM logs no error.
    """

    def _process_jobs(self):
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


class Daemon:
    """The scheduler daemon. ``run()`` blocks until SIGTERM/SIGINT (or :meth:`request_stop`)."""

    def __init__(self, config: DaemonConfig, *, run_crawl: Callable[..., Any] | None = None,
                 scheduler=None, crawl_command: Callable[[SiteProfile], list[str]] | None = None):
        self.config = config
        # batch mode unless a run_crawl (tests) or a crawl command (per-site subprocess) is given
        self._batch = config.batch and run_crawl is None and crawl_command is None
        self._run_crawl = run_crawl or _runner_run_crawl
        self._batcher: Any = None
        self._crawl_command = crawl_command
        self.scheduler = scheduler
        self.profiles: dict[str, SiteProfile] = {}
        self.profile_errors: dict[str, str] = {}
        self.stop_event = threading.Event()        # set on shutdown: running crawls are stopped
        self._stop_requested = False
        self._reload_requested = False
        self._active: dict[str, int | None] = {}   # site -> crawl pid
        self._active_lock = threading.Lock()
        self._engine: Engine | None = None
        self.db_url = config.db_url

    # ---- setup
    def _make_scheduler(self) -> DaemonScheduler:
        jobstore: BaseJobStore
        if self.config.jobstore == "db":
            jobstore = SQLAlchemyJobStore(engine=make_engine(self.db_url), tablename=JOBSTORE_TABLE)
        else:
            jobstore = MemoryJobStore()
        # APScheduler itself logs skipped (max instances), missed (misfire grace) and failed runs.
        return DaemonScheduler(
            jobstores={"default": jobstore},
            executors={"default": ThreadPoolExecutor(max_workers=max(1, self.config.max_parallel))},
            job_defaults=job_options(self.config.misfire_grace_time),
            timezone=ZoneInfo(self.config.timezone),
        )

    def setup(self) -> None:
        self.db_url = absolute_db_url(self.db_url or default_db_url())
        self._engine = make_engine(self.db_url)
        if self.scheduler is None:
            self.scheduler = self._make_scheduler()
        set_active_runner(self)
        self.scheduler.start(paused=True)    # load stored jobs, sync them, then let them fire
        self.reload()
        self.scheduler.resume()

    # ---- profiles
    def reload(self) -> SyncReport:
        loaded = load_profile_dir(self.config.sites_dir, include_unverified=self.config.include_unverified)
        for name in sorted(set(loaded.unverified) - set(getattr(self, "_unverified_seen", ()))):
            logger.warning("not scheduling %s: verified = false (set verified = true, or --include-unverified)", name)
        self._unverified_seen = set(loaded.unverified)
        for path, msg in loaded.errors.items():
            if self.profile_errors.get(path) != msg:
                logger.error("profile not loaded: %s", msg)
        profiles = dict(loaded.profiles)
        for name, old in self.profiles.items():       # keep the last good version of broken files
            if old.path is not None and str(old.path) in loaded.errors and name not in profiles:
                logger.warning("keeping the previous version of %s (%s does not load)", name, old.path)
                profiles[name] = old
        self.profile_errors = loaded.errors
        report = sync_jobs(self.scheduler, profiles.values(), misfire_grace_time=self.config.misfire_grace_time)
        self.profiles = profiles
        if report.changed:
            logger.info("profiles: %s", report)
            for name in report.added + report.rescheduled:
                job = self.scheduler.get_job(job_id(name))
                if job is not None:
                    logger.info("%s: %s, next run %s", name, describe_schedule(profiles[name]),
                                getattr(job, "next_run_time", None))
        if not profiles:
            logger.warning("no site profiles in %s", sites_dir(self.config.sites_dir))
        return report

    # ---- runs
    def run_site(self, site: str):
        profile = self.profiles.get(site)
        if profile is None:
            logger.warning("job for unknown site %s; ignored", site)
            return None
        with self._active_lock:        # registered before shutdown looks, or not started at all
            if self.stop_event.is_set():
                return None
            self._active[site] = None

        def on_start(proc, run_id):
            with self._active_lock:
                self._active[site] = proc.pid

        try:
            log_path = None
            if self.config.log_dir:
                stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
                log_path = Path(self.config.log_dir) / site / f"{stamp}.log"
            kwargs = {}
            if self._crawl_command is not None:
                kwargs["command"] = self._crawl_command(profile)
            if self.config.redis_url:      # distributed mode: the run is enqueued, workers crawl
                return _enqueue_site(profile, redis_url=self.config.redis_url, engine=self._engine,
                                    prefix=self.config.redis_prefix, trigger=Trigger.SCHEDULE)
            if self._batch:                # many sites, one Scrapy process (govnews.batch)
                result = self._batch_dispatcher().run(profile, trigger=Trigger.SCHEDULE,
                                                      time_limit=self.config.time_limit, stop_event=self.stop_event)
            else:
                result = self._run_crawl(
                    profile, db_url=self.db_url, engine=self._engine, trigger=Trigger.SCHEDULE,
                    time_limit=self.config.time_limit, grace=self.config.grace,
                    stop_event=self.stop_event, log_path=log_path, on_start=on_start, **kwargs)
            self.log_result(result)
            return result
        finally:
            with self._active_lock:
                self._active.pop(site, None)

    def log_result(self, result: Any) -> None:
        """One line per finished run, at the level its status deserves: ``failed`` at ERROR,
        ``empty``, ``timeout``, ``locked`` and ``interrupted`` at WARNING (with the run's reason,
        from ``crawl_runs`` when the result has none: a batch run's), ``ok`` at INFO."""
        if result is None:
            return
        status = str(getattr(result, "status", ""))
        reason = getattr(result, "reason", None)
        run_id = getattr(result, "run_id", None)
        if reason is None and run_id is not None and status != RunStatus.OK and self._engine is not None:
            try:
                row = runs.get_run(self._engine, run_id)
                reason = row.get("reason") if row else None
            except Exception:  # noqa: BLE001 - the line is still worth logging
                logger.debug("could not read the reason of run %s", run_id, exc_info=True)
        level = RESULT_LOG_LEVELS.get(status, logging.INFO)
        logger.log(level, "%s: run %s %s%s", result.site, run_id, status, f": {reason}" if reason else "")

    def _batch_dispatcher(self):
        with self._active_lock:
            if self._batcher is None:
                from govnews.batch import BatchDispatcher

                self._batcher = BatchDispatcher(db_url=self.db_url, concurrency=max(1, self.config.max_parallel),
                                                grace=self.config.grace, log_dir=self.config.log_dir,
                                                idle_seconds=self.config.batch_idle)
            return self._batcher

    def active_sites(self) -> dict[str, int | None]:
        with self._active_lock:
            return dict(self._active)

    # ---- signals and main loop
    def request_stop(self, *_args) -> None:
        self._stop_requested = True

    def request_reload(self, *_args) -> None:
        self._reload_requested = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self.request_reload)

    def run(self, *, install_signals: bool = True) -> int:
        if install_signals:
            self.install_signal_handlers()
        self.setup()
        logger.info("scheduler started: %d site(s), database %s, reload every %ss",
                    len(self.profiles), mask_url(self.db_url or ""), self.config.reload_interval)
        next_reload = time.monotonic() + self.config.reload_interval
        try:
            while not self._stop_requested:
                time.sleep(LOOP_SECONDS)
                if self._reload_requested or time.monotonic() >= next_reload:
                    if self._reload_requested:
                        logger.info("SIGHUP: re-reading profiles")
                    self._reload_requested = False
                    next_reload = time.monotonic() + self.config.reload_interval
                    try:
                        self.reload()
                    except Exception:
                        logger.exception("profile reload failed; keeping the current jobs")
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        """Stop submitting jobs, stop the running crawls (each is recorded), then shut down."""
        active = self.active_sites()
        logger.info("stopping%s", f"; stopping running crawls: {', '.join(active)}" if active else "")
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()           # no job is submitted from here on (DaemonScheduler)
        with self._active_lock:
            self.stop_event.set()            # run_site starts nothing more
            batcher = self._batcher
        if batcher is not None:              # batch processes: SIGTERM, grace, SIGKILL; runs interrupted
            batcher.stop()
        # Each runner sends SIGTERM, waits `grace`, kills, and records the run as interrupted.
        deadline = time.monotonic() + self.config.grace + 30
        while self.active_sites() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.active_sites()
        if left:
            logger.error("crawls still being recorded at exit: %s", ", ".join(left))
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._engine is not None:
            self._engine.dispose()
        if active_runner() is self:
            set_active_runner(None)
        logger.info("scheduler stopped")


def _enqueue_site(profile: SiteProfile, **kwargs: Any):
    """:func:`govnews.distributed.enqueue_site`, imported on first use: it loads Scrapy and Redis,
    which a daemon that crawls locally (and every ``govnews`` command) does without."""
    from govnews.distributed import enqueue_site

    return enqueue_site(profile, **kwargs)


def run_daemon(sites: str | os.PathLike | None = None, db_url: str | None = None, **options: Any) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT; returns the exit status (0)."""
    return Daemon(DaemonConfig(sites_dir=sites, db_url=db_url, **options)).run()


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, str(level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
