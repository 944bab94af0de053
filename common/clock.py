"""The one clock and the one local time zone.

Everything that needs "now" takes it as a parameter or calls :func:`utcnow` here, so tests inject a
clock instead of sleeping. Pure extraction never calls it (its ``now`` is a parameter).
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: the time zone of the sites govnews archives; dates without an offset are read in it, and the
#: CLI and the ``*_local`` SQL columns show times in it
LOCAL_TZ_NAME = "Asia/Shanghai"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)
__all__ = ["LOCAL_TZ", "LOCAL_TZ_NAME", "UTC", "utcnow"]


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
