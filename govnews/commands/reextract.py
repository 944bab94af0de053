"""``govnews reextract``: re-run extraction over the archived raw pages."""
import json
import sys

import click

from govnews.commands import db_option, resolve_db_url
from govnews.commands.export import _date


@click.command("reextract")
@db_option
@click.option("--site", metavar="NAME", help="Only this site's articles.")
@click.option("--since", metavar="DATE", help="Only articles first seen on or after DATE (ISO, Asia/Shanghai).")
@click.option("--dry-run", is_flag=True, help="Count what would change, write nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bar (for logs and cron).")
def reextract_cmd(db_url, site, since, dry_run, no_progress):
    """Re-run extraction over the archived raw pages and update the articles whose result changed.

    Use it after upgrading govnews, so extraction improvements reach the old archive. Articles whose
    text changed get a new content hash and near-duplicate index entries; the raw pages are untouched.

    \b
    Examples:
      govnews reextract
      govnews reextract --site demo --since 2024-10-01
      govnews reextract --dry-run --no-progress
    """
    from tqdm import tqdm

    from crawler.extract import extract
    from storage.archive import Archive
    from storage.reextract import count_articles, reextract

    since_d = _date(since, "--since")
    archive = Archive(resolve_db_url(db_url))
    try:
        total = count_articles(archive, site=site, since=since_d)
        with tqdm(total=total, unit="article", disable=no_progress, file=sys.stderr) as bar:
            report = reextract(archive, extract, site=site, since=since_d, dry_run=dry_run, progress=bar.update)
    finally:
        archive.close()
    click.echo(json.dumps({"dry_run": dry_run, **report.as_dict()}, ensure_ascii=False))
