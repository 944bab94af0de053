"""Body: find the CMS body container, run trafilatura on it (or on the whole page), return lines.

The page is parsed once by lxml (:func:`crawler.extract.html.parse_html`); trafilatura gets that tree (or
a small document holding only the container), never the HTML string again.
"""
from __future__ import annotations

import re
from collections import Counter
from copy import deepcopy
from typing import Any
from urllib.parse import urljoin

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from .article import Image
from .html import parse_html, raw_text

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
#: a container with less text than this is not trusted (empty template slot)
MIN_CONTAINER_CHARS = 40
#: trafilatura's output must keep this share of a trusted container's text, else the container text is used
CONTAINER_COVERAGE = 0.9
#: the longest line any later step sees (longer lines are split, see :func:`split_long_line`)
MAX_LINE_CHARS = 65536
#: elements whose text is never page text
SKIP_TAGS = frozenset({"script", "style", "noscript", "head", "title", "template", "iframe", "select", "option",
                       "textarea", "button", "svg"})
#: elements that start a new line of text
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
                        "section", "article", "header", "footer", "nav", "aside", "dd", "dt", "dl", "form",
                        "blockquote", "pre", "hr", "center", "figure", "figcaption", "td", "th", "main",
                        "tbody", "thead", "body", "font_block"})
#: density block (readability-style): sentence punctuation counted in a paragraph's own, non-link text
DENSITY_PUNCT_RE = re.compile(r"[，。；！？、,;!?]")
#: a paragraph holder with less non-link text than this scores nothing
DENSITY_MIN_CHARS = 10
#: the densest block replaces trafilatura's page output when trafilatura's text holds at least this share of
#: the block's bigrams and adds at most DENSITY_MAX_EXTRA more (the extra is nav/related lists around it) ...
DENSITY_COVERAGE = 0.97
#: class/id words of blocks that are never the article (readability's negative list, plus CMS words)
DENSITY_NEGATIVE_RE = re.compile(
    r"recommend|related|relate|comment|sidebar|side-bar|footer|foot|nav|menu|banner|promo|sponsor|share|"
    r"widget|hot|rank|tuijian|xiangguan|pinglun", re.I)
DENSITY_MIN_EXTRA, DENSITY_MAX_EXTRA = 1.03, 1.35
TRAFILATURA_OPTIONS = dict(with_metadata=False, include_comments=False, include_tables=True,
                           include_images=False, include_links=False, favor_precision=True,
                           deduplicate=False)


def _visible(root):
    """Walk ``root`` as ``(event, element, tag)``: ``start`` and ``end`` of visible elements, and
    ``tail`` when an element's tail text is visible. Subtrees of :data:`SKIP_TAGS` are hidden (their
    tails are not); the root's own tail is outside the walk. (``etree.iterwalk`` does not report
    comments, nor their tails: :func:`crawler.extract.html.parse_html` removes comments while parsing,
    so ``<p><!--<$[标题]>begin-->标题<!--end--></p>`` reads 标题.)"""
    skip = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else None
        hidden = tag is None or tag in SKIP_TAGS
        if event == "start":
            if hidden:
                skip += 1
            elif not skip:
                yield "start", el, tag
            continue
        if hidden:
            skip -= 1
        elif not skip:
            yield "end", el, tag
        if not skip and el is not root:
            yield "tail", el, tag


def text_lines(root) -> list[str]:
    """Visible text of ``root`` split at block elements; whitespace-normalised, empty lines dropped."""
    if root is None:
        return []
    parts: list[str] = []
    for event, el, tag in _visible(root):
        if event == "start":
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
        elif event == "end":
            if tag in BLOCK_TAGS:
                parts.append("\n")
        elif el.tail:
            parts.append(el.tail)
    out = []
    for line in "".join(parts).split("\n"):
        line = " ".join(line.replace("\u3000", " ").split())
        if len(line) > MAX_LINE_CHARS:
            out.extend(split_long_line(line))
        elif line:
            out.append(line)
    return out


def split_long_line(line: str) -> list[str]:
    """A line longer than :data:`MAX_LINE_CHARS` as pieces of at most that size (nothing is dropped; every
    later per-line step then works on bounded lines)."""
    return [line[i:i + MAX_LINE_CHARS] for i in range(0, len(line), MAX_LINE_CHARS)]


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
            # the profile says this is the body: any text will do (a short notice)
            if raw_text(el).strip():
                return el, name
    inner = zjeg_content(html_text) if html_text else None
    if inner is not None and (frag := parse_html("<html><body><div>" + inner + "</div></body></html>")) is not None:
        div = frag.find(".//body/div")
        if div is not None and len(raw_text(div).strip()) >= MIN_CONTAINER_CHARS:
            return div, "ZJEG_RSS"
    for name, xp in CONTAINER_XPATHS:
        best, best_len = None, 0
        for el in tree.xpath(xp):
            n = len(raw_text(el).strip())
            if n > best_len:
                best, best_len = el, n
        if best is not None and best_len >= MIN_CONTAINER_CHARS:
            return best, name
    return None, None


