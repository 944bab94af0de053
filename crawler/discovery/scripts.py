"""List pages and list items that only scripts know: TRS/UCAP ``createPageHTML`` in its argument
layouts, script pagers (``location='…&page='+n`` with 共N页), list items as inline (or escaped) JSON,
and the JSON list APIs a page calls (``fetch('/api/list?channel=' + channel + '&page=' + page)``).

Every function is bounded: scripts are scanned up to :data:`MAX_SCRIPT_CHARS` characters in all,
JSON items up to :data:`MAX_JSON_ITEMS`, generated pages up to the caller's cap (a
``createPageHTML(1000000000, …)`` yields :data:`DEFAULT_MAX_PAGES` lazily generated pages and a
``paging_capped`` refusal), and regexes have no nested quantifiers (linear time on hostile input).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from . import patterns as P

__all__ = ["DEFAULT_MAX_PAGES", "MAX_JSON_ITEMS", "MAX_SCRIPT_CHARS", "JsonItem", "PageSeq", "api_urls",
           "create_page_seq", "inline_scripts", "json_items", "next_data_page", "script_pager_seq"]

MAX_SCRIPT_CHARS = 8_000_000
MAX_JSON_ITEMS = 20000
DEFAULT_MAX_PAGES = 500
MAX_CALL_CHARS = 400

_CPH_RE = re.compile(r"createPageHTML\s*\(")
_ARG_RE = re.compile(r"""\s*(?:'([^'\n]{0,200})'|"([^"\n]{0,200})"|(-?\d{1,15})|([A-Za-z_$][\w$.]{0,60}))\s*(?:,|\))""")
_EXT_RE = re.compile(r"^(?:s?html?|jsp|php|aspx?|do|xml)$", re.I)
_INT_VAR_RE = r"(?:var|let|const)?\s*\b{name}\s*=\s*['\"]?(\d{{1,15}})"
_STR_VAR_RE = r"(?:var|let|const)\s+{name}\s*=\s*(?:'([^'\n]{{0,300}})'|\"([^\"\n]{{0,300}})\")"


@dataclass(frozen=True)
class PageSeq:
    """List pages ``fmt.format(k)`` for ``k`` in ``first..last`` (inclusive), generated lazily."""

    fmt: str
    first: int
    last: int
    source: str = "createPageHTML"

    def urls(self, limit: int | None = None) -> Iterator[str]:
        stop = self.last if limit is None else min(self.last, self.first + limit - 1)
        for k in range(self.first, stop + 1):
            yield self.fmt.format(k)

    def __len__(self) -> int:
        return max(0, self.last - self.first + 1)

    def as_meta(self) -> tuple[str, int, int]:
        return (self.fmt, self.first, self.last)


def inline_scripts(text: str, limit: int = MAX_SCRIPT_CHARS) -> list[str]:
    """Bodies of the page's inline ``<script>`` elements (linear scan; an unclosed one runs to the end)."""
    out: list[str] = []
    low = text.lower() if len(text) <= 4 * limit else text[: 4 * limit].lower()
    pos, total = 0, 0
    while total < limit:
        start = low.find("<script", pos)
        if start < 0:
            break
        gt = low.find(">", start)
        if gt < 0:
            break
        end = low.find("</script", gt)
        body = text[gt + 1: end if end >= 0 else len(low)]
        head = low[start:gt]
        if " src=" not in head and "src =" not in head:
            body = body[: limit - total]
            out.append(body)
            total += len(body)
        if end < 0:
            break
        pos = end + 8
    return out


MAX_CALLS = 50          # createPageHTML / API calls looked at per page
_JS_MEMO: dict[tuple[int, int, str], str | None] = {}


def _js_value(scripts: str, name: str) -> str | None:
    """The value of ``var name = …`` in ``scripts`` (memoized per text: hostile pages repeat names)."""
    if name.isdigit():
        return name
    key = (id(scripts), len(scripts), name)
    if key in _JS_MEMO:
        return _JS_MEMO[key]
    if len(_JS_MEMO) > 4096:
        _JS_MEMO.clear()
    _JS_MEMO[key] = value = _js_lookup(scripts, name)
    return value


def _js_lookup(scripts: str, name: str) -> str | None:
    m = re.search(_INT_VAR_RE.format(name=re.escape(name)), scripts)
    if m:
        return m.group(1)
    m = re.search(_STR_VAR_RE.format(name=re.escape(name)), scripts)
    return (m.group(1) if m.group(1) is not None else m.group(2)) if m else None


