"""``govnews enqueue``: start a distributed crawl of a site (the run row, the site lock, the start
requests in Redis); ``govnews worker`` processes on any machine do the crawling."""
from __future__ import annotations

import sys

import click

from govnews.commands import db_option, resolve_db_url, sites_option

redis_option = click.option(
    "--redis-url", envvar="GOVNEWS_REDIS_URL", required=True, metavar="URL",
    help="Redis shared by the workers, e.g. redis://queue-host:6379/0 [env GOVNEWS_REDIS_URL].")
prefix_option = click.option(
    "--prefix", envvar="GOVNEWS_REDIS_PREFIX", default="govnews", show_default=True,
    help="Prefix of every Redis key (several deployments can share one Redis).")


@click.command("enqueue")
@click.argument("sites", nargs=-1, required=True)
@redis_option
@prefix_option
@db_option
@sites_option
@click.option("--full", is_flag=True, help="Walk every list page, not only until nothing is new.")
@click.option("--lock-ttl", type=float, default=600.0, show_default=True, metavar="S",
              help="Site-lock lease; workers renew it, and it expires S seconds after the last one died.")
def enqueue_cmd(sites: tuple[str, ...], redis_url: str, prefix: str, db_url: str | None, sites_dir: str | None,
                full: bool, lock_ttl: float) -> None:
    """Enqueue a distributed crawl of each SITE (profile name or path).

    Creates the crawl_runs row (status running) and takes the site lock for the run, then pushes the
    site's start URLs, feeds and sitemaps into Redis. Workers (`govnews worker`) pick the run up,
    add their counters to the row, and the worker that sees the run complete marks it ok and
    releases the lock. Exit status 1 when a site is locked (already being crawled).

    \b
    Examples:
      govnews enqueue demo --redis-url redis://127.0.0.1:6379/0 --db postgresql://db/govnews
      GOVNEWS_REDIS_URL=redis://queue:6379/0 govnews enqueue sites/chengdu-xindu.toml
    """
    from crawler.profiles import ProfileError, load_profile
    from govnews.distributed import enqueue_site
    from storage.db import make_engine
    from storage.enums import Trigger

    url = resolve_db_url(db_url)
    engine = make_engine(url)
    failed = False
    try:
        for name in sites:
            try:
                profile = load_profile(name, sites_dir)
            except ProfileError as exc:
                raise click.ClickException(str(exc)) from exc
            result = enqueue_site(profile, redis_url=redis_url, engine=engine, prefix=prefix,
                                  trigger=Trigger.MANUAL, lock_ttl=lock_ttl, full_walk=full)
            click.echo(f"{profile.name}: {result.status} (run {result.run_id})" +
                       (f" - locked by {result.holder}" if result.holder else ""))
            failed |= result.status != "enqueued"
    finally:
        engine.dispose()
    sys.exit(1 if failed else 0)
