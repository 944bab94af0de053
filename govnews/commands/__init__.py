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
    """``--db``, else $GOVNEWS_DB_URL, else the default; a relative SQLite path made absolute
    (crawls run in the repository root)."""
    from govnews.runner import absolute_db_url
    from storage.db import resolve_db_url as _resolve
    return absolute_db_url(_resolve(db_url))
