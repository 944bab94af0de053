"""What the crawl does with one list page: every link with its kind and why, the pagination and
data URLs computed from scripts, the templates learned. One function, :func:`analyze_page`, used by
the spider and by ``govnews links`` / ``govnews discover`` alike.

Order of judgement for a link (first that applies):

1. ``skip``: not a page (attachments, images, scripts), a trap (calendar, search, print, login),
   the profile's ``deny_url_regex``, too long, off the site.
2. the profile's ``article_url_regex`` / ``list_url_regex`` (reason ``hint``).
3. feeds (``prior``).
4. structure: a link of an article block (:mod:`crawler.discovery.blocks`) — ``block``.
5. a learned article template of the site (``template``: learned on this page, earlier in the
   crawl, or by an earlier crawl); a link of
   a pager block or with a next/last-page text — ``paging`` (list); a "more" link — ``more`` (list).
6. URL priors (TRS ``tYYYYMMDD_``, Hanweb ``art_``, date paths and article file names with a
   headline text) — ``prior``; list-page shapes — ``prior`` (list).
7. a short on-site link text (menus, column lists): ``menu`` (list: a column candidate), unless
   the profile gives a ``list_url_regex`` (then that regex alone names the columns).
8. anything else: ``other`` (counted as an unclassified link shape).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.extract.html import parse_html

from . import blocks as B
from . import links as L
from . import patterns as P
from . import scripts as S
from .templates import TemplateBook, has_variable, is_list_like, url_template

__all__ = ["KIND_ORDER", "MAX_PARSE_CHARS", "LinkDecision", "PageAnalysis", "analyze_page", "detect_cms"]

#: a page longer than this is parsed up to this many characters (``page_truncated``)
MAX_PARSE_CHARS = 6_000_000
MENU_TEXT_MAX = 12
#: a URL seen as several kinds keeps the first of these
KIND_ORDER = ("skip", "article", "list", "feed", "other")
_PRIORITY = {"article": 0, "list": 1, "feed": 2, "other": 3, "skip": 4}
GOV_META_RE = re.compile(r"<meta\s+[^>]{0,40}name\s*=\s*[\"']?(?:ArticleTitle|PubDate)[\"']?", re.I)
CMS_CONTAINER_RE = re.compile(r"""(?:class|id)\s*=\s*["'][^"']{0,60}\b"""
                              r"""(?:TRS_Editor|TRS_UEDITOR|v_news_content|vsb_content|"""
                              r"""zoom|article-content|articleContent|newstext|MyContent|ArticleContent|Article|"""
                              r"""news_con|detail-content|content)\b""", re.I)
#: (CMS name, signatures in the page text or its URLs); the first with most hits wins
CMS_SIGNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TRS WCM", ("createPageHTML", "TRS_Editor", "TRS_UEDITOR", "/t20", "trs")),
    ("Hanweb 大汉", ("/module/web/jpage", "<datastore>", "art_", "hanweb", "/col/col")),
    ("博达 VSB", ("_showDynClick", "vsb_content", "wbnewsid", "v_news_content", "/system/resource/")),
    ("开普云 UCAP", ("ucap", "post_", "pageData")),
    ("织梦 DedeCMS", ("dede", "/plus/", "/a/", "pagelist")),
    ("PHPCMS", ("m=content&c=index", "phpcms", "m=content&amp;c=index")),
    ("帝国 EmpireCMS", ("/e/action/", "/e/public/", "ShowInfo.php", "ecms")),
    ("动易/科汛 ASP", ("/Item/Show.asp", "/Item/list.asp", "ks_inc", "Kesion")),
    ("动易 PowerEasy", ("ShowArticle.asp", "ShowClass.asp", "PowerEasy")),
    ("JSP portal", (".jsp?", ".jsp\"")),
)


@dataclass(frozen=True)
class LinkDecision:
    url: str
    text: str
    kind: str          # article | list | feed | other | skip
    reason: str        # hint | template | block | paging | more | prior | menu | datastore | json | api | ...
    template: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "text": self.text, "kind": self.kind, "reason": self.reason,
                "template": self.template}


