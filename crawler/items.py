"""The crawl's one item: :class:`FetchedPage`, a fetched (or failed) page on its way to the archive.

The spider makes one per response (:meth:`FetchedPage.from_response`) and per failed request
(:meth:`FetchedPage.failure`); nothing else builds page items. :class:`crawler.ingest.IngestService`
fills in what extraction and storage found (``outcome``, ``article``, ``page_id``, ...). Scrapy treats
dataclass instances as items (itemadapter), so the pipelines receive this object as it is.

Dead letters (:mod:`crawler.deadletter`) keep a page as :meth:`FetchedPage.to_record` (JSON) and read
it back with :meth:`FetchedPage.from_record`, which also reads the plain dicts written before this
class existed.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from common.clock import utcnow
from crawler.extract.article import Article
from crawler.extract.decode import content_type_charset

if TYPE_CHECKING:
    from scrapy.http import Response

__all__ = ["FAILURE_KINDS", "KINDS", "FetchedPage", "response_headers"]

#: what was fetched: the request's kind for a response, ``failed`` / ``refused`` for an error
KINDS = ("list", "article", "feed", "sitemap", "failed", "refused")
#: kinds of pages that never reached a response worth extracting
FAILURE_KINDS = ("failed", "refused")


def response_headers(response: Response) -> dict[str, str]:
    """Scrapy ``Headers`` as ``{name: "v1, v2"}`` (latin-1, as HTTP sends them)."""
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}


@dataclass
class FetchedPage:
    """One fetched page, or one request that ended in an error.

    Set by the spider: ``kind`` (see :data:`KINDS`), ``site``, ``url`` (the URL asked for; for a
    failure after redirects, the first one), ``request_url``, ``status``, ``headers``, ``body`` (raw
    bytes), ``charset`` (the Content-Type header's), ``fetched_at`` (aware UTC), ``reason`` (why it
    failed / was refused / was blocked), ``request_kind`` (the failed request's kind),
    ``link_text`` / ``list_url`` (where an article link was found), ``expect_article`` (the link was
    an article link of a learned template or the profile's regex: extraction keeps the page whatever
    its length).

    Set by :class:`crawler.ingest.IngestService`: ``outcome`` (a ``storage.enums.PageOutcome`` value
    or ``refused``), ``article`` (the extraction result), ``page_id`` (the ``pages`` row),
    ``store_outcome`` (``new`` / ``duplicate`` / ``revision`` / ``seen``), ``article_id``; by the
    dead-letter guard: ``deadletter`` (the file the page was kept in).
    """

    kind: str
    site: str
    url: str
    request_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = field(default=b"", repr=False)
    charset: str | None = None
    fetched_at: datetime | None = None
    reason: str | None = None
    request_kind: str | None = None
    link_text: str | None = None
    list_url: str | None = None
    expect_article: bool = False
    outcome: str | None = None
    article: Article | None = field(default=None, repr=False)
    page_id: int | None = None
    store_outcome: str | None = None
    article_id: int | None = None
    deadletter: str | None = None

    #: fields a dead letter does not keep: the body travels apart (base64), the rest is recomputed
    #: by replay (extraction is pure) or belongs to the write that failed
    DERIVED: ClassVar[tuple[str, ...]] = ("article", "body", "store_outcome", "article_id", "deadletter")

    # --------------------------------------------------------------------------- factories
    @classmethod
    def from_response(cls, response: Response, kind: str, *, site: str, now: datetime | None = None,
                      **extra: Any) -> FetchedPage:
        """The page item for ``response`` (``extra``: ``outcome``, ``reason``, ``link_text``, ...)."""
        request = response.request
        return cls(kind=kind, site=site, url=response.url,
                   request_url=request.url if request is not None else response.url,
                   status=response.status, headers=response_headers(response), body=response.body,
                   charset=content_type_charset(response.headers.get(b"Content-Type")),
                   fetched_at=now or utcnow(), **extra)

    @classmethod
    def failure(cls, site: str, url: str, reason: str, *, headers: dict[str, str] | None = None,
                request_kind: str | None = None, request_url: str | None = None, status: int | None = None,
                body: bytes = b"", kind: str = "failed", now: datetime | None = None) -> FetchedPage:
        """A request that ended without a page to extract (``kind`` ``failed`` or ``refused``).

        ``url`` is the URL asked for, ``request_url`` the one that failed (default: ``url``);
        ``headers`` what is worth keeping (a redirect's ``Location``); ``status`` / ``body`` those of
        an error response (an HTTP 404 page), if any.
        """
        if kind not in FAILURE_KINDS:
            raise ValueError(f"a failure's kind is one of {FAILURE_KINDS}, not {kind!r}")
        return cls(kind=kind, site=site, url=url, request_url=request_url or url, status=status,
                   headers=dict(headers or {}), body=body, charset=None, fetched_at=now or utcnow(),
                   reason=reason, request_kind=request_kind)

    # --------------------------------------------------------------------------- dead letters
    def to_record(self) -> dict[str, Any]:
        """The page as JSON-ready values, without :attr:`DERIVED` fields (the body included)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in self.DERIVED:
                continue
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, dict):
                value = {str(k): str(v) for k, v in value.items()}
            out[f.name] = value
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any], body: bytes = b"") -> FetchedPage:
        """The page back from :meth:`to_record` output, or from an item dict of an older letter.

        Keys this class does not know (``hints`` of old letters: replay takes the site profile's
        hints now) are ignored; ``{"b64": ...}`` values (how old letters kept bytes) are decoded.
        """
        known = {f.name for f in fields(cls)} - set(cls.DERIVED)
        values: dict[str, Any] = {}
        for key, value in record.items():
            if key not in known:
                continue
            if isinstance(value, dict) and set(value) == {"b64"}:
                value = base64.b64decode(value["b64"])
            values[key] = value
        if isinstance(values.get("fetched_at"), str):
            values["fetched_at"] = datetime.fromisoformat(values["fetched_at"])
        values["headers"] = dict(values.get("headers") or {})
        return cls(**values, body=body)     # kind, site and url are required (TypeError without)
