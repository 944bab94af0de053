"""``govnews worker``: a distributed-crawl worker (see docs/DISTRIBUTED.md).

It watches ``<prefix>:runs`` in Redis for distributed runs (made by ``govnews enqueue`` or the
scheduler daemon in distributed mode) and, for each run of a site it serves, runs one
``scrapy crawl gov_news -a site=<profile>`` process: the ordinary single-site spider whose
scheduler leases requests from the run's Redis queue. The site profile travels with the run
(enqueue stores the TOML in Redis), so workers need no copy of ``sites/``; the Redis and database
URLs reach the crawl process in its environment, never on its command line. The supervisor loop
is :class:`govnews.distributed.Worker`.
"""
from __future__ import annotations

import logging
import signal
import sys

import click

from govnews.commands import db_option, resolve_db_url
from govnews.commands.enqueue import prefix_option, redis_option


@click.command("worker")
@redis_option
@prefix_option
@db_option
@click.option("--idle-timeout", type=float, default=60.0, show_default=True, metavar="S",
              help="Exit after S seconds without any run to work on (0: run until stopped).")
@click.option("--site", "sites", multiple=True, metavar="NAME",
              help="Serve only this site (repeatable); default: every site with a run.")
@click.option("--max-parallel", type=int, default=1, show_default=True, metavar="N",
              help="Sites crawled at the same time by this worker (one process each).")
@click.option("--lease", type=float, default=60.0, show_default=True, metavar="S",
              help="Request lease: what a dead worker held is re-queued after S seconds.")
@click.option("--name", default=None, metavar="NAME",
              help="Worker name in run summaries [default HOST:PID].")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Extra Scrapy setting.")
@click.option("--log-level", default="INFO", show_default=True, envvar="GOVNEWS_LOG_LEVEL")
def worker_cmd(redis_url: str, prefix: str, db_url: str | None, idle_timeout: float, sites: tuple[str, ...],
               max_parallel: int, lease: float, name: str | None, settings: tuple[str, ...], log_level: str) -> None:
    """Work on distributed crawls: take requests from Redis, store into the shared archive.

    Run one per machine (or per core: extraction is CPU-bound) with the same --redis-url and --db
    (PostgreSQL). A worker SIGKILLed mid-crawl loses nothing: its leased requests return to the
    queue after --lease seconds and another worker crawls them. SIGTERM stops gracefully.

    \b
    Examples:
      govnews worker --redis-url redis://queue:6379/0 --db postgresql://db/govnews
      govnews worker --redis-url redis://queue:6379/0 --idle-timeout 0 --max-parallel 2
    """
    from govnews.distributed import Worker

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = Worker(redis_url=redis_url, db_url=resolve_db_url(db_url), prefix=prefix,
                    idle_timeout=idle_timeout, sites=sites, max_parallel=max_parallel, lease=lease,
                    name=name, settings=settings)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    sys.exit(worker.run())