def zjeg_content(html_text: str) -> str | None:
    """The HTML between the first ZJEG begin marker and the first end marker after it, else None.
    Two ``str.find`` calls: linear however many begin markers have no end."""
    start = html_text.find(ZJEG_MARKERS[0])
    if start < 0:
        return None
    start += len(ZJEG_MARKERS[0])
    end = html_text.find(ZJEG_MARKERS[1], start)
    return html_text[start:end] if end >= 0 else None


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
    out: list[str] = []
    for ln in (text or "").split("\n"):
        ln = ln.strip()
        if len(ln) > MAX_LINE_CHARS:
            out.extend(split_long_line(ln))
        elif ln:
            out.append(ln)
    return out


def _text_stats(root) -> dict:
    """``{block element: [chars, link chars, punctuation]}`` of the text each block element holds itself
    (its own text and its inline children's, not its block children's)."""
    own: dict = {}
    stack: list = []    # open elements: (element, is_block)
    links = 0

    def add(text):
        if not text or not stack:
            return
        t = "".join(text.split())
        if not t:
            return
        holder = next((el for el, blk in reversed(stack) if blk), None)
        if holder is None:
            return
        r = own.setdefault(holder, [0, 0, 0])
        r[0] += len(t)
        if links:
            r[1] += len(t)
        else:
            r[2] += len(DENSITY_PUNCT_RE.findall(t))

    for event, el, tag in _visible(root):
        if event == "start":
            stack.append((el, tag in BLOCK_TAGS and tag != "br"))
            links += tag == "a"
            add(el.text)
        elif event == "end":
            stack.pop()
            links -= tag == "a"
        else:
            add(el.tail)
    return own


def _link_density(el) -> float:
    total = len("".join(raw_text(el).split()))
    linked = sum(len("".join(raw_text(a).split())) for a in el.iter("a"))
    return linked / total if total else 1.0


def _negative(el) -> bool:
    """The element or its parent is named like a related-news, comment, nav or footer block."""
    for node in (el, el.getparent()):
        if node is not None and DENSITY_NEGATIVE_RE.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
    return False


def density_block(root):
    """The element holding the page's main text, readability-style: every paragraph holder with at least
    DENSITY_MIN_CHARS of non-link text scores ``1 + punctuation + min(chars / 100, 3)``, added in full to
    itself and its parent and by half to its grandparent; the best score times (1 - link density) wins."""
    if root is None:
        return None
    scores: dict[Any, float] = {}
    for el, (chars, linked, punct) in _text_stats(root).items():
        if chars - linked < DENSITY_MIN_CHARS:
            continue
        s = 1 + punct + min((chars - linked) / 100, 3)
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        for anc, w in ((el, 1.0), (parent, 1.0), (grand, 0.5)):
            if anc is not None:
                scores[anc] = scores.get(anc, 0.0) + s * w
    if not scores:
        return None
    top = [el for el in sorted(scores, key=lambda e: scores[e], reverse=True)[:12] if not _negative(el)][:8]
    if not top:
        return None
    return max(top, key=lambda e: scores[e] * (1 - _link_density(e)))


def _bigrams(lines) -> Counter:
    s = "".join(ch for ch in "".join(lines) if ch.isalnum())
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


def _prefer_block(traf: list[str], block: list[str]) -> bool:
    """True when trafilatura's page text is the density block plus a little boilerplate around it."""
    bt, bb = _bigrams(traf), _bigrams(block)
    nb = sum(bb.values())
    if not nb:
        return False
    coverage = sum((bt & bb).values()) / nb
    extra = sum(bt.values()) / nb
    return coverage >= DENSITY_COVERAGE and DENSITY_MIN_EXTRA <= extra <= DENSITY_MAX_EXTRA


def extract_body_lines(tree, container=None, url: str | None = None) -> tuple[list[str], str]:
    """(lines, method): trafilatura over the container (or the page); plain text as the fallback.

    Without a container, trafilatura's page output is replaced by the density block (:func:`density_block`)
    when it is that block plus boilerplate (see :func:`_prefer_block`)."""
    if container is not None:
        # the CMS container is the article: trafilatura's fallback comparisons (readability, jusText over
        # the same text) are off there (``fast``); the container's own text below is the fallback
        lines = run_trafilatura(_wrap(container), url, favor_precision=False, favor_recall=True, fast=True)
        own = text_lines(container)
        # trafilatura may drop short paragraphs inside a trusted container: keep the container's text then
        if not lines or sum(map(len, lines)) < CONTAINER_COVERAGE * sum(map(len, own)):
            return own, "container-text"
        return lines, "trafilatura-container"
    lines = run_trafilatura(tree, url)
    if lines:
        root = tree.find("body")
        block = density_block(root if root is not None else tree)
        if block is not None:
            block_lines = text_lines(block)
            if _prefer_block(lines, block_lines):
                return block_lines, "density"
        return lines, "trafilatura"
    return run_trafilatura(tree, url, favor_precision=False, favor_recall=True), "trafilatura-recall"


#: image attributes holding the real source (lazy loading first)
IMG_SRC_ATTRS = ("data-original", "data-src", "src")


def images(container, base_url: str | None) -> list[Image]:
    out: list[Image] = []
    seen: set[str] = set()
    if container is None:
        return out
    for img in container.iter("img"):
        src = next((img.get(a) for a in IMG_SRC_ATTRS if img.get(a)), None)
        if not src or src.startswith("data:"):
            continue
        try:
            src = urljoin(base_url, src.strip()) if base_url else src.strip()
        except ValueError:              # "http://[bad/": not a URL
            continue
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
