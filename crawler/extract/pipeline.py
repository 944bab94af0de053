"""``extract(data, url) -> Article``: decode -> parse once -> metadata -> body -> clean -> dates.

Pure and deterministic: the output depends on the arguments only. ``now`` (the fetch time) is the one
input about time; it bounds publication dates from above (see :mod:`.dates`), and no wall clock is read.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from common.text import strip_glosses, to_simplified

from . import body as body_mod
from . import clean
from .article import Article, Image
from .attachments import find_attachments
from .classify import classify_decoded, classify_raw
from .dates import TIME_RE, date_from_meta, find_date, parse_date
from .decode import cleaneval_wrapper, decode_html
from .disclosure import is_disclosure_line, parse_disclosure
from .html import parse_html_checked, raw_text
from .metadata import (
    TITLE_SPLIT_RE,
    headline_candidates,
    html_title,
    join_bare_labels,
    meta_field,
    meta_tags,
    parse_labelled_line,
    strip_site_name,
    strip_site_suffix,
)

#: CleanEval ``<text id=...>`` wrapper line (offline corpus pages)
WRAPPER_LINE_RE = re.compile(r"^\s*<text\s[^>]*>", re.I)
#: how many page lines after the headline are searched for the labelled metadata line
HEADER_WINDOW = 12
#: minimum bigram overlap between a headline candidate and the <title>/og:title
HEADLINE_MATCH = 0.6
TITLE_MIN_LEN, TITLE_MAX_LEN = 4, 100
#: how many page lines after the body's last line are searched for 责任编辑/来源/作者 lines
TRAILER_WINDOW = 6
#: breadcrumb line: ``您现在的位置：首页 > 乡镇动态 > 正文`` (label optional when the line starts at 首页)
BREADCRUMB_LABEL_RE = re.compile(
    r"^(?:您现在的位置|您的位置|当前位置|你的位置|你现在的位置|所在位置|現在位置|當前位置|您現在的位置|位置)\s*[:：]?\s*")
BREADCRUMB_SPLIT_RE = re.compile(r"\s*[>＞»›→]+\s*")
#: breadcrumb parts that are never a column
BREADCRUMB_SKIP = frozenset({"首页", "首頁", "网站首页", "網站首頁", "主页", "主頁", "正文", "内容", "內容", "详情",
                             "詳情", "正文内容", "文章", "阅读", "閱讀", "home", "Home", "首页>"})
BREADCRUMB_MAX_LEN = 100


def _headline(tree: HtmlElement, page_lines: list[str], reference: str | None, title_is_spam: bool,
              hint_xpath: str | None) -> tuple[str | None, str | None]:
    """(headline, how) from the page's own elements and lines."""
    if hint_xpath:
        for el in tree.xpath(hint_xpath):
            t = " ".join(raw_text(el).split())
            if t:
                return t, "hint"
    cands = [strip_glosses(c)[0] for c in headline_candidates(tree)]
    if reference and not title_is_spam:
        # <title> = headline + column/site parts: the part a candidate must cover is the longest one; a
        # candidate equal to another part, to a breadcrumb part or to a menu link is never the headline
        parts = [p for p in TITLE_SPLIT_RE.split(reference) if p.strip()]
        main = max(parts, key=len) if parts else reference
        never = {clean._key(p) for p in parts if p is not main} | navigation_texts(tree, page_lines)
        never.discard(clean._key(main))
        never.discard("")
        scored = []
        ref_key = clean._key(reference)
        ref_grams = {ref_key[i:i + 2] for i in range(len(ref_key) - 1)}
        ref_chars = set(ref_key)
        main_key = clean._key(main)
        main_grams = [main_key[i:i + 2] for i in range(len(main_key) - 1)]
        for c in list(dict.fromkeys(cands)) + [ln for ln in page_lines if TITLE_MIN_LEN <= len(ln) <= TITLE_MAX_LEN]:
            if not ref_chars.intersection(c):          # cheap test first: no character of <title> at all
                continue
            key = clean._key(c)
            if key in never or len(key) < 2:
                continue
            grams = [key[i:i + 2] for i in range(len(key) - 1)]
            inside = sum(g in ref_grams for g in grams) / len(grams)  # share of the candidate found in <title>
            if inside < HEADLINE_MATCH:
                continue
            cand_grams = set(grams)                    # share of <title>'s headline part in the candidate
            covers = sum(g in cand_grams for g in main_grams) / len(main_grams) if main_grams else 0.0
            scored.append((round((inside + covers) / 2, 3), len(c), c))
        if scored:
            return max(scored)[2], "matched"
        return None, None
    # spam or missing <title>: the line just before the labelled metadata line, else the first h1-like element
    for i, ln in enumerate(page_lines[1:], 1):
        fields, is_meta = parse_labelled_line(ln)
        if is_meta and ("published" in fields or "source" in fields):
            prev = page_lines[i - 1]
            if TITLE_MIN_LEN <= len(prev) <= TITLE_MAX_LEN and not clean.is_noise_line(prev):
                return prev, "layout"
            break
    return (cands[0], "element") if cands else (None, None)


