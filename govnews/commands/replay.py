"""``govnews replay``: put dead letters (pages the archive could not take during a crawl) into it."""
from __future__ import annotations

from pathlib import Path

import click

from govnews.commands import db_option, require_archive, resolve_db_url, site_filter_option
from storage.db import mask_url


@click.command("replay")
@db_option
@click.option("--dir", "directory", envvar="GOVNEWS_DEADLETTER_DIR", metavar="DIR", default=None,
              type=click.Path(file_okay=False),
              help="Dead-letter directory [env GOVNEWS_DEADLETTER_DIR; default <govnews home>/data/deadletter].")
@site_filter_option
@click.option("--any-db", is_flag=True,
              help="Also replay letters written for another database URL (by default they are skipped).")
@click.option("--dry-run", is_flag=True, help="List the letters, store nothing.")
def replay_cmd(db_url: str | None, directory: str | None, site_names: tuple[str, ...], any_db: bool,
               dry_run: bool) -> None:
    """Store the pages that a crawl kept in dead-letter files because the archive failed.

    A crawl whose database goes away (PostgreSQL unreachable, SQLite locked) writes every page it
    could not store to DIR/<site>/*.jsonl (raw bytes base64). Replay runs them through extraction
    and storage; deduplication makes it idempotent (a page or article already stored is not stored
    twice), so running it again, or after a partial replay, is safe. Files still being written by a
    live crawl are skipped. Replayed files are deleted; records that fail again stay for next time.
    The next crawl of a site replays that site's letters at start too.

    \b
    Examples:
      govnews replay                                  # all sites, <home>/data/deadletter, $GOVNEWS_DB_URL
      govnews replay --site demo --dry-run            # what is waiting for one site
      govnews replay --db postgresql://archive@db/govnews --dir /var/lib/govnews/deadletter
    """
    # loaded when the command runs (extraction, dedup, MinHash), not by every `govnews` command
    from crawler.deadletter import deadletter_dir, letter_files, read_records, replay
    from storage.archive import Archive

    folder = Path(directory) if directory else deadletter_dir()
    names: list[str | None] = list(dict.fromkeys(site_names)) or [None]
    files = [f for name in names for f in letter_files(folder, name)]
    if dry_run or not files:
        total = 0
        for path in files:
            n = sum(1 for _ in read_records(path))
            total += n
            click.echo(f"{path}: {n} record(s)")
        click.echo(f"{total} dead letter(s) in {len(files)} file(s) under {folder}")
        return
    url = require_archive(resolve_db_url(db_url))
    click.echo(f"archive: {mask_url(url)}")
    failed = False
    with Archive(url) as archive:
        for name in names:
            report = replay(archive, folder, site=name, any_db=any_db, db_url=url)
            click.echo(report.summary())
            for line in report.skipped_files:
                click.echo(f"skipped {line}")
            for line in report.errors[:20]:
                click.echo(f"failed: {line}", err=True)
            failed = failed or bool(report.failed)
    if failed:
        raise SystemExit(1)
