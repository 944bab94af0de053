"""Redirect targets pass the same URL-length, trap and page-budget rules as links.

Scrapy's redirect middlewares make the target a new request that never goes through the spider's
``make_request`` (and ``URLLENGTH_LIMIT`` is a spider middleware's, applied to what callbacks yield,
not to redirects): a 302 to a 10,000-character URL was followed and stored. :class:`RedirectBudgetMiddleware`
checks every request that carries ``redirect_urls`` before it is downloaded: longer than
``URLLENGTH_LIMIT`` -> refused ``redirect_url_too_long``; then the spider's
:class:`crawler.discovery.traps.CrawlBudget` (``spider.budget``) as for a link at the depth and
pagination step of the request it replaces (``redirect_trap_pattern``, ``redirect_page_budget``,
``redirect_repeated_path_segment``...). A refusal is an ``IgnoreRequest`` with that reason, which the
spider's errback records as a failed page for the URL asked for. Each target is counted once
(a retried redirect is not counted again).
"""
from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

__all__ = ["RedirectRefused", "RedirectBudgetMiddleware"]

ADMITTED = "govnews_redirect_admitted"
DEPTH = "govnews_depth"          # crawler.spiders.gov_news.DEPTH / PAGE_NO (not imported)
PAGE_NO = "govnews_page_no"


class RedirectRefused(IgnoreRequest):
    def __init__(self, why: str, url: str):
        super().__init__(f"redirect refused ({why}): {url[:200]}")
        self.govnews_reason = f"redirect_{why}"


class RedirectBudgetMiddleware:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.max_length = crawler.settings.getint("URLLENGTH_LIMIT", 0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectBudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if not request.meta.get("redirect_urls") or request.meta.get(ADMITTED) == request.url:
            return None
        url = request.url
        why = None
        if self.max_length and len(url) > self.max_length:
            why = "url_too_long"
        else:
            budget = getattr(getattr(self.crawler, "spider", None), "budget", None)
            if budget is not None:
                why = budget.refuse_reason(url, depth=request.meta.get(DEPTH, 0),
                                           pagination=request.meta.get(PAGE_NO, 0))
                if why is None:
                    budget.admit(url, depth=request.meta.get(DEPTH, 0), pagination=request.meta.get(PAGE_NO, 0))
        if why is not None:
            self.crawler.stats.inc_value(f"govnews/failed/redirect_{why}")
            raise RedirectRefused(why, url)
        request.meta[ADMITTED] = url
        return None