@dataclass
class PageAnalysis:
    url: str
    outcome: str = "list"
    links: list[LinkDecision] = field(default_factory=list)
    paging: list[S.PageSeq] = field(default_factory=list)
    next_urls: list[str] = field(default_factory=list)     # pager links in page order
    data_urls: list[str] = field(default_factory=list)     # JSON list APIs the scripts call
    proxies: list[str] = field(default_factory=list)       # Hanweb dataproxy pages (a pagination chain)
    learned: list[tuple[str, int, str]] = field(default_factory=list)
    refusals: Counter = field(default_factory=Counter)
    cms: str | None = None

    def of_kind(self, kind: str) -> list[LinkDecision]:
        return [d for d in self.links if d.kind == kind]

    @property
    def articles(self) -> list[str]:
        return [d.url for d in self.links if d.kind == "article"]

    @property
    def lists(self) -> list[str]:
        """List links, then every pagination and data URL (generated pages included)."""
        out = [d.url for d in self.links if d.kind == "list"]
        for u in [*self.next_urls, *(u for seq in self.paging for u in seq.urls()), *self.proxies,
                  *self.data_urls]:
            if u not in out:
                out.append(u)
        return out

    def unclassified(self) -> Counter:
        return Counter(d.template for d in self.links if d.kind == "other")

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url, "outcome": self.outcome, "cms": self.cms,
            "articles": self.articles, "lists": self.lists,
            "feeds": [d.url for d in self.links if d.kind == "feed"],
            "other": [d.url for d in self.links if d.kind == "other"],
            "skip": [d.url for d in self.links if d.kind == "skip"],
            "links": [d.as_dict() for d in self.links],
            "pagination": [{"source": s.source, "first": s.fmt.format(s.first), "last": s.fmt.format(s.last),
                            "pages": len(s)} for s in self.paging]
            + [{"source": "link", "url": u} for u in self.next_urls],
            "data_urls": [*self.proxies, *self.data_urls],
            "templates": [{"template": t, "support": n, "example": ex} for t, n, ex in self.learned],
            "refused": dict(self.refusals),
        }


def detect_cms(text: str, urls: list[str] | tuple[str, ...] = ()) -> str | None:
    """The CMS family the page's markup and links point to, or None."""
    hay = text[:400_000] + "\n".join(urls[:2000])
    low = hay.lower()
    best, score = None, 0
    for name, signs in CMS_SIGNS:
        n = sum(1 for s in signs if s.lower() in low)
        if n > score:
            best, score = name, n
    return best if score >= 1 else None


def _same_site_fn(base_url: str, allowed_domains):
    if allowed_domains:
        doms = [d.lower().lstrip(".") for d in allowed_domains]

        def same(url: str) -> bool:
            host = (urlsplit(url).hostname or "").lower()
            return any(host == d or host.endswith("." + d) for d in doms)
        return same
    base_host = (urlsplit(base_url).hostname or "").lower()
    return lambda url: (urlsplit(url).hostname or "").lower() == base_host


def _hard_skip(url: str, deny_re) -> str | None:
    if len(url) > L.MAX_CLASSIFY_URL:
        return "too_long"
    path = urlsplit(url).path or "/"
    if P.BINARY_EXT_RE.search(path):
        return "not_a_page"
    if deny_re is not None and deny_re.search(url):
        return "hint"
    if P.TRAP_URL_RE.search(url):
        return "trap"
    return None


def _prior(url: str, text: str) -> str | None:
    kind = L.classify_url(url, text)
    return kind if kind in ("article", "list", "feed") else None


