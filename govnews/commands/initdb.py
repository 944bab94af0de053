"""``govnews init-db``: build or upgrade the archive schema (alembic upgrade head)."""
from __future__ import annotations

import click

from govnews.commands import db_option, resolve_db_url


@click.command("init-db")
@db_option
def init_db_cmd(db_url: str | None) -> None:
    """Create or upgrade the archive database to the newest schema.

    Runs the Alembic migrations shipped with govnews (the same as `alembic upgrade
    head` in a checkout); safe to run again on an existing archive.

    \b
    Examples:
      govnews init-db                                   # <govnews home>/data/archive.db
      govnews init-db --db sqlite:////srv/govnews/archive.db
      GOVNEWS_DB_URL=postgresql://postgres@127.0.0.1/govnews govnews init-db
    """
    from storage.db import current_revision, mask_url, upgrade_db

    url = resolve_db_url(db_url)
    upgrade_db(url)
    click.echo(f"archive ready: {mask_url(url)} (schema revision {current_revision(url)})")
