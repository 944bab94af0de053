"""The batch process: many sites' crawls in one Scrapy process (``python -m govnews.batch``).

One :class:`scrapy.crawler.AsyncCrawlerProcess`, one reactor, one ``Crawler`` per site, at most
``concurrency`` of them at a time; a site starts as soon as another finishes. Sites arrive as JSON
lines on stdin (``{"site": {...}}``; ``{"end": true}`` or EOF: no more will come), and every run's
start and end is reported as a JSON line on stdout (``{"event": "start"|"end"|"skipped", ...}``);
Scrapy's log goes to stderr. The protocol is :mod:`govnews.batch`'s (the parent side).

Per site, as in a crawl subprocess of its own (``govnews.runner``): the lock is probed first (a
held site gets a ``locked`` row and no crawler), then a ``crawl_runs`` row is started (this pid)
and the crawler gets its id through the ``GOVNEWS_BATCH_RUN_ID`` setting (:class:`BatchRunExtension`:
the environment variable ``GOVNEWS_RUN_ID`` cannot name one run per crawler); the crawler takes the
site lock, keeps its own stats, politeness (``DOWNLOAD_DELAY``, ``CONCURRENT_REQUESTS_PER_DOMAIN``,
the profile's delay), budget and time limit. A time limit closes that spider (``timeout``), a
crawler that raises ends ``failed``; neither touches the other crawlers. SIGTERM/SIGINT: nothing
new starts, running spiders close gracefully (``interrupted``), a second signal stops the reactor.

Per-process things are shared by every crawler of a batch: the reactor and its thread pool, the DNS
resolver (``TWISTED_DNS_RESOLVER``, with its process-wide private-address allow-list: the parent
only batches sites whose ``allow_private_hosts`` are the same, so the union is each site's own
list), the logging configuration (``LOG_*``) and the ``-s`` settings of the batch. The archive is
one :class:`storage.archive.Archive` for the whole batch (:class:`SharedArchiveExtension`: one
engine and pool instead of one per crawler).
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings
from scrapy.utils.ossignal import install_shutdown_handlers
from scrapy.utils.project import get_project_settings

from common.secrets import mask_secrets
from crawler.downloader import DOWNLOADER_PATH, drain
from crawler.extensions.crawl_runs import RUN_ID_ENV, CrawlRunExtension
from crawler.services import ArchiveExtension, db_url_from_settings
from crawler.spiders.gov_news import GovNewsSpider
from storage import runs
from storage.archive import Archive
from storage.db import is_sqlite, make_engine
from storage.enums import RunStatus

logger = logging.getLogger("govnews.batch")

BATCH_RUN_ID_SETTING = "GOVNEWS_BATCH_RUN_ID"
RUN_EXTENSION_PATH = "crawler.extensions.CrawlRunExtension"
BATCH_RUN_EXTENSION_PATH = "govnews.batch.process.BatchRunExtension"
ARCHIVE_EXTENSION_PATH = "crawler.services.ArchiveExtension"
SHARED_ARCHIVE_EXTENSION_PATH = "govnews.batch.process.SharedArchiveExtension"
TAIL_LINES = 60
PROGRESS_SECONDS = 1.0            # a progress event this often when the parent asks for them

# ---------------------------------------------------------------------------- extensions
_ENV_LOCK = threading.Lock()


class BatchRunExtension(CrawlRunExtension):
    """:class:`CrawlRunExtension` whose run row is the ``GOVNEWS_BATCH_RUN_ID`` setting.

    The base class reads the run id from the environment; in a batch the environment is shared by
    every crawler, so the id is put there only for the duration of ``_open`` (which runs in a
    thread), under a lock: the base class's behaviour (lock, JOBDIR recovery) is reused as it is."""

    def _open(self, site: str) -> Any:
        run_id = self.crawler.settings.get(BATCH_RUN_ID_SETTING)
        if not run_id:
            return super()._open(site)
        with _ENV_LOCK:
            old = os.environ.get(RUN_ID_ENV)
            os.environ[RUN_ID_ENV] = str(run_id)
            try:
                return super()._open(site)
            finally:
                if old is None:
                    os.environ.pop(RUN_ID_ENV, None)
                else:
                    os.environ[RUN_ID_ENV] = old


