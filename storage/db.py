"""Engines from URLs, SQLite pragmas, and schema upgrades through Alembic.

* ``default_db_url()``: ``$GOVNEWS_DB_URL`` or ``sqlite:///data/archive.db`` (relative to the cwd).
* ``normalize_db_url(url)``: ``postgresql://`` / ``postgres://`` -> ``postgresql+psycopg://``;
  a bare file path becomes a ``sqlite:///`` URL.
* ``make_engine(url, busy_timeout=None)``: SQLite gets WAL, ``foreign_keys=ON``, ``busy_timeout``
  (seconds: the argument, else ``$GOVNEWS_SQLITE_BUSY_TIMEOUT``, else 30) and real transactions
  (pysqlite's implicit BEGIN handling is switched off; ``BEGIN IMMEDIATE`` on request via the
  execution option ``sqlite_immediate=True``); the directory of the database file is created.
* ``upgrade_db(url)``: ``alembic upgrade head`` programmatically (the only way the schema is built).
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

import storage

DEFAULT_SQLITE_PATH = Path("data") / "archive.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000        # default; $GOVNEWS_SQLITE_BUSY_TIMEOUT (seconds) overrides it
BUSY_TIMEOUT_ENV = "GOVNEWS_SQLITE_BUSY_TIMEOUT"
REPO_ROOT = Path(storage.__file__).resolve().parent.parent
ALEMBIC_INI = REPO_ROOT / "alembic.ini"


def default_db_url() -> str:
    """``$GOVNEWS_DB_URL`` if set, else the SQLite file ``data/archive.db`` under the cwd."""
    env = os.environ.get("GOVNEWS_DB_URL", "").strip()
    if env:
        return normalize_db_url(env)
    return f"sqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"


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
    """The URL with its password hidden (for logs and CLI output)."""
    try:
        return make_url(normalize_db_url(url)).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - unparsable URL
        return "<unparsable url>"


def is_sqlite(url_or_engine) -> bool:
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


def make_engine(url: str | None = None, *, busy_timeout: float | None = None, **kwargs) -> Engine:
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


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    cfg.attributes["quiet_logging"] = True  # keep the caller's logging configuration
    if url:
        cfg.attributes["db_url"] = normalize_db_url(url)
    return cfg


def upgrade_db(url: str | None = None, revision: str = "head") -> str:
    """Build or upgrade the schema at ``url`` to ``revision`` through Alembic; returns the URL."""
    from alembic import command

    url = normalize_db_url(url) if url else default_db_url()
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
    return url


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