def extract(data: bytes, url: str | None = None, *, encoding: str | None = None,
            hints: dict[str, Any] | None = None, now: datetime | None = None,
            expect_article: bool = False) -> Article:
    """Extract one article page. Pure: no I/O, no Scrapy, no database, no wall clock.

    ``now`` is when the page was fetched (aware; naive is read as UTC): dates more than
    :data:`crawler.extract.dates.MAX_FUTURE` after it are not publication dates. ``None`` applies no
    future bound (only the fixed year range), so the result depends on the bytes alone.
    """
    hints = hints or {}
    data = data or b""
    text, codec = decode_html(data, encoding or hints.get("encoding"))
    tree, stopped = parse_html_checked(text)
    return _extract(data, text, codec, tree, url, hints, now, stopped=stopped, expect_article=expect_article)


def extract_page(data: bytes, url: str | None = None, *, status: int | None = 200,
                 content_type: str | None = None, encoding: str | None = None,
                 hints: dict[str, Any] | None = None, now: datetime | None = None,
                 expect_article: bool = False) -> tuple[str, str | None, Article | None]:
    """Classify a fetched page and, when it is an article, extract it: ``(outcome, reason, article)``.

    Same results as :func:`crawler.extract.classify.classify_page` followed by :func:`extract` (``now``
    as there: the fetch time), with the page decoded and parsed once (the crawl's hot path).

    ``expect_article``: the crawl reached this page through an article link, so it is an article
    whatever its length (see :func:`crawler.extract.classify.classify_decoded`). When libxml2 stopped
    parsing early (nesting deeper than 256, a 10 MB text node) the page is parsed again without the
    limit; the reason is in ``flags["parse_stopped"]`` and in the reason of a page that is still
    not an article.
    """
    hints = hints or {}
    outcome, reason = classify_raw(data, content_type)
    if outcome is not None:
        return outcome, reason, None
    text, codec = decode_html(data, encoding or hints.get("encoding"))
    tree, stopped = parse_html_checked(text)
    # reads the tree, never changes it
    outcome, reason = classify_decoded(data, text, tree, status, expect_article=expect_article)
    if outcome != "article":
        if stopped and outcome in ("not_article", "empty", "list"):
            reason = f"{reason}; parse stopped early: {stopped}"
        return outcome, reason, None
    return outcome, reason, _extract(data, text, codec, tree, url, hints, now, stopped=stopped,
                                     expect_article=expect_article)


