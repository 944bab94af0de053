"""One module per ``govnews`` sub-command; :mod:`govnews.cli` registers them.

Shared here: the ``--db``, ``--sites`` and ``--site`` options, :func:`resolve_db_url` (checks the
URL: ``--db notaurl`` and ``sqllite://`` are one-line errors), :func:`require_archive` (a missing
SQLite file is an error, never created), :func:`open_archive_engine` (connects, and says "run
`govnews init-db`" for an archive without the schema) and :func:`user_error` (what the ``govnews``
group prints, in one line, for a database, profile or file error; ``govnews --debug`` shows the
traceback instead). Dates on the command line: :mod:`govnews.dates`.
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from govnews.runner import absolute_db_url
from storage.db import mask_url
from storage.db import resolve_db_url as _resolve

__all__ = ["db_option", "open_archive_engine", "require_archive", "resolve_db_url", "site_filter_option",
           "sites_option", "user_error"]

#: database kinds govnews supports (the URL scheme's dialect)
DIALECTS = ("sqlite", "postgresql")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
INIT_HINT = "run `govnews init-db` (with the same --db) to create or upgrade it"

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


#: ``--site NAME`` on every command that filters by site: repeatable
site_filter_option = click.option(
    "--site", "site_names", multiple=True, metavar="NAME",
    help="Only this site (profile name); repeat for several.")


def check_db_url(raw: str) -> None:
    """A clear error for what is neither a database URL govnews supports nor a SQLite file path."""
    if "://" not in raw:
        if Path(raw).suffix.lower() not in SQLITE_SUFFIXES and not Path(raw).is_file():
            raise click.UsageError(
                f"--db {raw!r} is not a database URL: use sqlite:///PATH/archive.db, a path ending in .db, "
                "or postgresql://USER@HOST/DBNAME")
        return
    try:
        url = make_url(raw if not raw.startswith(("postgres://", "postgresql://")) else
                       raw.replace("postgres://", "postgresql://", 1))
    except Exception:  # noqa: BLE001 - sqlalchemy's ArgumentError and friends
        raise click.UsageError(f"--db {mask_url(raw)!r} is not a valid database URL") from None
    dialect = url.drivername.split("+", 1)[0]
    if dialect not in DIALECTS:
        raise click.UsageError(
            f"--db: unknown database kind {dialect!r} in {mask_url(raw)!r}; use sqlite:///PATH or "
            "postgresql://USER@HOST/DBNAME")
    if dialect == "sqlite" and not url.database:
        raise click.UsageError(f"--db {raw!r} names no file: use sqlite:///PATH/archive.db")


def resolve_db_url(db_url: str | None) -> str:
    """``--db``, else $GOVNEWS_DB_URL, else ``storage.db.default_db_url()`` (the SQLite file
    ``common.paths.default_sqlite_path()``); a relative SQLite path is made absolute against the
    current directory, where the user typed it. A URL govnews cannot use is a usage error."""
    raw = db_url or os.environ.get("GOVNEWS_DB_URL") or None
    if raw:
        check_db_url(raw.strip())
    return absolute_db_url(_resolve(db_url))


def open_archive_engine(url: str, *, write: bool = False):
    """An engine on an existing archive with the govnews schema, else a one-line error: no SQLite
    file (never created), a read-only file (``write``), an unreachable server, no schema."""
    from sqlalchemy import inspect

    from storage.db import make_engine

    path = _sqlite_path(url)
    require_archive(url)
    if write and path is not None and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise click.ClickException(
            f"the archive {path} is read-only (file or directory not writable): fix its permissions, "
            "or pass --db to a writable archive")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except Exception as exc:
        engine.dispose()
        raise click.ClickException(db_error_line(exc, url)) from None
    if "crawl_runs" not in tables or "alembic_version" not in tables:
        engine.dispose()
        raise click.ClickException(f"{mask_url(url)} has no govnews archive schema: {INIT_HINT}")
    return engine


def db_error_line(exc: BaseException, url: str | None = None) -> str:
    """One line for a database error: what, where, what to do."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    where = f" ({mask_url(url)})" if url else ""
    low = text.lower()
    if "no such table" in low or ("relation" in low and "does not exist" in low) or "no such column" in low \
            or ("column" in low and "does not exist" in low):
        return f"database error{where}: {text[:200]}: the archive schema is missing or old: {INIT_HINT}"
    if "readonly" in low or "read-only" in low or "permission denied" in low:
        return f"database error{where}: {text[:200]}: the archive is read-only; fix its permissions or use --db"
    if "connection refused" in low or "could not connect" in low or "connection failed" in low \
            or "timeout" in low or "name or service not known" in low or "unable to open" in low:
        return f"cannot reach the database{where}: {text[:200]}: is the server running? check --db / $GOVNEWS_DB_URL"
    if "does not exist" in low and "database" in low:
        return f"database error{where}: {text[:200]}: create the database, then run `govnews init-db`"
    return f"database error{where}: {text[:300]}"


def user_error(exc: BaseException) -> str | None:
    """The one line ``govnews`` prints for an error a person can act on (None: a bug, traceback)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from crawler.profiles import ProfileError

    if isinstance(exc, ProfileError):
        return f"profile error: {exc}"
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return f"bad database URL: {exc}"
    if isinstance(exc, SQLAlchemyError):
        url = os.environ.get("GOVNEWS_DB_URL")
        return db_error_line(exc, url or None)
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}: check the file's permissions"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a directory (give a file name)"
    if isinstance(exc, FileNotFoundError):
        return f"no such file or directory: {exc.filename or exc}"
    if isinstance(exc, OSError):
        return f"file error: {exc}"
    return None


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
    if path is not None:        # an empty or foreign SQLite file: say so before any query fails
        import sqlite3

        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise click.ClickException(f"{path} is not a govnews archive ({exc}): {INIT_HINT}") from None
        if "crawl_runs" not in tables or "alembic_version" not in tables:
            raise click.ClickException(f"{path} has no govnews archive schema: {INIT_HINT}")
    return url
