"""Recover a ``JOBDIR`` left behind by a crawl killed with SIGKILL.

The disk queue of a killed Scrapy cannot be trusted, so :class:`JobdirRecoveryExtension` marks the
job directory while a crawl uses it (``govnews.running``: host, pid, start time) and, when a crawl
starts and finds the mark, sets the directory aside (``<JOBDIR>.crashed-<UTC time>``) before Scrapy
opens its queue, then catches up (``spider.catch_up``, see :mod:`crawler.spidermiddlewares.incremental`:
every column paged to its end, archived articles skipped).

The killed crawl still holds the site's lease and its ``crawl_runs`` row says ``running``: when the
mark names a process of this host that is gone, :meth:`JobdirRecoveryExtension.release_killed`
releases the lease and closes the row ``interrupted``, once: this extension calls it in a thread
when the spider opens, and :class:`crawler.extensions.crawl_runs.CrawlRunExtension` calls it in its
own thread just before it takes the lock (whichever comes second waits for the first), so the
restart is never refused as "being crawled by another process".

Settings: ``JOBDIR`` (Scrapy's; nothing to do without it), ``GOVNEWS_JOBDIR_RECOVERY`` (default True).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy import update

from common.clock import utcnow
from common.hosts import process_alive
from crawler.services import InThread, get_archive, in_thread
from storage import runs
from storage.enums import RunStatus
from storage.models import CrawlRun

__all__ = ["ENABLED_SETTING", "JOBDIR_MARKER", "JobdirRecoveryExtension", "read_marker", "set_aside"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_JOBDIR_RECOVERY"
JOBDIR_MARKER = "govnews.running"   # present while a crawl uses the JOBDIR; left behind by a SIGKILL
KILLED_LOG_TAIL = "killed (found by the next crawl with the same JOBDIR)"


def read_marker(jobdir: Path) -> dict[str, Any] | None:
    """The mark's ``{"host", "pid", "started"}`` (``{}`` when unreadable), or None when there is none."""
    marker = jobdir / JOBDIR_MARKER
    if not marker.exists():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def set_aside(jobdir: Path) -> Path:
    """Move ``jobdir`` to ``<name>.crashed-<UTC time>`` beside it; returns the new path."""
    aside = jobdir.with_name(f"{jobdir.name}.crashed-{utcnow().strftime('%Y%m%dT%H%M%S')}")
    shutil.move(str(jobdir), str(aside))
    return aside


class JobdirRecoveryExtension:
    def __init__(self, crawler: Any, jobdir: Path, *, run_blocking: InThread = in_thread):
        self.crawler = crawler
        self.jobdir = jobdir
        self.run_blocking = run_blocking
        self.recovered_jobdir: Path | None = None
        #: ``(host, pid)`` of the killed crawl whose lease may still be held
        self.killed: tuple[str, int] | None = None
        self.dead_holder: str | None = None      # the holder whose lease was released
        self._released = False
        self._release_lock = threading.Lock()
        self._check()

    @classmethod
    def from_crawler(cls, crawler: Any) -> JobdirRecoveryExtension:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir or not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        ext = cls(crawler, Path(jobdir))   # before the engine: Scrapy opens the queue after extensions
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _check(self) -> None:
        info = read_marker(self.jobdir)
        if info is None:
            return
        self.recovered_jobdir = set_aside(self.jobdir)
        try:
            self.killed = (str(info["host"]), int(info["pid"]))
        except (KeyError, TypeError, ValueError):
            self.killed = None
        logger.warning("JOBDIR %s was left by a crawl that did not close (%s): its disk queue cannot be "
                       "trusted; moved to %s, walking the site again (archived articles are skipped)",
                       self.jobdir, info or "?", self.recovered_jobdir)

    def release_killed(self, engine: Any, site: str) -> bool:
        """Release the killed crawl's lease on ``site`` and close its ``running`` row (blocking: call it
        in a thread). Only for a process of this host that is gone; done once. True when released."""
        with self._release_lock:        # held while releasing: a second caller waits for the first
            if self._released or self.killed is None:
                return False
            self._released = True
            return self._release(engine, site, *self.killed)

    def _release(self, engine: Any, site: str, host: str, pid: int) -> bool:
        if host != socket.gethostname() or pid == os.getpid() or process_alive(pid):
            return False
        holder = f"{host}:{pid}"
        try:
            released = runs.release_lock(engine, site, holder)
            if released:
                self.dead_holder = holder
                logger.warning("released the lease on %s held by the killed crawl %s", site, holder)
            with engine.begin() as conn:     # its crawl_runs row said "running" forever
                conn.execute(update(CrawlRun).where(CrawlRun.site == site, CrawlRun.status == RunStatus.RUNNING,
                                                    CrawlRun.host == host, CrawlRun.pid == pid)
                             .values(status=RunStatus.INTERRUPTED, finished_at=utcnow(), log_tail=KILLED_LOG_TAIL))
            return released
        except Exception as exc:  # noqa: BLE001 - the lease then expires on its own
            logger.warning("could not release the lease of the killed crawl %s: %s", holder, exc)
            return False

    def _mark(self) -> None:
        self.jobdir.mkdir(parents=True, exist_ok=True)
        (self.jobdir / JOBDIR_MARKER).write_text(
            json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": utcnow().isoformat()}),
            encoding="utf-8")

    async def spider_opened(self, spider: Any) -> None:
        if self.recovered_jobdir is not None:
            self.crawler.stats.set_value("govnews/jobdir_recovered", str(self.recovered_jobdir))
            # an incremental stop would skip what the killed crawl never reached: catch up (columns paged
            # to their end, archived articles skipped, chains that only repeat their links stop), not a
            # full walk, which follows every ``下一页`` trap to max_pagination and drops conditional GET
            spider.catch_up = True
        self._mark()
        site = getattr(spider, "site", None)
        if self.killed is not None and site:
            await self.run_blocking(self.release_killed, get_archive(self.crawler).engine, site)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        # Scrapy has persisted its queue by now (the scheduler closes before this signal)
        try:
            (self.jobdir / JOBDIR_MARKER).unlink()
        except FileNotFoundError:
            pass
