"""Body: find the CMS body container, run trafilatura on it (or on the whole page), return lines.

The page is parsed once by lxml (:func:`crawler.extract.html.parse_html`); trafilatura gets that tree (or
a small document holding only the container), never the HTML string again.
"""
from __future__ import annotations

import operator
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
DENSITY_PUNCT = "，。；！？、,;!?"
DENSITY_PUNCT_RE = re.compile(f"[{DENSITY_PUNCT}]")
#: deletes :data:`DENSITY_PUNCT` (the count is the length difference: no regex per text node)
_DELETE_PUNCT = str.maketrans("", "", DENSITY_PUNCT)
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
#: class/id words of recommended/related-article blocks: their lines leave trafilatura's page output
RELATED_BLOCK_RE = re.compile(r"recommend|related|relate|xiangguan|tuijian|xgxw|xgwz|more-?stories", re.I)
RELATED_XPATH = etree.XPath("//*[@class or @id]")
#: a class token naming a post's body in a blog or feed template (``post-body``, ``entry-content``,
#: ``article_text``; the whole token: ``article-content-summary`` is not one): a page with two or more elements
#: of the same such token, none inside another, is a list of posts; its body is the first post's
POST_BODY_RE = re.compile(r"^(?:post|entry|article)[-_]?(?:body|content|text)$", re.I)
CLASS_XPATH = etree.XPath("//*[@class]")
#: the density block is taken without running trafilatura over the page when it holds at least this share
#: of the sentence punctuation of the page's scored paragraphs and at most this link density
DENSITY_CONFIDENT_PUNCT, DENSITY_CONFIDENT_LINKS = 0.9, 0.05
#: after the density block, its following siblings that are a table, or a short text without links (a
#: 落款 / signature, a date line, a note under a table), are part of the article: a notice's table of
#: figures or list of names often sits beside the paragraphs, not inside their element
TAIL_MAX_CHARS, TAIL_MAX_LINKS = 200, 0.3
TAIL_STOP_TAGS = frozenset({"body", "html"})
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
    return _lines(parts)


def _lines(parts: list[str]) -> list[str]:
    out = []
    for line in "".join(parts).split("\n"):
        line = " ".join(line.replace("\u3000", " ").split())
        if len(line) > MAX_LINE_CHARS:
            out.extend(split_long_line(line))
        elif line:
            out.append(line)
    return out


def page_walk(root) -> tuple[list[str], dict]:
    """``(text_lines(root), text statistics)`` in one walk of the tree: the page's lines and, per block
    element, ``[chars, link chars, punctuation]`` of the text it holds itself (its own text and its inline
    children's, not its block children's; see :func:`density_block`)."""
    if root is None:
        return [], {}
    parts: list[str] = []
    own: dict = {}
    holders: list = []    # per open element: its nearest block element (itself when it is one), or None
    links = 0

    skip = 0            # depth inside hidden subtrees (SKIP_TAGS), as in :func:`_visible` (inlined: hot path)
    holder = None       # the nearest open block element (holders[-1])
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag.__class__ is not str or tag in SKIP_TAGS:
                skip += 1
                continue
            if skip:
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n")
                if tag != "br":
                    holder = el
            holders.append(holder)
            if tag == "a":
                links += 1
            text = el.text
        else:
            if tag.__class__ is not str or tag in SKIP_TAGS:
                skip -= 1
            elif not skip:
                if tag in BLOCK_TAGS:
                    parts.append("\n")
                holders.pop()
                holder = holders[-1] if holders else None
                if tag == "a":
                    links -= 1
            if skip or el is root:
                continue
            text = el.tail
        if not text:
            continue
        parts.append(text)
        # the text's statistics go to its holder: [chars, link chars, sentence punctuation]
        if holder is None:
            continue
        t = "".join(text.split())
        if not t:
            continue
        r = own.get(holder)
        if r is None:
            r = own[holder] = [0, 0, 0]
        r[0] += len(t)
        if links:
            r[1] += len(t)
        else:
            r[2] += len(t) - len(t.translate(_DELETE_PUNCT))
    return _lines(parts), own


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
    """The text statistics of :func:`page_walk` alone."""
    return page_walk(root)[1]


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