def _extract(data: bytes, text: str, codec: str, tree: HtmlElement | None, url: str | None,
             hints: dict[str, Any], now: datetime | None, *, stopped: str | None = None,
             expect_article: bool = False) -> Article:
    if url is None:
        url = cleaneval_wrapper(data[:2048] if data else b"")[0]
    # the CleanEval wrapper line stays: libxml2 treats it as an unknown element in <body>
    art = Article(url=url, encoding=codec)
    flags = art.flags
    if stopped:
        flags["parse_stopped"] = stopped
    if tree is None:
        flags.update(method="empty", container=None)
        return art

    meta = meta_tags(tree)
    body_el = tree.find("body")
    # one walk: the page's lines and the per-block text statistics of the density block
    page_lines, walked = body_mod.page_walk(body_el if body_el is not None else tree)
    stats: dict | None = walked
    # --- attachments and the 信息公开 block (issue 16); a block that is only its fields leaves the tree
    art.attachments = find_attachments(tree, url)
    disclosure = parse_disclosure(tree)
    if disclosure.block is not None and disclosure.tight and disclosure.block.getparent() is not None:
        disclosure.block.drop_tree()
        stats = None        # the walk saw the block: the density block counts again without it

    # --- body ---
    container, cname = body_mod.find_container(tree, text, hints.get("body_selector"))
    lines, method = body_mod.extract_body_lines(tree, container, url, stats)
    flags["container"], flags["method"] = cname, method

    glosses = 0
    mojibake = 0
    cleaned = []
    for ln in lines:
        ln, g = strip_glosses(ln)
        ln, mj = clean.drop_mojibake(ln)
        glosses += g
        mojibake += mj
        if ln:
            cleaned.append(ln)
    cleaned = clean.drop_noise_lines(cleaned)
    cleaned, fields = clean.split_metadata_lines(cleaned)
    cleaned, footer_cut = clean.cut_footer(cleaned)
    cleaned, repeated = clean.collapse_repeats(cleaned)
    if disclosure:
        cleaned = [ln for ln in cleaned if not is_disclosure_line(ln, disclosure)]

    # --- labelled metadata around the headline (outside the container) ---
    page_clean = [strip_glosses(ln)[0] for ln in page_lines]
    ref_title = meta.get("og:title") or html_title(tree)
    raw_title = html_title(tree)
    title_is_spam = clean.is_spam_title(raw_title) or clean.is_spam_title(meta.get("og:title"))
    headline, how = _headline(tree, page_clean, None if title_is_spam else ref_title, title_is_spam,
                              css_or_none(hints.get("title_selector")))
    start = 0
    if headline and headline in page_clean:
        start = page_clean.index(headline)
    header = page_clean[max(0, start - 3):start + HEADER_WINDOW]
    header_fields: dict[str, str] = {}
    for ln in join_bare_labels(header):
        got, is_meta = parse_labelled_line(ln)
        if is_meta:
            for k, v in got.items():
                header_fields.setdefault(k, v)

    # --- title ---
    meta_title = meta.get("articletitle")
    title = meta_title or headline or meta.get("og:title") or strip_site_suffix(raw_title)
    if title_is_spam and not (meta_title or headline):
        title = None
    title, g = strip_glosses(strip_site_name(title) or "")
    glosses += g
    art.title = title or None
    flags["spam_title"] = title_is_spam
    flags["title_from"] = "meta" if meta_title else how or ("og" if meta.get("og:title") else "title")

    # drop a leading copy of the headline from the body (the same text; a variant such as the headline
    # without its 【…】 prefix is a subtitle and stays)
    if art.title and cleaned and _same_text(cleaned[0], art.title):
        cleaned = cleaned[1:]
    trailer = _trailer_fields(page_clean, cleaned)
    if "author" not in fields and "author_post" not in fields:
        signed = _signed_author(page_clean, cleaned)
        if signed:
            fields["author"], fields["author_post"] = signed
            cleaned = cleaned[:-1]

    # a byline first/last paragraph (许兴国 / 记者 张三 / 文/图：李四) leaves the body and names the author
    cleaned, byline = clean.split_bylines(cleaned)
    if byline:
        flags["byline"] = "、".join(byline)

    # --- fields: meta tags, then labelled lines (body first, then header); a value repeating the title,
    # naming the page's own URL or being a label word is no value
    def ok(value: str | None) -> str | None:
        return value if value and not _bad_field(value, art.title, url) else None

    def pick(name):
        return ok(fields.get(name)) or ok(header_fields.get(name)) or ok(trailer.get(name))

    art.source = ok(meta_field(meta, "source")) or pick("source")
    art.author = ok(fields.get("author")) or ok(header_fields.get("author")) or ok(trailer.get("author")) \
        or ("、".join(byline) if byline else None) or ok(fields.get("credit_author")) or ok(_meta_author(meta))
    art.editor = pick("editor")
    art.original_title = pick("original_title")
    art.summary = pick("summary") or meta_field(meta, "summary")
    art.column = meta_field(meta, "column") or column_from_breadcrumb(page_clean, art.title)
    art.site_name = meta_field(meta, "site_name")
    art.keywords = meta_field(meta, "keywords")
    for name in ("source", "author", "editor", "original_title", "summary", "column"):
        value = getattr(art, name)
        if value:
            value, g = strip_glosses(value)
            value, _ = clean.drop_mojibake(value)
            glosses += g
            if name not in ("summary", "original_title"):
                value = clean.clean_field(value) or ""
            setattr(art, name, value.strip() or None)
    if "author_post" in fields:
        flags["author_post"] = fields["author_post"]

    # --- date ---
    date_lines = [fields["published_text"]] if "published_text" in fields else []
    if header_fields.get("published"):
        date_lines.append(header_fields["published"])
    published = parse_date(date_lines[0], now=now) if date_lines else None
    how_date = "label" if published else None
    if published is not None and not TIME_RE.search(date_lines[0]):
        # the label gives the day only: take the time from a meta tag (PubDate) naming the same day
        in_meta = date_from_meta(meta, now=now)
        if in_meta is not None and in_meta.date() == published.date():
            published = in_meta
    if published is None:
        published, how_date = find_date(meta, header + cleaned[:3], url, page_clean[start:] + page_clean[:start],
                                        now=now)
    # the 信息公开 block's 发布日期 is the page's own statement of the publication date: it wins
    in_block = parse_date(disclosure.extra["published"], now=now) if disclosure.extra.get("published") else None
    if in_block is not None and (published is None or published.date() != in_block.date()):
        published, how_date = in_block, "disclosure"
    art.published_at = published
    flags["date_from"] = how_date
    for name, value in disclosure.fields().items():
        setattr(art, name, value)
    if disclosure:
        flags["disclosure"] = disclosure.how

    art.body = "\n".join(cleaned)
    art.body_simplified = to_simplified(art.body)
    art.images = body_mod.images(container, url)
    if not art.images and meta.get("og:image"):
        art.images = [Image(url=meta["og:image"])]
    flags["glosses_removed"] = glosses
    flags["repeated_block_collapsed"] = repeated
    flags["mojibake_dropped"] = mojibake
    flags["footer_cut"] = footer_cut
    return art


