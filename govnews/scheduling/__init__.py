"""Scheduling: the crawl daemon, "which sites are due" for system cron, and site health.

One module per job:

* :mod:`~govnews.scheduling.triggers`: a profile's APScheduler trigger, fire times, interval;
* :mod:`~govnews.scheduling.profiles`: the profiles of the sites directory, read tolerantly;
* :mod:`~govnews.scheduling.jobs`: one job per site, kept in step with the profiles;
* :mod:`~govnews.scheduling.daemon`: the daemon (``govnews schedule`` / ``python scheduler.py``);
* :mod:`~govnews.scheduling.due`: system cron (``govnews crawl --due``);
* :mod:`~govnews.scheduling.health`: site health (``govnews stats``).

Everything public is re-exported here: ``from govnews.scheduling import Daemon, run_due, ...``.
The command line is the click command ``govnews schedule`` (``govnews.commands.schedule``).
"""
from __future__ import annotations

from govnews.scheduling.daemon import (
    DEFAULT_MAX_PARALLEL,
    DEFAULT_RELOAD_INTERVAL,
    JOBSTORE_TABLE,
    Daemon,
    DaemonConfig,
    DaemonScheduler,
    run_daemon,
    setup_logging,
)
from govnews.scheduling.due import SKIP_STATUSES_FOR_DUE, due_sites, last_runs_by_site, run_due
from govnews.scheduling.health import DEFAULT_FAILURE_FACTOR, DEFAULT_STALE_DAYS, human_duration, site_health
from govnews.scheduling.jobs import (
    DEFAULT_MISFIRE_GRACE,
    JOB_PREFIX,
    SyncReport,
    active_runner,
    job_id,
    job_options,
    run_scheduled_site,
    set_active_runner,
    sync_jobs,
)
from govnews.scheduling.profiles import ProfileSet, load_profile_dir
from govnews.scheduling.triggers import (
    as_aware,
    build_trigger,
    describe_schedule,
    expected_interval,
    next_fire_times,
    profile_timezone,
    trigger_fingerprint,
)

__all__ = [
    "DEFAULT_FAILURE_FACTOR", "DEFAULT_MAX_PARALLEL", "DEFAULT_MISFIRE_GRACE", "DEFAULT_RELOAD_INTERVAL",
    "DEFAULT_STALE_DAYS", "JOBSTORE_TABLE", "JOB_PREFIX", "SKIP_STATUSES_FOR_DUE",
    "Daemon", "DaemonConfig", "DaemonScheduler", "ProfileSet", "SyncReport",
    "active_runner", "as_aware", "build_trigger", "describe_schedule", "due_sites", "expected_interval",
    "human_duration", "job_id", "job_options", "last_runs_by_site", "load_profile_dir", "next_fire_times",
    "profile_timezone", "run_daemon", "run_due", "run_scheduled_site", "set_active_runner", "setup_logging",
    "site_health", "sync_jobs", "trigger_fingerprint",
]
