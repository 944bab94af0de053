"""List-block detection: which repeated blocks of a page hold article links.

An anchor's *row* is the nearest ancestor that repeats (a ``li``/``tr``/``dt``/``dd``, or an element
whose parent holds several siblings of the same tag and class that carry links); the row's parent
is the *block*. A block is an **article block** when most of its anchors carry headline-like text
(mostly CJK, 8+ characters, or a truncated headline) and its rows carry dates, or its links share
one id-carrying URL template; menus, column lists, footers, friend-link boxes, breadcrumbs and pagers
have short texts, no dates and assorted templates. Blocks with one row count (the last page of a
column may hold a single notice).

Pure functions over an lxml tree; bounded: at most :data:`MAX_ANCHORS` anchors of a page are looked at.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import patterns as P
from .links import absolute
from .templates import has_variable, is_list_like, url_template

__all__ = ["MAX_ANCHORS", "Anchor", "Block", "anchor_text", "find_blocks", "headline_like", "is_pager_text"]

#: anchors of one page looked at; the rest are counted as ``too_many_links``
MAX_ANCHORS = 20000
ROW_TAGS = frozenset(("li", "tr", "dt", "dd"))
MAX_CLIMB = 6
HEADLINE_MIN = 8
HEADLINE_MIN_TRUNCATED = 6
DATE_RE = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|(?<!\d)\d{1,2}-\d{1,2}(?!\d)|"
    r"\[\d{1,2}[-/.]\d{1,2}\]|\d{1,2}月\d{1,2}日|(?<!\d)\d{1,2}/\d{1,2}(?!\d)"
)
#: link texts of pagers: next/last/previous/first page and page numbers
PAGER_TEXTS = frozenset(("下一页", "下页", "后一页", "下一頁", "尾页", "末页", "末頁", "最后一页", "最后页",
                         "上一页", "上页", "前一页", "首页", "第一页", "next", "next>", ">", ">>", "»", "last",
                         "prev", "<", "<<", "«", "first", "后页", "前页", "go"))
NEXT_TEXTS = frozenset(("下一页", "下页", "后一页", "下一頁", "后页", "next", "next>", ">", "»", ">>"))
LAST_TEXTS = frozenset(("尾页", "末页", "末頁", "最后一页", "最后页", "last"))
MORE_PREFIXES = ("更多", "more", "MORE", "More", "查看更多", ">>更多", "更多>>")
TRUNCATED = ("…", "...", "..")


def anchor_text(a: Any) -> str:
    """The anchor's visible text, else its ``title``, else an image's ``alt`` (whitespace folded)."""
    text = " ".join((a.text_content() or "").split())
    if not text:
        text = " ".join((a.get("title") or "").split())
    if not text:
        img = a.find(".//img")
        if img is not None:
            text = " ".join((img.get("alt") or "").split())
    return text[:300]


def headline_like(text: str, title: str = "") -> bool:
    """Mostly-CJK text of headline length (8+ characters; 6+ when truncated with …)."""
    best = title if len(title) > len(text) else text
    best = best.strip()
    if not best or best in PAGER_TEXTS or best.startswith(MORE_PREFIXES):
        return False
    cjk = len(P.CJK_RE.findall(best))
    if best.endswith(TRUNCATED):
        return cjk >= 4 and len(best) >= HEADLINE_MIN_TRUNCATED
    return len(best) >= HEADLINE_MIN and cjk >= 4 and cjk >= 0.4 * len(best)


def is_pager_text(text: str) -> bool:
    t = text.strip().strip("[]【】").strip()
    return t.lower() in PAGER_TEXTS or (t.isdigit() and len(t) <= 5)


@dataclass
class Anchor:
    url: str
    text: str
    title: str
    template: str
    row: Any = field(repr=False, default=None)
    headline: bool = False
    onsite: bool = True


@dataclass
class Block:
    """Anchors sharing one parent of repeated rows."""

    anchors: list[Anchor] = field(default_factory=list)
    rows: set[int] = field(default_factory=set)
    dated_rows: int = 0
    tag: str = ""
    el: Any = field(repr=False, default=None)     # the block element (kept alive: ids stay unique)

    @property
    def page_anchors(self) -> list[Anchor]:
        return [a for a in self.anchors if a.onsite]

    def templates(self) -> Counter:
        return Counter(a.template for a in self.page_anchors)

    @property
    def dominant(self) -> tuple[str | None, float]:
        """The most common template of the block's on-site links and its share of them."""
        counts = self.templates()
        if not counts:
            return None, 0.0
        template, n = counts.most_common(1)[0]
        return template, n / sum(counts.values())

    @property
    def headline_share(self) -> float:
        links = self.page_anchors
        return sum(a.headline for a in links) / len(links) if links else 0.0

    @property
    def date_share(self) -> float:
        return self.dated_rows / len(self.rows) if self.rows else 0.0

    @property
    def pager(self) -> bool:
        links = self.page_anchors
        n = sum(is_pager_text(a.text) for a in links)
        return bool(links) and n >= max(1, len(links) // 2) and any(
            a.text.strip().lower() in NEXT_TEXTS | LAST_TEXTS or a.text.strip().isdigit() for a in links)

    def is_article_block(self) -> bool:
        """Headline-like texts and dates, or headline-like texts with one id-carrying template."""
        links = self.page_anchors
        if not links or self.pager:
            return False
        dom, share = self.dominant
        if dom is None or is_list_like(dom):
            return False
        h = self.headline_share
        if h < 0.6:
            return False
        if self.date_share >= 0.5:
            return True
        return len(links) >= 3 and share >= 0.6 and has_variable(dom)

    def reason(self) -> str:
        dom, share = self.dominant
        return (f"block of {len(self.page_anchors)} links, {self.headline_share:.0%} headlines, "
                f"{self.date_share:.0%} dated, template {dom} ({share:.0%})")


