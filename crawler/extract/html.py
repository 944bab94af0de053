"""The one HTML parser helper: ``parse_html(text) -> lxml.html.HtmlElement | None``.

Every part of govnews that turns decoded HTML into a tree calls this (extraction, classification,
link discovery, hostile-page signs), so odd documents are handled in one place:

* an XML declaration (``<?xml version="1.0" encoding="gb2312"?>``, XHTML pages) is removed first:
  lxml refuses ``str`` input that declares an encoding (``ValueError``), and the text is already
  decoded anyway; a leading byte-order mark goes the same way;
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

__all__ = ["parse_html"]

XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
#: a DOCTYPE after other content (pages with scripts glued before ``<html>``) makes libxml2 drop the body
DOCTYPE_RE = re.compile(r"<!DOCTYPE[^>]*>", re.I)
HTML_START_RE = re.compile(r"<html[\s>]", re.I)
BOM = "\ufeff"


def _parse(text: str) -> lxml_html.HtmlElement | None:
    try:
        return lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def parse_html(text: str) -> lxml_html.HtmlElement | None:
    """Parse decoded HTML once; None for an empty page or one lxml cannot make a tree of."""
    if not text:
        return None
    text = XML_DECL_RE.sub("", text.lstrip(BOM), count=1)
    text = DOCTYPE_RE.sub("", text)
    if not text.strip():
        return None
    tree = _parse(text)
    if tree is None or tree.find("body") is None:
        # content glued before <html> (scripts) can make libxml2 drop the body: parse from <html> on
        start = HTML_START_RE.search(text)
        if start and start.start() > 0:
            retry = _parse(text[start.start():])
            if retry is not None and retry.find("body") is not None:
                return retry
    return tree
