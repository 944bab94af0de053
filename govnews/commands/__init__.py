"""One module per ``govnews`` sub-command; :mod:`govnews.cli` registers them.

Shared here: the ``--db`` and ``--sites`` options, :func:`resolve_db_url` and
:func:`require_archive`. Dates on the command line: :mod:`govnews.dates`.
"""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url

from govnews.runner import absolute_db_url
from storage.db import resolve_db_url as _resolve

__all__ = ["db_option", "require_archive", "resolve_db_url", "sites_option"]

#: the ``--db`` option every command shares; falls back to $GOVNEWS_DB_URL, then the default archive
db_option = click.option(
    "--db", "db_url", envvar="GOVNEWS_DB_URL", metavar="URL", default=None,
    help="SQLAlchemy database URL [env GOVNEWS_DB_URL; default: <govnews home>/data/archive.db].",
)
#: the ``--sites`` option; None lets ``crawler.profiles`` use ``common.paths.sites_dir()``
sites_option = click.option(
    "--sites", "sites_dir", envvar="GOVNEWS_SITES_DIR", metavar="DIR", default=None,
    type=click.Path(file_okay=False),
    help="Directory of site profiles [env GOVNEWS_SITES_DIR; default: <govnews home>/sites].",
)


def resolve_db_url(db_url: str | None) -> str:
    """``--db``, else $GOVNEWS_DB_URL, else ``storage.db.default_db_url()`` (the SQLite file
    ``common.paths.default_sqlite_path()``); a relative SQLite path is made absolute against the
    current directory, where the user typed it."""
    return absolute_db_url(_resolve(db_url))


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    db = parsed.database
    if not parsed.drivername.startswith("sqlite") or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def require_archive(url: str) -> str:
    """``url`` if its archive exists; for a SQLite file that does not, a clear error (exit 1)
    instead of creating an empty database (and its directory) that has no tables. For the commands
    that only read or update an archive: stats, search, export, duplicates, reextract, replay."""
    path = _sqlite_path(url)
    if path is not None and not path.is_file():
        raise click.ClickException(f"no archive at {path}: create it with `govnews init-db`, or pass --db URL")
    return url
