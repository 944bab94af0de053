"""The result of extraction: a plain dataclass, no Scrapy or database types.

Every extraction stage reads raw bytes plus a URL and fills these fields; storage and the CLI
serialise them with :meth:`Article.to_dict`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Image:
    url: str
    caption: str | None = None


@dataclass
class Article:
    """One extracted article page.

    ``body`` holds clean paragraphs in page order joined by ``"\\n"``; ``body_simplified`` is the
    same text converted traditional -> simplified (for search and deduplication).
    ``published_at`` is timezone-aware (Asia/Shanghai) or ``None``: a date is never invented.
    ``flags`` records what extraction did: ``spam_title``, ``glosses_removed``,
    ``repeated_block_collapsed``, ``container`` (selector used or ``None``), ``method``, ...
    """

    url: str | None = None
    title: str | None = None
    body: str = ""
    body_simplified: str = ""
    published_at: datetime | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    original_title: str | None = None
    summary: str | None = None
    column: str | None = None
    site_name: str | None = None
    keywords: str | None = None
    images: list[Image] = field(default_factory=list)
    encoding: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat() if self.published_at else None
        return d
