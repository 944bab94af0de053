"""Audit queries: which sightings and revisions were merged into one article."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, or_, select

from storage.models import Article, ArticleRevision, Sighting, Site


def duplicate_groups(engine: Engine, *, site: str | None = None, since: datetime | None = None,
                     limit: int | None = None) -> list[dict]:
    """Articles with more than one sighting or at least one revision, newest activity first.

    ``site``: groups with at least one sighting on that site; ``since``: groups with a sighting or
    revision first seen at/after ``since``. Each group: article fields, ``representative`` (the
    copy the article displays: ``url``, ``site``, ``page_id``; see "Representative copy" in
    docs/STORAGE.md), ``sightings`` (url, site, first_seen, last_seen, status, revision_id,
    ``representative`` true for the displayed copy; that one listed first) and ``revisions`` (id,
    hash, title, url, similarity, first_seen).
    """
    n_sight = (select(Sighting.article_id, func.count().label("n"), func.max(Sighting.first_seen).label("last"))
               .group_by(Sighting.article_id).subquery())
    n_rev = (select(ArticleRevision.article_id, func.count().label("n"),
                    func.max(ArticleRevision.first_seen).label("last"))
             .group_by(ArticleRevision.article_id).subquery())
    rep_site = select(Site.name).where(Site.id == Article.site_id).scalar_subquery()
    q = (select(Article.id, Article.title, Article.url, Article.first_seen, Article.content_hash,
                Article.page_id, rep_site.label("site"),
                func.coalesce(n_sight.c.n, 0).label("n_sightings"),
                func.coalesce(n_rev.c.n, 0).label("n_revisions"))
         .outerjoin(n_sight, n_sight.c.article_id == Article.id)
         .outerjoin(n_rev, n_rev.c.article_id == Article.id)
         .where(or_(n_sight.c.n > 1, n_rev.c.n > 0))
         .order_by(func.coalesce(n_rev.c.last, n_sight.c.last).desc(), Article.id.desc()))
    if since is not None:
        q = q.where(or_(n_sight.c.last >= since, n_rev.c.last >= since))
    if site:
        q = q.where(Article.id.in_(select(Sighting.article_id).join(Site, Site.id == Sighting.site_id)
                                   .where(Site.name == site)))
    if limit:
        q = q.limit(limit)
    groups: list[dict] = []
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        ids = [r["id"] for r in rows]
        sightings: dict[int, list] = {}
        revisions: dict[int, list] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for s in conn.execute(
                select(Sighting.article_id, Sighting.url, Site.name.label("site"), Sighting.first_seen,
                       Sighting.last_seen, Sighting.status, Sighting.revision_id)
                .join(Site, Site.id == Sighting.site_id)
                .where(Sighting.article_id.in_(chunk)).order_by(Sighting.first_seen, Sighting.id)
            ).mappings():
                sightings.setdefault(s["article_id"], []).append(dict(s))
            for r in conn.execute(
                select(ArticleRevision.article_id, ArticleRevision.id, ArticleRevision.content_hash,
                       ArticleRevision.title, ArticleRevision.url, ArticleRevision.similarity,
                       ArticleRevision.first_seen)
                .where(ArticleRevision.article_id.in_(chunk)).order_by(ArticleRevision.id)
            ).mappings():
                revisions.setdefault(r["article_id"], []).append(dict(r))
    for r in rows:
        g = dict(r)
        g["representative"] = dict(url=g["url"], site=g.pop("site"), page_id=g.pop("page_id"))
        sights = sightings.get(r["id"], [])
        for s in sights:
            s["representative"] = s["url"] == g["url"]
        sights.sort(key=lambda s: not s["representative"])  # stable: the rest stay in first-seen order
        g["sightings"] = sights
        g["revisions"] = revisions.get(r["id"], [])
        groups.append(g)
    return groups
