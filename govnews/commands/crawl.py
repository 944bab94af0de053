"""``govnews crawl``: one crawl of one site now, or every site whose schedule is due (for cron)."""
import sys

import click

from crawler.profiles import ProfileError, load_profile
from govnews.commands import db_option, resolve_db_url, sites_option

#: run statuses that make ``govnews crawl`` exit non-zero
FAILED_STATUSES = ("failed", "timeout", "locked", "interrupted")


def extra_scrapy_args(full: bool, settings: tuple[str, ...], jobdir: str | None) -> list[str]:
    args = ["-a", "full_walk=1"] if full else []
    if jobdir:
        args += ["-s", f"JOBDIR={jobdir}"]
    for s in settings:
        args += ["-s", s]
    return args


@click.command("crawl")
@click.argument("site", required=False)
@db_option
@sites_option
@click.option("--due", is_flag=True, help="Crawl every site whose schedule has fired since its last run, then exit.")
@click.option("--dry-run", is_flag=True, help="With --due: only list the sites that are due.")
@click.option("--full", is_flag=True, help="Walk every list page, not only until nothing is new.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Extra Scrapy setting.")
@click.option("--jobdir", metavar="DIR", help="Scrapy JOBDIR, so an interrupted crawl can resume.")
@click.option("--time-limit", type=float, default=7200.0, show_default=True, metavar="S",
              help="Stop the crawl after S seconds (recorded as timeout).")
def crawl_cmd(site, db_url, sites_dir, due, dry_run, full, settings, jobdir, time_limit):
    """Crawl one site now (a profile name under sites/ or a path to a .toml profile).

    The crawl runs `scrapy crawl gov_news -a site=SITE` in a subprocess, takes the site's lock and
    is recorded in crawl_runs; the exit status is 0 when the run ended `ok`.

    \b
    Examples:
      govnews crawl demo
      govnews crawl sites/chengdu-xindu.toml --db postgresql://localhost/govnews
      govnews crawl demo -s DOWNLOAD_DELAY=0 --full --jobdir data/jobs/demo
      govnews crawl --due                 # from cron: every site whose schedule is due
    """
    from govnews.runner import crawl_command, run_crawl

    url = resolve_db_url(db_url)
    extra = extra_scrapy_args(full, settings, jobdir)
    if due:
        from govnews.scheduling import load_profile_dir, run_due

        loaded = load_profile_dir(sites_dir)
        for err in loaded.errors:
            click.echo(f"skipped profile: {err}", err=True)
        results = run_due(loaded.profiles.values(), db_url=url, handle_signals=True, dry_run=dry_run,
                          time_limit=time_limit)
        if dry_run:
            for p in results:
                click.echo(p.name)
            return
        for r in results:
            click.echo(f"{r.site}: {r.status} (run {r.run_id}, exit {r.exit_code})")
        sys.exit(1 if any(r.status in FAILED_STATUSES for r in results) else 0)
    if not site:
        raise click.UsageError("name a SITE, or use --due")
    try:
        profile = load_profile(site, sites_dir)
    except ProfileError as exc:
        raise click.ClickException(str(exc))
    result = run_crawl(profile, db_url=url, trigger="manual", time_limit=time_limit,
                       command=crawl_command(profile, extra_args=extra),
                       on_line=lambda line: click.echo(line, err=True))
    click.echo(f"{profile.name}: {result.status} (run {result.run_id}, exit {result.exit_code})", err=True)
    sys.exit(0 if result.status == "ok" else 1)
