"""Article URL templates learned per site (the ``site_templates`` table, migration 0004).

The spider seeds its :class:`crawler.discovery.templates.TemplateBook` from :func:`load_templates`
at the start of a crawl and writes what it learned with :func:`save_templates` at the end, so the
next crawl (and ``govnews sites --verbose`` / ``govnews stats``) knows the site's article shapes.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select

from common.clock import utcnow
from storage.models import SiteTemplate
from storage.transactions import retrying

__all__ = ["MAX_TEMPLATES_PER_SITE", "load_templates", "save_templates", "templates_by_site"]

_T = cast(Table, SiteTemplate.__table__)
MAX_TEMPLATES_PER_SITE = 200
EXAMPLE_CHARS = 1000


def _conn_ctx(bind: Engine | Connection):
    return bind.begin() if isinstance(bind, Engine) else _Same(bind)


class _Same:
    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def load_templates(bind: Engine | Connection, site: str, kind: str = "article") -> list[tuple[str, int, str]]:
    """``(template, support, example)`` of ``site``, most supported first."""
    with _conn_ctx(bind) as conn:
        rows = conn.execute(select(_T.c.template, _T.c.support, _T.c.example)
                            .where(_T.c.site == site, _T.c.kind == kind)
                            .order_by(_T.c.support.desc(), _T.c.template)
                            .limit(MAX_TEMPLATES_PER_SITE)).all()
    return [(r[0], int(r[1] or 0), r[2] or "") for r in rows]


def save_templates(bind: Engine | Connection, site: str, learned: Iterable[tuple[str, int, str]], *,
                   kind: str = "article", now: datetime | None = None) -> int:
    """Add this crawl's support to each template (new ones inserted); returns the rows written."""
    now = now or utcnow()
    rows = list(learned)[:MAX_TEMPLATES_PER_SITE]

    def save(conn: Connection) -> int:
        n = 0
        existing = {r[0]: (r[1], r[2]) for r in conn.execute(
            select(_T.c.template, _T.c.id, _T.c.support).where(_T.c.site == site, _T.c.kind == kind))}
        for template, support, example in rows:
            if template in existing:
                tid, old = existing[template]
                conn.execute(_T.update().where(_T.c.id == tid).values(support=int(old or 0) + int(support),
                                                                        last_seen=now))
            elif len(existing) < MAX_TEMPLATES_PER_SITE:
                conn.execute(_T.insert().values(site=site, kind=kind, template=template, support=int(support),
                                                example=(example or "")[:EXAMPLE_CHARS], first_seen=now,
                                                last_seen=now))
                existing[template] = (None, support)
            else:
                continue
            n += 1
        return n

    # on an engine: one write transaction, retried while a busy SQLite archive is locked
    return retrying(bind, save) if isinstance(bind, Engine) else save(bind)


def templates_by_site(bind: Engine | Connection, kind: str = "article") -> dict[str, list[dict[str, Any]]]:
    """``{site: [{"template", "support", "example", "last_seen"}, ...]}`` for every site (stats, sites)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with _conn_ctx(bind) as conn:
        for r in conn.execute(select(_T.c.site, _T.c.template, _T.c.support, _T.c.example, _T.c.last_seen)
                              .where(_T.c.kind == kind).order_by(_T.c.site, _T.c.support.desc(), _T.c.template)):
            out.setdefault(r[0], []).append({"template": r[1], "support": int(r[2] or 0), "example": r[3] or "",
                                             "last_seen": r[4]})
    return out
