"""Scheduling: the crawl daemon, "which sites are due" for system cron, and site health.

Daemon (``python scheduler.py`` / ``govnews schedule``)
    An APScheduler 3 ``BackgroundScheduler`` with one job per site profile (id ``govnews:site:NAME``):
    a cron trigger from the profile's 5-field ``schedule`` in its ``timezone`` (Asia/Shanghai by
    default), or an interval trigger when the profile sets ``interval_seconds``. Jobs live in the
    archive database (``SQLAlchemyJobStore``, table :data:`JOBSTORE_TABLE`), so a restart keeps each
    job's next run time; a run missed while the daemon was down is made up once (``coalesce=True``)
    if it is less than ``misfire_grace_time`` late. ``max_instances=1``: a site never overlaps itself
    in one daemon; the DB site lock excludes other processes and machines.

    Each job calls :func:`govnews.runner.run_crawl` (subprocess, time limit, ``crawl_runs`` row).
    Profiles are re-read on SIGHUP and every ``reload_interval`` seconds; added, removed and changed
    profiles add, remove and reschedule jobs (a file that stops parsing keeps its last good
    version). SIGTERM/SIGINT: no new runs start, running crawls get SIGTERM and ``grace`` seconds,
    then SIGKILL, and are recorded as ``interrupted``; the daemon exits 0.

System cron (``govnews crawl --due``)
    :func:`due_sites` and :func:`run_due`.

Health (``govnews stats``)
    :func:`site_health`.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor as _Pool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.profiles import DEFAULT_TIMEZONE, ProfileError, SiteProfile, load_profile, sites_dir
from govnews import runner as _runner

logger = logging.getLogger("govnews.scheduler")

JOB_PREFIX = "govnews:site:"
JOBSTORE_TABLE = "apscheduler_jobs"    # created by APScheduler in the archive DB; not an Alembic table
DEFAULT_RELOAD_INTERVAL = 60.0         # seconds between re-reads of sites/
DEFAULT_MISFIRE_GRACE = 3600           # seconds a missed run may be late and still run (once)
DEFAULT_MAX_PARALLEL = 4               # crawls at once in one daemon
DEFAULT_FAILURE_FACTOR = 3.0           # "no successful run within 3x the schedule interval"
DEFAULT_STALE_DAYS = 7.0               # "no new articles for N days"
SKIP_STATUSES_FOR_DUE = ("locked",)    # runs that did not crawl do not count as "the last run"

UTC = UTC


# --------------------------------------------------------------------------- triggers


def profile_timezone(profile: SiteProfile) -> ZoneInfo:
    return ZoneInfo(profile.timezone or DEFAULT_TIMEZONE)


def build_trigger(profile: SiteProfile, *, start_date: datetime | None = None):
    """The APScheduler trigger of a profile: interval when ``interval_seconds`` is set, else cron."""
    tz = profile_timezone(profile)
    if profile.interval_seconds:
        return IntervalTrigger(seconds=float(profile.interval_seconds), timezone=tz,
                               start_date=start_date)
    try:
        return CronTrigger.from_crontab(profile.schedule, timezone=tz)
    except ValueError as exc:
        raise ProfileError(f"{profile.path or profile.name}: bad schedule {profile.schedule!r}: {exc}")


def trigger_fingerprint(profile: SiteProfile) -> str:
    """What decides a site's run times; a change means the job must be rescheduled."""
    tz = profile.timezone or DEFAULT_TIMEZONE
    if profile.interval_seconds:
        return f"interval:{float(profile.interval_seconds)!r}@{tz}"
    return f"cron:{' '.join(profile.schedule.split())}@{tz}"


def describe_schedule(profile: SiteProfile) -> str:
    if profile.interval_seconds:
        return f"every {profile.interval_seconds:g}s"
    tz = profile.timezone or DEFAULT_TIMEZONE
    return f"{profile.schedule} ({tz})"


def _aware(dt: datetime | None) -> datetime | None:
    """Naive datetimes from the database are UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def next_fire_times(profile: SiteProfile, now: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` run times at or after ``now`` (aware, in the profile's timezone)."""
    now = _aware(now)
    if profile.interval_seconds:
        step = timedelta(seconds=float(profile.interval_seconds))
        return [(now + step * i).astimezone(profile_timezone(profile)) for i in range(count)]
    trig = build_trigger(profile)
    out: list[datetime] = []
    prev = None
    for _ in range(count):
        nxt = trig.get_next_fire_time(prev, now if prev is None else prev)
        if nxt is None:
            break
        out.append(nxt)
        prev = nxt
    return out


