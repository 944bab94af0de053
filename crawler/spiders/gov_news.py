"""The one generic spider: ``scrapy crawl gov_news -a site=NAME_OR_PATH``.

It reads a site profile (``sites/NAME.toml``), walks the profile's list pages newest first, follows
pagination (plain links, TRS ``createPageHTML``, Hanweb datastore/dataproxy), feeds and sitemaps,
and yields one item (:class:`crawler.items.FetchedPage`) per fetched page or failed request.
Extraction and storage happen in the item pipelines (:mod:`crawler.ingest`); which
articles are already archived is decided by :class:`crawler.spidermiddlewares.incremental.IncrementalMiddleware`.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.challenge import challenge_reason
from crawler.discovery import feeds
from crawler.discovery import links as L
from crawler.discovery.analyze import MAX_PARSE_CHARS, analyze_page
from crawler.discovery.report import STATS_LISTS, STATS_UNCLASSIFIED, SkipReport
from crawler.discovery.scripts import next_data_page
from crawler.discovery.templates import TemplateBook
from crawler.discovery.traps import CrawlBudget
from crawler.distributed.scheduler import bound_run
from crawler.extract.decode import content_type_charset, decode_html
from crawler.items import FetchedPage
from crawler.profiles import load_profile
from storage import templates as site_templates
from storage.urls import canonical_url

# request.meta keys used across the spider and the middlewares
KIND = "govnews_kind"            # list | article | feed | sitemap
SITEMAP_DEPTH = "govnews_sitemap_depth"     # sitemap indexes above this sitemap (crawler.discovery.feeds.SitemapBudget)
DEPTH = "govnews_depth"          # list levels below a start URL (pagination does not count)
PAGING = "govnews_paging"        # True for a request reached by pagination
PAGE_NO = "govnews_page_no"      # how many pagination steps from the first list page
START = "govnews_start"          # a profile start URL
PENDING = "govnews_pending"      # further pagination URLs to request one after another
CHAIN = "govnews_chain"          # first list page of a pagination chain (incremental bookkeeping)
LINK_TEXT = "govnews_link_text"
SOURCE_LIST = "govnews_list_url"
DATA = "govnews_data"            # True for a data URL (JSON list API, Hanweb dataproxy)
EXPECT_ARTICLE = "govnews_expect_article"   # reached through a learned template / the profile's regex
#: link reasons that make the target an article whatever its length (crawler.discovery.analyze)
EXPECT_REASONS = ("hint", "template", "block", "json", "datastore")

NOT_MODIFIED = 304
ARTICLE_PRIORITY = 10            # fetch articles before moving on to the next list page
TRUE_WORDS = ("1", "true", "yes", "on")
#: IgnoreRequest messages -> reason recorded for the refused request
IGNORE_REASONS = (("robots", "robots_disallowed"), ("private", "private_address"), ("offsite", "offsite"),
                  ("max redirections", "redirect_loop"), ("download_maxsize", "too_large"))
#: IgnoreRequest reasons that are the crawler's own refusals (not fetch failures)
REFUSAL_REASONS = ("robots_disallowed", "private_address", "offsite", "ignored")


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in TRUE_WORDS


def header_charset(response: Response) -> str | None:
    return content_type_charset(response.headers.get(b"Content-Type"))


def decode_body(response: Response) -> str:
    """Decoded HTML of a list page (same decoder as extraction; it copes with wrong charsets)."""
    text, _ = decode_html(response.body, header_charset(response))
    return text


class GovNewsSpider(scrapy.Spider):
    name = "gov_news"

    def __init__(self, site: str | None = None, sites_dir: str | None = None,
                 full_walk: str | None = None, max_pages: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not site:
            raise ValueError("usage: scrapy crawl gov_news -a site=NAME_OR_PATH (a profile under sites/ "
                             "or a path to a .toml profile)")
        self.profile = load_profile(site, sites_dir)
        self.site = self.profile.name
        self.allowed_domains = list(self.profile.allowed_domains)
        self.start_urls = list(self.profile.start_urls)
        hints = self.profile.hints
        self.full_walk = self.profile.full_walk or _truthy(full_walk)
        self.article_re = re.compile(hints.article_url_regex) if hints.article_url_regex else None
        self.list_re = re.compile(hints.list_url_regex) if hints.list_url_regex else None
        self.deny_re = re.compile(hints.deny_url_regex) if hints.deny_url_regex else None
        budget_pages = int(max_pages) if max_pages else hints.max_pages
        self.budget = CrawlBudget(
            **{k: v for k, v in (("max_pages", budget_pages), ("max_depth", hints.max_depth),
                                 ("max_query_variants", hints.max_query_variants)) if v is not None},
            paging_query_variants=hints.max_query_variants is not None,
        )
        self.book = TemplateBook()       # article templates learned (seeded from the archive at start)
        self.skips = SkipReport()         # list pages without article links, unclassified link shapes
        self._requested: set[str] = set()
        self.sitemap_budget = feeds.SitemapBudget()     # nesting depth and count of sitemaps (issue 17)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        delay = spider.profile.hints.download_delay
        if delay is not None:  # the profile's politeness, unless -s DOWNLOAD_DELAY says otherwise
            crawler.settings.set("DOWNLOAD_DELAY", float(delay), priority="spider")
        return spider

    # --- requests ---------------------------------------------------------------------------------
    def make_request(self, url: str, kind: str, *, depth: int = 0, page_no: int = 0,
                     paging: bool = False, **meta: Any) -> scrapy.Request | None:
        url = canonical_url(url)
        if kind != "article" and (url in self._requested or self._scheduled_by_run(url)):
            return None    # list pages once per crawl (articles go on: the incremental middleware counts them)
        if not self.budget.admit(url, depth=depth, pagination=page_no, kind=kind, paging=paging):
            return None
        if kind != "article":
            self._requested.add(url)
        callback = {"article": self.parse_article, "feed": self.parse_feed,
                    "sitemap": self.parse_sitemap}.get(kind, self.parse_list)
        meta.update({KIND: kind, DEPTH: depth, PAGE_NO: page_no, PAGING: paging})
        if kind != "article":
            meta["handle_httpstatus_list"] = [NOT_MODIFIED]
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta,
                              priority=ARTICLE_PRIORITY if kind == "article" else -page_no)

    def _scheduled_by_run(self, url: str) -> bool:
        """In a distributed run, whether some worker already scheduled ``url`` this run. The run's
        duplicate filter would drop the request, and with it the rest of a pagination chain that
        rides in its meta (a pager's 首页/上一页 links come before 下一页, and another worker may
        have requested those pages)."""
        crawler = getattr(self, "crawler", None)     # none when the enqueuer builds the start requests
        run = bound_run(crawler) if crawler is not None else None
        return run is not None and bool(run.seen_urls([scrapy.Request(url)]))

    async def start(self):
        await self._seed_templates()
        for url in self.start_urls:
            if req := self.make_request(url, "list", **{START: True}):
                yield req
        for url in self.profile.feeds:
            if req := self.make_request(url, "feed", **{START: True}):
                yield req
        for url in self.profile.sitemaps:
            if req := self.make_request(url, "sitemap", **{START: True}):
                yield req

    # --- callbacks ---------------------------------------------------------------------------------
    def page_item(self, response: Response, kind: str, **extra: Any) -> FetchedPage:
        return FetchedPage.from_response(response, kind, site=self.site, **extra)

    def parse_list(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        if response.status == NOT_MODIFIED:
            self.crawler.stats.inc_value("govnews/list_not_modified")
            return
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if blocked := challenge_reason(response.body, response.url, response.status, ctype):
            self.crawler.stats.inc_value("govnews/list_blocked")
            yield self.page_item(response, "list", outcome=blocked.split(":", 1)[0], reason=blocked)
            return                     # a WAF challenge's links lead to more challenges
        text = decode_body(response)
        base = response.url
        is_data = bool(meta.get(DATA)) or "json" in ctype.lower()
        tree = None if is_data else L.parse_html(text[:MAX_PARSE_CHARS])   # bounded (page_truncated)
        yield self.page_item(response, "list")
        depth, page_no = meta.get(DEPTH, 0), meta.get(PAGE_NO, 0)

        page = analyze_page(text, base, tree=tree, book=self.book, article_re=self.article_re,
                            list_re=self.list_re, deny_re=self.deny_re, allowed_domains=self.allowed_domains,
                            is_data=is_data, max_pages=self.budget.max_pagination)
        for why, count in page.refusals.items():
            self.budget.refused[why] += count
        self.skips.observe(page)

        n_articles = 0
        for link in page.of_kind("article"):
            n_articles += 1
            if req := self.make_request(link.url, "article", **{LINK_TEXT: link.text, SOURCE_LIST: base,
                                                                  EXPECT_ARTICLE: link.reason in EXPECT_REASONS}):
                yield req

        # pagination, one page after another so that incremental crawls can stop early
        pending: list[Any] = list(meta.get(PENDING, []))
        known = {p for p in pending if isinstance(p, str)}
        if not meta.get(PAGING):
            pending = [seq.as_meta() for seq in page.paging] + pending
        for url in page.next_urls:
            if url not in known and canonical_url(url) != canonical_url(base):
                pending.append(url)
                known.add(url)
        if is_data and n_articles and (nxt := next_data_page(base)) and nxt not in known:
            pending.append(nxt)
        if page.proxies and not pending:
            pending = list(page.proxies)
        head, rest = _pop_pending(pending)
        while head is not None:
            if req := self.make_request(head, "list", depth=depth, page_no=page_no + 1, paging=True,
                                        **{PENDING: rest, CHAIN: meta.get(CHAIN) or response.url, DATA: is_data}):
                yield req
                break
            if self.budget.refused.get("page_budget"):
                break
            head, rest = _pop_pending(rest)

        # data the page's scripts load (JSON list APIs, Hanweb dataproxy): a chain of their own
        for url in page.data_urls:
            if req := self.make_request(url, "list", depth=depth, **{DATA: True}):
                yield req

        # further columns below a start page (section menus on a home page)
        if meta.get(START) or not meta.get(PAGING):
            for link in page.of_kind("list"):
                if (link.url not in known and self._same_site(link.url)
                        and (req := self.make_request(link.url, "list", depth=depth + 1))):
                    yield req
        for feed in feeds.feed_links(tree, base):       # linear and capped (issue 17)
            if req := self.make_request(feed, "feed", depth=depth + 1):
                yield req

    def parse_article(self, response: Response) -> Iterator[Any]:
        yield self.page_item(response, "article", link_text=response.meta.get(LINK_TEXT),
                             list_url=response.meta.get(SOURCE_LIST),
                             expect_article=bool(response.meta.get(EXPECT_ARTICLE)))

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if response.status == NOT_MODIFIED:
            self.crawler.stats.inc_value("govnews/feed_not_modified")
            return
        links, why = feeds.read_feed(response.body, response.url)     # why: refused / cut short, or None
        yield self.page_item(response, "feed", reason=why)
        for link in links:
            meta = {LINK_TEXT: link.text, SOURCE_LIST: response.url}
            if self._same_site(link.url) and (req := self.make_request(link.url, "article", **meta)):
                yield req

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if response.status == NOT_MODIFIED:
            return
        urls, why = feeds.read_sitemap(response.body, response.url)   # why: refused / cut short, or None
        yield self.page_item(response, "sitemap", reason=why)
        depth = response.meta.get(SITEMAP_DEPTH, 0) + 1
        for url in urls:
            if not self._same_site(url):
                continue
            kind = L.classify_url(url, "", article_re=self.article_re, list_re=self.list_re, deny_re=self.deny_re)
            if url.endswith((".xml", ".xml.gz")):
                kind = "sitemap"
                if refused := self.sitemap_budget.refuse_reason(depth):
                    self.budget.refused[refused] += 1
                    continue
            if kind in ("article", "sitemap") and (req := self.make_request(url, kind, **{SITEMAP_DEPTH: depth})):
                if kind == "sitemap":
                    self.sitemap_budget.admit(depth)
                yield req

    def on_error(self, failure: Failure) -> Iterator[FetchedPage]:
        """Every request that ends in an error becomes a ``failed`` record with its reason."""
        request = failure.request
        response = getattr(failure.value, "response", None)
        reason = failure_reason(failure)
        refused = failure.check(IgnoreRequest) is not None and response is None and reason in REFUSAL_REASONS
        self.crawler.stats.inc_value(f"govnews/{'refused' if refused else 'failed'}/{reason}")
        yield FetchedPage.failure(
            self.site, (request.meta.get("redirect_urls") or [request.url])[0],   # the URL asked for
            reason, kind="refused" if refused else "failed", request_url=request.url,
            status=response.status if response is not None else None,
            body=response.body if response is not None else b"", request_kind=request.meta.get(KIND))
        yield from self._continue_chain(request)

    def _continue_chain(self, request: scrapy.Request) -> Iterator[scrapy.Request]:
        """A failed page of a pagination chain (after its retries) must not lose the pages queued
        behind it: go on with the next one (only the finite queue; a data API's "next page" is never
        guessed past a failure, which would walk an error chain forever)."""
        meta = request.meta
        if not meta.get(PAGING):
            return
        head, rest = _pop_pending(list(meta.get(PENDING, [])))
        while head is not None:
            if req := self.make_request(head, "list", depth=meta.get(DEPTH, 0), page_no=meta.get(PAGE_NO, 0) + 1,
                                        paging=True, **{PENDING: rest, CHAIN: meta.get(CHAIN) or request.url,
                                                        DATA: bool(meta.get(DATA))}):
                self.crawler.stats.inc_value("govnews/paging_continued_after_failure")
                yield req
                return
            if self.budget.refused.get("page_budget"):
                return
            head, rest = _pop_pending(rest)

    # --- helpers -------------------------------------------------------------------------------------
    def link_kind(self, link: L.Link) -> str:
        """A link's kind, with the profile's own regexes (article, list, deny) taking precedence."""
        if not (self.article_re or self.list_re or self.deny_re):
            return link.kind
        kind = L.classify_url(link.url, link.text, article_re=self.article_re, list_re=self.list_re,
                              deny_re=self.deny_re)
        return "article" if kind == "other" and link.kind == "article" else kind

    def _same_site(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def closed(self, reason: str) -> None:
        for why, count in self.budget.refused.items():
            self.crawler.stats.set_value(f"govnews/refused/{why}", count)
        stats = self.crawler.stats
        stats.set_value(STATS_LISTS, self.skips.lists_without_articles)
        stats.set_value(STATS_UNCLASSIFIED, self.skips.top())
        self.logger.info(self.skips.summary())
        learned = self.book.learned()
        stats.set_value("govnews/discovery/templates", len(learned))
        if learned:
            self.logger.info("article templates of %s: %s", self.site,
                             "; ".join(f"{t} ({n})" for t, n, _ in learned[:10]))
            self._save_templates(learned)

    # --- learned templates in the archive (storage.templates) ---------------------------------------
    def _archive(self):
        if not self.crawler.settings.getbool("GOVNEWS_LEARN_TEMPLATES", True):
            return None
        from crawler.services import get_archive
        return get_archive(self.crawler)

    async def _seed_templates(self) -> None:
        try:
            archive = self._archive()
            if archive is None:
                return
            from crawler.services import in_thread
            rows = await in_thread(site_templates.load_templates, archive.engine, self.site)
        except Exception as exc:   # no archive / not migrated: learn from scratch
            self.logger.info("no learned templates for %s (%s)", self.site, str(exc).splitlines()[0][:200])
            return
        for template, support, example in rows:
            self.book.learn(template, support, example)
        self.book.seeded = frozenset(self.book.article)
        self._seed_support = dict(self.book.article)
        if rows:
            self.logger.info("%d article templates of %s from earlier crawls", len(rows), self.site)

    def _save_templates(self, learned: list[tuple[str, int, str]]) -> None:
        seeded = getattr(self, "_seed_support", {})
        fresh = [(t, n - seeded.get(t, 0), ex) for t, n, ex in learned if n - seeded.get(t, 0) > 0]
        if not fresh:
            return
        try:
            archive = self._archive()
            if archive is not None:
                site_templates.save_templates(archive.engine, self.site, fresh)
        except Exception as exc:   # the crawl's result does not depend on it
            self.logger.warning("could not store the learned templates of %s: %s", self.site,
                                str(exc).splitlines()[0][:200])


def _pop_pending(pending: list[Any]) -> tuple[str | None, list[Any]]:
    """The next pagination URL and the rest; a ``(fmt, first, last)`` entry is a lazily generated
    run of pages (``crawler.discovery.scripts.PageSeq.as_meta``)."""
    if not pending:
        return None, []
    head, rest = pending[0], list(pending[1:])
    if isinstance(head, str):
        return head, rest
    fmt, first, last = head
    if first < last:
        rest.insert(0, (fmt, first + 1, last))
    return fmt.format(first), rest


def failure_reason(failure: Failure) -> str:
    """A short machine-readable reason for a failed request (``http_404``, ``timeout``, ...)."""
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as tx

    value = failure.value
    if getattr(value, "govnews_reason", None):
        return value.govnews_reason
    if isinstance(value, HttpError):
        return f"http_{value.response.status}"
    if isinstance(value, IgnoreRequest):
        message = str(value).lower()
        return next((name for word, name in IGNORE_REASONS if word in message), "ignored")
    table = (
        ((tx.TimeoutError, tx.TCPTimedOutError), "timeout"),
        ((tx.DNSLookupError,), "dns"),
        ((tx.ConnectionRefusedError,), "connection_refused"),
        ((tx.ConnectionLost, tx.ConnectionDone), "connection_lost"),
    )
    for types, name in table:
        if isinstance(value, types):
            return name
    name = type(value).__name__
    scrapy_errors = {"DownloadTimeoutError": "timeout", "ResponseDataLossError": "truncated",
                     "DownloadConnectionRefusedError": "connection_refused", "CannotResolveHostError": "dns",
                     "DownloadFailedError": "connection_lost",
                     "DownloadCancelledError": "too_large"}   # scrapy >= 2.14; cancelled only past DOWNLOAD_MAXSIZE
    if name in scrapy_errors:
        return scrapy_errors[name]
    if "ResponseNeverReceived" in name or "ConnectionLost" in name:
        return "connection_lost"
    if "Timeout" in name:
        return "timeout"
    if "MaxSize" in name or ("size" in str(value).lower() and "max" in str(value).lower()):
        return "too_large"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
