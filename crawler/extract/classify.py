"""What a fetched page is: ``classify_page(data, url, status, content_type) -> (outcome, reason)``.

Outcomes: ``article``, ``list``, ``blocked`` (WAF / JS challenge, the vendor as reason), ``empty`` (no
bytes), ``binary`` (PDF or other binary data, whatever the Content-Type says), ``soft404``, ``not_article``.

Article signals (docs/EXTRACTION.md, "Classification"): a page carrying government article meta tags
(``ArticleTitle``, ``PubDate``, ``ContentSource``, ...) or a known CMS body container with text is an
article whatever its length (a two-sentence 通知 with an attachment, a 100-character news item); so is
any page the crawl reached through an article link (``expect_article=True``). ``not_article`` is left
for pages with none of these signals and little text.
"""
from __future__ import annotations

import re

from .body import CONTAINER_XPATHS, ZJEG_MARKERS, text_lines
from .decode import decode_html, utf16_codec
from .html import parse_html, raw_text

#: magic numbers of binary files served as text/html
BINARY_MAGIC = {b"%PDF": "pdf", b"PK\x03\x04": "zip/office", b"\xd0\xcf\x11\xe0": "ms-office",
                b"\x89PNG": "png", b"\xff\xd8\xff": "jpeg", b"GIF8": "gif", b"\x1f\x8b": "gzip",
                b"Rar!": "rar", b"7z\xbc\xaf": "7z"}
BINARY_CONTENT_TYPES = ("application/pdf", "application/msword", "application/zip", "application/octet-stream",
                        "application/vnd.", "image/", "video/", "audio/")
#: share of control bytes (NUL etc.) in the head that marks binary data
BINARY_CONTROL_RATIO = 0.05

# --- challenges ---------------------------------------------------------------------------------
#: (vendor, signature) of JS challenge / WAF block pages, most specific first. Every regex is bounded
#: (no ``.*``), searched in the first CHALLENGE_SCAN_CHARS characters only.
CHALLENGE_VENDORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 瑞数 (RiverSecurity "botgate"): $_ts bootstrap object, r='m' scripts, a <meta> with a long token
    ("ruishu", re.compile(r"\$_ts\s*=|\$_ts\.(?:nsd|cd|scj)\b|<(?:script|meta)\b[^<>]{0,400}\br\s*=\s*['\"]m['\"]",
                          re.I)),
    # 加速乐 (Jiasule, 知道创宇): cookie set by an obfuscated script, usually HTTP 521
    # (stage 1 spells the cookie name one character at a time: ('_')+('_')+('j')+('s')+('l')...)
    ("jiasule", re.compile(r"__jsl_clearance|__jsluid|jsl_clearance_s|go\(\{\s*\"bts\"|"
                           r"\('_'\)\+\('_'\)\+\('j'\)\+\('s'\)\+\('l'\)", re.I)),
    # 创宇盾 (知道创宇云防御) block page
    ("chuangyudun", re.compile(r"被创宇盾拦截|创宇盾拦截|yunaq\.com|365cyd\.(?:com|cn)", re.I)),
    # 安全狗 (SafeDog): block page and CC-protection redirect
    # (the words 安全狗/云锁 alone are not a signature: a short news item may name the products)
    ("safedog", re.compile(r"safedog\.cn|safedogsite|safedog-flow|WebShield(?:DR)?SessionVerify", re.I)),
    # 云锁 (Yunsuo)
    ("yunsuo", re.compile(r"yunsuo_session_verify|security_session_verify|security_verify_data|YunSuoAutoJump",
                          re.I)),
    # 阿里云 WAF slider / acw_sc__v2 cookie script
    ("aliyun-waf", re.compile(r"acw_sc__v2|_waf_bd8ce2ce37|aliyun_waf|/_____tmd_____/", re.I)),
    # 网站卫士 / 安恒 "wzws" challenge
    ("wzws", re.compile(r"wzws_cid|wzwschallenge|WZWS_CONFIRM|wzwstemplate", re.I)),
    ("cloudflare", re.compile(r"cdn-cgi/challenge-platform|cf-chl-|__cf_chl_|cf_chl_opt", re.I)),
    ("baidu-yunjiasu", re.compile(r"yunjiasu-cdn|yunjiasu\.com|su\.baidu\.com/(?:cdn|challenge)", re.I)),
    # generic: 'adfwkey' redirects, cookie-then-reload scripts, WAF cookies
    ("waf", re.compile(r"adfwkey|_waf_|\bwaf_\w|window\.location(?:\.href)?\s*=\s*[\"'][^\"'<>]{0,300}\?[^\"'<>]{0,300}"
                       r"[\"']", re.I)),
    ("js-cookie", re.compile(r"document\.cookie\s*=[^<]{0,2000}?(?:location|reload)", re.I)),
)
#: signatures that are not one vendor's
GENERIC_VENDORS = frozenset({"waf", "js-cookie"})
#: how much of a page the challenge signatures are searched in
CHALLENGE_SCAN_CHARS = 262_144
#: a page this small is checked for the generic signatures (a vendor's: pages with little visible text)
CHALLENGE_MAX_BYTES = 4096
#: a larger page is a challenge only with at most this much visible text (challenge pages are scripts)
CHALLENGE_MAX_TEXT = 300
#: statuses challenge vendors answer with (412 瑞数, 521 加速乐, 468 创宇盾, ...)
CHALLENGE_STATUSES = frozenset({202, 403, 412, 429, 468, 503, 521})
#: 瑞数's HTTP 412 page with a long opaque token in a <meta> content (the signature without $_ts)
RUISHU_META_TOKEN_RE = re.compile(r"<meta\b[^<>]{0,200}\bcontent\s*=\s*[\"'][\w.+/=\-]{120,}[\"']", re.I)