def analyze_page(text: str, base_url: str, *, tree: Any = None, book: TemplateBook | None = None,
                 article_re: re.Pattern | None = None, list_re: re.Pattern | None = None,
                 deny_re: re.Pattern | None = None, allowed_domains=None, is_data: bool = False,
                 max_pages: int = S.DEFAULT_MAX_PAGES) -> PageAnalysis:
    """Classify every link of a list page (see the module docstring); ``book`` is updated with what
    the page teaches. ``is_data``: the page is a data answer (JSON API, dataproxy)."""
    out = PageAnalysis(base_url)
    book = book if book is not None else TemplateBook()
    same = _same_site_fn(base_url, allowed_domains)
    text = text or ""
    parse_text = text
    if len(text) > MAX_PARSE_CHARS:
        parse_text = text[:MAX_PARSE_CHARS]
        out.refusals["page_truncated"] += 1
    stripped = text.lstrip()[:1]
    looks_json = stripped in ("{", "[")
    if tree is None and not looks_json:
        tree = parse_html(parse_text)
    blocks = B.find_blocks(tree, base_url, same_site=same, counters=out.refusals) if not looks_json else []

    # 1. learn: dominant templates of article blocks
    block_article: dict[int, str] = {}
    for k, block in enumerate(blocks):
        if block.is_article_block():
            dom, _ = block.dominant
            assert dom is not None
            block_article[k] = dom
            support = sum(1 for a in block.page_anchors if a.template == dom)
            example = next(a.url for a in block.page_anchors if a.template == dom)
            if has_variable(dom):
                book.learn(dom, support, example)
                out.learned.append((dom, support, example))

    # scripts: inline JSON items, APIs, createPageHTML
    scripts_text = text if (looks_json or is_data) else "\n".join(S.inline_scripts(text))
    items = S.json_items(scripts_text, base_url, refusals=out.refusals) if scripts_text else []
    item_ok = [it for it in items if same(it.url) and B.headline_like(it.title)]
    if item_ok:
        counts = Counter(url_template(it.url) for it in item_ok)
        dom, n = counts.most_common(1)[0]
        dated = sum(it.dated for it in item_ok) / len(item_ok)
        example = next(it.url for it in item_ok if url_template(it.url) == dom)
        if has_variable(dom) and not is_list_like(dom) and (dated >= 0.5 or n >= 3) and book.learn(dom, n, example):
            out.learned.append((dom, n, example))

    decisions: dict[str, LinkDecision] = {}

    def put(d: LinkDecision) -> None:
        old = decisions.get(d.url)
        if old is None or _PRIORITY[d.kind] < _PRIORITY[old.kind] and old.kind != "skip":
            decisions[d.url] = d

    # 2. decide every anchor
    for k, block in enumerate(blocks):
        dom = block_article.get(k)
        pager = block.pager
        for a in block.anchors:
            put(_decide(a.url, a.text, a.title, a.template, a.headline, a.onsite, dom, pager, book,
                        article_re, list_re, deny_re))
            if (pager or B.is_pager_text(a.text) and a.text.strip().lower() in B.NEXT_TEXTS | B.LAST_TEXTS) \
                    and a.onsite and decisions[a.url].kind == "list" and a.url != base_url \
                    and a.url not in out.next_urls:
                out.next_urls.append(a.url)

    # 3. script items (UCAP inline JSON, JSON APIs) and Hanweb datastores
    for it in items:
        tmpl = url_template(it.url)
        if not same(it.url):
            put(LinkDecision(it.url, it.title, "skip", "offsite", tmpl))
        elif (reason := _hard_skip(it.url, deny_re)) is not None:
            put(LinkDecision(it.url, it.title, "skip", reason, tmpl))
        elif article_re is not None and article_re.search(it.url):
            put(LinkDecision(it.url, it.title, "article", "hint", tmpl))
        elif book.is_article(tmpl):
            put(LinkDecision(it.url, it.title, "article", "json", tmpl))
    hanweb, proxies = L.hanweb_datastore(text, base_url, max_pages=max_pages, refusals=out.refusals)
    for link in hanweb:
        tmpl = url_template(link.url)
        if not same(link.url):
            put(LinkDecision(link.url, link.text, "skip", "offsite", tmpl))
        elif (reason := _hard_skip(link.url, deny_re)) is not None:
            put(LinkDecision(link.url, link.text, "skip", reason, tmpl))
        else:
            put(LinkDecision(link.url, link.text, "article", "datastore", tmpl))
            book.learn(tmpl, 1, link.url)

    # 4. pagination and data URLs from scripts
    if not looks_json:
        seq, _current = S.create_page_seq(scripts_text or text, base_url, max_pages=max_pages,
                                          refusals=out.refusals)
        if seq is None and not out.next_urls:
            seq = S.script_pager_seq(text, base_url, max_pages=max_pages, refusals=out.refusals)
        if seq is not None:
            out.paging.append(seq)
        for api in S.api_urls(scripts_text, base_url):
            if not same(api):
                out.refusals["offsite_data_url"] += 1
            elif api not in out.data_urls:
                out.data_urls.append(api)
    for proxy in proxies:
        if same(proxy):
            out.proxies.append(proxy)
        else:
            out.refusals["offsite_data_url"] += 1

    out.links = list(decisions.values())
    out.cms = detect_cms(text, [d.url for d in out.links])
    n_articles = sum(1 for d in out.links if d.kind == "article")
    if not is_data and not looks_json and GOV_META_RE.search(text[:200_000]) and n_articles < 3 and not out.next_urls:
        out.outcome = "article"
    elif is_data or looks_json:
        out.outcome = "data"
    return out


def _decide(url: str, text: str, title: str, tmpl: str, headline: bool, onsite: bool, dom: str | None,
            pager: bool, book: TemplateBook, article_re, list_re, deny_re) -> LinkDecision:
    label = text or title
    if (reason := _hard_skip(url, deny_re)) is not None:
        return LinkDecision(url, label, "skip", reason, tmpl)
    if not onsite:
        return LinkDecision(url, label, "skip", "offsite", tmpl)
    if article_re is not None and article_re.search(url):
        return LinkDecision(url, label, "article", "hint", tmpl)
    if list_re is not None and list_re.search(url):
        return LinkDecision(url, label, "list", "hint", tmpl)
    path = urlsplit(url).path or "/"
    if P.FEED_URL_RE.search(path):
        return LinkDecision(url, label, "feed", "prior", tmpl)
    if dom is not None and not is_list_like(tmpl) and (tmpl == dom or headline):
        return LinkDecision(url, label, "article", "block", tmpl)
    if book.is_article(tmpl):
        return LinkDecision(url, label, "article", "template", tmpl)
    stripped = text.strip()
    if pager and (B.is_pager_text(stripped) or not headline):
        return LinkDecision(url, label, "list", "paging", tmpl)
    if stripped.lower() in B.NEXT_TEXTS | B.LAST_TEXTS:
        return LinkDecision(url, label, "list", "paging", tmpl)
    if stripped.startswith(B.MORE_PREFIXES) or stripped in ("more", ">>", "更多>>"):
        return LinkDecision(url, label, "list", "more", tmpl)
    prior = _prior(url, label if headline else text)
    if prior is not None:
        return LinkDecision(url, label, prior, "prior", tmpl)
    if list_re is None and stripped and not headline and len(stripped) <= MENU_TEXT_MAX and not stripped.isdigit():
        return LinkDecision(url, label, "list", "menu", tmpl)
    return LinkDecision(url, label, "other", "unclassified", tmpl)