def expected_interval(profile: SiteProfile, now: datetime | None = None) -> timedelta:
    """How long apart runs are: ``interval_seconds``, or the longest gap between the next cron
    fire times after ``now`` (so "0 8 * * 1-5" gives 3 days: Friday to Monday)."""
    if profile.interval_seconds:
        return timedelta(seconds=float(profile.interval_seconds))
    now = _aware(now) or datetime.now(UTC)
    times = next_fire_times(profile, now, count=16)
    gaps = [b - a for a, b in zip(times, times[1:])]
    return max(gaps) if gaps else timedelta(days=1)


# --------------------------------------------------------------------------- profiles


@dataclass
class ProfileSet:
    profiles: dict[str, SiteProfile] = field(default_factory=dict)   # by name
    errors: dict[str, str] = field(default_factory=dict)             # file path -> message


def load_profile_dir(directory: str | os.PathLike | None = None) -> ProfileSet:
    """Every profile in ``sites/`` (or ``directory``), like ``crawler.profiles.list_profiles``, but
    tolerant: an invalid file is reported in ``errors`` instead of failing the whole directory (a
    daemon must not drop every job because one file is being edited)."""
    out = ProfileSet()
    d = sites_dir(directory).resolve()
    if not d.is_dir():
        return out
    for path in sorted(d.glob("*.toml")):
        try:
            profile = load_profile(str(path))
            build_trigger(profile)          # validate the schedule now, not at the next reload
            profile_timezone(profile)
        except (ProfileError, OSError, ValueError, KeyError) as exc:
            out.errors[str(path)] = str(exc)
            continue
        if profile.name in out.profiles:
            out.errors[str(path)] = (f"{path}: duplicate site name {profile.name!r} "
                                     f"(also in {out.profiles[profile.name].path})")
            continue
        out.profiles[profile.name] = profile
    return out


# --------------------------------------------------------------------------- jobs


def job_id(site: str) -> str:
    return JOB_PREFIX + site


def run_scheduled_site(site: str, fingerprint: str = "") -> str | None:
    """The job function stored in the job store (``govnews.scheduling:run_scheduled_site``)."""
    daemon = Daemon.active
    if daemon is None:
        logger.warning("job for %s fired outside a running daemon; ignored", site)
        return None
    result = daemon.run_site(site)
    return result.status if result is not None else None


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.rescheduled)

    def __str__(self) -> str:
        parts = [f"{k} {', '.join(v)}" for k, v in (("added", self.added), ("removed", self.removed),
                                                     ("rescheduled", self.rescheduled)) if v]
        return "; ".join(parts) or "no changes"


