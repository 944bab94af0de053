"""``govnews schedule``: the crawl scheduler daemon (``python scheduler.py`` is the same command)."""
from __future__ import annotations

import sys

import click

from govnews.commands import db_option, resolve_db_url, sites_option
from govnews.runner import DEFAULT_GRACE, DEFAULT_TIME_LIMIT
from govnews.scheduling import (
    DEFAULT_MAX_PARALLEL,
    DEFAULT_MISFIRE_GRACE,
    DEFAULT_RELOAD_INTERVAL,
    JOBSTORE_TABLE,
    run_daemon,
    setup_logging,
)


@click.command("schedule")
@sites_option
@db_option
@click.option("--reload-interval", type=float, default=DEFAULT_RELOAD_INTERVAL, show_default=True, metavar="S",
              help="Re-read the profiles every S seconds (and on SIGHUP).")
@click.option("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, show_default=True, metavar="S",
              help="Stop a crawl after S seconds (SIGTERM, then SIGKILL after --grace).")
@click.option("--grace", type=float, default=DEFAULT_GRACE, show_default=True, metavar="S",
              help="Seconds a crawl gets to shut down after SIGTERM.")
@click.option("--misfire-grace", type=int, default=DEFAULT_MISFIRE_GRACE, show_default=True, metavar="S",
              help="A run missed by at most S seconds (daemon down) still runs, once.")
@click.option("--max-parallel", type=int, default=DEFAULT_MAX_PARALLEL, show_default=True, metavar="N",
              help="Crawls running at the same time.")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write each crawl's full output to DIR/<site>/<time>.log.")
@click.option("--memory-jobstore", is_flag=True,
              help=f"Keep jobs in memory instead of the {JOBSTORE_TABLE} table.")
@click.option("--redis-url", envvar="GOVNEWS_REDIS_URL", default=None, metavar="URL",
              help="Distributed mode: enqueue each run in Redis for `govnews worker`s instead of crawling here.")
@click.option("--include-unverified", is_flag=True,
              help="Also schedule profiles marked `verified = false` (by default they are listed, not crawled).")
@click.option("--log-level", default="INFO", show_default=True, envvar="GOVNEWS_LOG_LEVEL",
              help="DEBUG, INFO, WARNING, ...")
def schedule_cmd(sites_dir: str | None, db_url: str | None, reload_interval: float, time_limit: float,
                 grace: float, misfire_grace: int, max_parallel: int, log_dir: str | None,
                 memory_jobstore: bool, redis_url: str | None, include_unverified: bool, log_level: str) -> None:
    """Run the scheduler daemon: crawl every site profile on its schedule.

    One job per profile in the sites directory (its 5-field cron `schedule`, Asia/Shanghai unless
    the profile's `timezone` says otherwise, or `interval_seconds`). Each run is a `scrapy crawl`
    subprocess recorded in the crawl_runs table. SIGHUP re-reads the profiles (they are also
    re-read every --reload-interval seconds); SIGTERM or Ctrl-C stops running crawls gracefully
    and exits 0. Profiles with `verified = false` are not scheduled unless --include-unverified.
    A run that ends failed is logged at ERROR, empty/timeout/locked/interrupted at WARNING, with
    its reason.

    \b
    Examples:
      govnews schedule
      govnews schedule --sites /etc/govnews/sites --db postgresql://localhost/govnews
      python scheduler.py --sites sites/ --log-dir /var/log/govnews/crawls
    """
    setup_logging(log_level)
    sys.exit(run_daemon(sites_dir, resolve_db_url(db_url), reload_interval=reload_interval,
                        time_limit=time_limit, grace=grace, misfire_grace_time=misfire_grace,
                        max_parallel=max_parallel, log_dir=log_dir,
                        jobstore="memory" if memory_jobstore else "db", redis_url=redis_url or None,
                        include_unverified=include_unverified))
