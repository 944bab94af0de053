"""Page metadata: gov ``<meta>`` tags, og:*, ``<title>``, headline candidates and labelled lines.

Labelled lines are the ``来源：… 发布时间：… 编辑：…`` lines government CMSs print around the article;
:func:`parse_labelled_line` turns one into fields and says whether the line is pure metadata.
"""
from __future__ import annotations

import re

from lxml import etree

from .html import raw_text

#: gov / og meta tags -> Article field
META_FIELDS = {
    "title": ("articletitle", "og:title", "twitter:title"),
    "source": ("contentsource", "source", "og:article:source", "article:source"),
    "column": ("columnname", "column", "catalogname"),
    "site_name": ("sitename", "og:site_name", "application-name"),
    "author": ("author", "article:author", "og:article:author"),
    "keywords": ("keywords", "news_keywords"),
    "summary": ("description", "og:description"),
}
#: headline elements: CMS title containers first, then generic ones
HEADLINE_XPATHS = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Title ')]",
    "//*[@id='ivs_title' or @id='title' or @id='artTitle' or @id='ArticleTitle' or @id='articleTitle' "
    "or @id='con_title' or @id='newstitle' or @id='zoomtitle' or @id='UCAP-TITLE']",
    "//h1",
    "//*[contains(@class, 'title') and not(self::html) and not(self::head) and not(self::title)]",
    "//h2",
)
_HEADLINE_XPATHS = tuple(etree.XPath(xp) for xp in HEADLINE_XPATHS)
#: site suffix separators in ``<title>``: ``标题_XX人民政府``, ``标题 - 新华网``, ``标题|XX``
TITLE_SUFFIX_RE = re.compile(r"\s*(?:[_|｜]|--?|—+|\s-\s).*$")
#: a trailing site name glued with a dash: ``标题-新华网``, ``标题 — XX市人民政府门户网站``
SITE_SUFFIX_RE = re.compile(
    r"\s*[-—–_|｜]+\s*[^-—–_|｜]{1,20}(?:网|網|网站|政府|门户|新闻|新聞|日报|日報|频道|在线|\.com|\.cn)\s*$")
TITLE_SPLIT_RE = re.compile(r"\s*(?:[_|｜]|\s[-—–]+\s|--)\s*")

#: labelled metadata fields; value runs to the next label, a wide gap or the end of the line
LABELS = {
    "published": r"发布时间|發佈時間|發布時間|发稿时间|發稿時間|发布日期|發佈日期|发表时间|发表日期|更新时间|"
                 r"时\s*间|日\s*期|時間",
    "source": r"文章来源|信息来源|稿件来源|新闻来源|来\s*源|來\s*源|稿源|出处",
    "editor": r"责任编辑|責任編輯|责编|編輯|编\s*辑|审核|审校|校对",
    "author": r"作\s*者|记\s*者|記\s*者|撰\s*稿|撰文|文\s*/\s*图|文/图|文图|供稿",
    "original_title": r"原标题|原標題",
    "summary": r"摘\s*要|内容摘要|导读",
    "clicks": r"点击数?|點擊數?|浏览次数|浏览量|阅读量|阅读次数|访问量|访问次数",
    "font": r"字号|字體|字体",
}
LABEL_RE = re.compile(r"[【\[（(]?\s*(" + "|".join(f"(?P<{k}>{v})" for k, v in LABELS.items())
                      + r")\s*[】\]）)]?\s*[:：]\s*")
WHITESPACE_RUN_RE = re.compile(r"\s{3,}")
#: tokens that may sit on a metadata line besides label:value pairs
META_LINE_NOISE_RE = re.compile(
    r"[【\[]\s*[大中小]\s*[】\]]|[【\[]?\s*(?:打印|关闭|關閉|打印本页|关闭窗口|收藏|纠错|分享|默认|大|中|小|次|返回顶部)\s*[】\]]?|"
    r"[|｜/\s]+")
#: a value longer than this is not a metadata value (the "label" was body text)
MAX_VALUE_LEN = {"summary": 1000, "original_title": 120}
DEFAULT_MAX_VALUE_LEN = 30
#: fields whose value may be a sentence; the others hold names and dates
FREE_TEXT_FIELDS = ("summary", "original_title")
SENTENCE_PUNCT_RE = re.compile(r"[，。！？；]")
#: a labelled line is metadata when at most this many characters remain after removing the pairs
META_LINE_MAX_REST = 4
#: credits such as ``（记者 范萌）`` / ``(綿陽日報社融媒體記者 范萌)`` at the end of an article
CREDIT_AUTHOR_RE = re.compile(
    r"^[(（]?.{0,30}?(?:记者|記者|通讯员|通訊員)\s*([\u4e00-\u9fff·]{2,4}(?:[\s、,，]+(?!文|摄|攝)[\u4e00-\u9fff·]{2,4})*)"
    r"\s*(?:文\s*/\s*[图圖]|摄影?|攝影?)?\s*[)）]$")


#: the longest ``<title>`` / meta value read (longer ones are cut: every later step stays bounded)
MAX_FIELD_CHARS = 1024
#: meta tags read per page
MAX_META_TAGS = 500