def _inside_related(el) -> bool:
    """The element sits inside a recommended/related-article block (:data:`RELATED_BLOCK_RE`): a teaser
    of the next story is never the article."""
    return any(RELATED_BLOCK_RE.search(f"{a.get('class') or ''} {a.get('id') or ''}") for a in el.iterancestors())


def density_block(root, stats: dict | None = None):
    """The element holding the page's main text, readability-style: every paragraph holder with at least
    DENSITY_MIN_CHARS of non-link text scores ``1 + punctuation + min(chars / 100, 3)``, added in full to
    itself and its parent and by half to its grandparent; the best score times (1 - link density) wins.
    ``stats``: the page's :func:`page_walk` statistics when the caller has them (no second walk)."""
    return density_choice(root, stats)[0]


def density_choice(root, stats: dict | None = None) -> tuple[Any, bool]:
    """``(block, confident)``: :func:`density_block`, and whether the block is certainly the article: it
    holds at least :data:`DENSITY_CONFIDENT_PUNCT` of the sentence punctuation of the page's scored
    paragraphs and its link density is at most :data:`DENSITY_CONFIDENT_LINKS`."""
    if root is None:
        return None, False
    if stats is None:
        stats = page_walk(root)[1]
    scores: dict[Any, float] = {}
    punct_total = 0
    for el, (chars, linked, punct) in stats.items():
        if chars - linked < DENSITY_MIN_CHARS:
            continue
        punct_total += punct
        s = 1 + punct + min((chars - linked) / 100, 3)
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        for anc, w in ((el, 1.0), (parent, 1.0), (grand, 0.5)):
            if anc is not None:
                scores[anc] = scores.get(anc, 0.0) + s * w
    if not scores:
        return None, False
    top = [el for el in sorted(scores, key=lambda e: scores[e], reverse=True)[:12]
           if not _negative(el) and not _inside_related(el)][:8]
    if not top:
        return None, False
    weighted = [(scores[e] * (1 - (ld := _link_density(e))), ld, e) for e in top]
    best = max(weighted, key=lambda w: w[0])
    block, links = best[2], best[1]
    if links > DENSITY_CONFIDENT_LINKS or not punct_total:
        return block, False
    inside = 0
    for el in block.iter():
        r = stats.get(el)
        if r is not None and r[0] - r[1] >= DENSITY_MIN_CHARS:
            inside += r[2]
    return block, inside >= DENSITY_CONFIDENT_PUNCT * punct_total


def _tail_sibling(el) -> bool:
    """A sibling after the density block that belongs to the article (see :data:`TAIL_MAX_CHARS`)."""
    if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or _negative(el):
        return False
    text = "".join(raw_text(el).split())
    if not text:
        return False
    if el.tag == "table" or el.find(".//table") is not None:
        return _link_density(el) <= TAIL_MAX_LINKS
    return len(text) <= TAIL_MAX_CHARS and el.find(".//a") is None


def block_lines_with_tail(block) -> list[str]:
    """The density block's lines, then those of the siblings after it that belong to the article (tables,
    short unlinked lines), up to the first that does not; never past a block directly under ``<body>``."""
    lines = text_lines(block)
    parent = block.getparent()
    if parent is None or parent.tag in TAIL_STOP_TAGS:
        return lines
    for sib in block.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        if not _tail_sibling(sib):
            break
        lines.extend(text_lines(sib))
    return lines


def _bigrams(lines) -> Counter:
    s = "".join(filter(str.isalnum, "".join(lines)))
    return Counter(map(operator.add, s, s[1:]))


