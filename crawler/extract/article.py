"""The result of extraction: a plain dataclass, no Scrapy or database types.

Every extraction stage reads raw bytes plus a URL and fills these fields; storage and the CLI
serialise them with :meth:`Article.to_dict`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
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
    # --- issue 16: linked documents and the 政府信息公开 block (crawler/extract/attachments.py, disclosure.py)
    #: ``[{"url", "name"}]`` of the documents the page links as 附件
    attachments: list[dict[str, str]] = field(default_factory=list)
    index_no: str | None = None          # 索引号
    doc_number: str | None = None        # 文号 / 发文字号
    issuer: str | None = None            # 发布机构 / 发文机关 / 发布单位
    written_at: date | None = None       # 成文日期 (a date; apart from published_at)
    topic: str | None = None             # 主题分类 / 组配分类
    validity: str | None = None          # 有效性
    subject_words: str | None = None     # 主题词

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat() if self.published_at else None
        d["written_at"] = self.written_at.isoformat() if self.written_at else None
        # the issue-16 keys appear when the page has them (whole-output fixtures of other pages stay as
        # they were); ``govnews extract`` prints them always
        for name in ISSUE16_FIELDS:
            if not d[name]:
                del d[name]
        return d


#: fields :meth:`Article.to_dict` leaves out when empty
ISSUE16_FIELDS = ("attachments", "index_no", "doc_number", "issuer", "written_at", "topic", "validity",
                  "subject_words")
