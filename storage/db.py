"""Engines from URLs, SQLite pragmas, and schema upgrades through Alembic.

* ``default_db_url()``: ``$GOVNEWS_DB_URL``, else the SQLite file ``common.paths.default_sqlite_path()``
  (``<govnews home>/data/archive.db``: ``$GOVNEWS_HOME``, else the closest directory upward holding
  ``scrapy.cfg``, else ``~/.local/share/govnews``), as an absolute ``sqlite:///`` URL.
* ``normalize_db_url(url)``: ``postgresql://`` / ``postgres://`` -> ``postgresql+psycopg://``;
  a bare file path becomes a ``sqlite:///`` URL.
* ``make_engine(url, busy_timeout=None)``: SQLite gets WAL, ``foreign_keys=ON``, ``busy_timeout``
  and real transactions (pysqlite's implicit BEGIN handling is switched off; ``BEGIN IMMEDIATE`` on
  request via the execution option ``sqlite_immediate=True``); the directory of the database file is
  created. The busy timeout is **per connection**: how long one SQLite statement waits for a lock
  before ``database is locked`` (seconds: the argument, else ``$GOVNEWS_SQLITE_BUSY_TIMEOUT``, else
  30). It is the only meaning storage gives that variable; how long a whole crawl waits before it
  dead-letters a page is a crawler setting.
* ``mask_url(url)``: the URL for logs, password hidden (:func:`common.secrets.mask_secrets`).
* ``alembic_config(url)``: an Alembic ``Config`` built in code (no ``alembic.ini``, any cwd);
  ``script_location`` = :func:`migrations_dir`.
* ``upgrade_db(url)``: ``alembic upgrade head`` programmatically (the only way the schema is built);
  ``check_db(url)``: ``alembic check`` (models vs. migrations), raising on drift.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from common.paths import default_sqlite_path
from common.secrets import mask_secrets

__all__ = ["BUSY_TIMEOUT_ENV", "DB_URL_ENV", "alembic_config", "check_db", "current_revision", "default_db_url",
           "is_sqlite", "make_engine", "mask_url", "migrations_dir", "normalize_db_url", "resolve_db_url",
           "sqlite_busy_timeout_ms", "upgrade_db"]

DB_URL_ENV = "GOVNEWS_DB_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000        # default; $GOVNEWS_SQLITE_BUSY_TIMEOUT (seconds) overrides it
#: per-connection SQLite busy timeout, seconds (storage's only meaning of this variable)
BUSY_TIMEOUT_ENV = "GOVNEWS_SQLITE_BUSY_TIMEOUT"
#: the migration scripts as a package (the wheel maps the checkout's ``alembic/`` to it)
MIGRATIONS_PACKAGE = "storage.migrations"


def migrations_dir() -> Path:
    """The Alembic script directory: the package ``storage.migrations`` when installed, else the
    checkout's ``alembic/`` next to the ``storage`` package (never the cwd)."""
    try:
        spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        locations = list(spec.submodule_search_locations or [])
        if locations:
            return Path(locations[0])
        if spec.origin:
            return Path(spec.origin).parent
    return Path(__file__).resolve().parent.parent / "alembic"


def default_db_url() -> str:
    """``$GOVNEWS_DB_URL`` if set, else the SQLite file :func:`common.paths.default_sqlite_path`."""
    env = os.environ.get(DB_URL_ENV, "").strip()
    if env:
        return normalize_db_url(env)
    return f"sqlite:///{default_sqlite_path().as_posix()}"


def resolve_db_url(cli_value: str | None = None) -> str:
    """``--db`` value, else ``$GOVNEWS_DB_URL``, else the default."""
    if cli_value:
        return normalize_db_url(cli_value)
    return default_db_url()


def normalize_db_url(url: str) -> str:
    url = str(url).strip()
    if "://" not in url:  # a plain path
        return f"sqlite:///{url}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("postgresql+psycopg2://"):
        return "postgresql+psycopg://" + url[len("postgresql+psycopg2://"):]
    return url


def mask_url(url: str) -> str:
    """The (normalised) URL with its password hidden, for logs and CLI output
    (:func:`common.secrets.mask_secrets`, the one masker)."""
    return mask_secrets(normalize_db_url(url))


def is_sqlite(url_or_engine: Engine | str) -> bool:
    if isinstance(url_or_engine, Engine):
        return url_or_engine.dialect.name == "sqlite"
    return normalize_db_url(str(url_or_engine)).startswith("sqlite")


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    db = u.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def sqlite_busy_timeout_ms(seconds: float | str | None = None) -> int:
    """Busy timeout in milliseconds: ``seconds``, else ``$GOVNEWS_SQLITE_BUSY_TIMEOUT``, else 30 s."""
    if seconds is None or seconds == "":
        seconds = os.environ.get(BUSY_TIMEOUT_ENV, "").strip() or None
    if seconds is None:
        return SQLITE_BUSY_TIMEOUT_MS
    try:
        value = float(seconds)
    except ValueError:
        raise ValueError(f"{BUSY_TIMEOUT_ENV} must be a number of seconds, not {seconds!r}") from None
    return max(0, int(value * 1000))


def _setup_sqlite(engine: Engine, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _rec):  # pragma: no cover - exercised by every sqlite test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None, *, busy_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: :func:`default_db_url`) with the pragmas described above;
    ``busy_timeout`` (seconds, SQLite only) overrides ``$GOVNEWS_SQLITE_BUSY_TIMEOUT``."""
    url = normalize_db_url(url) if url else default_db_url()
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        busy_ms = sqlite_busy_timeout_ms(busy_timeout)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", busy_ms / 1000)
        engine = create_engine(url, **kwargs)
        _setup_sqlite(engine, busy_ms)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def alembic_config(url: str | None = None) -> Any:
    """An Alembic ``Config`` for the archive at ``url``, built in code (no ini file, any cwd)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["quiet_logging"] = True  # keep the caller's logging configuration
    if url:
        cfg.attributes["db_url"] = normalize_db_url(url)
    return cfg


def _prepare_url(url: str | None) -> str:
    url = normalize_db_url(url) if url else default_db_url()
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    return url


def upgrade_db(url: str | None = None, revision: str = "head") -> str:
    """Build or upgrade the schema at ``url`` to ``revision`` through Alembic; returns the URL."""
    from alembic import command

    url = _prepare_url(url)
    command.upgrade(alembic_config(url), revision)
    return url


def check_db(url: str | None = None) -> None:
    """``alembic check`` on ``url``: raises ``alembic.util.AutogenerateDiffsDetected`` on drift."""
    from alembic import command

    command.check(alembic_config(_prepare_url(url)))


def current_revision(url: str) -> str | None:
    """The Alembic revision of the database at ``url`` (``None``: not migrated)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
