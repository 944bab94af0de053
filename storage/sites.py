"""Sites (the ``sites`` table): one row per site profile name."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, select, update

from common.clock import utcnow
from storage.models import Site

__all__ = ["ensure_site", "find_site_id"]

_T_SITE = cast(Table, Site.__table__)


def find_site_id(conn: Connection, name: str) -> int | None:
    return conn.execute(select(_T_SITE.c.id).where(_T_SITE.c.name == name)).scalar()


def ensure_site(conn: Connection, name: str, title: str | None = None, allowed_domains: Iterable[str] = (),
                *, now: datetime | None = None) -> int:
    """Create the site row, or update its title / domains when given; returns its id."""
    domains = sorted(set(allowed_domains or ()))
    sid = find_site_id(conn, name)
    if sid is None:
        return conn.execute(_T_SITE.insert().values(
            name=name, title=title, allowed_domains=domains, created_at=now or utcnow()
        ).returning(_T_SITE.c.id)).scalar_one()
    vals: dict[str, object] = {}
    if title is not None:
        vals["title"] = title
    if domains:
        vals["allowed_domains"] = domains
    if vals:
        conn.execute(update(_T_SITE).where(_T_SITE.c.id == sid).values(**vals))
    return sid
