"""Alembic environment for the govnews archive.

URL: ``-x db=URL``, else the URL passed by ``storage.db.upgrade_db`` (``config.attributes``), else
``$GOVNEWS_DB_URL``, else ``sqlite:///data/archive.db``. SQLite migrations run in batch mode.
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


def _configure(**kw):
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        **kw,
    )


def run_migrations_offline() -> None:
    url = _db_url()
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
               render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_db_url())
    try:
        with engine.connect() as conn:
            _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