def job_options(misfire_grace_time: int | None = DEFAULT_MISFIRE_GRACE) -> dict:
    return {"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace_time}


def sync_jobs(scheduler, profiles: Iterable[SiteProfile], *, jobstore: str = "default",
              misfire_grace_time: int | None = DEFAULT_MISFIRE_GRACE,
              func: Callable = run_scheduled_site) -> SyncReport:
    """Make the scheduler's ``govnews:site:*`` jobs match ``profiles``: add jobs for new sites,
    remove jobs of sites that are gone, reschedule jobs whose schedule/timezone/interval changed.
    Unchanged jobs keep their next run time (also across daemon restarts)."""
    report = SyncReport()
    wanted = {job_id(p.name): p for p in profiles}
    existing = {j.id: j for j in scheduler.get_jobs(jobstore=jobstore) if j.id.startswith(JOB_PREFIX)}
    opts = job_options(misfire_grace_time)
    for jid in sorted(set(existing) - set(wanted)):
        scheduler.remove_job(jid, jobstore=jobstore)
        report.removed.append(jid[len(JOB_PREFIX):])
    for jid, profile in sorted(wanted.items()):
        fp = trigger_fingerprint(profile)
        kwargs = {"site": profile.name, "fingerprint": fp}
        job = existing.get(jid)
        if job is None:
            scheduler.add_job(func, trigger=build_trigger(profile), id=jid,
                              name=f"crawl {profile.name}", kwargs=kwargs, jobstore=jobstore,
                              replace_existing=True, **opts)
            report.added.append(profile.name)
            continue
        if job.kwargs.get("fingerprint") != fp:
            scheduler.modify_job(jid, jobstore=jobstore, kwargs=kwargs, **opts)
            scheduler.reschedule_job(jid, jobstore=jobstore, trigger=build_trigger(profile))
            report.rescheduled.append(profile.name)
            continue
        if (job.coalesce, job.max_instances, job.misfire_grace_time) != (
                opts["coalesce"], opts["max_instances"], opts["misfire_grace_time"]) \
                or job.kwargs != kwargs or getattr(job, "func", None) is not func:
            scheduler.modify_job(jid, jobstore=jobstore, func=func, kwargs=kwargs, **opts)
        report.unchanged.append(profile.name)
    return report


# --------------------------------------------------------------------------- daemon


@dataclass
class DaemonConfig:
    sites_dir: str | os.PathLike | None = None
    db_url: str | None = None
    reload_interval: float = DEFAULT_RELOAD_INTERVAL
    time_limit: float | None = _runner.DEFAULT_TIME_LIMIT
    grace: float = _runner.DEFAULT_GRACE
    misfire_grace_time: int | None = DEFAULT_MISFIRE_GRACE
    max_parallel: int = DEFAULT_MAX_PARALLEL
    log_dir: str | os.PathLike | None = None
    jobstore: str = "db"                 # "db" (SQLAlchemyJobStore in the archive) or "memory"
    timezone: str = DEFAULT_TIMEZONE
    redis_url: str | None = None         # distributed mode: enqueue runs for `govnews worker`s
    redis_prefix: str = "govnews"


class Daemon:
    """The scheduler daemon. ``run()`` blocks until SIGTERM/SIGINT (or :meth:`request_stop`)."""

    active: Daemon | None = None

    def __init__(self, config: DaemonConfig, *, run_crawl: Callable = _runner.run_crawl,
                 scheduler=None, crawl_command: Callable | None = None):
        self.config = config
        self._run_crawl = run_crawl
        self._crawl_command = crawl_command
        self.scheduler = scheduler
        self.profiles: dict[str, SiteProfile] = {}
        self.profile_errors: dict[str, str] = {}
        self.stop_event = threading.Event()        # set on shutdown: running crawls are stopped
        self._stop_requested = False
        self._reload_requested = False
        self._active: dict[str, int | None] = {}   # site -> crawl pid
        self._active_lock = threading.Lock()
        self._engine = None
        self.db_url = config.db_url

    # ---- setup
    def _make_scheduler(self):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        jobstores = {}
        if self.config.jobstore == "db":
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

            from storage.db import make_engine

            jobstores["default"] = SQLAlchemyJobStore(engine=make_engine(self.db_url),
                                                      tablename=JOBSTORE_TABLE)
        else:
            from apscheduler.jobstores.memory import MemoryJobStore

            jobstores["default"] = MemoryJobStore()
        sched = BackgroundScheduler(
            jobstores=jobstores,
            executors={"default": ThreadPoolExecutor(max_workers=max(1, self.config.max_parallel))},
            job_defaults=job_options(self.config.misfire_grace_time),
            timezone=ZoneInfo(self.config.timezone),
        )
        # APScheduler itself logs skipped (max instances), missed (misfire grace) and failed runs.
        return sched

    def setup(self) -> None:
        from storage.db import default_db_url, make_engine

        self.db_url = _runner.absolute_db_url(self.db_url or default_db_url())

        self._engine = make_engine(self.db_url)
        if self.scheduler is None:
            self.scheduler = self._make_scheduler()
        Daemon.active = self
        self.scheduler.start(paused=True)    # load stored jobs, sync them, then let them fire
        self.reload()
        self.scheduler.resume()

    # ---- profiles
    def reload(self) -> SyncReport:
        loaded = load_profile_dir(self.config.sites_dir)
        for path, msg in loaded.errors.items():
            if self.profile_errors.get(path) != msg:
                logger.error("profile not loaded: %s", msg)
        profiles = dict(loaded.profiles)
        for name, old in self.profiles.items():       # keep the last good version of broken files
            if old.path is not None and str(old.path) in loaded.errors and name not in profiles:
                logger.warning("keeping the previous version of %s (%s does not load)", name, old.path)
                profiles[name] = old
        self.profile_errors = loaded.errors
        report = sync_jobs(self.scheduler, profiles.values(),
                           misfire_grace_time=self.config.misfire_grace_time)
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
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                log_path = Path(self.config.log_dir) / site / f"{stamp}.log"
            kwargs = {}
            if self._crawl_command is not None:
                kwargs["command"] = self._crawl_command(profile)
            if self.config.redis_url:      # distributed mode: the run is enqueued, workers crawl
                from crawler.distributed import enqueue_site

                return enqueue_site(profile, redis_url=self.config.redis_url, engine=self._engine,
                                    prefix=self.config.redis_prefix, trigger="schedule")
            return self._run_crawl(
                profile, db_url=self.db_url, engine=self._engine, trigger="schedule",
                time_limit=self.config.time_limit, grace=self.config.grace,
                stop_event=self.stop_event, log_path=log_path, on_start=on_start, **kwargs)
        finally:
            with self._active_lock:
                self._active.pop(site, None)

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
                    len(self.profiles), _mask(self.db_url), self.config.reload_interval)
        next_reload = time.monotonic() + self.config.reload_interval
        try:
            while not self._stop_requested:
                time.sleep(0.2)
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
        active = self.active_sites()
        logger.info("stopping%s", f"; stopping running crawls: {', '.join(active)}" if active else "")
        if self.scheduler is not None and self.scheduler.running:
            try:
                self.scheduler.pause()
            except Exception:  # pragma: no cover
                pass
        with self._active_lock:
            self.stop_event.set()
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
        if Daemon.active is self:
            Daemon.active = None
        logger.info("scheduler stopped")


