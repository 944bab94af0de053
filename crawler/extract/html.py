"""The one HTML parser helper: ``parse_html(text) -> lxml.html.HtmlElement | None``.

Every part of govnews that turns decoded HTML into a tree calls this (extraction, classification,
link discovery, hostile-page signs), so odd documents are handled in one place:

* an XML declaration (``<?xml version="1.0" encoding="gb2312"?>``, XHTML pages) is removed first:
  lxml refuses ``str`` input that declares an encoding (``ValueError``), and the text is already
  decoded anyway; a leading byte-order mark goes the same way;
* comments and processing instructions are dropped while parsing (their tails stay, so the text after
  ``<!--<$[标题]>begin-->`` is not lost; look for comment markers in the text, not the tree);
* every ``<!DOCTYPE ...>`` is removed: one after other content (scripts glued before ``<html>``)
  makes libxml2 drop the body;
* an empty or whitespace-only text, and anything lxml cannot make a tree of (``ParserError``,
  ``ValueError``), give ``None`` — never an exception;
* when the tree has no ``<body>`` although the text has an ``<html>`` start tag after other content,
  the text is parsed again from that tag on.

Input is ``str`` (decode bytes first, with :func:`crawler.extract.decode.decode_html`): parsing bytes
would let libxml2 guess the charset a second time.
"""
from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

__all__ = ["parse_html", "parse_html_checked", "raw_text"]

XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
#: a DOCTYPE after other content (pages with scripts glued before ``<html>``) makes libxml2 drop the body
#: (bounded, so 100k unclosed ``<!DOCTYPE`` at the end of a page stay linear)
DOCTYPE_RE = re.compile(r"<!DOCTYPE[^<>]{0,1024}>", re.I)
HTML_START_RE = re.compile(r"<html[\s>]", re.I)
BOM = "\ufeff"


#: a page is parsed again without libxml2's limits (depth 256, 10 MB text node) only up to this size
HUGE_RETRY_MAX_CHARS = 12_000_000


def _limit_hit(parser) -> str | None:
    """libxml2's message when it stopped at a resource limit (the rest of the page silently vanishes)."""
    for err in parser.error_log:
        if err.type_name == "ERR_RESOURCE_LIMIT" or "Excessive depth" in err.message:
            msg = err.message
            if "depth" in msg.lower():
                return "depth limit (256 nested elements)"
            if "size" in msg.lower() or "huge" in msg.lower():
                return "text limit (10 MB text node)"
            return "resource limit: " + msg[:60]
    return None


#: elements nested deeper than this (only possible after a ``huge_tree`` retry) lose their inner tags,
#: keeping their text: every later step (recursive ones too) sees the depth a normal parse allows
MAX_DEPTH = 250


#: the tags that make deep nesting; removed when even a ``huge_tree`` parse stops at its depth limit
NESTING_TAG_RE = re.compile(
    r"</?(?:div|span|font|section|article|center|b|i|u|s|strong|em|small|big|sup|sub|table|tbody|thead|tr|td|th|"
    r"ul|ol|li|dl|dd|dt|blockquote|a|form|label|nav|header|footer|aside|main|figure|p)\b[^<>]{0,2048}>", re.I)


def _flatten_deep(tree):
    """Strip the tags below :data:`MAX_DEPTH` (their text stays, in order); one iterative walk."""
    if tree is None:
        return None
    depth, targets = 0, []
    for event, el in etree.iterwalk(tree, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth == MAX_DEPTH:
                targets.append(el)
        else:
            depth -= 1
    for el in targets:
        etree.strip_elements(el, "script", "style", with_tail=False)
        etree.strip_tags(el, "*")
    return tree


def _parse(text: str, huge: bool = False) -> tuple[lxml_html.HtmlElement | None, str | None]:
    # one parser per call (its error log is per document); comments and processing instructions are
    # dropped while parsing, their tails kept (``<!--<$[标题]>begin-->标题`` reads 标题; a tree walk would
    # otherwise lose the text after a comment, and 100k comments cost every later walk)
    parser = lxml_html.HTMLParser(huge_tree=huge, remove_comments=True, remove_pis=True)
    try:
        tree = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None, _limit_hit(parser)
    return tree, _limit_hit(parser)


def parse_html_checked(text: str) -> tuple[lxml_html.HtmlElement | None, str | None]:
    """``(tree, stopped)``: :func:`parse_html` and, when libxml2 stopped early at one of its limits
    (nesting deeper than 256, a text node over 10 MB), the reason. Such a page is parsed again without
    the limits (``huge_tree``, pages up to :data:`HUGE_RETRY_MAX_CHARS`), so its text is not lost; the
    reason is returned either way, for the caller to record."""
    if not text:
        return None, None
    text = XML_DECL_RE.sub("", text.lstrip(BOM), count=1)
    text = DOCTYPE_RE.sub("", text)
    if not text.strip():
        return None, None
    tree, stopped = _parse(text)
    if stopped and len(text) <= HUGE_RETRY_MAX_CHARS:
        tree, still = _parse(text, huge=True)
        if still:
            # deeper than even huge_tree's 2048: parse the text without its nesting (structure) tags
            text = NESTING_TAG_RE.sub(" ", text)
            tree, still = _parse(text, huge=True)
            stopped += " (nesting tags removed)"
        tree = _flatten_deep(tree)
    if tree is None or tree.find("body") is None:
        # content glued before <html> (scripts) can make libxml2 drop the body: parse from <html> on
        start = HTML_START_RE.search(text)
        if start and start.start() > 0:
            retry = _flatten_deep(_parse(text[start.start():],
                                         huge=bool(stopped) and len(text) <= HUGE_RETRY_MAX_CHARS)[0])
            if retry is not None and retry.find("body") is not None:
                return retry, stopped
    return tree, stopped


def parse_html(text: str) -> lxml_html.HtmlElement | None:
    """Parse decoded HTML once; None for an empty page or one lxml cannot make a tree of."""
    return parse_html_checked(text)[0]


def raw_text(el) -> str:
    """All text inside ``el`` (what ``"".join(el.itertext())`` gives, script text included, its tail
    excluded), serialised by libxml2 in one C call: ``itertext`` walks every comment in Python and took
    seconds on a page of 100k comments."""
    if not isinstance(el.tag, str):
        return ""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)