def _call_args(text: str, start: int) -> list[tuple[str, str]]:
    """``[(kind, value)]`` of a call's arguments from ``start`` (just after the ``(``): kinds ``s``
    (string), ``n`` (number), ``v`` (identifier)."""
    args: list[tuple[str, str]] = []
    pos = start
    end = min(len(text), start + MAX_CALL_CHARS)
    while pos < end and len(args) < 12:
        m = _ARG_RE.match(text, pos, end)
        if not m:
            break
        s1, s2, num, ident = m.groups()
        if s1 is not None or s2 is not None:
            args.append(("s", s1 if s1 is not None else s2))
        elif num is not None:
            args.append(("n", num))
        else:
            args.append(("v", ident))
        pos = m.end()
        if text[pos - 1] == ")":
            break
    return args


def create_page_seq(text: str, base_url: str, *, max_pages: int = DEFAULT_MAX_PAGES,
                    refusals: Counter | None = None) -> tuple[PageSeq | None, int | None]:
    """The list pages announced by ``createPageHTML`` and the current page's number.

    Layouts: ``(pages, current, "index", "html")`` (TRS WCM, current 0 on ``index.html``, later
    pages ``index_1.html`` …), ``('page_div', pages, current, 'zwgklist', 'shtml', records)``
    (element id first, record count last; current 1 on ``zwgklist.shtml``, later pages
    ``zwgklist_2.shtml`` …) and ``(pages, current, name, ext, records)``; arguments may be variables
    (``var countPage = 28``). More than ``max_pages`` pages are cut to ``max_pages``
    (``refusals["paging_capped"]``). Returns ``(None, None)`` when there is no usable call."""
    for n_call, m in enumerate(_CPH_RE.finditer(text)):
        if n_call >= MAX_CALLS:
            break
        args = _call_args(text, m.end())
        # the (name, ext) pair: two consecutive strings, the second a page extension
        def arg(i: int, args=args) -> str:
            kind, value = args[i]
            return value if kind != "v" else (_js_value(text, value) or "")
        pair = next((i for i in range(1, len(args) - 1) if args[i][0] in "sv" and args[i + 1][0] in "sv"
                     and _EXT_RE.match(arg(i + 1))), None)
        if pair is None:
            continue
        resolve = [(k, v if k != "v" else (_js_value(text, v) or "")) for k, v in args]
        name, ext = resolve[pair][1], resolve[pair + 1][1]
        nums = [int(v) for k, v in resolve[:pair] if v.isdigit()]
        if not nums or not name or "/" in name and len(name) > 200:
            continue
        pages = nums[0] if len(nums) == 1 else nums[-2]
        current = 0 if len(nums) == 1 else nums[-1]
        if pages <= 1:
            return None, current
        one_based = current >= 1 and _file_stem(base_url) == name
        first, last = (2, pages) if one_based else (1, pages - 1)
        here = _suffix_number(base_url, name)
        if here is not None:             # on a later page: the pages after it
            first, last = here + 1, pages
        if last - first + 1 > max_pages:
            if refusals is not None:
                refusals["paging_capped"] += 1
            last = first + max_pages - 1
        if first > last:
            return None, current
        try:
            pre, post = urljoin(base_url, f"{name}_0.{ext}").rsplit("_0.", 1)
        except ValueError:
            continue
        fmt = _esc(pre) + "_{}." + _esc(post)
        return PageSeq(fmt, first, last, "createPageHTML"), current
    return None, None


