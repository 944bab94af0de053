"""Honour ``Retry-After`` on 429 / 503, bounded, and hold the host's other requests back as long.

:class:`RetryAfterMiddleware` (before Scrapy's ``RetryMiddleware`` sees the response) answers a 429 or
503 that carries ``Retry-After`` with a retry of the request (Scrapy's public ``get_retry_request``,
so ``RETRY_TIMES`` still bounds it) and notes a "not before" time for the request's download slot;
``process_request`` then awaits that time for every later request to the slot, the retry included.
It keeps its own per-slot times: Scrapy's downloader slots are not touched.

Settings: ``RETRY_ENABLED`` (off: this middleware is off too), ``GOVNEWS_RETRY_AFTER_MAX`` (seconds,
default 120: a longer ``Retry-After`` is cut to this).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from common.clock import UTC

__all__ = ["DEFAULT_RETRY_AFTER_MAX", "RETRY_AFTER_MAX_SETTING", "RETRY_AFTER_STATUSES", "RetryAfterMiddleware",
           "parse_retry_after", "slot_key"]

logger = logging.getLogger(__name__)

RETRY_AFTER_MAX_SETTING = "GOVNEWS_RETRY_AFTER_MAX"
DEFAULT_RETRY_AFTER_MAX = 120.0     # seconds; a longer Retry-After is cut to this
RETRY_AFTER_STATUSES = (429, 503)
_DELTA_RE = re.compile(r"\d+(?:\.\d+)?")


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds, or an HTTP date (``now``: the
    current POSIX time, default the wall clock); None when absent or unreadable. A date in the past
    gives 0."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if _DELTA_RE.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def slot_key(request: Request) -> str:
    """The download slot a request goes through, as Scrapy's downloader names it by default: the
    ``download_slot`` meta key, else the URL's host."""
    return request.meta.get("download_slot") or urlparse_cached(request).hostname or ""


async def reactor_sleep(seconds: float) -> None:
    from twisted.internet import reactor  # the installed reactor (importing earlier would install one)

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class RetryAfterMiddleware:
    def __init__(self, crawler: Any, max_wait: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = reactor_sleep):
        self.crawler = crawler
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        #: download slot -> clock time before which no request goes to it
        self.not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat(RETRY_AFTER_MAX_SETTING, DEFAULT_RETRY_AFTER_MAX))

    def hold(self, key: str, seconds: float) -> None:
        """No request to slot ``key`` before ``seconds`` from now (a later hold only extends it)."""
        until = self.clock() + seconds
        if until > self.not_before.get(key, 0.0):
            self.not_before[key] = until

    async def process_request(self, request: Request) -> None:
        key = slot_key(request)
        until = self.not_before.get(key)
        if until is None:
            return None
        wait = until - self.clock()
        if wait <= 0:
            self.not_before.pop(key, None)
            return None
        await self.sleep(wait)
        return None

    def process_response(self, request: Request, response: Any) -> Any:
        if response.status not in RETRY_AFTER_STATUSES or request.meta.get("dont_retry"):
            return response
        wait = parse_retry_after(response.headers.get(b"Retry-After"))
        if wait is None:
            return response
        bounded = min(wait, self.max_wait)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}_retry_after")
        if retry is None:
            return response             # retries used up: recorded as failed http_429 / http_503
        stats = self.crawler.stats
        stats.inc_value("govnews/retry_after/waits")
        stats.max_value("govnews/retry_after/max_seconds", bounded)
        if wait > self.max_wait:
            stats.inc_value("govnews/retry_after/bounded")
        logger.info("%s answered %s with Retry-After %s: waiting %.1fs before retrying", request.url,
                    response.status, f"{wait:.0f}s", bounded)
        self.hold(slot_key(request), bounded)
        return retry
