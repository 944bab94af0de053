"""Signs that a page was tampered with by an attacker (a hacked government page).

:func:`hostile_signs` is pure (bytes or text + URL in, a list of short signs out): hidden spam links,
cloaking scripts, obfuscated JavaScript, hidden iframes and off-site meta refreshes. The ingest
service (:mod:`crawler.ingest`) puts them into the article flags (``flags["hostile"]``) and the page
reason. The page is parsed with the one HTML helper, :func:`crawler.extract.html.parse_html`.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.extract.clean import SPAM_WORDS
from crawler.extract.decode import decode_html
from crawler.extract.html import parse_html

__all__ = ["hostile_signs", "site_domain"]

#: inline styles that hide an element (one search each, no ``.*``: linear in the style's length)
HIDDEN_STYLE_RE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}(?:px|em)"
    r"|font-size\s*:\s*0(?:px)?\s*(?:;|$)",
    re.I,
)
#: ``height:0;`` / ``width:0;`` hide only together with ``overflow:hidden`` after them
ZERO_SIZE_RE = re.compile(r"(?:height|width)\s*:\s*0(?:px)?\s*;", re.I)
OVERFLOW_HIDDEN_RE = re.compile(r"overflow\s*:\s*hidden", re.I)
#: CSS rules in <style> that hide a class or id; the body stops at the next ``{`` too, so an
#: unclosed ``.a{.a{.a{...`` is scanned once, not once per rule
HIDING_RULE_RE = re.compile(r"([.#][\w\-]{1,256})\s*\{([^{}]*)\}")
#: bounds of the work per page: style text / attribute looked at, anchors looked at
MAX_STYLE_CHARS = 1024 * 1024
MAX_STYLE_ATTR_CHARS = 64 * 1024
MAX_ANCHORS = 20_000
GAMBLING_WORDS = ("博彩", "娱乐城", "百家乐", "赌场", "赌博", "澳门", "六合彩", "时时彩", "彩票", "老虎机", "真人",
                  "棋牌", "投注", "下注", "威尼斯人", "葡京", "太阳城", "皇冠", "体育平台", "开户", "bet365",
                  "casino", "poker", "viagra", "贷款", "代孕", "发票")
SPIDER_UA_RE = re.compile(r"baidu|sogou|so\.com|360spider|sm\.cn|google|bing|yisou|spider|bot|crawler", re.I)
SNIFF_RE = re.compile(r"navigator\.userAgent|document\.referrer", re.I)
REDIRECT_JS_RE = re.compile(r"location(?:\.href)?\s*=|location\.replace|document\.write|window\.open|"
                            r"createElement\(\s*['\"](?:script|iframe)", re.I)
OBFUSCATED_JS_RE = re.compile(r"eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k|"
                              r"eval\s*\(\s*(?:unescape|atob)\s*\(|(?:\\x[0-9a-f]{2}){40,}|(?:%[0-9a-f]{2}){60,}|String\.fromCharCode\((?:\s*\d+\s*,){40,}",
                              re.I)
META_REFRESH_URL_RE = re.compile(r"url\s*=\s*['\"]?([^'\" >;]+)", re.I)
MIN_HIDDEN_OFFSITE_LINKS = 3
#: second-level labels under which a registrable domain has three labels (``xindu.gov.cn``)
_SECOND_LEVEL = ("gov", "com", "org", "net", "edu", "ac")


def site_domain(host: str) -> str:
    """``www.xindu.gov.cn`` -> ``xindu.gov.cn``; ``news.example.com`` -> ``example.com``."""
    labels = [x for x in (host or "").lower().split(".") if x]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def hiding_style(style: str) -> bool:
    """Whether an inline style (or a CSS rule body) hides its element; linear in its length."""
    style = style[:MAX_STYLE_ATTR_CHARS]
    if HIDDEN_STYLE_RE.search(style):
        return True
    m = ZERO_SIZE_RE.search(style)
    return m is not None and OVERFLOW_HIDDEN_RE.search(style, m.end()) is not None


def _offsite(href: str, base: str) -> bool:
    """Whether ``href`` (relative to ``base``) leads off the site ``base`` belongs to."""
    try:
        target = urlsplit(urljoin(base, href))
        host = (target.hostname or "").lower()
    except ValueError:          # "http://[bad" and the like: not a link a browser would follow
        return False
    if target.scheme not in ("http", "https") or not host:
        return False
    home = site_domain(urlsplit(base).hostname or "")
    return bool(home) and not (host == home or host.endswith("." + home))


def _spammy(text: str) -> bool:
    low = text.lower()
    return any(w in low for w in GAMBLING_WORDS) or any(w in text for w in SPAM_WORDS)


def hostile_signs(data: bytes | str, url: str, charset: str | None = None) -> list[str]:
    """What in this page looks injected by an attacker (empty list: nothing).

    ``data`` is the raw body (decoded with ``charset`` as the declared codec, the one extraction
    settled on) or the decoded text. Signs: ``hidden_links:N`` (N off-site or spammy links inside
    hidden elements), ``cloaking_script`` (scripts that sniff the search-engine user agent / referrer
    and redirect or write content), ``obfuscated_script`` (packed / escaped JavaScript),
    ``hidden_iframe``, ``meta_refresh_offsite``.
    """
    if isinstance(data, bytes):
        data, _ = decode_html(data, charset)
    tree = parse_html(data) if data else None
    if tree is None:
        return []
    signs: list[str] = []
    hiding_selectors = set()
    css_budget = MAX_STYLE_CHARS
    for style in tree.iter("style"):
        css = (style.text or "")[:css_budget]
        css_budget -= len(css)
        for selector, rules in HIDING_RULE_RE.findall(css):
            if hiding_style(rules):
                hiding_selectors.add(selector)
        if css_budget <= 0:
            break

    def hidden(el) -> bool:
        if el.get("hidden") is not None or hiding_style(el.get("style") or ""):
            return True
        if not hiding_selectors:
            return False
        classes = {"." + c for c in (el.get("class") or "").split()}
        return bool(hiding_selectors & (classes | ({"#" + el.get("id")} if el.get("id") else set())))

    offsite_cache: dict[str, bool] = {}

    def offsite(href: str) -> bool:
        if href not in offsite_cache:
            offsite_cache[href] = _offsite(href, url)
        return offsite_cache[href]

    # only the outermost hidden elements: an inner one's links are a subset of its ancestor's, so
    # looking at it again changes nothing (250 nested hidden divs x 4,000 links: one pass, not 250)
    bad_links: set[Any] = set()
    anchors_seen = 0
    stack = [tree]
    while stack and anchors_seen < MAX_ANCHORS:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in ("script", "style"):
            continue
        if el.tag in ("html", "body", "head") or not hidden(el):
            stack.extend(reversed(el))
            continue
        links = [a for a in el.iter("a") if a.get("href")][:MAX_ANCHORS - anchors_seen]
        anchors_seen += len(links)
        off = [a for a in links if offsite(a.get("href"))]
        spammy = [a for a in off if _spammy((a.text_content() or "")[:1024] + " " + a.get("href")[:1024])]
        if spammy or len(off) >= MIN_HIDDEN_OFFSITE_LINKS:
            bad_links.update(off)
    if bad_links:
        signs.append(f"hidden_links:{len(bad_links)}")

    scripts = " ".join(s.text or "" for s in tree.iter("script"))
    if SNIFF_RE.search(scripts) and SPIDER_UA_RE.search(scripts) and REDIRECT_JS_RE.search(scripts):
        signs.append("cloaking_script")
    if OBFUSCATED_JS_RE.search(scripts):
        signs.append("obfuscated_script")
    for frame in tree.iter("iframe"):
        tiny = (frame.get("width") in ("0", "1") or frame.get("height") in ("0", "1"))
        if (tiny or hidden(frame)) and offsite(frame.get("src") or ""):
            signs.append("hidden_iframe")
            break
    for meta in tree.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "refresh":
            m = META_REFRESH_URL_RE.search(meta.get("content") or "")
            if m and _offsite(m.group(1), url):
                signs.append("meta_refresh_offsite")
                break
    return signs
