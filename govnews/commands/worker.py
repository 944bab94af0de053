"""``govnews worker``: a distributed-crawl worker (see docs/DISTRIBUTED.md).

It watches ``<prefix>:runs`` in Redis for distributed runs (made by ``govnews enqueue`` or the
scheduler daemon in distributed mode) and, for each run of a site it serves, runs one
``scrapy crawl gov_news -a site=<profile> -s REDIS_URL=...`` process: the ordinary single-site
spider whose scheduler leases requests from the run's Redis queue. The site profile travels with
the run (enqueue stores the TOML in Redis), so workers need no copy of ``sites/``.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from govnews.commands import db_option, resolve_db_url
from govnews.commands.enqueue import prefix_option, redis_option

logger = logging.getLogger("govnews.worker")

CHILD_IDLE_TIMEOUT = 10.0      # a crawl process whose run vanished before it joined exits after this
RESPAWN_COOLDOWN = 3.0         # seconds before a crawl of a still-active run is started again
POLL_SECONDS = 0.5


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the crawl gets SIGKILL when its worker dies, so "kill the worker" kills its crawl."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass
class Child:
    site: str
    run_id: int
    proc: subprocess.Popen
    started: float = field(default_factory=time.monotonic)


class Worker:
    def __init__(self, *, redis_url: str, db_url: str, prefix: str, idle_timeout: float,
                 sites: tuple[str, ...], max_parallel: int, lease: float, name: str,
                 settings: tuple[str, ...] = (), grace: float = 30.0):
        from crawler.distributed import connect

        self.redis_url, self.db_url, self.prefix = redis_url, db_url, prefix
        self.idle_timeout, self.sites, self.max_parallel = idle_timeout, set(sites), max(1, max_parallel)
        self.lease, self.name, self.settings, self.grace = lease, name, settings, grace
        self.server = connect(redis_url)
        self.children: dict[str, Child] = {}
        self.cooldown: dict[tuple[str, int], float] = {}
        self.stopping = False
        self.tmp = Path(tempfile.mkdtemp(prefix="govnews-worker-"))
        self.crawls = 0

    def command(self, site: str, run_id: int, meta: dict[str, str]) -> list[str]:
        profile = self.tmp / f"{site}-{run_id}.toml"
        profile.write_text(meta.get("profile", ""), encoding="utf-8")
        cmd = [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
               "-s", f"REDIS_URL={self.redis_url}", "-s", f"GOVNEWS_REDIS_PREFIX={self.prefix}",
               "-s", f"GOVNEWS_IDLE_TIMEOUT={CHILD_IDLE_TIMEOUT}", "-s", f"GOVNEWS_LEASE_SECONDS={self.lease}"]
        if meta.get("full_walk") == "1":
            cmd += ["-a", "full_walk=1"]
        for s in self.settings:
            cmd += ["-s", s]
        return cmd

    def spawn(self, site: str, run_id: int) -> None:
        from crawler.distributed import run_meta
        from govnews.runner import REPO_ROOT

        meta = run_meta(self.server, self.prefix, run_id)
        if not meta.get("profile"):
            logger.error("run %s of %s has no profile in Redis; skipped", run_id, site)
            self.cooldown[(site, run_id)] = time.monotonic() + 60
            return
        env = dict(os.environ, GOVNEWS_DB_URL=self.db_url, GOVNEWS_WORKER_NAME=self.name,
                   PYTHONUNBUFFERED="1")
        env.pop("GOVNEWS_RUN_ID", None)
        proc = subprocess.Popen(self.command(site, run_id, meta), cwd=str(REPO_ROOT), env=env,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.children[site] = Child(site, run_id, proc)
        self.crawls += 1
        logger.info("worker %s: crawling run %s of %s (pid %s)", self.name, run_id, site, proc.pid)

    def reap_children(self) -> None:
        for site, child in list(self.children.items()):
            rc = child.proc.poll()
            if rc is None:
                continue
            del self.children[site]
            logger.info("worker %s: crawl of %s (run %s) exited with %s", self.name, site, child.run_id, rc)
            self.cooldown[(site, child.run_id)] = time.monotonic() + RESPAWN_COOLDOWN

    def eligible(self) -> dict[str, int]:
        from crawler.distributed import active_runs

        now = time.monotonic()
        return {site: rid for site, rid in active_runs(self.server, self.prefix).items()
                if (not self.sites or site in self.sites) and self.cooldown.get((site, rid), 0) <= now}

    def stop(self, *_args) -> None:
        self.stopping = True

    def run(self) -> int:
        from crawler.distributed import mask_redis_url
        from govnews.runner import terminate

        logger.info("worker %s: watching %s (prefix %s) for %s; idle timeout %s", self.name,
                    mask_redis_url(self.redis_url), self.prefix,
                    ", ".join(sorted(self.sites)) or "every site", self.idle_timeout or "none")
        idle_since = time.monotonic()
        try:
            while not self.stopping:
                self.reap_children()
                runs = self.eligible()
                for site, rid in sorted(runs.items()):
                    if len(self.children) >= self.max_parallel:
                        break
                    if site not in self.children:
                        self.spawn(site, rid)
                if self.children or runs:
                    idle_since = time.monotonic()
                elif self.idle_timeout and time.monotonic() - idle_since >= self.idle_timeout:
                    logger.info("worker %s: no work for %ss; exiting", self.name, self.idle_timeout)
                    break
                time.sleep(POLL_SECONDS)
        finally:
            for child in self.children.values():
                terminate(child.proc, self.grace)
            for f in self.tmp.glob("*"):
                f.unlink(missing_ok=True)
            self.tmp.rmdir()
        return 0


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
def worker_cmd(redis_url, prefix, db_url, idle_timeout, sites, max_parallel, lease, name, settings,
               log_level):
    """Work on distributed crawls: take requests from Redis, store into the shared archive.

    Run one per machine (or per core: extraction is CPU-bound) with the same --redis-url and --db
    (PostgreSQL). A worker SIGKILLed mid-crawl loses nothing: its leased requests return to the
    queue after --lease seconds and another worker crawls them. SIGTERM stops gracefully.

    \b
    Examples:
      govnews worker --redis-url redis://queue:6379/0 --db postgresql://db/govnews
      govnews worker --redis-url redis://queue:6379/0 --idle-timeout 0 --max-parallel 2
    """
    import socket

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = Worker(redis_url=redis_url, db_url=resolve_db_url(db_url), prefix=prefix,
                    idle_timeout=idle_timeout, sites=sites, max_parallel=max_parallel, lease=lease,
                    name=name or f"{socket.gethostname()}:{os.getpid()}", settings=settings)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    sys.exit(worker.run())
