"""Bounds that keep a crawl out of calendars, endless ``?page=N`` chains and ever-deeper links.

:class:`CrawlBudget` is plain state the spider consults before it yields a request; every refusal
is counted by reason so a crawl report can say what was cut.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from . import patterns as P

DEFAULT_MAX_PAGES = 5000          # per crawl of one site
DEFAULT_MAX_DEPTH = 3             # list pages followed below a start URL (pagination excluded)
DEFAULT_MAX_PAGINATION = 500      # list pages reached by pagination from one list
DEFAULT_MAX_QUERY_VARIANTS = 20   # distinct query strings per path
MAX_URL_LENGTH = 512
MAX_PATH_SEGMENTS = 12
MAX_REPEATED_SEGMENT = 2          # /a/b/a/b/a/... relative-link loops


@dataclass
class CrawlBudget:
    max_pages: int = DEFAULT_MAX_PAGES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_query_variants: int = DEFAULT_MAX_QUERY_VARIANTS
    max_pagination: int = DEFAULT_MAX_PAGINATION
    #: apply ``max_query_variants`` to paging requests too (a profile that sets the hint asks for it:
    #: its ``?page=N`` chain is a trap there); by default paging is bounded by ``max_pagination``
    paging_query_variants: bool = False
    scheduled: int = 0
    refused: Counter = field(default_factory=Counter)
    _variants: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def refuse_reason(self, url: str, *, depth: int = 0, pagination: int = 0, kind: str | None = None,
                      paging: bool = False) -> str | None:
        """Why ``url`` must not be requested, or ``None`` when it may be.

        The query-variant limit (calendars, facets: endless ``?x=...`` variants of one path) is not
        applied to ``kind="article"`` requests (``show.asp?id=N`` articles are bounded by the page
        budget) nor, unless ``paging_query_variants``, to ``paging`` requests (bounded by
        ``max_pagination``)."""
        parts = urlsplit(url)
        if len(url) > MAX_URL_LENGTH:
            return "url_too_long"
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) > MAX_PATH_SEGMENTS:
            return "path_too_deep"
        if segments and max(Counter(segments).values()) > MAX_REPEATED_SEGMENT:
            return "repeated_path_segment"
        if P.TRAP_URL_RE.search(url):
            return "trap_pattern"
        if any(P.SESSION_PARAM_RE.fullmatch(k) for k, _ in parse_qsl(parts.query, keep_blank_values=True)):
            return "session_id"
        if depth > self.max_depth:
            return "depth"
        if pagination > self.max_pagination:
            return "pagination"
        if parts.query and kind != "article" and self._counts_variants(paging):
            key = f"{parts.hostname}{parts.path}"
            variants = self._variants[key]
            if parts.query not in variants and len(variants) >= self.max_query_variants:
                return "query_variants"
        if self.scheduled >= self.max_pages:
            return "page_budget"
        return None

    def _counts_variants(self, paging: bool) -> bool:
        return not paging or self.paging_query_variants

    def admit(self, url: str, *, depth: int = 0, pagination: int = 0, kind: str | None = None,
              paging: bool = False) -> bool:
        """Count ``url`` against the budget when allowed; record the reason when refused."""
        reason = self.refuse_reason(url, depth=depth, pagination=pagination, kind=kind, paging=paging)
        if reason:
            self.refused[reason] += 1
            return False
        parts = urlsplit(url)
        if parts.query and kind != "article" and self._counts_variants(paging):
            self._variants[f"{parts.hostname}{parts.path}"].add(parts.query)
        self.scheduled += 1
        return True