def _prefer_block(traf: list[str], block: list[str]) -> bool:
    """True when trafilatura's page text is the density block plus a little boilerplate around it."""
    bt, bb = _bigrams(traf), _bigrams(block)
    nb = sum(bb.values())
    if not nb:
        return False
    coverage = sum((bt & bb).values()) / nb
    extra = sum(bt.values()) / nb
    return coverage >= DENSITY_COVERAGE and DENSITY_MIN_EXTRA <= extra <= DENSITY_MAX_EXTRA


def first_post(tree) -> list[str]:
    """The lines of the first post of a page listing several, else ``[]``: two or more elements with the
    same :data:`POST_BODY_RE` class token, none inside another nor inside a related-article block, each with
    at least :data:`DENSITY_MIN_CHARS` of text. A blog's archive or a feed page: the first post is the
    page's article."""
    groups: dict[str, list] = {}
    for el in CLASS_XPATH(tree):
        for token in el.get("class").split():
            if POST_BODY_RE.match(token):
                groups.setdefault(token.lower(), []).append(el)
    for posts in groups.values():
        if len(posts) < 2:
            continue
        found = set(posts)
        posts = [el for el in posts if not any(a in found for a in el.iterancestors()) and not _inside_related(el)]
        bodies = [lines for lines in map(text_lines, posts) if len(_alnum("".join(lines))) >= DENSITY_MIN_CHARS]
        if len(bodies) >= 2:
            return bodies[0]
    return []


def related_lines(tree, keep) -> set[str]:
    """Alphanumeric keys of the text lines of the page's recommended/related-article blocks
    (:data:`RELATED_BLOCK_RE` in the class or id), except a block holding ``keep`` (the density block)."""
    keep_anc = set(keep.iterancestors()) | {keep} if keep is not None else set()
    out: set[str] = set()
    done: set = set()
    for el in RELATED_XPATH(tree):
        if el in keep_anc or not RELATED_BLOCK_RE.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            continue
        if any(a in done for a in el.iterancestors()):
            continue
        done.add(el)
        out.update(k for k in map(_alnum, text_lines(el)) if k)
    return out


def _alnum(text: str) -> str:
    return "".join(filter(str.isalnum, text))


def extract_body_lines(tree, container=None, url: str | None = None,
                       stats: dict | None = None) -> tuple[list[str], str]:
    """(lines, method): trafilatura over the container (or the page); plain text as the fallback.

    Without a container the density block (:func:`density_choice`) comes first: a confident block is the
    body (``density-text``, trafilatura does not run); then a page listing several posts gives the first
    (:func:`first_post`, ``first-post``); otherwise trafilatura's page output is replaced by
    the block when it is that block plus boilerplate (see :func:`_prefer_block`). ``stats``: the page
    body's :func:`page_walk` statistics, when the caller has them."""
    if container is not None:
        # the CMS container is the article: trafilatura's fallback comparisons (readability, jusText over
        # the same text) are off there (``fast``); the container's own text below is the fallback
        lines = run_trafilatura(_wrap(container), url, favor_precision=False, favor_recall=True, fast=True)
        own = text_lines(container)
        # trafilatura may drop short paragraphs inside a trusted container: keep the container's text then
        if not lines or sum(map(len, lines)) < CONTAINER_COVERAGE * sum(map(len, own)):
            return own, "container-text"
        return lines, "trafilatura-container"
    root = tree.find("body")
    block, confident = density_choice(root if root is not None else tree, stats)
    block_lines = block_lines_with_tail(block) if block is not None else []
    if confident and block_lines:
        return block_lines, "density-text"
    if post := first_post(tree):
        return post, "first-post"
    # trafilatura over the page without its fallback comparisons (readability/jusText again over the same
    # page: same body F1 on the corpus at a fraction of the time)
    lines = run_trafilatura(tree, url, fast=True)
    if lines:
        if block_lines and _prefer_block(lines, block_lines):
            return block_lines, "density"
        related = related_lines(tree, block)
        if related:
            lines = [ln for ln in lines if _alnum(ln) not in related] or lines
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