# --- soft 404 -------------------------------------------------------------------------------------
#: "404" as a status number (``404``, ``Error 404``, ``404 Not Found``, ``404页面``), not a count
#: (``404名干部``, ``404个项目``, ``404.5万元``)
SOFT404_RES = (re.compile(r"(?<![0-9A-Za-z.])404(?![0-9A-Za-z.,%]|\s*[名个位人家件万亿元户条项次篇所座公里米吨])|"
                          r"页面不存在|页面未找到|找不到(?:该|您要的)?页面|页面已删除|文章不存在|信息不存在|已被删除|"
                          r"Not Found", re.I),)
SOFT404_MAX_TEXT = 400
#: reached through an article link, a short page is a soft 404 only when its <title> says so, or when
#: all it says is a not-found line (a short notice may mention 已被删除 in its text)
SOFT404_EXPECTED_MAX_TEXT = 40
#: a paragraph this long marks an article
ARTICLE_MIN_PARAGRAPH = 120
#: hard-wrapped articles: this much text in lines of at least PROSE_LINE_MIN characters
ARTICLE_MIN_PROSE = 400
PROSE_LINE_MIN = 25
#: list pages: many links whose text is most of the page text
LIST_MIN_LINKS = 15
LIST_LINK_TEXT_RATIO = 0.5
#: government article meta tags (lower case): any one of them marks an article page
ARTICLE_META = ("articletitle", "contentsource", "pubdate", "publishdate", "article:published_time")
#: a CMS body container with at least this much text marks an article page
SIGNAL_CONTAINER_CHARS = 8
#: anchors looked at per page by the list check
MAX_ANCHORS = 5000


def _magic(data: bytes) -> str | None:
    for magic, kind in BINARY_MAGIC.items():
        if data.startswith(magic):
            return kind
    return None


def _binary_reason(data: bytes, content_type: str | None) -> str | None:
    if kind := _magic(data):
        return kind
    head = data[:1024]
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if head and controls / len(head) > BINARY_CONTROL_RATIO:
        return "control-bytes"
    ct = (content_type or "").lower()
    if any(ct.startswith(t) for t in BINARY_CONTENT_TYPES):
        return ct.split(";")[0]
    return None


def classify_page(data: bytes | None, url: str | None = None, status: int | None = 200,
                  content_type: str | None = None, *, expect_article: bool = False) -> tuple[str, str | None]:
    """``(outcome, reason)``; reason is None when nothing needs explaining."""
    data = data or b""
    outcome, reason = classify_raw(data, content_type)
    if outcome is not None:
        return outcome, reason
    text, _ = decode_html(data)
    return classify_decoded(data, text, parse_html(text), status, expect_article=expect_article)


def classify_raw(data: bytes | None, content_type: str | None = None) -> tuple[str | None, str | None]:
    """The verdicts that need no decoding (empty, binary); ``(None, None)`` otherwise."""
    data = data or b""
    if not data.strip():
        return "empty", "0 bytes" if not data else "whitespace only"
    if utf16_codec(data) is not None and not _magic(data):
        return None, None          # UTF-16 text: its NUL bytes are not binary data
    if reason := _binary_reason(data, content_type):
        return "binary", reason
    return None, None