_shared: dict[str, Archive] = {}
_shared_lock = threading.Lock()


def shared_archive(db_url: str, pool_size: int) -> Archive:
    """The batch's one archive for ``db_url`` (created on first use; closed by :func:`close_shared`)."""
    with _shared_lock:
        archive = _shared.get(db_url)
        if archive is None:
            # every crawler may hold one connection for its PostgreSQL advisory lock, plus its writes
            kwargs: dict[str, Any] = {"pool_size": max(5, pool_size), "max_overflow": max(10, pool_size)}
            if is_sqlite(db_url):
                from crawler.services import DEFAULT_DB_WRITE_WAIT, write_wait_busy_timeout

                engine = make_engine(db_url, busy_timeout=write_wait_busy_timeout(DEFAULT_DB_WRITE_WAIT), **kwargs)
            else:
                engine = make_engine(db_url, **kwargs)
            archive = _shared[db_url] = Archive(engine=engine)
        return archive


def close_shared() -> None:
    with _shared_lock:
        for archive in _shared.values():
            try:
                archive.close()
            except Exception:  # noqa: BLE001 - the process is ending
                logger.exception("could not close the archive")
        _shared.clear()


class SharedArchiveExtension(ArchiveExtension):
    """:class:`ArchiveExtension` (found by ``get_archive``: a subclass) on the batch's one archive;
    a crawler that stops does not close it."""

    def open(self) -> Archive:
        return shared_archive(self.db_url, int(os.environ.get("GOVNEWS_BATCH_POOL", "10")))

    def close(self) -> None:
        self._archive = None


# ---------------------------------------------------------------------------- per-site log tails
class SiteLogHandler(logging.Handler):
    """Keeps the last log lines of each site: records that name a spider (Scrapy passes
    ``extra={"spider": ...}``) go to that spider's site."""

    def __init__(self, lines: int = TAIL_LINES):
        super().__init__(logging.INFO)
        self.lines = lines
        self.tails: dict[str, collections.deque[str]] = {}
        self.files: dict[str, Any] = {}
        self.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        spider = getattr(record, "spider", None)
        site = getattr(spider, "site", None)
        if not site:
            return
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001
            return
        self.tails.setdefault(site, collections.deque(maxlen=self.lines)).append(line)
        f = self.files.get(site)
        if f is not None:
            try:
                f.write(mask_secrets(line) + "\n")
                f.flush()
            except OSError:  # pragma: no cover - disk full: the tail in crawl_runs still has it
                pass

    def open_file(self, site: str, path: str | None) -> None:
        """Also write ``site``'s lines to ``path`` (the daemon's ``--log-dir``)."""
        if not path:
            return
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self.files[site] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in tail()
        except OSError as exc:
            logger.warning("%s: cannot write its log to %s: %s", site, path, exc)

    def tail(self, site: str) -> list[str]:
        f = self.files.pop(site, None)
        if f is not None:
            f.close()
        return list(self.tails.pop(site, ()))


# ---------------------------------------------------------------------------- the batch
@dataclass
class SiteJob:
    name: str
    target: str                       # profile path or name (``-a site=``)
    trigger: str
    time_limit: float | None
    spider_args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    log_path: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteJob:
        return cls(name=data["name"], target=data["target"], trigger=data["trigger"],
                   time_limit=data.get("time_limit"), spider_args=dict(data.get("spider_args") or {}),
                   settings=dict(data.get("settings") or {}), log_path=data.get("log_path"))


def emit(event: dict[str, Any]) -> None:
    """One JSON line on stdout (the parent reads them)."""
    sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def progress_counts(stats: dict[str, Any]) -> dict[str, int]:
    """A crawl's numbers for the live line (the same as a single crawl's progress line)."""
    return {"pages": int(stats.get("downloader/response_count", 0) or 0),
            "new": int(stats.get("govnews/articles/new", 0) or 0),
            "dup": int(stats.get("govnews/articles/duplicate", 0) or 0),
            "failed": sum(int(v or 0) for k, v in stats.items() if k.startswith("govnews/failed/"))}


def _engine_of(crawler: Crawler) -> Any:
    """The crawler's engine, or None before its crawl created one (Crawler.engine raises then)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None


def _stats_of(crawler: Crawler) -> dict[str, Any]:
    """The crawler's stats, or {} when its crawl never got as far as creating them."""
    try:
        return crawler.stats.get_stats()
    except RuntimeError:        # Crawler.stats is not set yet
        return {}


