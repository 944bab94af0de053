"""Fetched pages (the ``pages`` table): every fetch is a row, successful or not.

* :class:`RawPage` — a stored fetch as the crawler (re-)reads it: raw bytes decompressed, selected
  headers, status, site name. Storage does not decode charsets; the caller's extractor does.
* :func:`select_headers` — the headers kept with a page (ETag, Last-Modified, Content-Type, ...).
* :func:`record_page`, :func:`set_page_outcome`, :func:`page_body`, :func:`load_raw_page` — the
  statements, on a connection the caller owns (``storage.archive.Archive`` wraps them in retried
  write transactions).

Raw bytes are stored once per URL and content: a fetch whose bytes (sha256) equal a stored copy of
the same URL is recorded with ``raw`` NULL and ``raw_page_id`` naming the page that holds them
(migration 0005); :func:`page_body` and :func:`load_raw_page` follow the pointer.

Outcomes are :class:`storage.enums.PageOutcome` values (a CHECK constraint since migration 0003);
an unknown outcome raises ``ValueError`` before anything is written.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select, update

from common.clock import utcnow
from storage.codecs import compress, decompress
from storage.enums import PageOutcome
from storage.models import Page, Site

__all__ = ["SELECTED_HEADERS", "RawPage", "blob_holder", "check_outcome", "load_raw_page", "page_body",
           "page_row", "record_page", "select_headers", "set_page_outcome", "stored_body"]

SELECTED_HEADERS = ("etag", "last-modified", "content-type", "content-length", "location",
                    "content-encoding", "cache-control")
_T_PAGE = cast(Table, Page.__table__)
_T_SITE = cast(Table, Site.__table__)


@dataclass(frozen=True)
class RawPage:
    """One stored fetch: what an extractor needs to extract it again."""

    page_id: int | None
    site: str
    url: str
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fetched_at: datetime | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by name, case-insensitively (stored names are lower-case)."""
        name = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == name), default)


def _text(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(v).decode("latin-1")
    return str(v)


def select_headers(headers: Mapping | None) -> dict[str, str]:
    """ETag, Last-Modified, Content-Type, ... from a dict or Scrapy ``Headers`` (bytes, lists)."""
    out: dict[str, str] = {}
    if not headers:
        return out
    for k, v in dict(headers).items():
        name = _text(k).lower()
        if name not in SELECTED_HEADERS:
            continue
        if isinstance(v, (list, tuple)):
            v = v[0] if v else ""
        out[name] = _text(v)
    return out


def check_outcome(outcome: str) -> PageOutcome:
    """``outcome`` as a :class:`PageOutcome`; ``ValueError`` naming the allowed values otherwise."""
    try:
        return PageOutcome(outcome)
    except ValueError:
        allowed = ", ".join(o.value for o in PageOutcome)
        raise ValueError(f"page outcome must be one of {allowed}; not {outcome!r}") from None


def page_row(site_id: int | None, url: str, *, status: int | None, headers: Mapping | None,
             body: bytes | None, outcome: str, reason: str | None, fetched_at: datetime | None,
             codec: str) -> dict[str, Any]:
    """The ``pages`` row for one fetch (bytes compressed, length and sha256 of the raw bytes)."""
    raw = None if body is None else bytes(body)
    return dict(
        url=url, site_id=site_id, status=status, headers=select_headers(headers),
        fetched_at=fetched_at or utcnow(), codec=codec,
        raw=None if raw is None else compress(raw, codec),
        length=0 if raw is None else len(raw),
        sha256=None if raw is None else hashlib.sha256(raw).hexdigest(),
        outcome=check_outcome(outcome).value, reason=reason,
    )


def blob_holder(conn: Connection, url: str, sha256: str | None) -> int | None:
    """The page holding the stored bytes of ``url`` with this ``sha256`` (None: not stored yet)."""
    if not sha256:
        return None
    r = conn.execute(select(_T_PAGE.c.id, _T_PAGE.c.raw_page_id, _T_PAGE.c.raw.is_not(None).label("has_raw"))
                     .where(_T_PAGE.c.url == url, _T_PAGE.c.sha256 == sha256)
                     .order_by(_T_PAGE.c.id.desc()).limit(1)).first()
    if r is None:
        return None
    return r.raw_page_id if r.raw_page_id is not None else (r.id if r.has_raw else None)


def record_page(conn: Connection, row: Mapping[str, Any]) -> int:
    """Insert a row made by :func:`page_row`; returns ``page_id``. Bytes already stored for the
    same URL are not stored again: the row points at the page that holds them."""
    values = dict(row)
    if values.get("raw") is not None:
        holder = blob_holder(conn, values["url"], values.get("sha256"))
        if holder is not None:
            values["raw"] = None
            values["raw_page_id"] = holder
    return conn.execute(_T_PAGE.insert().values(**values).returning(_T_PAGE.c.id)).scalar_one()


def _raw_of(conn: Connection, raw: bytes | None, codec: str, raw_page_id: int | None) -> bytes | None:
    if raw is None and raw_page_id is not None:
        r = conn.execute(select(_T_PAGE.c.raw, _T_PAGE.c.codec).where(_T_PAGE.c.id == raw_page_id)).first()
        if r is not None:
            raw, codec = r.raw, r.codec
    return decompress(raw, codec)


def stored_body(conn: Connection, row: Any) -> bytes | None:
    """The raw bytes of a ``pages`` row already read (``raw``, ``codec``, ``raw_page_id``), decompressed."""
    return _raw_of(conn, row.raw, row.codec, row.raw_page_id)


def set_page_outcome(conn: Connection, page_id: int, outcome: str, reason: str | None = None) -> None:
    conn.execute(update(_T_PAGE).where(_T_PAGE.c.id == page_id)
                 .values(outcome=check_outcome(outcome).value, reason=reason))


def page_body(conn: Connection, page_id: int) -> bytes | None:
    """The raw bytes of a stored fetch, decompressed (``None``: no such page, or no body)."""
    r = conn.execute(select(_T_PAGE.c.raw, _T_PAGE.c.codec, _T_PAGE.c.raw_page_id)
                     .where(_T_PAGE.c.id == page_id)).first()
    return None if r is None else stored_body(conn, r)


def load_raw_page(conn: Connection, page_id: int, *, default_site: str = "") -> RawPage | None:
    """The stored fetch ``page_id`` as a :class:`RawPage` (``None`` when there is no such row)."""
    r = conn.execute(
        select(_T_PAGE.c.id, _T_PAGE.c.url, _T_PAGE.c.status, _T_PAGE.c.headers, _T_PAGE.c.raw,
               _T_PAGE.c.codec, _T_PAGE.c.raw_page_id, _T_PAGE.c.fetched_at, _T_SITE.c.name)
        .select_from(_T_PAGE.outerjoin(_T_SITE, _T_SITE.c.id == _T_PAGE.c.site_id))
        .where(_T_PAGE.c.id == page_id)).first()
    if r is None:
        return None
    return RawPage(page_id=r.id, site=r.name or default_site, url=r.url, status=r.status,
                   headers={str(k): str(v) for k, v in (r.headers or {}).items()},
                   body=stored_body(conn, r) or b"", fetched_at=r.fetched_at)