def challenge_vendor(text: str, status: int | None = 200) -> str | None:
    """The vendor whose challenge/WAF signature ``text`` carries (``ruishu``, ``jiasule``, ``safedog``,
    ``yunsuo``, ``chuangyudun``, ...), else None. Callers decide whether the page is small enough."""
    head = text[:CHALLENGE_SCAN_CHARS]
    for vendor, rx in CHALLENGE_VENDORS:
        if vendor not in GENERIC_VENDORS and rx.search(head):
            return vendor
    if status == 412 and RUISHU_META_TOKEN_RE.search(head):
        return "ruishu"
    if status == 521 and "document.cookie" in head:
        return "jiasule"
    for vendor, rx in CHALLENGE_VENDORS:
        if vendor in GENERIC_VENDORS and rx.search(head):
            return vendor
    return None


def article_signal(tree, text: str | None = None) -> str | None:
    """Why a page is an article whatever its length: ``meta:<name>`` (government article meta) or
    ``container:<name>`` (a known CMS body container holding text); None without such a signal."""
    for el in tree.iter("meta"):
        key = (el.get("name") or el.get("property") or "").strip().lower()
        if key in ARTICLE_META and (el.get("content") or "").strip():
            return f"meta:{key}"
    if text and ZJEG_MARKERS[0] in text and ZJEG_MARKERS[1] in text:
        return "container:ZJEG_RSS"
    for name, xp in CONTAINER_XPATHS:
        for el in tree.xpath(xp):
            if len("".join(raw_text(el).split())) >= SIGNAL_CONTAINER_CHARS:
                return f"container:{name}"
    return None


def _not_found(tree, lines: list[str], total: int, expect_article: bool) -> bool:
    title = (tree.findtext(".//title") or "")[:1024]
    if expect_article and total > SOFT404_EXPECTED_MAX_TEXT:
        return any(rx.search(title) for rx in SOFT404_RES)
    return any(rx.search(" ".join(lines) + " " + title) for rx in SOFT404_RES)


def classify_decoded(data: bytes, text: str, tree, status: int | None = 200, *,
                     expect_article: bool = False) -> tuple[str, str | None]:
    """Classify a page already decoded to ``text`` and parsed to ``tree`` (read only).

    ``expect_article``: the crawl reached the page through an article link; a page that is not a
    challenge, an error or a not-found page is then an article whatever its length or link count."""
    body = tree.find("body") if tree is not None else None
    lines = text_lines(body if body is not None else tree) if tree is not None else []
    total = sum(map(len, lines))
    tiny = len(data) <= CHALLENGE_MAX_BYTES
    small = total <= CHALLENGE_MAX_TEXT
    if small or status in CHALLENGE_STATUSES:
        vendor = challenge_vendor(text, status)
        # the generic signatures (a redirect with a query, a cookie-then-reload script) only on tiny pages
        # or with a challenge status: a short notice may well carry a mobile-redirect script
        if vendor in GENERIC_VENDORS and not (tiny or status in CHALLENGE_STATUSES):
            vendor = None
        if vendor and (small or vendor == "ruishu"):
            return "blocked", f"challenge: {vendor}" + (f" (http {status})" if status and status != 200 else "")
    if tree is None:
        return "empty", "no html"
    if status in (404, 410):
        return "soft404", f"http {status}"
    signal = article_signal(tree, text)
    if total <= SOFT404_MAX_TEXT and not signal and _not_found(tree, lines, total, expect_article):
        return "soft404", "not-found text"
    if status and status >= 400:
        return "not_article", f"http {status}"
    if signal:
        return "article", None
    if expect_article and total:
        return "article", None
    links = []
    for i, a in enumerate(tree.iter("a")):
        if i >= MAX_ANCHORS:
            break
        links.append(" ".join(raw_text(a).split()))
    link_text = sum(len(t) for t in links)
    longest = max(map(len, lines), default=0)
    if len(links) >= LIST_MIN_LINKS and total and link_text / total >= LIST_LINK_TEXT_RATIO \
            and longest < ARTICLE_MIN_PARAGRAPH * 2:
        return "list", f"{len(links)} links, {link_text / total:.0%} link text"
    prose = sum(len(ln) for ln in lines if len(ln) >= PROSE_LINE_MIN)
    if longest >= ARTICLE_MIN_PARAGRAPH or prose >= ARTICLE_MIN_PROSE:
        return "article", None
    return "not_article", "little text"
