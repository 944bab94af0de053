"""``govnews reextract``: re-run extraction over the archived raw pages."""
from __future__ import annotations

import json
import sys

import click

from govnews.commands import db_option, require_archive, resolve_db_url, site_filter_option, sites_option
from govnews.dates import cli_date


@click.command("reextract")
@db_option
@sites_option
@site_filter_option
@click.option("--since", metavar="DATE",
              help="Only articles first seen (first_seen, not the publication date) on or after DATE "
                   "(ISO; Asia/Shanghai unless an offset is given).")
@click.option("--dry-run", is_flag=True, help="Count what would change, write nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bar (for logs and cron).")
@click.option("--attachments/--no-attachments", "with_attachments", default=True, show_default=True,
              help="Also link the attachments a fresh extraction finds (known files without a download, new "
                   "ones pending for the site's next crawl) and re-extract the text of every stored "
                   "attachment file (in a worker with limits).")
def reextract_cmd(db_url: str | None, sites_dir: str | None, site_names: tuple[str, ...], since: str | None,
                  dry_run: bool, no_progress: bool, with_attachments: bool = True) -> None:
    """Re-run extraction over the archived raw pages and update the articles whose result changed.

    Use it after upgrading govnews, so extraction improvements reach the old archive. Each page is
    extracted exactly as the crawl does it: with its site profile's hints (body and title selectors,
    encoding, from --sites) and the archived Content-Type charset. Articles whose text changed get
    a new content hash and near-duplicate index entries; the raw pages are untouched.

    Attachments: links the fresh extraction finds that the article lacks are added (links_added);
    a URL not yet archived is recorded pending (links_pending) and fetched by the site's next
    crawl; links it no longer finds are kept (links_kept). --dry-run counts them.

    \b
    Examples:
      govnews reextract
      govnews reextract --site demo --since 2024-10-01
      govnews reextract --dry-run --no-progress --sites /etc/govnews/sites
    """
    # loaded when the command runs (extraction, dedup, MinHash), not by every `govnews` command
    from tqdm import tqdm

    from crawler.ingest import Reextractor
    from storage.archive import Archive
    from storage.reextract import count_articles, reextract

    since_d = cli_date(since, "--since")
    extract = Reextractor(sites_dir)
    names: list[str | None] = list(dict.fromkeys(site_names)) or [None]       # --site is repeatable
    totals: dict = {}
    texts: dict = {}
    with Archive(require_archive(resolve_db_url(db_url))) as archive:
        total = sum(count_articles(archive, site=name, since=since_d) for name in names)
        with tqdm(total=total, unit="article", disable=no_progress or not sys.stderr.isatty(),
                  file=sys.stderr) as bar:
            for name in names:
                report = reextract(archive, extract, site=name, since=since_d, dry_run=dry_run,
                                   progress=bar.update, link_attachments=with_attachments)
                for k, v in report.as_dict().items():
                    if isinstance(v, dict):
                        merged = totals.setdefault(k, {})
                        for kk, vv in v.items():
                            merged[kk] = merged.get(kk, 0) + vv
                    else:
                        totals[k] = totals.get(k, 0) + v
        if with_attachments and not dry_run:      # issue 16: attachment text follows the extractors too
            from crawler.attachments.batch import extract_texts
            for name in names:
                for k, v in dict(extract_texts(archive.engine, all_=True, site=name)).items():
                    texts[k] = texts.get(k, 0) + v if isinstance(v, (int, float)) else v
    click.echo(json.dumps({"dry_run": dry_run, **totals, "attachment_texts": texts}, ensure_ascii=False))
