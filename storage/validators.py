"""HTTP validators (``http_validators``): the ETag / Last-Modified remembered per canonical URL,
for conditional GET. One implementation behind ``Archive.get/set_validators`` and
``storage.runs.get/set_validators``."""
from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, select

from common.clock import utcnow
from storage.models import HttpValidator
from storage.transactions import dialect_insert
from storage.urls import canonical_url

__all__ = ["get_validators", "set_validators"]

_T_VAL = cast(Table, HttpValidator.__table__)


def get_validators(conn: Connection, url: str) -> tuple[str | None, str | None] | None:
    """``(etag, last_modified)`` remembered for ``url`` (canonicalised), or ``None``."""
    r = conn.execute(select(_T_VAL.c.etag, _T_VAL.c.last_modified)
                     .where(_T_VAL.c.url == canonical_url(url))).first()
    return None if r is None else (r.etag, r.last_modified)


def set_validators(conn: Connection, url: str, etag: str | None, last_modified: str | None, *,
                   now: datetime | None = None) -> None:
    """Remember (insert or replace) the validators of ``url``."""
    checked_at = now or utcnow()
    stmt = dialect_insert(conn.dialect.name, _T_VAL).values(
        url=canonical_url(url), etag=etag, last_modified=last_modified, checked_at=checked_at)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[_T_VAL.c.url],
        set_=dict(etag=etag, last_modified=last_modified, checked_at=checked_at),
    ))
