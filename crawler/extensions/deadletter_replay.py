"""Replay the site's dead letters when a crawl starts (pages the archive could not take last time).

:class:`DeadLetterReplayExtension` calls :func:`crawler.deadletter.replay` for the spider's site in a
thread at ``engine_started`` — after the site lock is settled at ``spider_opened``, before the first
request — with the crawl's own profile hints. A crawl that lost the lock race (``govnews/locked``)
replays nothing. Failed letters stay for the next attempt.

Settings: ``GOVNEWS_DEADLETTER_REPLAY`` (default True), ``GOVNEWS_DEADLETTER_DIR``.
Stats: ``govnews/deadletter/replayed``, ``govnews/deadletter/replay_failed``.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.deadletter import ReplayReport, deadletter_dir, letter_files, replay
from crawler.ingest import profile_hints
from crawler.services import InThread, get_archive, in_thread

__all__ = ["ENABLED_SETTING", "DeadLetterReplayExtension"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_DEADLETTER_REPLAY"


class DeadLetterReplayExtension:
    def __init__(self, crawler: Any, *, run_blocking: InThread = in_thread):
        self.crawler = crawler
        self.run_blocking = run_blocking
        self.report: ReplayReport | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> DeadLetterReplayExtension:
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def _replay(self, site: str, hints: dict[str, Any]) -> ReplayReport | None:
        directory = deadletter_dir(self.crawler.settings)
        if not letter_files(directory, site):
            return None
        return replay(get_archive(self.crawler), directory, site=site, hints_for=lambda _site: hints)

    async def engine_started(self) -> None:
        spider = self.crawler.spider
        site = getattr(spider, "site", None)
        stats = self.crawler.stats
        if not site or stats.get_value("govnews/locked"):
            return
        try:
            report = await self.run_blocking(self._replay, site, profile_hints(getattr(spider, "profile", None)))
        except Exception:  # noqa: BLE001 - the letters stay for the next attempt
            logger.exception("dead-letter replay at crawl start failed; letters kept")
            return
        if report is None:
            return
        self.report = report
        stats.set_value("govnews/deadletter/replayed", report.stored)
        if report.failed:
            stats.set_value("govnews/deadletter/replay_failed", report.failed)
        logger.info("replayed dead letters of %s: %s", site, report.summary())
