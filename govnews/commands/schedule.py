"""``govnews schedule``: the crawl scheduler daemon (same as ``python scheduler.py``)."""
import sys

import click

from govnews.commands import db_option, sites_option


@click.command("schedule")
@sites_option
@db_option
@click.option("--reload-interval", type=float, default=60.0, show_default=True, metavar="S",
              help="Re-read the profiles every S seconds (and on SIGHUP).")
@click.option("--time-limit", type=float, default=7200.0, show_default=True, metavar="S",
              help="Stop a crawl after S seconds (SIGTERM, then SIGKILL after --grace).")
@click.option("--grace", type=float, default=30.0, show_default=True, metavar="S",
              help="Seconds a crawl gets to shut down after SIGTERM.")
@click.option("--misfire-grace", type=int, default=3600, show_default=True, metavar="S",
              help="A run missed by at most S seconds (daemon down) still runs, once.")
@click.option("--max-parallel", type=int, default=4, show_default=True, metavar="N",
              help="Crawls running at the same time.")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write each crawl's full output to DIR/<site>/<time>.log.")
@click.option("--memory-jobstore", is_flag=True,
              help="Keep jobs in memory instead of the apscheduler_jobs table.")
@click.option("--redis-url", envvar="GOVNEWS_REDIS_URL", default=None, metavar="URL",
              help="Distributed mode: enqueue each run in Redis for `govnews worker`s instead of crawling here.")
@click.option("--log-level", default="INFO", show_default=True, envvar="GOVNEWS_LOG_LEVEL")
def schedule_cmd(sites_dir, db_url, reload_interval, time_limit, grace, misfire_grace, max_parallel,
                 log_dir, memory_jobstore, log_level, redis_url=None):
    """Run the scheduler daemon: crawl every site profile on its schedule.

    One job per profile in sites/ (its 5-field cron `schedule`, Asia/Shanghai unless the
    profile's `timezone` says otherwise, or `interval_seconds`). Each run is a `scrapy crawl`
    subprocess recorded in the crawl_runs table. SIGHUP re-reads the profiles (they are also
    re-read every --reload-interval seconds); SIGTERM or Ctrl-C stops running crawls gracefully
    and exits 0.

    \b
    Examples:
      govnews schedule
      govnews schedule --sites /etc/govnews/sites --db postgresql://localhost/govnews
    """
    from govnews.scheduling import run_daemon, setup_logging

    setup_logging(log_level)
    sys.exit(run_daemon(sites_dir, db_url, reload_interval=reload_interval, time_limit=time_limit,
                        grace=grace, misfire_grace_time=misfire_grace, max_parallel=max_parallel,
                        log_dir=log_dir, jobstore="memory" if memory_jobstore else "db",
                        redis_url=redis_url))