def _has_link(el: Any) -> bool:
    return el.tag == "a" and el.get("href") is not None or el.find(".//a[@href]") is not None


class _Repeats:
    """Per parent: how many link-carrying children share each (tag, class) signature (cached)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[Any, Counter]] = {}

    def count(self, parent: Any, child: Any) -> int:
        key = id(parent)
        hit = self._cache.get(key)
        counts = hit[1] if hit is not None and hit[0] is parent else None
        if counts is None:
            counts = Counter()
            for k, c in enumerate(parent):
                if k > MAX_ANCHORS:
                    break
                if isinstance(c.tag, str) and _has_link(c):
                    counts[(c.tag, c.get("class") or "")] += 1
            self._cache[key] = (parent, counts)
        return counts.get((child.tag, child.get("class") or ""), 0)


def _row_of(a: Any, repeats: _Repeats) -> Any:
    el = a
    for _ in range(MAX_CLIMB):
        parent = el.getparent()
        if parent is None:
            return el
        if el.tag in ROW_TAGS or repeats.count(parent, el) >= 2:
            # a row alone in its parent (dl > dt) whose parent repeats (div > dl*) is one level up
            grand = parent.getparent()
            if (repeats.count(parent, el) < 2 and grand is not None and parent.tag not in ("ul", "ol", "table", "tbody")
                    and repeats.count(grand, parent) >= 2):
                return parent
            return el
        el = parent
    return el


_absolute = absolute    # one link normaliser for discovery (crawler.discovery.links.absolute)


def find_blocks(tree: Any, base_url: str, *, same_site=None, counters: Counter | None = None) -> list[Block]:
    """The page's link blocks in page order. ``same_site(url) -> bool`` marks on-site links
    (default: the base URL's host); ``counters`` receives ``too_many_links`` when anchors were cut."""
    if tree is None:
        return []
    base_host = (urlsplit(base_url).hostname or "").lower()
    same = same_site or (lambda u: (urlsplit(u).hostname or "").lower() == base_host)
    repeats = _Repeats()
    blocks: dict[int, Block] = {}
    order: list[int] = []
    dated: dict[int, bool] = {}
    for n, a in enumerate(tree.iter("a")):
        if n >= MAX_ANCHORS:
            if counters is not None:
                counters["too_many_links"] += 1
            break
        url = _absolute(a.get("href"), base_url)
        if not url:
            continue
        row = _row_of(a, repeats)
        parent = row.getparent() if row.getparent() is not None else row
        key = id(parent)
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = Block(tag=str(parent.tag), el=parent)
            order.append(key)
        text = anchor_text(a)
        title = " ".join((a.get("title") or "").split())[:300]
        if "\n" in title or "：" in title[:6]:      # PowerEasy titles: "文章标题：…&#13;&#10;作者…"
            title = title.split("：", 1)[-1].split("作")[0].strip() if title.startswith("文章标题") else ""
        anchor = Anchor(url, text, title, url_template(url), row, headline_like(text, title), same(url))
        block.anchors.append(anchor)
        rid = id(row)
        if rid not in block.rows:
            block.rows.add(rid)
            if rid not in dated:
                dated[rid] = bool(DATE_RE.search(" ".join((row.text_content() or "")[:400].split())))
            block.dated_rows += dated[rid]
    return [blocks[k] for k in order]