def batch_settings(overrides: dict[str, Any]) -> Settings:
    settings = get_project_settings()
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    exts = dict(settings.getdict("EXTENSIONS"))
    exts[RUN_EXTENSION_PATH] = None
    exts[BATCH_RUN_EXTENSION_PATH] = 500
    exts[ARCHIVE_EXTENSION_PATH] = None
    exts[SHARED_ARCHIVE_EXTENSION_PATH] = 0
    settings.set("EXTENSIONS", exts, priority="cmdline")
    settings.set("DOWNLOADER", DOWNLOADER_PATH, priority="cmdline")   # drain() on a time limit
    return settings


class Batch:
    """Runs the sites it is given, ``concurrency`` at a time, in ``process``."""

    def __init__(self, process: AsyncCrawlerProcess, settings: Settings, concurrency: int, grace: float,
                 logs: SiteLogHandler, progress: bool = False):
        self.process = process
        self.settings = settings
        self.concurrency = max(1, concurrency)
        self.grace = grace
        self.logs = logs
        self.db_url = db_url_from_settings(settings)
        self.engine = make_engine(self.db_url)
        self.pending: collections.deque[SiteJob] = collections.deque()
        self.running: dict[str, Crawler | None] = {}
        self.tasks: set[asyncio.Task] = set()
        self.no_more = False
        self.stopping = False
        self.timed_out: set[str] = set()
        self.crawl_tasks: dict[str, asyncio.Task] = {}
        self.wake = asyncio.Event()
        self.progress = progress
        self.finished_sites = 0
        self.finished_counts = {"pages": 0, "new": 0, "dup": 0, "failed": 0}

    # ---- input (called on the loop)
    def add(self, job: SiteJob) -> None:
        if self.stopping:
            emit({"event": "skipped", "site": job.name, "status": RunStatus.INTERRUPTED, "reason": "stopping"})
            return
        self.pending.append(job)
        self.wake.set()

    def end(self) -> None:
        self.no_more = True
        self.wake.set()

    def stop(self) -> None:
        """Graceful stop: nothing new starts, running spiders close (``interrupted``)."""
        if self.stopping:
            return
        self.stopping = True
        logger.info("stopping the batch: %d crawl(s) running, %d not started", len(self.running), len(self.pending))
        while self.pending:
            job = self.pending.popleft()
            emit({"event": "skipped", "site": job.name, "status": RunStatus.INTERRUPTED, "reason": "stopping"})
        loop = asyncio.get_running_loop()
        for site, crawler in list(self.running.items()):
            self._close(crawler, "shutdown")
            if crawler is not None:
                loop.call_later(self.grace, self._abandon, site, crawler)
        self.wake.set()

    @staticmethod
    def _close(crawler: Crawler | None, reason: str) -> None:
        if crawler is None or not crawler.crawling or _engine_of(crawler) is None:
            return
        asyncio.ensure_future(crawler.engine.close_spider_async(reason=reason))

    # ---- main loop
    def progress_event(self) -> dict[str, Any]:
        """``{"event": "progress", sites done/running/pending, pages, new, dup, failed}``: the
        finished sites' numbers plus the running crawlers' stats now."""
        totals = dict(self.finished_counts)
        for crawler in self.running.values():
            try:
                stats = crawler.stats.get_stats() if crawler is not None else {}
            except (AttributeError, RuntimeError):        # not crawling yet
                stats = {}
            for k, v in progress_counts(stats).items():
                totals[k] += v
        return {"event": "progress", "done": self.finished_sites, "running": len(self.running),
                "pending": len(self.pending), **totals}

    async def _report_progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            emit(self.progress_event())

    async def run(self) -> None:
        reporter = asyncio.ensure_future(self._report_progress()) if self.progress else None
        try:
            await self._run()
        finally:
            if reporter is not None:
                reporter.cancel()
                emit(self.progress_event())

    async def _run(self) -> None:
        while True:
            while self.pending and len(self.running) < self.concurrency and not self.stopping:
                job = self.pending.popleft()
                self.running[job.name] = None
                task = asyncio.ensure_future(self._site(job))
                self.tasks.add(task)
                task.add_done_callback(self._done)
            if not self.running and not self.pending and (self.no_more or self.stopping):
                return
            self.wake.clear()
            await self.wake.wait()

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:  # pragma: no cover - _site catches
            logger.error("batch site task failed: %r", task.exception())
        self.wake.set()

    async def _blocking(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def _site(self, job: SiteJob) -> None:
        try:
            await self._crawl_site(job)
        except Exception as exc:  # noqa: BLE001 - the batch goes on
            logger.exception("%s: %s", job.name, exc)
        finally:
            self.running.pop(job.name, None)
            self.crawl_tasks.pop(job.name, None)
            self.wake.set()

    async def _crawl_site(self, job: SiteJob) -> None:
        site = job.name
        started = time.monotonic()
        holder = await self._blocking(runs.live_lock_holder, self.engine, site)
        if holder:
            note = f"[batch] not started: site {site!r} is locked by {holder['holder']}"
            run_id = await self._blocking(self._locked_row, site, job.trigger, note)
            logger.warning("%s (run %s)", note, run_id)
            self.finished_sites += 1
            emit({"event": "end", "site": site, "run_id": run_id, "status": RunStatus.LOCKED, "note": note,
                  "holder": holder["holder"]})
            return
        run_id = await self._blocking(lambda: runs.start_run(self.engine, site, trigger=job.trigger))
        emit({"event": "start", "site": site, "run_id": run_id, "pid": os.getpid()})
        self.logs.open_file(site, job.log_path)
        exit_code: int | None = 0
        notes: list[str] = []
        settings = self.settings.copy()
        for name, value in job.settings.items():
            settings.set(name, value, priority="cmdline")
        settings.set(BATCH_RUN_ID_SETTING, run_id, priority="cmdline")
        crawler = Crawler(GovNewsSpider, settings)
        self.running[site] = crawler
        timer = None
        if job.time_limit is not None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(job.time_limit, self._time_up, site, crawler, job.time_limit, notes)
        status: str | None = None
        try:
            task = self.process.crawl(crawler, site=job.target, **job.spider_args)
            self.crawl_tasks[site] = task
            await task
        except asyncio.CancelledError:
            status = RunStatus.TIMEOUT if site in self.timed_out else RunStatus.INTERRUPTED
            exit_code = None
            notes.append("[batch] the crawler did not stop within the grace period; abandoned")
        except Exception as exc:  # noqa: BLE001 - a site's crash ends that site only
            status = RunStatus.FAILED
            exit_code = 1
            first = str(exc).splitlines()[0][:300] if str(exc) else ""
            notes.append(f"[batch] crawl failed: {type(exc).__name__}: {first}")
            logger.error("%s: crawl failed: %r", site, exc)
        finally:
            if timer is not None:
                timer.cancel()
        stats = _stats_of(crawler)
        reason = stats.get("finish_reason")
        if status is None:
            status = await self._blocking(self._final_status, run_id, site, reason, stats, notes)
        if getattr(crawler, "spider", None) is None and status == RunStatus.OK:  # pragma: no cover
            status = RunStatus.FAILED
        self.running[site] = None          # its numbers move from the running to the finished
        for k, v in progress_counts(stats).items():
            self.finished_counts[k] += v
        self.finished_sites += 1
        tail = mask_secrets("\n".join([*self.logs.tail(site), *notes]))[-8000:]
        await self._blocking(lambda: runs.finish_run(self.engine, run_id, status=status, exit_code=exit_code,
                                                     log_tail=tail))
        emit({"event": "end", "site": site, "run_id": run_id, "status": status, "reason": reason,
              "exit_code": exit_code,
              "seconds": round(time.monotonic() - started, 3), "note": notes[-1] if notes else None,
              "requests": stats.get("downloader/request_count", 0),
              "responses": stats.get("downloader/response_count", 0),
              "items": stats.get("item_scraped_count", 0)})

    def _locked_row(self, site: str, trigger: str, note: str) -> int:
        run_id = runs.start_run(self.engine, site, trigger=trigger)
        runs.finish_run(self.engine, run_id, status=RunStatus.LOCKED, log_tail=note)
        return run_id

    def _final_status(self, run_id: int, site: str, reason: str | None, stats: dict[str, Any],
                      notes: list[str]) -> str:
        """As :func:`govnews.runner.run_crawl` decides for a crawl process that exited: the time limit
        and a stop win; then what the run extension recorded (``locked``, or another final status);
        a crawl that got no response at all is ``failed``; else ``ok``."""
        if site in self.timed_out:
            return RunStatus.TIMEOUT
        if reason == "shutdown" or self.stopping:
            notes.append("[batch] stop requested")
            return RunStatus.INTERRUPTED
        row = runs.get_run(self.engine, run_id)
        recorded = row["status"] if row else None
        if recorded and recorded != RunStatus.RUNNING:
            return recorded
        if reason == "locked":
            return RunStatus.LOCKED
        if not stats.get("downloader/response_count"):
            notes.append("[batch] no response from the site (every request failed)")
            return RunStatus.FAILED
        return RunStatus.OK

    def _time_up(self, site: str, crawler: Crawler, limit: float, notes: list[str]) -> None:
        self.timed_out.add(site)
        notes.append(f"[batch] time limit of {limit}s reached: spider closed")
        logger.warning("%s: time limit of %ss reached; closing its spider", site, limit)
        self._close(crawler, "timeout")
        drain(crawler, f"time limit of {limit}s reached")
        asyncio.get_running_loop().call_later(self.grace, self._abandon, site, crawler)

    def _abandon(self, site: str, crawler: Crawler) -> None:
        """The spider did not close within the grace period: stop its engine, and if that does not
        end it either within another grace period, cancel its crawl (the batch goes on)."""
        if site not in self.running:
            return
        logger.error("%s: spider still open %ss after it was closed; stopping its engine", site, self.grace)
        drain(crawler, "the spider did not close in time")
        if crawler.crawling:
            asyncio.ensure_future(crawler.stop_async())

        def cancel() -> None:
            task = self.crawl_tasks.get(site)
            if task is not None and not task.done():
                logger.error("%s: crawler still running; abandoned", site)
                task.cancel()

        asyncio.get_running_loop().call_later(self.grace, cancel)


def _read_stdin(loop: asyncio.AbstractEventLoop, batch: Batch) -> None:
    """Thread: site lines from stdin onto the loop."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            logger.error("batch: ignoring a line that is not JSON: %r", line[:200])
            continue
        if data.get("end"):
            break
        if "site" in data:
            loop.call_soon_threadsafe(batch.add, SiteJob.from_json(data["site"]))
        elif data.get("stop"):
            loop.call_soon_threadsafe(batch.stop)
    loop.call_soon_threadsafe(batch.end)


def main(argv: list[str] | None = None) -> int:
    args = json.loads(argv[0]) if argv else {}
    settings = batch_settings(dict(args.get("settings") or {}))
    settings.set("REACTOR_THREADPOOL_MAXSIZE", max(settings.getint("REACTOR_THREADPOOL_MAXSIZE"),
                                                   2 * int(args.get("concurrency", 8)) + 4), priority="cmdline")
    os.environ.setdefault("GOVNEWS_BATCH_POOL", str(2 * int(args.get("concurrency", 8)) + 4))
    process = AsyncCrawlerProcess(settings)
    logs = SiteLogHandler()
    logging.getLogger().addHandler(logs)
    batch = Batch(process, settings, int(args.get("concurrency", 8)), float(args.get("grace", 30)), logs,
                  progress=bool(args.get("progress")))
    loop = asyncio.get_event_loop()
    from twisted.internet import reactor

    signals_seen = []

    def on_signal(signum: int, _frame: Any) -> None:
        signals_seen.append(signum)
        if len(signals_seen) == 1:
            loop.call_soon_threadsafe(batch.stop)
        else:
            loop.call_soon_threadsafe(reactor.stop)

    reactor.addSystemEventTrigger("after", "startup", install_shutdown_handlers, on_signal)
    threading.Thread(target=_read_stdin, args=(loop, batch), name="batch-stdin", daemon=True).start()
    main_task = loop.create_task(batch.run())

    def finished(_task: asyncio.Task) -> None:
        try:
            reactor.stop()
        except Exception:  # noqa: BLE001 - already stopping
            pass

    main_task.add_done_callback(finished)
    try:
        process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        close_shared()
        batch.engine.dispose()
    if not main_task.done():
        emit({"event": "aborted"})
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
