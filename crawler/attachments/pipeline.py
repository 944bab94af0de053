"""``AttachmentPipeline``: fetch and keep the attachments of every archived article, during the crawl.

An item pipeline after :class:`crawler.pipelines.StorePipeline` (the article has its id by then).
For an article page whose extraction found attachments (``article.attachments``, from
:func:`crawler.extract.attachments.find_attachments`) it

1. links them to the article (:func:`storage.attachments.link`: one row per URL, ``pending`` until
   fetched) — the article is archived whatever happens to its attachments;
2. requests those that need it (:func:`storage.attachments.needs_fetch`: never fetched, failed
   with attempts left, or stored and last checked more than ``GOVNEWS_ATTACHMENT_REVALIDATE_DAYS``
   ago — 30, the profile hint ``attachment_revalidate_days``, 0 never; every stored one with
   ``GOVNEWS_ATTACHMENT_REVALIDATE`` — by conditional GET with their ETag / Last-Modified: 304 or
   the same bytes only move the check time, changed bytes are stored as a new file the URL then
   points to, the old file is kept; a failed check keeps the stored file), each URL at most once per crawl, at most
   ``GOVNEWS_ATTACHMENTS_PER_ARTICLE`` per article, only on the profile's allowed hosts (others are
   recorded ``failed`` / ``offsite`` without a request). Requests go through the engine, so the host
   guard, robots.txt, politeness and retries apply as to pages; the size limit is per request
   (``download_maxsize`` = ``GOVNEWS_ATTACHMENT_MAX_SIZE``, default 50 MB, or the profile hint
   ``attachment_max_size`` when profiles have it);
3. sniffs what arrived (:func:`crawler.attachments.sniff.sniff`): a PDF served as ``text/html`` is
   kept as a PDF (reason ``served as text/html``); an HTML error page served as a PDF is ``failed`` /
   ``html_error_page``; stores it once per sha256 (compressed);
4. extracts its text (``GOVNEWS_ATTACHMENT_TEXT = "crawl"``, the default) in a worker process with a
   deadline and memory caps (:func:`crawler.attachments.text.extract_contained`), or leaves it
   ``pending`` for ``govnews attachments --extract`` (``"later"``).

When the spider is about to close, attachments of the site still ``pending`` (a crawl that stopped
early, links ``govnews reextract`` found) or failed with attempts left (from earlier crawls, whose
articles an incremental crawl does not fetch again), then stored ones due for revalidation, are
requested once (:func:`storage.attachments.due_retries`), through the same checks. "Now" is
``self.clock`` (tests inject one). Stats:
``govnews/attachments/<requested|stored|not_modified|failed/REASON|offsite|over_count|retried>``,
``govnews/attachments/<revalidated|unchanged|changed|revalidate_failed/REASON>``,
``govnews/attachments/text/<status>``, ``govnews/attachments/text_seconds``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet.threads import deferToThread

from common.clock import utcnow
from crawler.attachments.sniff import sniff
from crawler.attachments.text import TextResult, extract_contained
from crawler.extract.attachments import attachment_ext
from crawler.items import FetchedPage, response_headers
from crawler.services import get_archive, in_thread
from storage.attachments import DEFAULT_MAX_ATTEMPTS, DEFAULT_PER_ARTICLE, DEFAULT_REVALIDATE_DAYS

__all__ = ["ATTACHMENT_KIND", "AttachmentPipeline", "TEXT_TYPES"]

logger = logging.getLogger(__name__)

ENABLED_SETTING = "GOVNEWS_ATTACHMENTS_ENABLED"
MAX_SIZE_SETTING = "GOVNEWS_ATTACHMENT_MAX_SIZE"
PER_ARTICLE_SETTING = "GOVNEWS_ATTACHMENTS_PER_ARTICLE"
MAX_ATTEMPTS_SETTING = "GOVNEWS_ATTACHMENT_MAX_ATTEMPTS"
REVALIDATE_SETTING = "GOVNEWS_ATTACHMENT_REVALIDATE"
REVALIDATE_DAYS_SETTING = "GOVNEWS_ATTACHMENT_REVALIDATE_DAYS"
TEXT_SETTING = "GOVNEWS_ATTACHMENT_TEXT"
TEXT_TIMEOUT_SETTING = "GOVNEWS_ATTACHMENT_TEXT_TIMEOUT"
TEXT_MEMORY_SETTING = "GOVNEWS_ATTACHMENT_TEXT_MAX_MEMORY_MB"
TEXT_RSS_SETTING = "GOVNEWS_ATTACHMENT_TEXT_MAX_RSS_MB"
TEXT_PAGES_SETTING = "GOVNEWS_ATTACHMENT_TEXT_MAX_PAGES"
DEFAULT_MAX_SIZE = 50 * 1024 * 1024
ATTACHMENT_KIND = "attachment"
META = "govnews_attachment"
PRIORITY = 20                   # before further list pages and articles: an article's files come with it
NOT_MODIFIED = 304
#: sniffed types that have a text extractor (crawler/attachments/text.py)
TEXT_TYPES = ("application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/ofd", "text/")


def has_text_extractor(content_type: str | None) -> bool:
    return bool(content_type) and any((content_type or "").startswith(t) for t in TEXT_TYPES)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def store_text(engine, content_id: int, data: bytes, content_type: str | None, extractor: Any,
               max_pages: int) -> TextResult:
    """Extract and store the text of one stored file (worker-contained when ``extractor`` is set)."""
    from storage.attachments import set_text

    result = extract_contained(extractor, data, content_type, max_pages=max_pages)
    set_text(engine, content_id, status=result.status, text_=result.text, reason=result.reason, pages=result.pages)
    return result


class AttachmentPipeline:
    """See the module docstring."""

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.archive = get_archive(crawler)
        self.max_size = s.getint(MAX_SIZE_SETTING, DEFAULT_MAX_SIZE)
        self.per_article = s.getint(PER_ARTICLE_SETTING, DEFAULT_PER_ARTICLE)
        self.max_attempts = s.getint(MAX_ATTEMPTS_SETTING, DEFAULT_MAX_ATTEMPTS)
        #: True: every stored attachment is checked again now; else those checked more than
        #: ``revalidate_days`` ago (0: never)
        self.revalidate = s.getbool(REVALIDATE_SETTING, False)
        self.revalidate_days = s.getfloat(REVALIDATE_DAYS_SETTING, DEFAULT_REVALIDATE_DAYS)
        #: "now" for revalidation and the fetch times (tests inject a clock)
        self.clock: Callable[[], datetime] = utcnow
        self.text_mode = (s.get(TEXT_SETTING) or "crawl").lower()
        self.max_pages = s.getint(TEXT_PAGES_SETTING, 300)
        self.text_limits = (s.getfloat(TEXT_TIMEOUT_SETTING, 30.0), s.getint(TEXT_MEMORY_SETTING, 1536),
                            s.getint(TEXT_RSS_SETTING, 768))
        self._extractor: Any = None
        self.requested: set[str] = set()
        self._retried = False
        self._due: Any = None      # Deferred -> list of attachment states (open_spider)
        self.site: str | None = None
        self.allowed: list[str] = []
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool(ENABLED_SETTING, True) or not crawler.settings.getbool(
                "GOVNEWS_STORE_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    # ------------------------------------------------------------------ lifecycle
    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        profile = getattr(spider, "profile", None)
        self.site = getattr(spider, "site", None) or getattr(profile, "name", None)
        self.allowed = [d.lower() for d in (getattr(spider, "allowed_domains", None) or [])]
        hints = getattr(profile, "hints", None)
        hinted = getattr(hints, "attachment_max_size", None)
        if hinted:
            self.max_size = int(hinted)
        days = getattr(hints, "attachment_revalidate_days", None)
        if days is not None:
            self.revalidate_days = float(days)
        if self.site:   # read what earlier crawls left (pending, retries, revalidations) in a thread now,
            # so that spider_idle never queries the database on the reactor thread
            self._due = deferToThread(self._read_due, self.site, self.revalidate_before())
            self._due.addErrback(self._due_failed)

    def close_spider(self, spider=None):
        if self._extractor is not None:
            self._extractor.close()
            self._extractor = None

    def extractor(self):
        if self._extractor is None:
            from crawler.containment import ContainedExtractor, Limits
            timeout, memory, rss = self.text_limits
            self._extractor = ContainedExtractor(Limits(timeout=timeout, max_memory_mb=memory, max_rss_mb=rss,
                                                        max_tasks_per_child=100))
        return self._extractor

    def _inc(self, key: str, n: float = 1) -> None:
        self.crawler.stats.inc_value(f"govnews/attachments/{key}", n)

    def revalidate_before(self) -> datetime | None:
        """Stored attachments last checked before this are checked again (``None``: none are)."""
        if self.revalidate:
            return self.clock()
        if self.revalidate_days <= 0:
            return None
        return self.clock() - timedelta(days=self.revalidate_days)

    def _allowed(self, url: str) -> bool:
        if not self.allowed:
            return True
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed)

    # ------------------------------------------------------------------ items
    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage) or item.kind != "article" or item.article_id is None \
                or item.article is None or not item.article.attachments:
            return item
        from storage.attachments import link

        found = item.article.attachments
        if len(found) > self.per_article:
            self._inc("over_count", len(found) - self.per_article)
            found = found[:self.per_article]
        found = [{**a, "ext": attachment_ext(a["url"], a.get("name")) or ""} for a in found]
        try:
            states = await in_thread(link, self.archive.engine, item.article_id, item.site, found)
        except Exception:    # the article is archived; its attachments wait for a later crawl
            logger.exception("could not link the attachments of %s", item.url)
            return item
        names = {a["url"]: a.get("name") for a in found}
        for state in states:
            await self.consider(state, names.get(state.url))
        return item

    async def consider(self, state, name: str | None) -> None:
        from storage.attachments import needs_fetch

        if state.url in self.requested:
            return
        if not needs_fetch(state, max_attempts=self.max_attempts, revalidate=self.revalidate,
                           revalidate_before=self.revalidate_before()):
            return
        await self.request(state, name)

    async def request(self, state, name: str | None) -> None:
        if not self.schedule(state, name):
            await in_thread(self.record_offsite, state)

    def record_offsite(self, state) -> None:
        """A never-fetched attachment off the profile's allowed hosts: ``failed`` / ``offsite``,
        without a request (a thread: a database write)."""
        from storage.attachments import record_fetch

        if state.outcome == "pending":
            record_fetch(self.archive.engine, state.url, outcome="failed", reason="offsite", site=self.site,
                         fetched_at=self.clock())

    def schedule(self, state, name: str | None, *, retried: bool = False) -> bool:
        """Request one attachment through the engine, once per crawl; a stored one with its
        validators, as a revalidation. ``False`` (no request) for a URL off the allowed hosts."""
        self.requested.add(state.url)
        if not self._allowed(state.url):
            self._inc("offsite")
            return False
        known = state.outcome == "ok"
        headers = {}
        if known:
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        from crawler.spiders.gov_news import KIND
        request = Request(state.url, callback=self.on_response, errback=self.on_error, headers=headers,
                          priority=PRIORITY, dont_filter=True,
                          meta={KIND: ATTACHMENT_KIND,
                                META: {"name": name, "known": known, "content_id": state.content_id},
                                "download_maxsize": self.max_size, "download_warnsize": self.max_size,
                                "handle_httpstatus_list": [NOT_MODIFIED]})
        self._inc("requested")
        if known:
            self._inc("revalidated")
        elif retried:
            self._inc("retried")
        self.crawler.engine.crawl(request)
        return True

    # ------------------------------------------------------------------ responses
    async def on_response(self, response):
        from storage.attachments import record_check_failed, record_fetch, record_not_modified

        meta = response.meta.get(META) or {}
        engine = self.archive.engine
        url = response.request.url if response.request is not None else response.url
        now = self.clock()
        if response.status == NOT_MODIFIED:
            self._inc("not_modified")
            await in_thread(lambda: record_not_modified(engine, url, fetched_at=now))
            return None
        headers = response_headers(response)
        declared = _header(headers, "content-type")
        ext = attachment_ext(url, meta.get("name")) or attachment_ext(response.url)
        verdict = sniff(response.body, declared, ext)
        if not verdict.is_document and meta.get("known"):
            # the stored file stands: a check that now gets an error page loses nothing
            self._inc(f"revalidate_failed/{(verdict.reason or 'not_a_document').split(':')[0]}")
            await in_thread(lambda: record_check_failed(engine, url, checked_at=now))
            return None
        if not verdict.is_document:
            self._inc(f"failed/{(verdict.reason or 'not_a_document').split(':')[0]}")
            await in_thread(lambda: record_fetch(engine, url, outcome="failed", reason=verdict.reason,
                                                 status=response.status, declared_type=declared, site=self.site,
                                                 name=meta.get("name")))
            return None
        text_status = "pending" if has_text_extractor(verdict.content_type) else "unsupported"
        content_id = await in_thread(lambda: record_fetch(
            engine, url, outcome="ok", reason=verdict.reason, status=response.status, declared_type=declared,
            data=response.body, content_type=verdict.content_type, etag=_header(headers, "etag"),
            last_modified=_header(headers, "last-modified"), codec=self.archive.codec, site=self.site,
            name=meta.get("name"), text_status=text_status, fetched_at=now))
        if meta.get("known"):
            if content_id == meta.get("content_id"):
                self._inc("unchanged")     # the same bytes without a 304: only the check time moved
                return None
            self._inc("changed")           # a new file; the old one stays in attachment_contents
        self._inc("stored")
        self._inc("bytes", len(response.body))
        if text_status == "unsupported":
            self._inc("text/unsupported")
        elif self.text_mode == "crawl" and content_id is not None:
            await self.extract_text(content_id, response.body, verdict.content_type)
        return None

    async def extract_text(self, content_id: int, data: bytes, content_type: str) -> None:
        from storage.attachments import text_status

        engine = self.archive.engine

        def run() -> tuple[str, float, int] | None:
            if text_status(engine, content_id) != "pending":
                return None     # the same file under another URL: extracted already
            result = store_text(engine, content_id, data, content_type, self.extractor(), self.max_pages)
            return result.status, result.seconds, result.pages or 0
        done = await in_thread(run)
        if done is not None:
            status, seconds, pages = done
            self._inc(f"text/{status}")
            self._inc("text_seconds", seconds)
            self._inc("text_pages", pages)

    async def on_error(self, failure):
        from crawler.spiders.gov_news import failure_reason
        from storage.attachments import record_check_failed, record_fetch

        request = failure.request
        response = getattr(failure.value, "response", None)
        reason = failure_reason(failure)
        meta = request.meta.get(META) or {}
        now = self.clock()
        if meta.get("known"):     # a failed check (404, timeout): the stored file stands
            self._inc(f"revalidate_failed/{reason}")
            await in_thread(lambda: record_check_failed(self.archive.engine, request.url, checked_at=now))
            return None
        self._inc(f"failed/{reason}")
        await in_thread(lambda: record_fetch(
            self.archive.engine, request.url, outcome="failed", reason=reason,
            status=response.status if response is not None else None,
            declared_type=_header(response_headers(response), "content-type") if response is not None else None,
            site=self.site, name=meta.get("name"), fetched_at=now))
        return None

    # ------------------------------------------------------------------ retries of earlier crawls
    def _read_due(self, site: str, revalidate_before: datetime | None) -> list:
        from storage.attachments import due_retries
        return due_retries(self.archive.engine, site, max_attempts=self.max_attempts,
                           revalidate_before=revalidate_before)

    def _due_failed(self, failure) -> list:
        logger.error("could not read the attachments to retry: %s", failure.value)
        return []

    def spider_idle(self, spider=None):
        if self._retried or self._due is None:
            return
        self._retried = True
        if not self._due.called:   # still reading (a very short crawl): go on when it is read
            self._due.addCallback(self._request_due)
            raise DontCloseSpider
        if self._request_due(self._due.result):
            raise DontCloseSpider

    def _request_due(self, states: list) -> bool:
        """Request the attachments earlier crawls left; True if any was scheduled or recorded."""
        due = [s for s in states if s.url not in self.requested]
        if not due:
            return False
        logger.info("requesting %d attachments of earlier crawls (pending, retries, revalidations)", len(due))
        offsite = [state for state in due if not self.schedule(state, None, retried=True)]
        if offsite:
            d = deferToThread(lambda: [self.record_offsite(state) for state in offsite])
            d.addErrback(lambda f: logger.error("could not record off-site attachments: %s", f.value))
        return True