def _mask(url: str | None) -> str:
    try:
        from storage.db import mask_url

        return mask_url(url or "")
    except Exception:  # pragma: no cover
        return "<db>"


def run_daemon(sites: str | os.PathLike | None = None, db_url: str | None = None, **options) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT; returns the exit status (0)."""
    return Daemon(DaemonConfig(sites_dir=sites, db_url=db_url, **options)).run()


# --------------------------------------------------------------------------- system cron: due sites


def due_sites(profiles: Iterable[SiteProfile], last_run_by_site: Mapping[str, datetime | None],
              now: datetime | None = None) -> list[SiteProfile]:
    """Sites whose schedule had a fire time after their last run started (``last < t <= now``), or
    that never ran. Interval profiles are due ``interval_seconds`` after the last start."""
    now = _aware(now) or datetime.now(UTC)
    due = []
    for profile in profiles:
        last = _aware(last_run_by_site.get(profile.name))
        if last is None:
            due.append(profile)
            continue
        if profile.interval_seconds:
            if now - last >= timedelta(seconds=float(profile.interval_seconds)):
                due.append(profile)
            continue
        trig = build_trigger(profile)
        # the first fire time strictly after the last start
        nxt = trig.get_next_fire_time(None, last + timedelta(microseconds=1))
        if nxt is not None and nxt <= now:
            due.append(profile)
    return due


def _runs_table(engine):
    from storage.models import CrawlRun

    return CrawlRun.__table__


def last_runs_by_site(engine, *, skip_statuses: Sequence[str] = SKIP_STATUSES_FOR_DUE
                      ) -> dict[str, datetime]:
    """Start time (aware UTC) of each site's latest run in ``crawl_runs``, not counting runs that
    did not crawl (status ``locked``)."""
    from sqlalchemy import func, select

    t = _runs_table(engine)
    q = select(t.c.site, func.max(t.c.started_at)).group_by(t.c.site)
    if skip_statuses:
        q = q.where(t.c.status.not_in(list(skip_statuses)))
    with engine.connect() as conn:
        return {site: _aware(ts) for site, ts in conn.execute(q) if ts is not None}


def run_due(
    profiles: Iterable[SiteProfile],
    *,
    db_url: str | None = None,
    engine=None,
    now: datetime | None = None,
    last_run_by_site: Mapping[str, datetime | None] | None = None,
    trigger: str = "due",
    time_limit: float | None = _runner.DEFAULT_TIME_LIMIT,
    grace: float = _runner.DEFAULT_GRACE,
    max_parallel: int = 1,
    stop_event: threading.Event | None = None,
    handle_signals: bool = False,
    run_crawl: Callable = _runner.run_crawl,
    dry_run: bool = False,
    **run_kwargs,
) -> list:
    """Crawl every due site (see :func:`due_sites`) and return the ``RunResult`` list (or, with
    ``dry_run``, the due profiles). ``handle_signals``: SIGTERM/SIGINT stop the running crawls
    gracefully (recorded ``interrupted``) instead of killing this process; call from the main
    thread."""
    from storage.db import default_db_url, make_engine

    db_url = _runner.absolute_db_url(db_url or default_db_url())
    own_engine = None
    if engine is None:
        engine = own_engine = make_engine(db_url)
    try:
        profiles = list(profiles)
        if last_run_by_site is None:
            last_run_by_site = last_runs_by_site(engine)
        due = due_sites(profiles, last_run_by_site, now)
        if dry_run or not due:
            return due
        stop_event = stop_event or threading.Event()
        old_handlers = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                old_handlers[sig] = signal.signal(sig, lambda *_: stop_event.set())

        def one(profile):
            if stop_event.is_set():
                return None
            return run_crawl(profile, db_url=db_url, engine=engine, trigger=trigger,
                             time_limit=time_limit, grace=grace, stop_event=stop_event, **run_kwargs)

        try:
            if max_parallel <= 1:
                results = [one(p) for p in due]
            else:
                with _Pool(max_workers=max_parallel) as pool:
                    results = list(pool.map(one, due))
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
        return [r for r in results if r is not None]
    finally:
        if own_engine is not None:
            own_engine.dispose()


# --------------------------------------------------------------------------- health


def site_health(engine, profiles: Iterable[SiteProfile], now: datetime | None = None, *,
                failure_factor: float = DEFAULT_FAILURE_FACTOR,
                stale_days: float = DEFAULT_STALE_DAYS) -> list[dict]:
    """One dict per profile, in profile order, from ``crawl_runs``:

    ``site, title, schedule, expected_interval_s, runs, last_run_at, last_status, last_ok_at,
    last_new_articles_at, consecutive_failures, running_since, flags, problems, level``.

    ``flags`` (codes) / ``problems`` (sentences): ``never_ran``; ``overdue`` (no run started within
    ``failure_factor`` x the schedule interval: scheduler or cron not running); ``failing`` (no
    successful run within that time); ``no_new_articles`` (no run found a new article for
    ``stale_days`` days while the site has been crawled that long); ``last_failed`` (the last
    finished run failed or timed out). ``level``: ``ok``, ``warning`` (never_ran / last_failed
    only) or ``problem``. Times are aware UTC."""
    from sqlalchemy import select

    now = _aware(now) or datetime.now(UTC)
    t = _runs_table(engine)
    profiles = list(profiles)
    names = [p.name for p in profiles]
    by_site: dict[str, list] = {n: [] for n in names}
    if names:
        q = (select(t.c.site, t.c.started_at, t.c.finished_at, t.c.status, t.c.new_articles)
             .where(t.c.site.in_(names)).order_by(t.c.site, t.c.started_at.desc(), t.c.id.desc()))
        with engine.connect() as conn:
            for row in conn.execute(q):
                by_site[row.site].append(row)
    stale = timedelta(days=stale_days)
    out = []
    for p in profiles:
        rows = by_site.get(p.name, [])
        interval = expected_interval(p, now)
        window = interval * failure_factor
        crawled = [r for r in rows if r.status not in ("locked",)]
        finished = [r for r in crawled if r.status != "running"]
        last = crawled[0] if crawled else None
        last_ok = next((r for r in finished if r.status == "ok"), None)
        last_new = next((r for r in finished if (r.new_articles or 0) > 0), None)
        first = _aware(crawled[-1].started_at) if crawled else None
        consecutive = 0
        for r in finished:
            if r.status == "ok":
                break
            if r.status in ("failed", "timeout"):
                consecutive += 1
        running = next((r for r in crawled if r.status == "running"), None)
        flags: list[str] = []
        problems: list[str] = []
        if last is None:
            flags.append("never_ran")
            problems.append("has never been crawled")
        else:
            last_at = _aware(last.started_at)
            if now - last_at > window:
                flags.append("overdue")
                problems.append(f"no run for {_human(now - last_at)} (expected every {_human(interval)})")
            ok_at = _aware(last_ok.started_at) if last_ok else None
            if (ok_at is None and now - first > window) or (ok_at is not None and now - ok_at > window):
                flags.append("failing")
                problems.append(
                    f"no successful run for {_human(now - ok_at)}" if ok_at
                    else f"no successful run since the first run {_human(now - first)} ago")
            new_at = _aware(last_new.started_at) if last_new else None
            if now - first > stale and (new_at is None or now - new_at > stale):
                flags.append("no_new_articles")
                problems.append(f"no new articles for {_human(now - new_at)}" if new_at
                                else f"no new articles since the first run {_human(now - first)} ago")
            if finished and finished[0].status in ("failed", "timeout"):
                flags.append("last_failed")
                problems.append(f"last run {finished[0].status}"
                                + (f" ({consecutive} in a row)" if consecutive > 1 else ""))
        serious = set(flags) - {"never_ran", "last_failed"}
        out.append({
            "site": p.name,
            "title": p.title,
            "schedule": describe_schedule(p),
            "expected_interval_s": interval.total_seconds(),
            "runs": len(crawled),
            "last_run_at": _aware(last.started_at) if last else None,
            "last_status": last.status if last else None,
            "last_ok_at": _aware(last_ok.started_at) if last_ok else None,
            "last_new_articles_at": _aware(last_new.started_at) if last_new else None,
            "consecutive_failures": consecutive,
            "running_since": _aware(running.started_at) if running else None,
            "flags": flags,
            "problems": problems,
            "level": "problem" if serious else ("warning" if flags else "ok"),
        })
    return out


def _human(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f} days"


# --------------------------------------------------------------------------- CLI entry (scheduler.py)


def add_daemon_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--sites", metavar="DIR", default=None,
                        help="profile directory (default: $GOVNEWS_SITES_DIR or sites/)")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="archive database URL (default: $GOVNEWS_DB_URL or sqlite:///data/archive.db)")
    parser.add_argument("--reload-interval", type=float, default=DEFAULT_RELOAD_INTERVAL, metavar="S",
                        help="re-read profiles every S seconds (also on SIGHUP; default %(default)s)")
    parser.add_argument("--time-limit", type=float, default=_runner.DEFAULT_TIME_LIMIT, metavar="S",
                        help="stop a crawl after S seconds (default %(default)s)")
    parser.add_argument("--grace", type=float, default=_runner.DEFAULT_GRACE, metavar="S",
                        help="seconds between SIGTERM and SIGKILL for a crawl (default %(default)s)")
    parser.add_argument("--misfire-grace", type=int, default=DEFAULT_MISFIRE_GRACE, metavar="S",
                        help="a run missed by at most S seconds (daemon down) still runs once "
                             "(default %(default)s)")
    parser.add_argument("--max-parallel", type=int, default=DEFAULT_MAX_PARALLEL, metavar="N",
                        help="crawls at once (default %(default)s)")
    parser.add_argument("--log-dir", metavar="DIR", default=None,
                        help="write each crawl's full output to DIR/<site>/<time>.log")
    parser.add_argument("--redis-url", metavar="URL", default=os.environ.get("GOVNEWS_REDIS_URL"),
                        help="distributed mode: enqueue each run in this Redis for `govnews worker`s")
    parser.add_argument("--memory-jobstore", action="store_true",
                        help="keep jobs in memory instead of the database table " + JOBSTORE_TABLE)
    parser.add_argument("--log-level", default=os.environ.get("GOVNEWS_LOG_LEVEL", "INFO"),
                        help="DEBUG, INFO, WARNING (default %(default)s)")
    return parser


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, str(level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_daemon_arguments(argparse.ArgumentParser(
        prog="scheduler.py",
        description="Crawl every site profile on its schedule (APScheduler daemon)."))
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    return run_daemon(
        args.sites, args.db, reload_interval=args.reload_interval, time_limit=args.time_limit,
        grace=args.grace, misfire_grace_time=args.misfire_grace, max_parallel=args.max_parallel,
        log_dir=args.log_dir, jobstore="memory" if args.memory_jobstore else "db",
        redis_url=args.redis_url or None)
