import os
import subprocess
import sys

import click

from crawler.profiles import REPO_ROOT, ProfileError, load_profile
from govnews.commands import db_option, resolve_db_url, sites_option


def scrapy_argv(profile_path: str, *, full: bool = False, settings: tuple[str, ...] = (),
                jobdir: str | None = None) -> list[str]:
    """The ``scrapy crawl gov_news`` command line for one site profile."""
    argv = [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile_path}"]
    if full:
        argv += ["-a", "full_walk=1"]
    if jobdir:
        argv += ["-s", f"JOBDIR={jobdir}"]
    for s in settings:
        argv += ["-s", s]
    return argv


@click.command("crawl")
@click.argument("site", required=False)
@db_option
@sites_option
@click.option("--full", is_flag=True, help="Walk every list page, not only until nothing is new.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Extra Scrapy setting.")
@click.option("--jobdir", metavar="DIR", help="Scrapy JOBDIR, so an interrupted crawl can resume.")
def crawl_cmd(site, db_url, sites_dir, full, settings, jobdir):
    """Crawl one site (a profile name under sites/ or a path to a .toml profile).

    Runs `scrapy crawl gov_news -a site=SITE` in a subprocess and exits with its status.

    \b
    Examples:
      govnews crawl demo
      govnews crawl sites/mianyang-kjc.toml --db postgresql://localhost/govnews
      govnews crawl demo -s DOWNLOAD_DELAY=0 --full
    """
    if not site:
        raise click.UsageError("name a SITE")
    try:
        profile = load_profile(site, sites_dir)
    except ProfileError as exc:
        raise click.ClickException(str(exc))
    env = dict(os.environ, GOVNEWS_DB_URL=resolve_db_url(db_url))
    argv = scrapy_argv(str(profile.path), full=full, settings=settings, jobdir=jobdir)
    sys.exit(subprocess.call(argv, cwd=REPO_ROOT, env=env))
