"""Body: find the CMS body container, run trafilatura on it (or on the whole page), return lines.

The page is parsed once by lxml (:func:`parse_html`); trafilatura gets that tree (or a small document
holding only the container), never the HTML string again.
"""
from __future__ import annotations

import re
from copy import deepcopy
from urllib.parse import urljoin

import trafilatura
from lxml import etree, html as lxml_html

from .article import Image

#: body containers of common Chinese government CMSs, most specific first: (name, XPath)
CONTAINER_XPATHS = (
    ("TRS_UEDITOR", "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]"),
    ("TRS_Editor", "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]"),
    ("Custom_UnionStyle", "//div[contains(concat(' ', normalize-space(@class), ' '), ' Custom_UnionStyle ')]"),
    ("#UCAP-CONTENT", "//*[@id='UCAP-CONTENT']"),
    ("#zoom", "//*[@id='zoom']"),
)
#: Hanweb / Zhejiang government CMS body markers (comments around the article body)
ZJEG_MARKERS = ("<!--ZJEG_RSS.content.begin-->", "<!--ZJEG_RSS.content.end-->")
ZJEG_RE = re.compile(re.escape(ZJEG_MARKERS[0]) + r"(.*?)" + re.escape(ZJEG_MARKERS[1]), re.S)
#: a container with less text than this is not trusted (empty template slot)
MIN_CONTAINER_CHARS = 40
#: trafilatura's output must keep this share of a trusted container's text, else the container text is used
CONTAINER_COVERAGE = 0.9
#: elements whose text is never page text
SKIP_TAGS = frozenset({"script", "style", "noscript", "head", "title", "template", "iframe", "select", "option",
                       "textarea", "button", "svg"})
#: elements that start a new line of text
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
                        "section", "article", "header", "footer", "nav", "aside", "dd", "dt", "dl", "form",
                        "blockquote", "pre", "hr", "center", "figure", "figcaption", "td", "th", "main",
                        "tbody", "thead", "body", "font_block"})
XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
#: a DOCTYPE after other content (pages with scripts glued before ``<html>``) makes libxml2 drop the body
DOCTYPE_RE = re.compile(r"<!DOCTYPE[^>]*>", re.I)
HTML_START_RE = re.compile(r"<html[\s>]", re.I)
TRAFILATURA_OPTIONS = dict(with_metadata=False, include_comments=False, include_tables=True,
                           include_images=False, include_links=False, favor_precision=True,
                           deduplicate=False)


def parse_html(text: str):
    """Parse decoded HTML once; None for a page lxml cannot make a tree of."""
    text = XML_DECL_RE.sub("", text, count=1)
    text = DOCTYPE_RE.sub("", text)
    if not text.strip():
        return None
    try:
        tree = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None
    if tree.find("body") is None:
        # content glued before <html> (scripts) can make libxml2 drop the body: parse from <html> on
        start = HTML_START_RE.search(text)
        if start and start.start() > 0:
            try:
                retry = lxml_html.document_fromstring(text[start.start():])
            except (etree.ParserError, ValueError):
                retry = None
            if retry is not None and retry.find("body") is not None:
                return retry
    return tree


def text_lines(root) -> list[str]:
    """Visible text of ``root`` split at block elements; whitespace-normalised, empty lines dropped."""
    if root is None:
        return []
    parts: list[str] = []
    skip_depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else None
        if event == "start":
            if tag is None or tag in SKIP_TAGS:
                skip_depth += 1
                continue
            if skip_depth:
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
        else:
            if tag is None or tag in SKIP_TAGS:
                skip_depth -= 1
            elif not skip_depth and tag in BLOCK_TAGS:
                parts.append("\n")
            if not skip_depth and el.tail and el is not root:
                parts.append(el.tail)
    out = []
    for line in "".join(parts).split("\n"):
        line = " ".join(line.replace("\u3000", " ").split())
        if line:
            out.append(line)
    return out


def css_to_xpath(selector: str) -> str:
    from cssselect import GenericTranslator
    return GenericTranslator().css_to_xpath(selector)


def find_container(tree, html_text: str | None = None, body_selector: str | None = None):
    """(element, name) of the body container, or (None, None).

    A profile's ``body_selector`` (CSS) wins, then the ZJEG_RSS markers, then :data:`CONTAINER_XPATHS`.
    """
    candidates = []
    if body_selector:
        candidates.append((body_selector, css_to_xpath(body_selector)))
    for name, xp in candidates:
        for el in tree.xpath(xp):
            if len("".join(el.itertext()).strip()) >= MIN_CONTAINER_CHARS:
                return el, name
    if html_text and ZJEG_MARKERS[0] in html_text:
        m = ZJEG_RE.search(html_text)
        if m and (frag := parse_html("<html><body><div>" + m.group(1) + "</div></body></html>")) is not None:
            div = frag.find(".//body/div")
            if div is not None and len("".join(div.itertext()).strip()) >= MIN_CONTAINER_CHARS:
                return div, "ZJEG_RSS"
    for name, xp in CONTAINER_XPATHS:
        best, best_len = None, 0
        for el in tree.xpath(xp):
            n = len("".join(el.itertext()).strip())
            if n > best_len:
                best, best_len = el, n
        if best is not None and best_len >= MIN_CONTAINER_CHARS:
            return best, name
    return None, None


def _wrap(container):
    doc = lxml_html.Element("html")
    body = etree.SubElement(doc, "body")
    body.append(deepcopy(container))
    return doc


def run_trafilatura(tree, url: str | None = None, **overrides) -> list[str]:
    opts = {**TRAFILATURA_OPTIONS, **overrides}
    try:
        doc = trafilatura.bare_extraction(tree, url=url, **opts)
    except Exception:   # trafilatura raises on odd trees; the caller falls back to plain text
        return []
    text = getattr(doc, "text", None) if doc is not None else None
    if text is None and isinstance(doc, dict):
        text = doc.get("text")
    return [ln.strip() for ln in (text or "").split("\n") if ln.strip()]


def extract_body_lines(tree, container=None, url: str | None = None) -> tuple[list[str], str]:
    """(lines, method): trafilatura over the container (or the page); plain text as the fallback."""
    if container is not None:
        lines = run_trafilatura(_wrap(container), url, favor_precision=False, favor_recall=True)
        own = text_lines(container)
        # trafilatura may drop short paragraphs inside a trusted container: keep the container's text then
        if not lines or sum(map(len, lines)) < CONTAINER_COVERAGE * sum(map(len, own)):
            return own, "container-text"
        return lines, "trafilatura-container"
    lines = run_trafilatura(tree, url)
    if lines:
        return lines, "trafilatura"
    return run_trafilatura(tree, url, favor_precision=False, favor_recall=True), "trafilatura-recall"


#: image attributes holding the real source (lazy loading first)
IMG_SRC_ATTRS = ("data-original", "data-src", "src")


def images(container, base_url: str | None) -> list[Image]:
    out, seen = [], set()
    if container is None:
        return out
    for img in container.iter("img"):
        src = next((img.get(a) for a in IMG_SRC_ATTRS if img.get(a)), None)
        if not src or src.startswith("data:"):
            continue
        src = urljoin(base_url, src.strip()) if base_url else src.strip()
        if src in seen:
            continue
        seen.add(src)
        caption = (img.get("alt") or img.get("title") or "").strip() or None
        parent = img.getparent()
        if caption is None and parent is not None:
            fig = parent if parent.tag == "figure" else None
            cap = fig.find("figcaption") if fig is not None else None
            if cap is not None:
                caption = " ".join(cap.text_content().split()) or None
        out.append(Image(url=src, caption=caption))
    return out
