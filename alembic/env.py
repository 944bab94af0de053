"""Alembic environment for the govnews archive.

Works from the ``alembic`` CLI (``alembic.ini`` in the checkout) and programmatically
(``storage.db.alembic_config()``, which needs no ini file and no particular cwd; in an installed
wheel these scripts are the package ``storage.migrations``).

URL: ``-x db=URL``, else the URL passed by ``storage.db.upgrade_db`` (``config.attributes``), else
``$GOVNEWS_DB_URL``, else the default archive (``storage.db.default_db_url()``: ``<data dir>/archive.db``,
see ``common.paths``). SQLite migrations run in batch mode, with foreign keys switched off on the
connections opened here (a batch move-and-copy must not fire ``ON DELETE`` actions).
"""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from storage.db import default_db_url, make_engine, normalize_db_url
from storage.models import Base, UTCDateTime

config = context.config
if config.config_file_name is not None and not config.attributes.get("quiet_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _db_url() -> str:
    x = context.get_x_argument(as_dictionary=True)
    if x.get("db"):
        return normalize_db_url(x["db"])
    if config.attributes.get("db_url"):
        return normalize_db_url(config.attributes["db_url"])
    return default_db_url()


def render_item(type_, obj, autogen_context):
    """Render our UTC type as a plain timezone-aware DateTime in migration scripts."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


#: tables in the archive database that are not ours to compare: the APScheduler job store (created
#: by the scheduler daemon) and the SQLite FTS5 search tables (virtual + shadow tables)
EXCLUDED_TABLES = {"apscheduler_jobs"}
EXCLUDED_TABLE_PREFIXES = ("articles_fts", "attachments_fts")
#: indexes created with raw SQL in migrations that autogenerate cannot represent (pg_trgm GIN)
EXCLUDED_INDEXES = {"ix_apscheduler_jobs_next_run_time", "ix_articles_body_simplified_trgm",
                    "ix_articles_title_simplified_trgm", "ix_attachment_contents_text_trgm",
                    "ix_articles_grams"}
#: views of the stable SQL surface (docs/SQL.md), created by migrations
VIEWS = {"article_view", "site_daily_counts", "site_latest_crawl", "articles_search_src"}


def _excluded(name: str | None, type_: str) -> bool:
    if name is None:
        return False
    if type_ == "table":
        return (name in EXCLUDED_TABLES or name in VIEWS
                or name.startswith(EXCLUDED_TABLE_PREFIXES))
    if type_ == "index":
        return name in EXCLUDED_INDEXES
    return False


def include_name(name, type_, parent_names):
    """Reflected names to compare (the excluded tables are not even reflected)."""
    return not _excluded(name, type_)


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "index" and obj is not None and getattr(obj, "table", None) is not None \
            and _excluded(obj.table.name, "table"):
        return False
    return not _excluded(name, type_)


def _configure(**kw):
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        include_name=include_name,
        include_object=include_object,
        **kw,
    )


def run_migrations_offline() -> None:
    url = _db_url()
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
               render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(conn, on: bool) -> None:
    """``PRAGMA foreign_keys`` on the DBAPI connection (outside any transaction: inside one it is a
    no-op, which the migrations that need it off check)."""
    if conn.dialect.name == "sqlite" and not conn.in_transaction():
        conn.connection.dbapi_connection.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _run(conn) -> None:
    _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
    _sqlite_foreign_keys(conn, False)
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        _sqlite_foreign_keys(conn, True)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_db_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