def meta_tags(tree) -> dict[str, str]:
    """``{lower-case name/property/itemprop: content}``; the first occurrence wins; values cut to
    :data:`MAX_FIELD_CHARS`."""
    out: dict[str, str] = {}
    for i, el in enumerate(tree.iter("meta")):
        if i >= MAX_META_TAGS:
            break
        key = el.get("name") or el.get("property") or el.get("itemprop") or el.get("http-equiv")
        content = el.get("content")
        if key and content and content.strip():
            out.setdefault(key.strip()[:100].lower(), " ".join(content[:MAX_FIELD_CHARS].split()))
    return out


def meta_field(meta: dict[str, str], field: str) -> str | None:
    for key in META_FIELDS[field]:
        if meta.get(key):
            return meta[key]
    return None


def element_text(el) -> str:
    return " ".join(raw_text(el).split())


def html_title(tree) -> str | None:
    el = tree.find(".//title")
    if el is None:
        return None
    text = el.text_content() if hasattr(el, "text_content") else el.text or ""
    return " ".join(text[:MAX_FIELD_CHARS].split()) or None


def strip_site_suffix(title: str | None) -> str | None:
    """``标题_XX人民政府`` -> ``标题``: keep the longest part of the ``<title>``."""
    if not title:
        return title
    parts = [p for p in TITLE_SPLIT_RE.split(title) if p.strip()]
    if len(parts) <= 1:
        return title.strip()
    return max(parts, key=len).strip()


def strip_site_name(title: str | None) -> str | None:
    """Remove a trailing site name only (safe on headlines): ``标题-新华网`` -> ``标题``."""
    if not title:
        return title
    stripped = SITE_SUFFIX_RE.sub("", title).strip()
    return stripped if len(stripped) >= 4 else title


def headline_candidates(tree, limit: int = 12) -> list[str]:
    """Texts of headline-like elements, in the order of :data:`HEADLINE_XPATHS`."""
    seen, out = set(), []
    for xp in _HEADLINE_XPATHS:
        for el in xp(tree):
            if not isinstance(el.tag, str) or el.tag in ("script", "style", "body", "meta", "link"):
                continue
            text = element_text(el)
            if 4 <= len(text) <= 120 and text not in seen:
                seen.add(text)
                out.append(text)
                if len(out) >= limit:
                    return out
    return out


def parse_labelled_line(line: str) -> tuple[dict[str, str], bool]:
    """``(fields, is_metadata_line)`` for one text line.

    ``fields`` maps field names (``published``, ``source``, ``editor``, ``author``, ``original_title``,
    ``summary``, ``clicks``, ``font``) to values. ``is_metadata_line`` is True when nothing but labelled
    pairs and tool-bar words (打印, 关闭, 【大 中 小】) is on the line, so it can leave the body.
    """
    # whitespace runs shortened first: LABEL_RE's ``\s*`` would rescan a long run from every position
    line = WHITESPACE_RUN_RE.sub("  ", line)
    matches = list(LABEL_RE.finditer(line))
    fields: dict[str, str] = {}
    if not matches:
        rest = META_LINE_NOISE_RE.sub("", line)
        return fields, False
    rest_parts = [line[:matches[0].start()]]
    for i, m in enumerate(matches):
        name = m.lastgroup if m.lastgroup in LABELS else next(k for k in LABELS if m.group(k))
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        value = line[m.end():end]
        if name not in ("summary", "original_title"):
            gap = re.search(r"\s{2,}|\u3000|[|｜]", value.strip())
            if gap:
                value, tail = value.strip()[:gap.start()], value.strip()[gap.start():]
                rest_parts.append(tail)
        value = value.strip(" \t\u3000|｜")
        limit = MAX_VALUE_LEN.get(name, DEFAULT_MAX_VALUE_LEN)
        if len(value) > limit or (name not in FREE_TEXT_FIELDS and SENTENCE_PUNCT_RE.search(value)):
            return {}, False
        if value and name not in fields:
            fields[name] = value
    rest = META_LINE_NOISE_RE.sub("", "".join(rest_parts))
    return fields, len(rest) <= META_LINE_MAX_REST


#: a line holding only a label (its value is the next element: ``<td>来源：</td><td>新华社</td>``)
BARE_LABEL_RE = re.compile(r"^[【\[（(]?\s*(?:" + "|".join(v for k, v in LABELS.items() if k != "font")
                           + r")\s*(?:[:：]\s*[】\]）)]?|[】\]）)]\s*[:：])$")
#: the value line after a bare label is at most this long
BARE_LABEL_VALUE_MAX = 40


def join_bare_labels(lines: list[str]) -> list[str]:
    """Glue a line that is only a label (``来源：``, ``【发布时间：】``) to the next line when that line is a
    short value and not itself labelled: the label sat in its own table cell or block element."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if i + 1 < len(lines) and BARE_LABEL_RE.match(ln) and len(lines[i + 1]) <= BARE_LABEL_VALUE_MAX \
                and not LABEL_RE.search(lines[i + 1]):
            out.append(ln + lines[i + 1])
            i += 2
            continue
        out.append(ln)
        i += 1
    return out


def credit_author(line: str) -> str | None:
    m = CREDIT_AUTHOR_RE.match(line.strip())
    return m.group(1) if m else None
