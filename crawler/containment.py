"""Extraction of one page under a time and memory limit, in a worker process.

Linear-time extraction is the goal (docs/RELIABILITY.md lists the hostile inputs that were not);
containment is the guarantee for the paths nobody found yet: :class:`ContainedExtractor` runs the
pure page work (:func:`crawler.ingest.extract_fetched`, :func:`crawler.ingest.reextract_raw`) in a
``concurrent.futures.ProcessPoolExecutor`` of one worker that

* has ``RLIMIT_AS`` set to :attr:`Limits.max_memory_mb` in its initializer (a ``MemoryError`` in the
  worker instead of the machine swapping), and its resident size watched by the parent every 0.1 s
  (killed past :attr:`Limits.max_rss_mb`);
* gets :attr:`Limits.timeout` seconds per page: past it, the worker is killed (SIGKILL) and the pool
  replaced, and the caller gets :class:`ExtractTimeout`;
* is replaced after :attr:`Limits.max_tasks_per_child` pages (leaks of lxml / trafilatura caches);
* is forked from a ``forkserver`` that has already imported the extraction modules (a new worker
  costs a fork, not an interpreter start).

The caller turns the exceptions into a ``failed`` page with reason ``extract_timeout: ...``,
``extract_memory: ...`` or ``extract_crashed: ...`` (the raw bytes are stored as always); the crawl
goes on with the next page. ``govnews reextract`` counts them as errors and goes on.

In a crawl it is switched on by :class:`ContainmentExtension` (``GOVNEWS_EXTRACT_CONTAINMENT``,
default True in ``crawler/settings.py``; ``GOVNEWS_EXTRACT_TIMEOUT``, ``GOVNEWS_EXTRACT_MAX_MEMORY_MB``,
``GOVNEWS_EXTRACT_MAX_RSS_MB``); :class:`crawler.ingest.IngestService` uses :func:`active` unless it
was given its own. Outside a crawl (tests, library use) extraction runs in-process unless a
``ContainedExtractor`` is passed.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["ENABLED_SETTING", "ContainedExtractor", "ContainmentError", "ContainmentExtension", "ExtractCrashed",
           "ExtractMemory", "ExtractTimeout", "Limits", "activate", "active", "deactivate"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_EXTRACT_CONTAINMENT"
TIMEOUT_SETTING = "GOVNEWS_EXTRACT_TIMEOUT"
MAX_MEMORY_SETTING = "GOVNEWS_EXTRACT_MAX_MEMORY_MB"
MAX_RSS_SETTING = "GOVNEWS_EXTRACT_MAX_RSS_MB"
#: modules the forkserver imports once, so that every worker starts with them loaded
PRELOAD = ["crawler.ingest"]
POLL_SECONDS = 0.1
T = TypeVar("T")


class ContainmentError(Exception):
    """Extraction of a page was stopped; ``reason`` is the page's reason prefix."""

    reason = "extract_failed"

    def __str__(self) -> str:
        return f"{self.reason}: {super().__str__()}"


class ExtractTimeout(ContainmentError):
    reason = "extract_timeout"


class ExtractMemory(ContainmentError):
    reason = "extract_memory"


class ExtractCrashed(ContainmentError):
    reason = "extract_crashed"


@dataclass(frozen=True)
class Limits:
    timeout: float = 60.0             # seconds per page
    max_memory_mb: int = 3072         # RLIMIT_AS of the worker (address space, > resident size)
    max_rss_mb: int = 1024            # resident size the parent lets the worker reach
    max_tasks_per_child: int = 200


def _init_worker(max_memory_bytes: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle
    if max_memory_bytes > 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory_bytes, max_memory_bytes))
        except (ValueError, OSError) as exc:        # a lower hard limit already: keep it
            logger.warning("could not set the extraction worker's memory limit: %s", exc)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class ContainedExtractor:
    """``call(fn, *args, **kwargs)`` in the worker process under :class:`Limits` (thread-safe:
    calls run one after another)."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.replaced = 0          # pools killed and replaced (timeouts, memory, crashes)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            ctx: Any
            try:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(PRELOAD)
            except ValueError:           # no forkserver on this platform
                ctx = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, initializer=_init_worker,
                initargs=(self.limits.max_memory_mb * 1024 * 1024,),
                max_tasks_per_child=self.limits.max_tasks_per_child)
        return self._executor

    def _kill(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        self.replaced += 1
        for pid in self._pids_of(executor):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        executor.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _pids_of(executor: ProcessPoolExecutor) -> list[int]:
        procs = getattr(executor, "_processes", None) or {}
        return [p.pid for p in list(procs.values()) if p.pid]

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            future = self._pool().submit(fn, *args, **kwargs)
            deadline = time.monotonic() + self.limits.timeout
            while True:
                try:   # never wait past the deadline: a result that comes later is a timeout
                    return future.result(timeout=max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
                except FutureTimeout:
                    pass
                except BrokenProcessPool:
                    self._kill()
                    raise ExtractCrashed("the extraction process died (memory limit or crash)") from None
                except MemoryError:
                    self._kill()
                    raise ExtractMemory(f"more than {self.limits.max_memory_mb} MB of address space") from None
                if time.monotonic() >= deadline:
                    self._kill()
                    raise ExtractTimeout(f"more than {self.limits.timeout:g} s")
                rss = max((_rss_mb(pid) for pid in self._pids_of(self._pool())), default=0.0)
                if rss > self.limits.max_rss_mb:
                    self._kill()
                    raise ExtractMemory(f"{rss:.0f} MB resident, more than {self.limits.max_rss_mb} MB")

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ContainedExtractor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_ACTIVE: ContainedExtractor | None = None


def activate(extractor: ContainedExtractor) -> None:
    global _ACTIVE
    _ACTIVE = extractor


def deactivate(extractor: ContainedExtractor | None = None) -> None:
    global _ACTIVE
    if extractor is None or _ACTIVE is extractor:
        _ACTIVE = None


def active() -> ContainedExtractor | None:
    """The process's contained extractor (a crawl's), or None: extract in-process."""
    return _ACTIVE


def limits_from_settings(settings: Any) -> Limits:
    default = Limits()
    return Limits(timeout=settings.getfloat(TIMEOUT_SETTING, default.timeout),
                  max_memory_mb=settings.getint(MAX_MEMORY_SETTING, default.max_memory_mb),
                  max_rss_mb=settings.getint(MAX_RSS_SETTING, default.max_rss_mb))


class ContainmentExtension:
    """Switches containment on for the crawl (``GOVNEWS_EXTRACT_CONTAINMENT``) and off at its end."""

    def __init__(self, extractor: ContainedExtractor):
        self.extractor = extractor

    @classmethod
    def from_crawler(cls, crawler: Any) -> ContainmentExtension:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool(ENABLED_SETTING, False):
            raise NotConfigured
        ext = cls(ContainedExtractor(limits_from_settings(crawler.settings)))
        activate(ext.extractor)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any = None) -> None:
        deactivate(self.extractor)
        self.extractor.close()
