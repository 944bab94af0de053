"""Write transactions with retries, shared by every module that writes to the archive.

* :func:`write` — one write transaction on its own connection (``BEGIN IMMEDIATE`` on SQLite, so
  writers serialise instead of failing on lock upgrade).
* :func:`retrying` — runs ``fn(conn)`` in :func:`write`, retrying on unique-constraint races,
  SQLite ``database is locked`` / busy and PostgreSQL deadlock / serialisation failures.
* :func:`dialect_insert` — ``INSERT`` with ``ON CONFLICT`` support for the engine's dialect.

Nothing here keeps state between calls: every call takes its own connection from the engine's
pool, so these are safe to call from several threads at once (the engine is thread-safe).
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

__all__ = ["MAX_ATTEMPTS", "dialect_insert", "is_retryable", "retrying", "write"]

MAX_ATTEMPTS = 12
T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    """A race the transaction can win on a second try (see the module docstring).

    ``IntegrityError`` counts (a racing duplicate), except a CHECK constraint violation: a value
    outside an enumeration is refused every time.
    """
    if isinstance(exc, IntegrityError):
        msg = str(exc.orig).lower()
        code = getattr(exc.orig, "sqlstate", None)
        return code != "23514" and "check constraint" not in msg
    if isinstance(exc, OperationalError):
        msg = str(exc.orig).lower()
        return "locked" in msg or "busy" in msg or "deadlock" in msg or "serializ" in msg
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        return code in ("40001", "40P01")  # serialization failure, deadlock
    return False


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite) on a connection of its own."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


def retrying(engine: Engine, fn: Callable[[Connection], T], *,
             sleep: Callable[[float], Any] = time.sleep) -> T:
    """``fn(conn)`` in a write transaction, retried with jittered backoff (10 ms doubling to 0.5 s)."""
    delay = 0.01
    for attempt in range(MAX_ATTEMPTS):
        try:
            with write(engine) as conn:
                return fn(conn)
        except DBAPIError as exc:
            if attempt == MAX_ATTEMPTS - 1 or not is_retryable(exc):
                raise
            sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")  # pragma: no cover


def dialect_insert(dialect_name: str, table: Table) -> Any:
    """``INSERT`` for ``table`` with ``on_conflict_do_nothing/_update`` (PostgreSQL or SQLite)."""
    return postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