def column_from_breadcrumb(page_lines: list[str], title: str | None) -> str | None:
    """The last section of the first breadcrumb line (``首页 > 新闻中心 > 乡镇动态 > 正文`` -> ``乡镇动态``);
    a last part that is the start of the headline (CMSs that print the article there) is skipped."""
    for ln in page_lines:
        if len(ln) > BREADCRUMB_MAX_LEN:
            continue
        rest = BREADCRUMB_LABEL_RE.sub("", ln, count=1)
        if rest == ln and not re.match(r"^首[页頁]\s*[>＞»›]", ln):
            continue
        parts = [p.strip() for p in BREADCRUMB_SPLIT_RE.split(rest) if p.strip()]
        if len(parts) < 2 and rest == ln:
            continue
        parts = [p for p in parts if p not in BREADCRUMB_SKIP]
        key = clean._key(title or "")
        if parts and key and (key.startswith(clean._key(parts[-1])) or clean._key(parts[-1]).startswith(key[:8])):
            parts = parts[:-1]
        if parts:
            return clean.clean_field(parts[-1])
        return None
    return None


def _trailer_fields(page_lines: list[str], body_lines: list[str]) -> dict[str, str]:
    """Labelled lines (责任编辑：… / 来源：… / 作者：…) on the page just after the body's last line, then
    just before its first line (lines the body extraction left out)."""
    if not body_lines:
        return {}
    positions: dict[str, int] = {}
    for i, ln in enumerate(page_lines):
        positions.setdefault(ln, i)
    end = next((positions[ln] for ln in reversed(body_lines[-3:]) if ln in positions), None)
    first = next((positions[ln] for ln in body_lines[:3] if ln in positions), None)
    windows = []
    if end is not None:
        windows.append(page_lines[end + 1:end + 1 + TRAILER_WINDOW])
    if first is not None:
        windows.append(page_lines[max(0, first - TRAILER_WINDOW):first][::-1])
    out: dict[str, str] = {}
    for window in windows:
        for ln in join_bare_labels(window):
            if clean.is_footer_line(ln):
                break
            got, is_meta = parse_labelled_line(ln)
            if is_meta:
                for k, v in got.items():
                    out.setdefault(k, v)
    return out


def _signed_author(page_lines: list[str], body_lines: list[str]) -> tuple[str, str] | None:
    """(name, post) of a signed commentary whose name line and ``作者`` label were left out of the body:
    on the page the body is preceded by a short name line and its last line (the post) by a bare 作者."""
    if len(body_lines) < 2:
        return None
    positions = {ln: i for i, ln in enumerate(page_lines)}
    first, last = positions.get(body_lines[0]), positions.get(body_lines[-1])
    if not first or not last or last - 1 <= first:
        return None
    name, label, post = page_lines[first - 1], page_lines[last - 1], body_lines[-1]
    if clean.BARE_AUTHOR_LABEL_RE.match(label) and clean.NAME_LINE_RE.match(name) and len(post) <= 40:
        return name, post
    return None


