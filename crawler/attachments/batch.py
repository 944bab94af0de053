"""Attachment text outside the crawl: ``govnews attachments --extract`` and ``govnews reextract``.

:func:`extract_texts` runs :func:`crawler.attachments.text.attachment_text` over the stored files
whose text is ``pending`` (``all_=True``: every stored file, after an upgrade of the extractors), one
file at a time in a worker process with a deadline and memory caps
(:class:`crawler.containment.ContainedExtractor`), and stores each result. Returns the count per
text status.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from crawler.attachments.text import MAX_PAGES, extract_contained

__all__ = ["extract_texts"]


def extract_texts(engine: Any, *, all_: bool = False, site: str | None = None, timeout: float = 30.0,
                  max_memory_mb: int = 1536, max_rss_mb: int = 768, max_pages: int = MAX_PAGES,
                  contained: bool = True, progress: Callable[[int], Any] | None = None) -> Counter:
    from crawler.attachments.pipeline import has_text_extractor
    from crawler.containment import ContainedExtractor, Limits
    from storage.attachments import content_bytes, pending_texts, set_text

    done: Counter = Counter()
    extractor = ContainedExtractor(Limits(timeout=timeout, max_memory_mb=max_memory_mb, max_rss_mb=max_rss_mb,
                                          max_tasks_per_child=100)) if contained else None
    try:
        for content_id, content_type in pending_texts(engine, all_=all_, site=site):
            if not has_text_extractor(content_type):
                set_text(engine, content_id, status="unsupported", reason=f"no text extractor for {content_type}")
                done["unsupported"] += 1
            else:
                data = content_bytes(engine, content_id) or b""
                result = extract_contained(extractor, data, content_type, max_pages=max_pages)
                set_text(engine, content_id, status=result.status, text_=result.text, reason=result.reason,
                         pages=result.pages)
                done[result.status] += 1
            if progress:
                progress(1)
    finally:
        if extractor is not None:
            extractor.close()
    return done
