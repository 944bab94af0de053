"""Dates on the command line: ISO input read in the local time zone, times shown in it.

The local zone is :data:`common.clock.LOCAL_TZ` (Asia/Shanghai): a date or time the user types
without an offset means China time, and the CLI prints archived (UTC) times in China time.
"""
from __future__ import annotations

from datetime import datetime

import click

from common.clock import LOCAL_TZ

__all__ = ["SHOW_FORMAT", "cli_date", "local_iso", "parse_local", "show_local"]

SHOW_FORMAT = "%Y-%m-%d %H:%M"


def parse_local(value: str) -> datetime:
    """An aware datetime from ISO text (``2024-10-24``, ``2024-10-24T08:00``, ``...+00:00``); no
    offset means :data:`~common.clock.LOCAL_TZ`. Raises ``ValueError`` for anything else."""
    d = datetime.fromisoformat(value.strip())
    return d if d.tzinfo else d.replace(tzinfo=LOCAL_TZ)


def cli_date(value: str | None, param_hint: str) -> datetime | None:
    """:func:`parse_local` for a command-line option (None when not given); a bad value is a
    usage error (exit status 2) naming the option."""
    if not value:
        return None
    try:
        return parse_local(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date like 2024-10-24 or 2024-10-24T08:00",
                                 param_hint=param_hint) from None


def show_local(dt: datetime | None, fmt: str = SHOW_FORMAT) -> str:
    """``dt`` in local time, for tables (``-`` when None)."""
    return dt.astimezone(LOCAL_TZ).strftime(fmt) if dt else "-"


def local_iso(dt: datetime | None) -> str | None:
    """``dt`` as ISO 8601 in local time (``2024-10-24T09:03:00+08:00``), for JSON and CSV."""
    return dt.astimezone(LOCAL_TZ).isoformat() if dt else None
