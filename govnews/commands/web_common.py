"""Shared by ``govnews serve``, ``feed`` and ``report``: the archive opened read-only."""
from __future__ import annotations

import click
from sqlalchemy import Engine

from govnews.commands import require_archive, resolve_db_url


def open_readonly(db_url: str | None) -> Engine:
    """A read-only engine on the archive (``govnews.web.db``); a missing SQLite file or an
    unreachable database is a one-line error (exit 1)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from govnews.web.db import ArchiveMissing, readonly_engine
    from storage.db import mask_url

    url = require_archive(resolve_db_url(db_url))
    try:
        engine = readonly_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM articles"))
    except ArchiveMissing as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        msg = (str(orig if orig is not None else exc).strip().splitlines() or ["error"])[0]
        raise click.ClickException(f"cannot read the archive at {mask_url(url)}: {msg}") from None
    return engine


def load_profiles(sites_dir: str | None) -> list:
    """Site profiles for schedule health (none when the directory has none)."""
    from govnews.scheduling import load_profile_dir

    try:
        return list(load_profile_dir(sites_dir).profiles.values())
    except Exception as exc:  # noqa: BLE001 - a broken profile must not take the health page down
        click.echo(f"warning: site profiles not loaded ({exc}); schedule health not shown", err=True)
        return []
