"""When a site runs: the APScheduler trigger of a profile, its next fire times and its interval.

A profile has a 5-field cron ``schedule`` in its ``timezone`` (Asia/Shanghai by default) or an
``interval_seconds``, which replaces the cron schedule.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from common.clock import LOCAL_TZ, LOCAL_TZ_NAME, UTC, utcnow
from crawler.profiles import ProfileError, SiteProfile

__all__ = [
    "as_aware", "build_trigger", "describe_schedule", "expected_interval", "next_fire_times",
    "profile_timezone", "trigger_fingerprint",
]


def profile_timezone(profile: SiteProfile) -> ZoneInfo:
    """The profile's ``timezone`` (common.clock.LOCAL_TZ when it has none)."""
    return ZoneInfo(profile.timezone) if profile.timezone else LOCAL_TZ


def _tz_name(profile: SiteProfile) -> str:
    return profile.timezone or LOCAL_TZ_NAME


def build_trigger(profile: SiteProfile, *, start_date: datetime | None = None) -> CronTrigger | IntervalTrigger:
    """The APScheduler trigger of a profile: interval when ``interval_seconds`` is set, else cron."""
    tz = profile_timezone(profile)
    if profile.interval_seconds:
        return IntervalTrigger(seconds=float(profile.interval_seconds), timezone=tz, start_date=start_date)
    try:
        return CronTrigger.from_crontab(profile.schedule, timezone=tz)
    except ValueError as exc:
        raise ProfileError(f"{profile.path or profile.name}: bad schedule {profile.schedule!r}: {exc}") from exc


def trigger_fingerprint(profile: SiteProfile) -> str:
    """What decides a site's run times; a change means the job must be rescheduled."""
    if profile.interval_seconds:
        return f"interval:{float(profile.interval_seconds)!r}@{_tz_name(profile)}"
    return f"cron:{' '.join(profile.schedule.split())}@{_tz_name(profile)}"


def describe_schedule(profile: SiteProfile) -> str:
    if profile.interval_seconds:
        return f"every {profile.interval_seconds:g}s"
    return f"{profile.schedule} ({_tz_name(profile)})"


def as_aware(dt: datetime) -> datetime:
    """Naive datetimes (from the database) are UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def next_fire_times(profile: SiteProfile, now: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` run times at or after ``now`` (aware, in the profile's timezone)."""
    now = as_aware(now)
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
    times = next_fire_times(profile, as_aware(now) if now else utcnow(), count=16)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return max(gaps) if gaps else timedelta(days=1)
