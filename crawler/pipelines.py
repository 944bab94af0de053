"""Item pipelines: extraction (pure functions) then storage.

Items are plain dicts made by the spider (``kind``: article | list | feed | sitemap | failed).
Nothing fetched is dropped silently: every item becomes a ``pages`` row with an outcome, and
articles additionally an article / revision / sighting.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import NotConfigured

from crawler.services import get_archive

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Runs :func:`crawler.extract.extract` on article pages and classifies what came back."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("kind") != "article":
            item.setdefault("outcome", item.get("kind"))
            return item
        from crawler.extract.pipeline import extract_page
        from crawler.reliability import hostile_signs

        content_type = item["headers"].get("Content-Type")
        try:
            hints = dict(item.get("hints") or {})
            encoding = hints.pop("encoding", None) or item.get("charset")
            outcome, reason, article = extract_page(item["body"], item["url"], status=item["status"],
                                                    content_type=content_type, encoding=encoding, hints=hints)
            item["outcome"], item["reason"] = outcome, reason
            if article is not None:
                item["article"] = article
                if not (article.body or "").strip():
                    item["outcome"], item["reason"] = "failed", "empty_body"
                # the codec extraction settled on: no second charset detection for this check
                elif signs := hostile_signs(item["body"], item["url"], article.encoding):
                    article.flags["hostile"] = signs
                    item["reason"] = "hostile: " + ", ".join(signs)
                    self.crawler.stats.inc_value("govnews/hostile_pages")
        except Exception as exc:  # extraction bugs must not lose the page: record it as failed
            logger.exception("extraction failed for %s", item["url"])
            item["outcome"], item["reason"] = "failed", f"extract_error: {type(exc).__name__}: {exc}"[:500]
        self.crawler.stats.inc_value(f"govnews/outcome/{item['outcome']}")
        return item


class StorePipeline:
    """Writes every page and every article to the archive (``storage.archive.Archive``)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = get_archive(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVNEWS_STORE_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        profile = spider.profile
        from crawler.deadletter import (
            COOLDOWN_SETTING,
            DEFAULT_COOLDOWN,
            DeadLetterGuard,
            DeadLetterWriter,
            deadletter_dir,
        )
        settings = self.crawler.settings
        self.guard = DeadLetterGuard(DeadLetterWriter(deadletter_dir(settings), self.archive.url),
                                     settings.getfloat(COOLDOWN_SETTING, DEFAULT_COOLDOWN), self.crawler.stats)
        try:
            self.archive.ensure_site(profile.name, profile.title, profile.allowed_domains)
        except Exception:  # the database is down: pages go to the dead-letter file (crawler/deadletter.py)
            logger.exception("could not register site %s in the archive", profile.name)

    def close_spider(self, spider=None):
        if getattr(self, "guard", None) is not None:
            self.guard.writer.close()

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Store the item; when the archive fails, keep it as a dead letter (never lose a page)."""
        guard = getattr(self, "guard", None)
        return guard.process(item, self.store) if guard is not None else self.store(item)

    def store(self, item: dict[str, Any]) -> dict[str, Any]:
        stats = self.crawler.stats
        page_id = item.get("page_id") or self.archive.record_page(
            item["site"], item["url"], status=item.get("status"), headers=item.get("headers") or {},
            body=item.get("body") or b"", outcome=item.get("outcome") or item["kind"],
            reason=item.get("reason"), fetched_at=item.get("fetched_at"),
        )
        item["page_id"] = page_id      # a dead letter written after this point is not recorded twice
        stats.inc_value("govnews/bytes", len(item.get("body") or b""))
        article = item.get("article")
        if item.get("outcome") == "article" and article is not None:
            result = self.archive.store_article(item["site"], item["url"], article, page_id=page_id,
                                               status=item.get("status") or 200)
            stats.inc_value(f"govnews/articles/{result.outcome}")
            # the page was recorded as "article" before dedup; say what it turned out to be
            if result.outcome in ("duplicate", "seen", "revision"):
                page_outcome = "revision" if result.outcome == "revision" else "duplicate"
                self.archive.set_page_outcome(page_id, page_outcome,
                                              reason=f"{result.outcome}: article {result.article_id}")
            item["store_outcome"] = result.outcome
            item["article_id"] = result.article_id
        return item
