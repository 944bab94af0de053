"""``extract(data, url) -> Article``: decode -> parse once -> metadata -> body -> clean -> dates."""
from __future__ import annotations

import re

from . import body as body_mod
from . import clean
from .article import Article, Image
from .dates import find_date, parse_date
from .decode import cleaneval_wrapper, decode_html
from .metadata import (credit_author, headline_candidates, html_title, meta_field, meta_tags,
                       parse_labelled_line, strip_site_name, strip_site_suffix)

#: CleanEval ``<text id=...>`` wrapper line (offline corpus pages)
WRAPPER_LINE_RE = re.compile(r"^\s*<text\s[^>]*>", re.I)
#: how many page lines after the headline are searched for the labelled metadata line
HEADER_WINDOW = 12
#: minimum bigram overlap between a headline candidate and the <title>/og:title
HEADLINE_MATCH = 0.6
TITLE_MIN_LEN, TITLE_MAX_LEN = 4, 100


def _headline(tree, page_lines, reference: str | None, title_is_spam: bool, hint_xpath: str | None):
    """(headline, how) from the page's own elements and lines."""
    if hint_xpath:
        for el in tree.xpath(hint_xpath):
            t = " ".join("".join(el.itertext()).split())
            if t:
                return t, "hint"
    cands = [clean.strip_glosses(c)[0] for c in headline_candidates(tree)]
    if reference and not title_is_spam:
        scored = [(clean.bigram_overlap(c, reference), len(c), c) for c in cands]
        # the page line best matching the <title>, when no element does
        scored += [(clean.bigram_overlap(ln, reference), len(ln), ln) for ln in page_lines
                   if TITLE_MIN_LEN <= len(ln) <= TITLE_MAX_LEN]
        scored = [s for s in scored if s[0] >= HEADLINE_MATCH]
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
            hints: dict | None = None) -> Article:
    """Extract one article page. Pure: no I/O, no Scrapy, no database."""
    hints = hints or {}
    text, codec = decode_html(data or b"", encoding or hints.get("encoding"))
    if url is None:
        url = cleaneval_wrapper(data[:2048] if data else b"")[0]
    # the CleanEval wrapper line stays: libxml2 treats it as an unknown element in <body>
    art = Article(url=url, encoding=codec)
    flags = art.flags
    tree = body_mod.parse_html(text)
    if tree is None:
        flags.update(method="empty", container=None)
        return art

    meta = meta_tags(tree)
    page_lines = body_mod.text_lines(tree.find("body") if tree.find("body") is not None else tree)

    # --- body ---
    container, cname = body_mod.find_container(tree, text, hints.get("body_selector"))
    lines, method = body_mod.extract_body_lines(tree, container, url)
    flags["container"], flags["method"] = cname, method

    glosses = 0
    mojibake = 0
    cleaned = []
    for ln in lines:
        ln, g = clean.strip_glosses(ln)
        ln, mj = clean.drop_mojibake(ln)
        glosses += g
        mojibake += mj
        if ln:
            cleaned.append(ln)
    cleaned = clean.drop_noise_lines(cleaned)
    cleaned, fields = clean.split_metadata_lines(cleaned)
    cleaned, footer_cut = clean.cut_footer(cleaned)
    cleaned, repeated = clean.collapse_repeats(cleaned)

    # --- labelled metadata around the headline (outside the container) ---
    page_clean = [clean.strip_glosses(ln)[0] for ln in page_lines]
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
    for ln in header:
        got, is_meta = parse_labelled_line(ln)
        if is_meta:
            for k, v in got.items():
                header_fields.setdefault(k, v)

    # --- title ---
    meta_title = meta.get("articletitle")
    title = meta_title or headline or meta.get("og:title") or strip_site_suffix(raw_title)
    if title_is_spam and not (meta_title or headline):
        title = None
    title, g = clean.strip_glosses(strip_site_name(title) or "")
    glosses += g
    art.title = title or None
    flags["spam_title"] = title_is_spam
    flags["title_from"] = "meta" if meta_title else how or ("og" if meta.get("og:title") else "title")

    # drop a leading copy of the headline from the body
    if art.title and cleaned and clean._key(cleaned[0]) == clean._key(art.title):
        cleaned = cleaned[1:]

    # --- fields: meta tags, then labelled lines (body first, then header) ---
    def pick(name):
        return fields.get(name) or header_fields.get(name)

    art.source = meta_field(meta, "source") or pick("source")
    art.author = fields.get("author") or header_fields.get("author") or fields.get("credit_author") \
        or _meta_author(meta)
    art.editor = pick("editor")
    art.original_title = pick("original_title")
    art.summary = pick("summary") or meta_field(meta, "summary")
    art.column = meta_field(meta, "column")
    art.site_name = meta_field(meta, "site_name")
    art.keywords = meta_field(meta, "keywords")
    for name in ("source", "author", "editor", "original_title", "summary", "column"):
        value = getattr(art, name)
        if value:
            value, g = clean.strip_glosses(value)
            value, _ = clean.drop_mojibake(value)
            glosses += g
            setattr(art, name, value.strip() or None)
    if "author_post" in fields:
        flags["author_post"] = fields["author_post"]

    # --- date ---
    date_lines = [fields["published_text"]] if "published_text" in fields else []
    if header_fields.get("published"):
        date_lines.append(header_fields["published"])
    published = parse_date(date_lines[0]) if date_lines else None
    how_date = "label" if published else None
    if published is None:
        published, how_date = find_date(meta, header + cleaned[:3], url, page_clean[start:] + page_clean[:start])
    art.published_at = published
    flags["date_from"] = how_date

    art.body = "\n".join(cleaned)
    art.body_simplified = clean.to_simplified(art.body)
    art.images = body_mod.images(container, url)
    if not art.images and meta.get("og:image"):
        art.images = [Image(url=meta["og:image"])]
    flags["glosses_removed"] = glosses
    flags["repeated_block_collapsed"] = repeated
    flags["mojibake_dropped"] = mojibake
    flags["footer_cut"] = footer_cut
    return art


def css_or_none(selector: str | None) -> str | None:
    return body_mod.css_to_xpath(selector) if selector else None


def _meta_author(meta: dict[str, str]) -> str | None:
    value = meta_field(meta, "author")
    # <meta name=author> often holds the site or the editor's label; keep plain names only
    if value and len(value) <= 20 and not re.search(r"[编編]辑|[:：]|网|www|\.", value):
        return value
    return None
