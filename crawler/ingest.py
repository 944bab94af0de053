"""The one ingest service: fetched page -> classify -> extract -> hostile check -> archive.

:class:`IngestService` is what the item pipelines (:mod:`crawler.pipelines`), dead-letter replay
(:mod:`crawler.deadletter`) and re-extraction (:class:`Reextractor`) share, so a page goes the same
way into the archive whether it was just fetched, kept aside while the database was down, or is
extracted again after an upgrade. It knows nothing of Scrapy: its inputs are a
:class:`crawler.items.FetchedPage`, an archive (``storage.archive.Archive``), a stats object with
``inc_value`` (Scrapy's stats collector in a crawl, :class:`IngestStats` elsewhere) and
``hints_for(site) -> dict``, the site profile's extraction hints (``body_selector``,
``title_selector``, ``encoding``).

Stats keys (as the crawl has always counted them): ``govnews/outcome/<outcome>`` per extracted
article page, ``govnews/hostile_pages``, ``govnews/bytes`` (raw bytes stored) and
``govnews/articles/<new|duplicate|revision|seen>``.
"""
from __future__ import annotations

import inspect
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from crawler import containment
from crawler.containment import ContainedExtractor, ContainmentError
from crawler.extract.article import Article
from crawler.extract.attachments import attachment_ext
from crawler.extract.decode import content_type_charset
from crawler.extract.pipeline import extract, extract_page
from crawler.hostile import hostile_signs
from crawler.items import FetchedPage
from crawler.profiles import ProfileError, SiteProfile, load_profile

if TYPE_CHECKING:
    from storage.archive import Archive
    from storage.pages import RawPage

__all__ = ["EXTRACTION_HINTS", "IngestService", "IngestStats", "ProfileHints", "Reextractor",
           "extraction_options", "profile_hints"]

logger = logging.getLogger(__name__)
#: extraction takes ``expect_article`` (issue 13: short articles reached through article links)
_EXTRACT_EXPECTS = "expect_article" in inspect.signature(extract_page).parameters

#: profile hints that change extraction (the others steer discovery and politeness)
EXTRACTION_HINTS = ("body_selector", "title_selector", "encoding")
#: page outcomes the archive reports for an article page once dedup has spoken
_DEDUP_PAGE_OUTCOME = {"duplicate": "duplicate", "seen": "duplicate", "revision": "revision"}
REASON_MAX = 500

