"""Meta refresh without surprises: the body is always kept, only http(s) on the site is followed.

:class:`SafeMetaRefreshMiddleware` replaces Scrapy's ``MetaRefreshMiddleware`` (crawler/settings.py):

* a refresh to a non-http(s) target (``javascript:``, ``file://``, ``data:``, ``mailto:``...) is never
  followed nor turned into a request: the page goes on as it is (stored, extracted, hostile-checked);
* a refresh off the site (not in the spider's ``allowed_domains``) is not followed either: the page
  is recorded ``failed`` / ``redirect_offsite`` **with its body** (:class:`MetaRefreshOffsite` carries
  the response to the spider's errback), and :class:`crawler.ingest.IngestService` looks for hostile
  signs in it (a hacked page's first tool is an off-site refresh);
* anything else is Scrapy's meta refresh (same delay limit, same redirect bookkeeping).

Stats: ``govnews/meta_refresh/not_http``, ``govnews/meta_refresh/offsite``.
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import get_meta_refresh
from scrapy.utils.url import url_is_from_any_domain

__all__ = ["MetaRefreshOffsite", "SafeMetaRefreshMiddleware"]

logger = logging.getLogger(__name__)

SCHEMES = ("http", "https")


class MetaRefreshOffsite(IgnoreRequest):
    """A meta refresh off the site, not followed; ``response`` is the page (its body is stored)."""

    govnews_reason = "redirect_offsite"

    def __init__(self, response: Response, target: str):
        super().__init__(f"meta refresh off the site to {target[:300]}")
        self.response = response
        self.target = target


def _hostless(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname or "")) if parts.hostname else url


class SafeMetaRefreshMiddleware(MetaRefreshMiddleware):
    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if (request.meta.get("dont_redirect", False) or request.method == "HEAD"
                or not isinstance(response, HtmlResponse) or urlparse_cached(request).scheme not in SCHEMES):
            return response
        try:
            interval, url = get_meta_refresh(response, ignore_tags=self._ignore_tags)
        except (ValueError, UnicodeError):
            return response
        if not url:
            return response
        stats = getattr(self.crawler, "stats", None)
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            host = parts.hostname
        except ValueError:
            scheme, host = "", None
        if scheme not in SCHEMES or not host:
            if stats is not None:
                stats.inc_value("govnews/meta_refresh/not_http")
            logger.info("not following the meta refresh of %s to %.200s (not http(s))", response.url, url)
            return response
        if float(interval or 0) >= self._maxdelay:
            return response
        allowed = getattr(getattr(self.crawler, "spider", None), "allowed_domains", None)
        if allowed and not url_is_from_any_domain(_hostless(url), allowed):
            if stats is not None:
                stats.inc_value("govnews/meta_refresh/offsite")
            raise MetaRefreshOffsite(response, url)
        return super().process_response(request, response)
