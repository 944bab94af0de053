"""Is this response a WAF / JavaScript challenge, an empty or a binary body instead of a page?

:func:`challenge_reason` is the spider's check on list pages (a challenge's links lead to more
challenges, so they are not followed); article pages get the same classification in the ingest
service through :func:`crawler.extract.classify.classify_page`.
"""
from __future__ import annotations

from crawler.extract.classify import classify_page

__all__ = ["CHALLENGE_OUTCOMES", "challenge_reason"]

#: classification outcomes that mean "no page here"
CHALLENGE_OUTCOMES = ("blocked", "empty", "binary")


def challenge_reason(data: bytes, url: str | None, status: int | None, content_type: str | None) -> str | None:
    """``"<outcome>: <reason>"`` when ``data`` is a challenge, an empty or a binary body, else None."""
    outcome, reason = classify_page(data, url, status, content_type)
    return f"{outcome}: {reason}" if outcome in CHALLENGE_OUTCOMES else None
