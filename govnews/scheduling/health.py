"""Site health for ``govnews stats``: is each site crawled on time, successfully, and finding news?"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from common.clock import utcnow
from crawler.profiles import SiteProfile
from govnews.scheduling.triggers import as_aware, describe_schedule, expected_interval
from storage.enums import RunStatus
from storage.models import CrawlRun

__all__ = ["DEFAULT_FAILURE_FACTOR", "DEFAULT_STALE_DAYS", "human_duration", "site_health"]

DEFAULT_FAILURE_FACTOR = 3.0           # "no successful run within 3x the schedule interval"
DEFAULT_STALE_DAYS = 7.0               # "no new articles for N days"
_FAILED = (RunStatus.FAILED, RunStatus.TIMEOUT)


def _at(dt: datetime | None) -> datetime | None:
    return as_aware(dt) if dt is not None else None


def site_health(engine: Engine, profiles: Iterable[SiteProfile], now: datetime | None = None, *,
                failure_factor: float = DEFAULT_FAILURE_FACTOR,
                stale_days: float = DEFAULT_STALE_DAYS) -> list[dict[str, Any]]:
    """One dict per profile, in profile order, from ``crawl_runs``:

    ``site, title, schedule, expected_interval_s, runs, last_run_at, last_status, last_ok_at,
    last_new_articles_at, consecutive_failures, running_since, flags, problems, level``.

    ``flags`` (codes) / ``problems`` (sentences): ``never_ran``; ``overdue`` (no run started within
    ``failure_factor`` x the schedule interval: scheduler or cron not running); ``failing`` (no
    successful run within that time); ``no_new_articles`` (no run found a new article for
    ``stale_days`` days while the site has been crawled that long); ``last_failed`` (the last
    finished run failed or timed out). ``level``: ``ok``, ``warning`` (never_ran / last_failed
    only) or ``problem``. Times are aware UTC."""
    now = as_aware(now) if now else utcnow()
    t = CrawlRun.__table__
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
        crawled = [r for r in rows if r.status != RunStatus.LOCKED]
        finished = [r for r in crawled if r.status != RunStatus.RUNNING]
        last = crawled[0] if crawled else None
        last_ok = next((r for r in finished if r.status == RunStatus.OK), None)
        last_new = next((r for r in finished if (r.new_articles or 0) > 0), None)
        consecutive = 0
        for r in finished:
            if r.status == RunStatus.OK:
                break
            if r.status in _FAILED:
                consecutive += 1
        running = next((r for r in crawled if r.status == RunStatus.RUNNING), None)
        flags: list[str] = []
        problems: list[str] = []
        if last is None:
            flags.append("never_ran")
            problems.append("has never been crawled")
        else:
            first = as_aware(crawled[-1].started_at)
            last_at = as_aware(last.started_at)
            if now - last_at > window:
                flags.append("overdue")
                problems.append(f"no run for {human_duration(now - last_at)} (expected every "
                                f"{human_duration(interval)})")
            ok_at = _at(last_ok.started_at) if last_ok else None
            if ok_at is None:
                if now - first > window:
                    flags.append("failing")
                    problems.append(f"no successful run since the first run {human_duration(now - first)} ago")
            elif now - ok_at > window:
                flags.append("failing")
                problems.append(f"no successful run for {human_duration(now - ok_at)}")
            new_at = _at(last_new.started_at) if last_new else None
            if now - first > stale:
                if new_at is None:
                    flags.append("no_new_articles")
                    problems.append(f"no new articles since the first run {human_duration(now - first)} ago")
                elif now - new_at > stale:
                    flags.append("no_new_articles")
                    problems.append(f"no new articles for {human_duration(now - new_at)}")
            if finished and finished[0].status in _FAILED:
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
            "last_run_at": _at(last.started_at) if last else None,
            "last_status": last.status if last else None,
            "last_ok_at": _at(last_ok.started_at) if last_ok else None,
            "last_new_articles_at": _at(last_new.started_at) if last_new else None,
            "consecutive_failures": consecutive,
            "running_since": _at(running.started_at) if running else None,
            "flags": flags,
            "problems": problems,
            "level": "problem" if serious else ("warning" if flags else "ok"),
        })
    return out


def human_duration(delta: timedelta) -> str:
    """``95s``, ``12min``, ``3.5h``, ``2.0 days``."""
    s = int(delta.total_seconds())
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f} days"
