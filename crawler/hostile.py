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

#: inline styles that hide an element
HIDDEN_STYLE_RE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}(?:px|em)"
    r"|font-size\s*:\s*0(?:px)?\s*(?:;|$)|(?:height|width)\s*:\s*0(?:px)?\s*;.*overflow\s*:\s*hidden",
    re.I | re.S,
)
#: CSS rules in <style> that hide a class or id
HIDING_RULE_RE = re.compile(r"([.#][\w\-]+)\s*\{([^}]*)\}")
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
    for style in tree.iter("style"):
        for selector, rules in HIDING_RULE_RE.findall(style.text or ""):
            if HIDDEN_STYLE_RE.search(rules):
                hiding_selectors.add(selector)

    def hidden(el) -> bool:
        if el.get("hidden") is not None or HIDDEN_STYLE_RE.search(el.get("style") or ""):
            return True
        classes = {"." + c for c in (el.get("class") or "").split()}
        return bool(hiding_selectors & (classes | ({"#" + el.get("id")} if el.get("id") else set())))

    bad_links: set[Any] = set()
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body", "head", "script", "style") or not hidden(el):
            continue
        links = [a for a in el.iter("a") if a.get("href")]
        offsite = [a for a in links if _offsite(a.get("href"), url)]
        spammy = [a for a in offsite if _spammy(a.text_content() + " " + a.get("href"))]
        if spammy or len(offsite) >= MIN_HIDDEN_OFFSITE_LINKS:
            bad_links.update(offsite)
    if bad_links:
        signs.append(f"hidden_links:{len(bad_links)}")

    scripts = " ".join(s.text or "" for s in tree.iter("script"))
    if SNIFF_RE.search(scripts) and SPIDER_UA_RE.search(scripts) and REDIRECT_JS_RE.search(scripts):
        signs.append("cloaking_script")
    if OBFUSCATED_JS_RE.search(scripts):
        signs.append("obfuscated_script")
    for frame in tree.iter("iframe"):
        tiny = (frame.get("width") in ("0", "1") or frame.get("height") in ("0", "1"))
        if (tiny or hidden(frame)) and _offsite(frame.get("src") or "", url):
            signs.append("hidden_iframe")
            break
    for meta in tree.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "refresh":
            m = META_REFRESH_URL_RE.search(meta.get("content") or "")
            if m and _offsite(m.group(1), url):
                signs.append("meta_refresh_offsite")
                break
    return signs
