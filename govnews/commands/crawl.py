"""``govnews crawl``: one crawl of one site now, or every site whose schedule is due (for cron)."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from crawler.profiles import ProfileError, SiteProfile, load_profile
from govnews.batch import DEFAULT_CONCURRENCY, parse_settings
from govnews.commands import db_option, resolve_db_url, sites_option
from govnews.runner import DEFAULT_TIME_LIMIT, crawl_command, run_crawl
from govnews.scheduling import load_profile_dir, run_due
from storage.enums import RunStatus, Trigger

#: run statuses that make ``govnews crawl`` exit non-zero
FAILED_STATUSES = (RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.LOCKED, RunStatus.INTERRUPTED)


def extra_scrapy_args(full: bool, settings: Sequence[str], jobdir: str | Path | None) -> list[str]:
    """The ``scrapy crawl`` arguments of ``--full``, ``--jobdir`` and ``-s NAME=VALUE``. The JOBDIR is
    made absolute: the crawl runs in the govnews home, not in this directory."""
    args = ["-a", "full_walk=1"] if full else []
    if jobdir:
        args += ["-s", f"JOBDIR={Path(jobdir).resolve()}"]
    for s in settings:
        args += ["-s", s]
    return args


def due_crawl_command(full: bool, settings: Sequence[str], jobdir: str | None):
    """The command of each due crawl: the same ``--full`` and ``-s`` for every site, and a JOBDIR
    of its own under ``--jobdir`` (``DIR/<site>``: Scrapy's resume state is per crawl)."""
    def command(profile: SiteProfile) -> list[str]:
        site_jobdir = Path(jobdir) / profile.name if jobdir else None
        return crawl_command(profile, extra_args=extra_scrapy_args(full, settings, site_jobdir))
    return command


@click.command("crawl")
@click.argument("site", nargs=-1)
@db_option
@sites_option
@click.option("--due", is_flag=True, help="Crawl every site whose schedule has fired since its last run, then exit.")
@click.option("--dry-run", is_flag=True, help="With --due: only list the sites that are due.")
@click.option("--full", is_flag=True, help="Walk every list page, not only until nothing is new.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Extra Scrapy setting.")
@click.option("--jobdir", metavar="DIR",
              help="Scrapy JOBDIR, so an interrupted crawl can resume (with --due: DIR/<site> for each site).")
@click.option("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, show_default=True, metavar="S",
              help="Stop the crawl after S seconds (recorded as timeout).")
@click.option("--batch/--no-batch", "batch", default=None,
              help="Several sites (or --due): crawl them together in one Scrapy process (default), "
                   "or one subprocess per site.")
@click.option("--parallel", type=click.IntRange(min=1), default=DEFAULT_CONCURRENCY, show_default=True,
              metavar="N", help="Several sites (or --due): crawl N sites at once.")
def crawl_cmd(site: tuple[str, ...], db_url: str | None, sites_dir: str | None, due: bool, dry_run: bool,
              full: bool, settings: tuple[str, ...], jobdir: str | None, time_limit: float,
              batch: bool | None, parallel: int) -> None:
    """Crawl one site now (a profile name or a path to a .toml profile).

    The crawl runs `scrapy crawl gov_news -a site=SITE` in a subprocess, takes the site's lock and
    is recorded in crawl_runs; the exit status is 0 when the run ended `ok` (with --due: when no
    run failed, timed out, was locked or interrupted).

    \b
    Examples:
      govnews crawl demo
      govnews crawl sites/chengdu-xindu.toml --db postgresql://localhost/govnews
      govnews crawl demo -s DOWNLOAD_DELAY=0 --full --jobdir data/jobs/demo
      govnews crawl --due                 # from cron: every site whose schedule is due
      govnews crawl --due --full -s DOWNLOAD_DELAY=2 --jobdir /var/lib/govnews/jobs
      govnews crawl site-a site-b site-c --parallel 8   # one Scrapy process, 8 sites at once

    Several sites, and --due, run in one Scrapy process (govnews.batch: one crawler per site,
    --parallel at a time, each with its own lock, crawl_runs row, stats and time limit);
    --no-batch runs one subprocess per site instead.
    """
    if due:
        sys.exit(_crawl_due(db_url, sites_dir, dry_run, full, settings, jobdir, time_limit,
                            batch=batch is not False, parallel=parallel))
    if not site:
        raise click.UsageError("name a SITE, or use --due")
    if len(site) > 1 or batch:
        sys.exit(_crawl_many(site, db_url, sites_dir, full, settings, jobdir, time_limit,
                             batch=batch is not False, parallel=parallel))
    one = site[0]
    try:
        profile = load_profile(one, sites_dir)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    result = run_crawl(profile, db_url=resolve_db_url(db_url), trigger=Trigger.MANUAL, time_limit=time_limit,
                       command=crawl_command(profile, extra_args=extra_scrapy_args(full, settings, jobdir)),
                       on_line=lambda line: click.echo(line, err=True))
    click.echo(f"{profile.name}: {result.status} (run {result.run_id}, exit {result.exit_code})", err=True)
    sys.exit(0 if result.status == RunStatus.OK else 1)


def _crawl_many(names: Sequence[str], db_url: str | None, sites_dir: str | None, full: bool,
                settings: tuple[str, ...], jobdir: str | None, time_limit: float, *, batch: bool,
                parallel: int) -> int:
    """``govnews crawl A B C``: every named site, in one batch process (or one subprocess each)."""
    profiles: dict[str, SiteProfile] = {}
    for name in names:
        try:
            p = load_profile(name, sites_dir)
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from None
        profiles.setdefault(p.name, p)
    results = run_due(profiles.values(), db_url=resolve_db_url(db_url), handle_signals=True,
                      last_run_by_site={}, trigger=Trigger.MANUAL, time_limit=time_limit,
                      max_parallel=parallel, batch=batch,
                      batch_options=_batch_options(full, settings, jobdir),
                      crawl_command=due_crawl_command(full, settings, jobdir))
    for r in results:
        click.echo(f"{r.site}: {r.status} (run {r.run_id})")
    return 1 if any(r.status in FAILED_STATUSES for r in results) else 0


def _batch_options(full: bool, settings: tuple[str, ...], jobdir: str | None) -> dict:
    try:
        parsed = parse_settings(settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return {"full": full, "settings": parsed, "jobdir": jobdir,
            "on_line": lambda line: click.echo(line, err=True)}


def _crawl_due(db_url: str | None, sites_dir: str | None, dry_run: bool, full: bool,
               settings: tuple[str, ...], jobdir: str | None, time_limit: float, *, batch: bool = True,
               parallel: int = DEFAULT_CONCURRENCY) -> int:
    loaded = load_profile_dir(sites_dir)
    for message in loaded.errors.values():
        click.echo(f"skipped profile: {message}", err=True)
    results = run_due(loaded.profiles.values(), db_url=resolve_db_url(db_url), handle_signals=True,
                      dry_run=dry_run, time_limit=time_limit, batch=batch,
                      max_parallel=parallel if batch else 1,
                      batch_options=_batch_options(full, settings, jobdir),
                      crawl_command=due_crawl_command(full, settings, jobdir))
    if dry_run:
        for p in results:
            click.echo(p.name)
        return 0
    for r in results:
        click.echo(f"{r.site}: {r.status} (run {r.run_id}, exit {r.exit_code})")
    return 1 if any(r.status in FAILED_STATUSES for r in results) else 0
