"""What a fetched page is: ``classify_page(data, url, status, content_type) -> (outcome, reason)``.

Outcomes: ``article``, ``list``, ``blocked`` (WAF / JS challenge), ``empty`` (no bytes),
``binary`` (PDF or other binary data, whatever the Content-Type says), ``soft404``, ``not_article``.
"""
from __future__ import annotations

import re

from .body import text_lines
from .decode import decode_html
from .html import parse_html

#: magic numbers of binary files served as text/html
BINARY_MAGIC = {b"%PDF": "pdf", b"PK\x03\x04": "zip/office", b"\xd0\xcf\x11\xe0": "ms-office",
                b"\x89PNG": "png", b"\xff\xd8\xff": "jpeg", b"GIF8": "gif", b"\x1f\x8b": "gzip",
                b"Rar!": "rar", b"7z\xbc\xaf": "7z"}
BINARY_CONTENT_TYPES = ("application/pdf", "application/msword", "application/zip", "application/octet-stream",
                        "application/vnd.", "image/", "video/", "audio/")
#: share of control bytes (NUL etc.) in the head that marks binary data
BINARY_CONTROL_RATIO = 0.05
#: WAF / JS challenge markers in small pages
CHALLENGE_RES = (
    re.compile(r"adfwkey", re.I),
    re.compile(r"window\.location(?:\.href)?\s*=\s*[\"'][^\"']*\?[^\"']*[\"']", re.I),
    re.compile(r"document\.cookie\s*=.*(?:location|reload)", re.I | re.S),
    re.compile(r"__jsl_clearance|_waf_|waf_|acw_sc__|yunsuo_session|safedog|cdn-cgi/challenge", re.I),
)
CHALLENGE_MAX_BYTES = 4096
SOFT404_RES = (re.compile(r"404|页面不存在|页面未找到|找不到(?:该|您要的)?页面|页面已删除|文章不存在|"
                          r"信息不存在|已被删除|Not Found", re.I),)
SOFT404_MAX_TEXT = 400
#: a paragraph this long marks an article
ARTICLE_MIN_PARAGRAPH = 120
#: hard-wrapped articles: this much text in lines of at least PROSE_LINE_MIN characters
ARTICLE_MIN_PROSE = 400
PROSE_LINE_MIN = 25
#: list pages: many links whose text is most of the page text
LIST_MIN_LINKS = 15
LIST_LINK_TEXT_RATIO = 0.5


def _binary_reason(data: bytes, content_type: str | None) -> str | None:
    for magic, kind in BINARY_MAGIC.items():
        if data.startswith(magic):
            return kind
    head = data[:1024]
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if head and controls / len(head) > BINARY_CONTROL_RATIO:
        return "control-bytes"
    ct = (content_type or "").lower()
    if any(ct.startswith(t) for t in BINARY_CONTENT_TYPES):
        return ct.split(";")[0]
    return None


def classify_page(data: bytes | None, url: str | None = None, status: int | None = 200,
                  content_type: str | None = None) -> tuple[str, str | None]:
    """``(outcome, reason)``; reason is None when nothing needs explaining."""
    data = data or b""
    outcome, reason = classify_raw(data, content_type)
    if outcome is not None:
        return outcome, reason
    text, _ = decode_html(data)
    return classify_decoded(data, text, parse_html(text), status)


def classify_raw(data: bytes | None, content_type: str | None = None) -> tuple[str | None, str | None]:
    """The verdicts that need no decoding (empty, binary); ``(None, None)`` otherwise."""
    data = data or b""
    if not data.strip():
        return "empty", "0 bytes" if not data else "whitespace only"
    if reason := _binary_reason(data, content_type):
        return "binary", reason
    return None, None


def classify_decoded(data: bytes, text: str, tree, status: int | None = 200) -> tuple[str, str | None]:
    """Classify a page already decoded to ``text`` and parsed to ``tree`` (read only)."""
    if len(data) <= CHALLENGE_MAX_BYTES:
        for rx in CHALLENGE_RES:
            if rx.search(text):
                return "blocked", f"challenge: {rx.pattern[:30]}"
    if status in (403, 429, 503) and any(rx.search(text) for rx in CHALLENGE_RES):
        return "blocked", f"http {status} challenge"
    if tree is None:
        return "empty", "no html"
    body = tree.find("body")
    lines = text_lines(body if body is not None else tree)
    total = sum(map(len, lines))
    if status in (404, 410):
        return "soft404", f"http {status}"
    if total <= SOFT404_MAX_TEXT and any(rx.search(" ".join(lines) + " " + (tree.findtext(".//title") or ""))
                                         for rx in SOFT404_RES):
        return "soft404", "not-found text"
    if status and status >= 400:
        return "not_article", f"http {status}"
    links = [" ".join("".join(a.itertext()).split()) for a in tree.iter("a")]
    link_text = sum(len(t) for t in links)
    longest = max(map(len, lines), default=0)
    if len(links) >= LIST_MIN_LINKS and total and link_text / total >= LIST_LINK_TEXT_RATIO \
            and longest < ARTICLE_MIN_PARAGRAPH * 2:
        return "list", f"{len(links)} links, {link_text / total:.0%} link text"
    prose = sum(len(ln) for ln in lines if len(ln) >= PROSE_LINE_MIN)
    if longest >= ARTICLE_MIN_PARAGRAPH or prose >= ARTICLE_MIN_PROSE:
        return "article", None
    return "not_article", "little text"