def _esc(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _file_stem(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else (name or "index")


def _suffix_number(url: str, name: str) -> int | None:
    stem = _file_stem(url)
    if stem.startswith(name + "_") and stem[len(name) + 1:].isdigit():
        return int(stem[len(name) + 1:])
    return None


# ------------------------------------------------------------------------------- script pagers
_PAGES_TOTAL_RE = re.compile(r"共\s*(?:<[^>]{0,40}>\s*)?(\d{1,9})\s*(?:<[^>]{0,40}>\s*)?页|"
                             r"页次\s*[:：]?\s*(?:<[^>]{0,80}>\s*){0,3}\d{1,9}\s*(?:<[^>]{0,40}>\s*){0,3}/\s*(\d{1,9})|"
                             r"第\s*\d{1,9}\s*/\s*(\d{1,9})\s*页")
_JS_PAGE_URL_RE = re.compile(r"""(?:location(?:\.href)?\s*=\s*|window\.open\(\s*)['"]([^'"\s]{1,300}?[?&]"""
                             r"""(?:page|cur_page|curpage|pageno|pagenum|pageindex|p|PAGENUM)=)['"]\s*\+""", re.I)


def script_pager_seq(text: str, base_url: str, current_page: int = 1, *, max_pages: int = DEFAULT_MAX_PAGES,
                     refusals: Counter | None = None) -> PageSeq | None:
    """Pages of a script pager: a GO box / select that sets ``location='list.asp?id=3&page='+n``,
    with the page count in the text (共N页, 页次：1/5, 第1/5页)."""
    m = _JS_PAGE_URL_RE.search(text)
    total = _PAGES_TOTAL_RE.search(text)
    if not m or not total:
        return None
    pages = int(next(g for g in total.groups() if g))
    first = current_page + 1
    if pages < first:
        return None
    if pages - first + 1 > max_pages:
        if refusals is not None:
            refusals["paging_capped"] += 1
        pages = first + max_pages - 1
    prefix = m.group(1).replace("&amp;", "&")
    fmt = _esc(urljoin(base_url, prefix)) + "{}"
    return PageSeq(fmt, first, pages, "script_pager")


# ------------------------------------------------------------------------------- JSON items
_UNICODE_ESC_RE = re.compile(r"\\+u([0-9a-fA-F]{4})")
_TOKEN_RE = re.compile(r"""["']?\b([A-Za-z_][\w]{0,40})["']?\s*:\s*(?:"([^"\n]{0,2000})"|'([^'\n]{0,2000})')""")
URL_KEYS = frozenset(k.lower() for k in (
    "url", "urls", "href", "link", "linkurl", "link_url", "docpuburl", "puburl", "common", "pc", "pcurl", "detailurl",
    "articleurl", "infourl", "contenturl", "newsurl", "targeturl", "docurl", "viewurl", "htmlurl", "staticurl"))
TITLE_KEYS = frozenset(k.lower() for k in (
    "title", "doctitle", "infotitle", "newstitle", "articletitle", "subject", "biaoti", "name", "maintitle"))
_URLISH_RE = re.compile(r"^(?:https?://[^\s<>\"']{1,500}|/[^\s<>\"']{0,500}|\.{1,2}/[^\s<>\"']{1,500}|"
                        r"[\w\-./]{1,300}\.(?:s?html?|jsp|php|aspx?|do)(?:\?[^\s<>\"']{0,300})?)$", re.I)
_DATEISH_RE = re.compile(r"(?:19|20)\d{2}[-/.年]\d{1,2}|^\d{10,13}$")


@dataclass(frozen=True)
class JsonItem:
    url: str
    title: str
    dated: bool


def _deescape(text: str) -> str:
    text = _UNICODE_ESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"\\+/", "/", text)
    text = re.sub(r"\\+(['\"])", r"\1", text)
    # JSON kept as a string ("{\"common\":…}" once unescaped) becomes the object it holds
    return text.replace('"{', "{").replace('}"', "}").replace('"[', "[").replace(']"', "]")


def json_items(text: str, base_url: str, *, limit: int = MAX_JSON_ITEMS,
               refusals: Counter | None = None) -> list[JsonItem]:
    """List items held in JSON or JS object literals (``title`` + ``url``/``urls``/``link`` …, dates
    from ``pubDate``/``date``/``*time``), also when the JSON is escaped inside a string. Items are
    paired by position (each URL with the nearest title between its neighbour URLs). Malformed JSON
    is fine: nothing is parsed as a whole. Bounded by ``MAX_SCRIPT_CHARS`` and ``limit``."""
    if len(text) > MAX_SCRIPT_CHARS:
        text = text[:MAX_SCRIPT_CHARS]
        if refusals is not None:
            refusals["script_truncated"] += 1
    if ":" not in text:
        return []
    text = _deescape(text)
    titles: list[tuple[int, str]] = []
    urls: list[tuple[int, str]] = []
    dates: list[int] = []
    for m in _TOKEN_RE.finditer(text):
        key = m.group(1).lower()
        value = (m.group(2) if m.group(2) is not None else m.group(3) or "").strip()
        if key in URL_KEYS and _URLISH_RE.match(value) and not P.BINARY_EXT_RE.search(value.split("?", 1)[0]):
            if len(urls) >= limit:
                if refusals is not None:
                    refusals["json_items_capped"] += 1
                break
            urls.append((m.start(), value))
        elif key in TITLE_KEYS and value:
            titles.append((m.start(), value))
        elif ("date" in key or "time" in key) and _DATEISH_RE.search(value):
            dates.append(m.start())
    if not urls:
        return []
    out: list[JsonItem] = []
    seen: set[str] = set()
    ti, di = 0, 0
    for i, (pos, value) in enumerate(urls):
        lo = urls[i - 1][0] if i else -1
        hi = urls[i + 1][0] if i + 1 < len(urls) else len(text) + 1
        while ti < len(titles) and titles[ti][0] < lo:
            ti += 1
        before = [t for t in titles[ti:ti + 50] if lo < t[0] < pos]
        after = [t for t in titles[ti:ti + 50] if pos < t[0] < hi]
        title = before[-1][1] if before else (after[0][1] if after else "")
        while di < len(dates) and dates[di] < lo:
            di += 1
        dated = any(lo < d < hi for d in dates[di:di + 50])
        try:
            url = urljoin(base_url, value.replace("&amp;", "&"))
        except ValueError:
            continue
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        out.append(JsonItem(url.split("#", 1)[0], title[:300], dated))
    return out


# ------------------------------------------------------------------------------- JSON list APIs
_EXPR = r"((?:\s*(?:'[^'\n]{0,300}'|\"[^\"\n]{0,300}\"|[A-Za-z_$][\w$.]{0,40})\s*\+?){1,12})"
_API_CALL_RE = re.compile(r"(?:\bfetch|\$\.getJSON|\$\.get|\$\.post|jQuery\.getJSON|axios\.get|axios\.post|axios)"
                          r"\s*\(" + _EXPR)
_AJAX_URL_RE = re.compile(r"\burl\s*:" + _EXPR)
_AJAX_DATA_RE = re.compile(r"\bdata\s*:\s*\{([^{}]{0,500})\}")
_PIECE_RE = re.compile(r"'([^'\n]{0,300})'|\"([^\"\n]{0,300})\"|([A-Za-z_$][\w$.]{0,40})")
PAGE_VARS = frozenset(("page", "pageno", "pagenum", "pageindex", "curpage", "currentpage", "p", "pn", "i",
                       "pagenumber", "cur_page", "n"))
PAGE_PARAMS = frozenset(("page", "pageno", "pagenum", "pageindex", "curpage", "currentpage", "p", "pn",
                         "pagenumber", "cur_page", "page_no", "pageindex"))


def _eval_concat(expr: str, scripts: str) -> str | None:
    out = []
    for m in _PIECE_RE.finditer(expr):
        s1, s2, ident = m.groups()
        if ident is None:
            out.append(s1 if s1 is not None else s2)
            continue
        if ident.lower() in PAGE_VARS:
            out.append("1")
            continue
        value = _js_value(scripts, ident)
        if value is None:
            return None
        out.append(value)
    return "".join(out)


def api_urls(scripts: str, base_url: str, limit: int = 50) -> list[str]:
    """URLs of the JSON list APIs the page's scripts call (``fetch``, ``$.getJSON``, ``$.ajax({url:
    …, data: {…}})``, ``axios``), with string variables resolved and page variables set to 1."""
    out: list[str] = []
    for regex in (_API_CALL_RE, _AJAX_URL_RE):
        for n_call, m in enumerate(regex.finditer(scripts)):
            if n_call >= MAX_CALLS:
                break
            value = _eval_concat(m.group(1), scripts)
            if not value or value.startswith(("javascript:", "data:")) or P.BINARY_EXT_RE.search(value.split("?")[0]):
                continue
            if regex is _AJAX_URL_RE:
                data = _AJAX_DATA_RE.search(scripts, m.end(), m.end() + 600)
                if data:
                    pairs = []
                    for kv in _TOKEN_PAIR_RE.finditer(data.group(1)):
                        k, v = kv.group(1), next((g for g in kv.groups()[1:] if g is not None), "")
                        pairs.append((k, "1" if k.lower() in PAGE_PARAMS else v))
                    if pairs:
                        value += ("&" if "?" in value else "?") + urlencode(pairs)
            try:
                url = urljoin(base_url, value)
            except ValueError:
                continue
            if urlsplit(url).scheme in ("http", "https") and url not in out:
                out.append(url)
            if len(out) >= limit:
                return out
    return out


_TOKEN_PAIR_RE = re.compile(r"""["']?([A-Za-z_]\w{0,40})["']?\s*:\s*"""
                            r"""(?:'([^'\n]{0,200})'|"([^"\n]{0,200})"|(\d{1,12}))""")


def next_data_page(url: str) -> str | None:
    """The next page of a paged data URL (``…page=3`` -> ``…page=4``), or None without a page parameter."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for i, (k, v) in enumerate(pairs):
        if k.lower() in PAGE_PARAMS and v.isdigit():
            pairs[i] = (k, str(int(v) + 1))
            return urlunsplit(parts._replace(query=urlencode(pairs)))
    return None