HintsFor = Callable[[str | None], Mapping[str, Any]]


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class IngestStats(Counter):
    """Counters of an ingest outside a crawl (replay, tests): ``inc_value`` like Scrapy's collector."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self[key] += count

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.get(key, default)


# ------------------------------------------------------------------------------------ hints
def profile_hints(profile: SiteProfile | None) -> dict[str, Any]:
    """The extraction hints of a site profile (only those set)."""
    if profile is None:
        return {}
    return {name: value for name in EXTRACTION_HINTS if (value := getattr(profile.hints, name, None))}


class ProfileHints:
    """``hints_for(site)`` reading the site's profile (``sites/<site>.toml``) once per site.

    A site whose profile is gone (renamed, deleted, a crawl of a profile outside the sites
    directory) gets no hints: extraction then works as for any unknown site.
    """

    def __init__(self, sites_dir: str | os.PathLike | None = None):
        self.sites_dir = sites_dir
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, site: str | None) -> dict[str, Any]:
        if not site:
            return {}
        with self._lock:
            if site in self._cache:
                return self._cache[site]
        try:
            hints = profile_hints(load_profile(site, self.sites_dir))
        except ProfileError as exc:
            logger.info("no profile for site %s (%s): extracting without its hints", site, exc)
            hints = {}
        with self._lock:
            self._cache[site] = hints
        return hints


def no_hints(site: str | None) -> dict[str, Any]:
    return {}


def extraction_options(hints: Mapping[str, Any] | None, charset: str | None) -> tuple[str | None, dict[str, Any]]:
    """``(encoding, hints)`` for the extractor: the profile's ``encoding`` wins over the header's
    charset; the other hints go to the extractor as they are."""
    rest = dict(hints or {})
    return rest.pop("encoding", None) or charset, rest


def hostile_flags(article: Article, body: bytes, url: str) -> list[str]:
    """Put the hostile-page signs of ``body`` into ``article.flags["hostile"]``; returns them.

    Decodes with the codec extraction settled on (no second charset detection)."""
    signs = hostile_signs(body, url, article.encoding)
    if signs:
        article.flags["hostile"] = signs
    return signs


def extract_fetched(body: bytes, url: str, *, status: int | None, content_type: str | None,
                    encoding: str | None, hints: Mapping[str, Any], now: Any, expect_article: bool = False
                    ) -> tuple[str, str | None, Article | None, list[str]]:
    """The pure work on one fetched article page: ``(outcome, reason, article, hostile signs)``
    (what :class:`IngestService` runs, in-process or in the contained worker). ``expect_article``:
    the spider reached the page through an article link (a learned template, the profile's regex):
    extraction keeps it whatever its length."""
    extra = {"expect_article": True} if expect_article and _EXTRACT_EXPECTS else {}
    outcome, reason, article = extract_page(body, url, status=status, content_type=content_type,
                                            encoding=encoding, hints=dict(hints), now=now, **extra)
    signs: list[str] = []
    if article is not None and (article.body or "").strip():
        signs = hostile_flags(article, body, url)
    return outcome, reason, article, signs


def reextract_raw(body: bytes, url: str, *, encoding: str | None, hints: Mapping[str, Any], now: Any) -> Article:
    """The pure work of :class:`Reextractor` on one stored page."""
    article = extract(body, url, encoding=encoding, hints=dict(hints), now=now)
    if (article.body or "").strip():
        hostile_flags(article, body, url)
    return article


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in (headers or {}).items() if k.lower() == name), None)


# ------------------------------------------------------------------------------------ service
class IngestService:
    """Classify, extract, check and store fetched pages (one instance per crawl / replay)."""

    def __init__(self, archive: Archive | None, *, stats: Stats | None = None,
                 hints_for: HintsFor | None = None, contained: ContainedExtractor | bool | None = None):
        self.archive = archive
        #: None: the crawl's contained extractor when it has one (crawler.containment.active());
        #: False: always in-process; a ContainedExtractor: that one
        self.contained = contained
        self.stats: Stats = stats if stats is not None else IngestStats()
        self.hints_for: HintsFor = hints_for or no_hints
        self._stats_lock = threading.Lock()     # store() may run in several threads at once

    def _inc(self, key: str, count: int = 1) -> None:
        with self._stats_lock:
            self.stats.inc_value(key, count)

    def process(self, page: FetchedPage) -> FetchedPage:
        """:meth:`extract` then :meth:`store`."""
        return self.store(self.extract(page))

    def extract(self, page: FetchedPage) -> FetchedPage:
        """Classify an article page and extract it (decoded and parsed once; the fetch time is
        extraction's ``now``), then look for hostile signs; sets ``outcome``, ``reason`` and
        ``article``. Other kinds keep their outcome (their kind, unless the spider set one). An
        extraction error never loses the page: it is recorded ``failed`` / ``extract_error: ...``."""
        if page.kind != "article":
            if page.outcome is None:
                page.outcome = page.kind
            self._check_redirect_body(page)
            return page
        contained = self._contained()
        try:
            encoding, hints = extraction_options(self.hints_for(page.site), page.charset)
            kwargs: dict[str, Any] = dict(status=page.status, content_type=_header(page.headers, "Content-Type"),
                                         encoding=encoding, hints=hints, now=page.fetched_at,
                                         expect_article=bool(getattr(page, "expect_article", False)))  # issue 13
            if contained is not None:
                outcome, reason, article, signs = contained.call(extract_fetched, page.body, page.url, **kwargs)
            else:
                outcome, reason, article, signs = extract_fetched(page.body, page.url, **kwargs)
            page.outcome, page.reason = outcome, reason
            if article is not None:
                page.article = article
                if not (article.body or "").strip():
                    page.outcome, page.reason = "failed", "empty_body"
                elif signs:
                    page.reason = "hostile: " + ", ".join(signs)
                    self._inc("govnews/hostile_pages")
        except ContainmentError as exc:     # the page hit a time / memory limit: kept, crawl goes on
            logger.warning("extraction stopped for %s: %s", page.url, exc)
            page.outcome, page.reason, page.article = "failed", str(exc)[:REASON_MAX], None
        except Exception as exc:  # extraction bugs must not lose the page: record it as failed
            logger.exception("extraction failed for %s", page.url)
            page.outcome, page.reason = "failed", f"extract_error: {type(exc).__name__}: {exc}"[:REASON_MAX]
        self._inc(f"govnews/outcome/{page.outcome}")
        return page

    def _contained(self) -> ContainedExtractor | None:
        if self.contained is False:
            return None
        if isinstance(self.contained, ContainedExtractor):
            return self.contained
        return containment.active()

    def _check_redirect_body(self, page: FetchedPage) -> None:
        """A page not followed to where it redirects (a meta refresh off the site) keeps its body:
        look for hostile signs in it, as for an article."""
        if page.kind != "failed" or not page.body or not (page.reason or "").startswith("redirect_"):
            return
        try:
            contained = self._contained()
            signs = (contained.call(hostile_signs, page.body, page.url, page.charset) if contained is not None
                     else hostile_signs(page.body, page.url, page.charset))
        except Exception as exc:  # noqa: BLE001 - the page is recorded whatever the check says
            logger.warning("hostile check failed for %s: %s", page.url, exc)
            return
        if signs:
            page.reason = f"{page.reason}; hostile: {', '.join(signs)}"[:REASON_MAX]
            self._inc("govnews/hostile_pages")

    def store(self, page: FetchedPage) -> FetchedPage:
        """Write the page (a ``pages`` row) and its article (dedup: new / duplicate / revision /
        seen); the page's outcome then says what the article turned out to be. Safe to call from a
        worker thread. A page that already has a ``page_id`` (a dead letter written after its row)
        is not recorded again."""
        if self.archive is None:
            raise RuntimeError("this IngestService has no archive: it extracts only")
        archive = self.archive
        if page.page_id is None:
            page.page_id = archive.record_page(
                page.site, page.url, status=page.status, headers=page.headers or {}, body=page.body or b"",
                outcome=page.outcome or page.kind, reason=page.reason, fetched_at=page.fetched_at)
        self._inc("govnews/bytes", len(page.body or b""))
        if page.outcome == "article" and page.article is not None:
            result = archive.store_article(page.site, page.url, page.article, page_id=page.page_id,
                                           status=page.status or 200)
            self._inc(f"govnews/articles/{result.outcome}")
            # the page was recorded as "article" before dedup; say what it turned out to be
            if (page_outcome := _DEDUP_PAGE_OUTCOME.get(result.outcome)) is not None:
                archive.set_page_outcome(page.page_id, page_outcome,
                                         reason=f"{result.outcome}: article {result.article_id}")
            page.store_outcome = result.outcome
            page.article_id = result.article_id
        return page


# ------------------------------------------------------------------------------------ reextract
class Reextractor:
    """``(RawPage) -> Article`` for ``storage.reextract``: extraction as the crawl does it.

    The profile's hints for ``raw.site`` (``body_selector``, ``title_selector``, ``encoding``), the
    stored Content-Type charset when the profile names no encoding, the fetch time as extraction's
    ``now`` (as in the crawl), and the hostile-page flags. ``Article.attachments`` carry their
    extension (``ext``), so that ``storage.reextract`` links them as the crawl does.
    ``profiles`` is a ``hints_for(site)`` callable or a sites directory (default: the usual one,
    :func:`crawler.profiles.sites_dir`); a site without a profile is extracted without hints.
    """

    def __init__(self, profiles: HintsFor | str | os.PathLike | None = None, *,
                 contained: ContainedExtractor | bool = True):
        self.hints_for: HintsFor = profiles if callable(profiles) else ProfileHints(profiles)
        #: True: each page in a worker process under crawler.containment's limits (a page that
        #: hits them raises ContainmentError, which storage.reextract counts as an error and goes
        #: on); False: in-process
        self.contained: ContainedExtractor | None = (
            ContainedExtractor() if contained is True else (contained or None))

    def __call__(self, raw: RawPage) -> Article:
        charset = content_type_charset(_header(raw.headers, "Content-Type"))
        encoding, hints = extraction_options(self.hints_for(raw.site), charset)
        if self.contained is not None:
            article = self.contained.call(reextract_raw, raw.body, raw.url, encoding=encoding, hints=hints,
                                          now=raw.fetched_at)
        else:
            article = reextract_raw(raw.body, raw.url, encoding=encoding, hints=hints, now=raw.fetched_at)
        # the attachment rows storage.reextract links carry their extension, as the crawl's do
        article.attachments = [{**a, "ext": attachment_ext(a["url"], a.get("name")) or ""}
                               for a in (article.attachments or [])]
        return article

    def close(self) -> None:
        if self.contained is not None:
            self.contained.close()
