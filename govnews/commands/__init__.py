"""One module per ``govnews`` sub-command; :mod:`govnews.cli` registers them."""
import click

#: the ``--db`` option every command shares; falls back to $GOVNEWS_DB_URL, then data/archive.db
db_option = click.option(
    "--db", "db_url", envvar="GOVNEWS_DB_URL", metavar="URL", default=None,
    help="SQLAlchemy database URL [env GOVNEWS_DB_URL; default sqlite:///data/archive.db].",
)
sites_option = click.option(
    "--sites", "sites_dir", envvar="GOVNEWS_SITES_DIR", metavar="DIR", default=None,
    type=click.Path(file_okay=False), help="Directory of site profiles [env GOVNEWS_SITES_DIR; default sites/].",
)


def resolve_db_url(db_url: str | None) -> str:
    """The database URL to use, with a relative SQLite path made absolute (crawls run elsewhere)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from storage.db import resolve_db_url as _resolve
    url = _resolve(db_url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:") and not Path(parsed.database).is_absolute():
        url = parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)
    return url
