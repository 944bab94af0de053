"""A read-only engine on the archive, for the web view, the feeds and the report.

SQLite: the file is opened with ``mode=ro`` (URI) and ``PRAGMA query_only``, so nothing the web
view runs can write, and a missing file is an error instead of a new empty database. PostgreSQL:
every transaction is ``READ ONLY`` (``default_transaction_read_only``).
"""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from storage.db import normalize_db_url

__all__ = ["ArchiveMissing", "aware", "readonly_engine"]


class ArchiveMissing(Exception):
    """The SQLite archive file does not exist."""


def aware(dt: Any) -> datetime | None:
    """A datetime from the database as aware UTC (SQLite returns naive UTC, or text for views)."""
    if dt is None:
        return None
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt.replace(" ", "T"))
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def readonly_engine(db_url: str, **kwargs: Any) -> Engine:
    """An engine that can only read ``db_url`` (see the module docstring)."""
    url = normalize_db_url(db_url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        db = parsed.database
        if not db or db == ":memory:":
            raise ValueError("the web view needs an archive file, not an in-memory database")
        path = Path(db)
        if not path.is_file():
            raise ArchiveMissing(f"no archive at {path}: create it with `govnews init-db`, or pass --db URL")
        uri = f"{path.resolve().as_uri().replace('file://', 'file:', 1)}?mode=ro"

        def connect() -> sqlite3.Connection:
            con = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
            con.execute("PRAGMA query_only = 1")
            return con

        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=8,
                               max_overflow=8, **kwargs)
        return engine
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("options", "-c default_transaction_read_only=on")
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True, **kwargs)
