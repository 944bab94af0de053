"""One APScheduler job per site profile, and keeping the jobs in step with the profiles.

Job id ``govnews:site:NAME``; the job function :func:`run_scheduled_site` is stored in the job store
by reference (``govnews.scheduling.jobs:run_scheduled_site``), so it finds the running daemon
through :func:`set_active_runner` rather than through its arguments.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from apscheduler.util import obj_to_ref

from crawler.profiles import SiteProfile
from govnews.scheduling.triggers import build_trigger, trigger_fingerprint

__all__ = [
    "DEFAULT_MISFIRE_GRACE", "JOB_PREFIX", "SiteRunner", "SyncReport", "active_runner", "job_id",
    "job_options", "run_scheduled_site", "set_active_runner", "sync_jobs",
]

logger = logging.getLogger("govnews.scheduler")

JOB_PREFIX = "govnews:site:"
DEFAULT_MISFIRE_GRACE = 3600           # seconds a missed run may be late and still run (once)


class SiteRunner(Protocol):
    """What a fired job calls: the daemon (:class:`govnews.scheduling.daemon.Daemon`)."""

    def run_site(self, site: str) -> Any: ...


_active: SiteRunner | None = None


def set_active_runner(runner: SiteRunner | None) -> None:
    """Register the daemon whose jobs fire in this process (None: no daemon is running)."""
    global _active
    _active = runner


def active_runner() -> SiteRunner | None:
    return _active


def job_id(site: str) -> str:
    return JOB_PREFIX + site


def run_scheduled_site(site: str, fingerprint: str = "") -> str | None:
    """The job function stored in the job store; returns the run's status."""
    runner = _active
    if runner is None:
        logger.warning("job for %s fired outside a running daemon; ignored", site)
        return None
    result = runner.run_site(site)
    return result.status if result is not None else None


def _func_ref(func: Callable[..., Any]) -> str | None:
    try:
        return obj_to_ref(func)
    except ValueError:          # a lambda or local function (tests, memory job store)
        return None


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


def job_options(misfire_grace_time: int | None = DEFAULT_MISFIRE_GRACE) -> dict[str, Any]:
    return {"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace_time}


def sync_jobs(scheduler, profiles: Iterable[SiteProfile], *, jobstore: str = "default",
              misfire_grace_time: int | None = DEFAULT_MISFIRE_GRACE,
              func: Callable[..., Any] = run_scheduled_site) -> SyncReport:
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
            scheduler.modify_job(jid, jobstore=jobstore, func=func, kwargs=kwargs, **opts)
            scheduler.reschedule_job(jid, jobstore=jobstore, trigger=build_trigger(profile))
            report.rescheduled.append(profile.name)
            continue
        if (job.coalesce, job.max_instances, job.misfire_grace_time) != (
                opts["coalesce"], opts["max_instances"], opts["misfire_grace_time"]) \
                or job.kwargs != kwargs or getattr(job, "func", None) is not func \
                or getattr(job, "func_ref", None) != _func_ref(func):   # e.g. stored by an older module path
            scheduler.modify_job(jid, jobstore=jobstore, func=func, kwargs=kwargs, **opts)
        report.unchanged.append(profile.name)
    return report
