"""The crawl's shared services: the one archive connection, owned by :class:`ArchiveExtension`.

Scrapy components get the archive with :func:`get_archive` (in ``from_crawler`` / ``open_spider`` /
a signal handler), never from an attribute on the ``Crawler``: the extension is found with the
public ``crawler.get_extension(ArchiveExtension)``. It opens the archive from the settings on first
use and closes it when the engine stops.

Settings:

* ``GOVNEWS_DB_URL`` (or the environment variable of that name; default
  :func:`storage.db.default_db_url`): the archive.
* ``GOVNEWS_DB_WRITE_WAIT`` (seconds, default 5): how long a crawl's write waits on a locked SQLite
  archive *in all* — spread over the archive's own retries (``storage.archive.MAX_ATTEMPTS``) as the
  per-connection busy timeout — before the page goes to the dead-letter file. Other SQLite users keep
  the per-connection default (``$GOVNEWS_SQLITE_BUSY_TIMEOUT``, 30 s). Ignored for PostgreSQL.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from storage import archive as archive_module
from storage.db import default_db_url, is_sqlite, make_engine

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from storage.archive import Archive

__all__ = ["DB_URL_SETTING", "DB_WRITE_WAIT_SETTING", "DEFAULT_DB_WRITE_WAIT", "ArchiveExtension",
           "InThread", "archive_extension", "db_url_from_settings", "get_archive", "in_thread",
           "write_wait_busy_timeout"]

logger = logging.getLogger(__name__)

DB_URL_SETTING = "GOVNEWS_DB_URL"
#: seconds a crawl's write waits on a locked SQLite archive in all before dead-lettering the page
DB_WRITE_WAIT_SETTING = "GOVNEWS_DB_WRITE_WAIT"
DEFAULT_DB_WRITE_WAIT = 5.0
#: the shortest per-attempt SQLite busy timeout
MIN_BUSY_TIMEOUT = 0.05

T = TypeVar("T")
#: ``await run(func, *args)``: how components run a blocking archive call (tests pass an inline one)
InThread = Callable[..., Awaitable[Any]]


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in the reactor's thread pool, awaited: archive queries never block the reactor."""
    return await maybe_deferred_to_future(deferToThread(func, *args))


def db_url_from_settings(settings: BaseSettings | None) -> str:
    """The archive URL: the ``GOVNEWS_DB_URL`` setting, else the environment, else the default."""
    value = settings.get(DB_URL_SETTING) if settings is not None else None
    return value or os.environ.get(DB_URL_SETTING) or default_db_url()


def write_wait_busy_timeout(total: float, attempts: int | None = None) -> float:
    """Per-connection SQLite busy timeout (seconds) that makes a write give up after about ``total``
    seconds over ``attempts`` tries (default: the archive's ``MAX_ATTEMPTS``)."""
    attempts = attempts if attempts is not None else getattr(archive_module, "MAX_ATTEMPTS", 1)
    return max(MIN_BUSY_TIMEOUT, float(total) / max(1, int(attempts)))


class ArchiveExtension:
    """Owns the crawl's one :class:`storage.archive.Archive` (opened on first use, closed at
    ``engine_stopped``). Always on: every govnews component needs the archive."""

    def __init__(self, db_url: str, write_wait: float):
        self.db_url = db_url
        self.write_wait = write_wait
        self._archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveExtension:
        settings = crawler.settings
        ext = cls(db_url_from_settings(settings), settings.getfloat(DB_WRITE_WAIT_SETTING, DEFAULT_DB_WRITE_WAIT))
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = self.open()
        return self._archive

    def open(self) -> Archive:
        """A new archive for ``db_url``; on SQLite with the crawl's short write wait."""
        if is_sqlite(self.db_url):
            engine = make_engine(self.db_url, busy_timeout=write_wait_busy_timeout(self.write_wait))
            return archive_module.Archive(engine=engine)
        return archive_module.Archive(self.db_url)

    def close(self) -> None:
        if self._archive is not None:
            archive, self._archive = self._archive, None
            try:
                archive.close()
            except Exception:  # noqa: BLE001 - the process is ending anyway
                logger.exception("could not close the archive")

    def engine_stopped(self) -> None:
        self.close()


#: archives of crawlers that have no ArchiveExtension running (a test's bare ``get_crawler()``, or
#: the extension switched off): one per crawler, forgotten with the crawler; closed at engine stop
_standalone: WeakKeyDictionary[Crawler, ArchiveExtension] = WeakKeyDictionary()


def archive_extension(crawler: Crawler) -> ArchiveExtension:
    """The crawler's :class:`ArchiveExtension` (``crawler.get_extension``); a crawler whose extension
    manager does not exist yet or has none gets one of its own, built from its settings."""
    try:
        ext = crawler.get_extension(ArchiveExtension)
    except RuntimeError:        # before the extension manager exists (components built by hand)
        ext = None
    if ext is None:
        ext = _standalone.get(crawler)
        if ext is None:
            ext = _standalone[crawler] = ArchiveExtension.from_crawler(crawler)
    return ext


def get_archive(crawler: Crawler) -> Archive:
    """The crawl's one archive, shared by pipelines, middlewares and extensions."""
    return archive_extension(crawler).archive