#: class/id words of navigation blocks (menus, breadcrumbs, column lists) whose link texts are never a headline
NAV_BLOCK_RE = re.compile(r"nav|menu|crumb|position|location|weizhi|dqwz|lanmu|column|channel|sidebar|side|left",
                          re.I)
#: the elements that may be navigation blocks: ``<nav>`` and everything with a class or an id
NAV_CANDIDATES_XPATH = etree.XPath("//nav | //*[@class or @id]")
#: link texts longer than this are not navigation (a headline in a list)
NAV_TEXT_MAX = 16


def navigation_texts(tree: HtmlElement, page_lines: list[str]) -> set[str]:
    """Normalised texts of the page's column, breadcrumb and menu links: links inside an element named
    like navigation (``nav``, ``menu``, ``crumb``, ``position``, ...) or a ``<nav>``, and the parts of the
    breadcrumb line. Short texts only (at most :data:`NAV_TEXT_MAX` characters)."""
    out: set[str] = set()
    # the navigation blocks first (one pass over the elements with a class or id), then each link's
    # ancestors are set lookups
    nav = {el for el in NAV_CANDIDATES_XPATH(tree)
           if el.tag == "nav" or NAV_BLOCK_RE.search(f"{el.get('class') or ''} {el.get('id') or ''}")}
    if not nav:
        nav_links: list = []
    else:
        nav_links = []
        for i, a in enumerate(tree.iter("a")):
            if i >= 3000:
                break
            for anc in a.iterancestors():
                if anc in nav:
                    nav_links.append(a)
                    break
                if anc.tag == "body":
                    break
    for a in nav_links:
        text = " ".join(raw_text(a).split())
        if text and len(text) <= NAV_TEXT_MAX:
            out.add(clean._key(text))
    for ln in page_lines[:200]:
        rest = BREADCRUMB_LABEL_RE.sub("", ln, count=1)
        if len(ln) <= BREADCRUMB_MAX_LEN and (rest != ln or re.match(r"^首[页頁]\s*[>＞»›]", ln)):
            out.update(clean._key(p) for p in BREADCRUMB_SPLIT_RE.split(rest) if 0 < len(p.strip()) <= NAV_TEXT_MAX)
    return out


def css_or_none(selector: str | None) -> str | None:
    return body_mod.css_to_xpath(selector) if selector else None


def _same_text(a: str, b: str) -> bool:
    """Equal up to whitespace, table-cell bars and Unicode compatibility forms (other punctuation counts)."""
    def norm(x: str) -> str:
        return "".join(unicodedata.normalize("NFKC", x).replace("|", " ").split())
    return norm(a) == norm(b)


#: words that are labels, never a field's value (a label printed twice, an empty template slot)
LABEL_WORDS = frozenset({"来源", "來源", "作者", "记者", "記者", "编辑", "編輯", "责任编辑", "責任編輯", "发布时间",
                         "發佈時間", "发布日期", "發佈日期", "点击", "點擊", "浏览次数", "瀏覽次數", "信息来源",
                         "文章来源",
                         "稿源", "日期", "时间", "時間", "出处", "未知", "本站", "佚名", "admin", "null", "none"})


def _bad_field(value: str, title: str | None, url: str | None) -> bool:
    """A source/author/editor value that is not one: the title again, the page's own URL, a label word."""
    key = clean._key(value)
    if not key:
        return True
    if value.strip(" :：").lower() in LABEL_WORDS or key.lower() in LABEL_WORDS:
        return True
    if title and (key == clean._key(title) or (len(key) >= 8 and key in clean._key(title))):
        return True
    v = value.strip().rstrip("/")
    if not (url and v.startswith(("http://", "https://", "//"))):
        return False
    return v.split("//", 1)[1] == url.rstrip("/").split("//", 1)[-1]


def _meta_author(meta: dict[str, str]) -> str | None:
    value = meta_field(meta, "author")
    # <meta name=author> often holds the site or the editor's label; keep plain names only
    if value and len(value) <= 20 and not re.search(r"[编編]辑|[:：]|网|www|\.", value):
        return value
    return None
