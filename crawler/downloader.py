"""A Scrapy downloader that can give up the requests still waiting for their turn.

A spider closed on a time limit otherwise downloads every request already queued in its download
slots first, each after the site's delay: 200 queued requests at 1 s each keep a "timed out" crawl
busy for minutes. :class:`DrainableDownloader` is Scrapy's own ``Downloader`` (set through the public
``DOWNLOADER`` setting) with one method more, :meth:`drain`, which fails the waiting requests with
``IgnoreRequest`` (so their errbacks run and they are counted); transfers already in progress end
within ``DOWNLOAD_TIMEOUT``. Callers reach it as ``crawler.engine.downloader``.
"""
from __future__ import annotations

from scrapy.core.downloader import Downloader
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

__all__ = ["DOWNLOADER_PATH", "DrainableDownloader", "drain"]


class DrainableDownloader(Downloader):
    def drain(self, why: str) -> int:
        """Fail every request waiting in a download slot; return how many."""
        dropped = 0
        for slot in list(self.slots.values()):
            while slot.queue:
                _request, dfd = slot.queue.popleft()
                dropped += 1
                if not dfd.called:
                    dfd.errback(Failure(IgnoreRequest(f"not downloaded: {why}")))
        return dropped


DOWNLOADER_PATH = f"{DrainableDownloader.__module__}.{DrainableDownloader.__qualname__}"


def drain(crawler, why: str) -> int:
    """``crawler``'s waiting requests dropped (0 before its engine exists or with another downloader)."""
    try:
        downloader = crawler.engine.downloader
    except RuntimeError:        # the crawl has no engine yet
        return 0
    return downloader.drain(why) if isinstance(downloader, DrainableDownloader) else 0
