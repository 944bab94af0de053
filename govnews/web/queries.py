"""What the web view reads, on SQLite and PostgreSQL: one function per page, each a few
indexed statements (no ORM objects, no whole-table reads on the article and search pages).

The article page reflects the ``articles`` table and the tables that point at it once per engine
(:class:`Schema`), so columns and tables added by later migrations (信息公开 fields, attachments)
are shown when they exist and nothing fails when they do not.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, Table, and_, func, inspect, literal, literal_column, select
from sqlalchemy.sql.sqltypes import LargeBinary

from common.clock import LOCAL_TZ, LOCAL_TZ_NAME, utcnow
from govnews.web.db import aware
from storage.models import Article, ArticleRevision, CrawlRun, Page, Sighting, Site
from storage.runs import latest_runs_by_site

__all__ = ["PAGE_SIZE", "Schema", "article_detail", "site_names", "health_data", "raw_page", "schema", "site_articles",
           "sites_overview"]

PAGE_SIZE = 50
HEALTH_DAYS = 90
RUNS_PER_SITE = 8
BLOCKED_SHOWN = 50
FAILURE_WINDOW_DAYS = 30

A = Article.__table__
S = Site.__table__
SI = Sighting.__table__
R = ArticleRevision.__table__
P = Page.__table__
C = CrawlRun.__table__

#: article columns shown in this order with these labels; any other column is shown after them
ARTICLE_FIELDS = [
    ("title", "标题 title"), ("published_at", "发布时间 published"), ("source", "来源 source"),
    ("author", "作者 author"), ("editor", "编辑 editor"), ("column", "栏目 column"),
    ("original_title", "原标题 original title"), ("summary", "摘要 summary"), ("url", "URL"),
    ("first_seen", "首次存档 first archived"), ("updated_at", "更新 updated"),
]
#: columns never listed as fields (shown elsewhere on the page, or internal)
HIDDEN_FIELDS = {"id", "site_id", "body", "body_simplified", "title_simplified", "page_id"}
#: tables pointing at articles that the page already shows, or that are internal
KNOWN_CHILDREN = {"sightings", "article_revisions", "minhash_bands", "articles_fts", "articles_search_src"}


# ----------------------------------------------------------------------------------- schema
@dataclass
class Child:
    """A table with an ``article_id`` column (attachments, disclosure records, ...), and the
    tables its other foreign keys point at (joined in, e.g. article_attachments -> attachments)."""

    table: Table
    joins: list[tuple[Table, Any]] = field(default_factory=list)


@dataclass
class Schema:
    articles: Table
    extra_columns: list[str]
    children: list[Child]


_schemas: dict[int, Schema] = {}
_schema_lock = threading.Lock()


def schema(engine: Engine) -> Schema:
    """The reflected article schema of ``engine`` (once per engine)."""
    with _schema_lock:
        found = _schemas.get(id(engine))
        if found is not None:
            return found
        md = MetaData()
        insp = inspect(engine)
        names = set(insp.get_table_names())
        articles = Table("articles", md, autoload_with=engine)
        known = {name for name, _ in ARTICLE_FIELDS} | HIDDEN_FIELDS
        extra = [c.name for c in articles.columns if c.name not in known]
        children = []
        for name in sorted(names - KNOWN_CHILDREN - {"articles"}):
            cols = {c["name"] for c in insp.get_columns(name)}
            if "article_id" not in cols:
                continue
            t = Table(name, md, autoload_with=engine)
            child = Child(t)
            for fk in insp.get_foreign_keys(name):
                target = fk.get("referred_table")
                if not target or target == "articles" or target not in names or len(fk["constrained_columns"]) != 1:
                    continue
                other = Table(target, md, autoload_with=engine)
                local = t.c[fk["constrained_columns"][0]]
                remote = other.c[fk["referred_columns"][0]]
                child.joins.append((other, local == remote))
            children.append(child)
        found = Schema(articles, extra, children)
        _schemas[id(engine)] = found
        return found


def forget_schema(engine: Engine) -> None:
    with _schema_lock:
        _schemas.pop(id(engine), None)


# ----------------------------------------------------------------------------------- home
def sites_overview(engine: Engine) -> list[dict[str, Any]]:
    """Per site: name, title, articles, sightings, newest publication, last crawl run (or None)."""
    with engine.connect() as conn:
        sites = conn.execute(select(S.c.id, S.c.name, S.c.title).order_by(S.c.name)).all()
        counts, sightings, newest = {}, {}, {}
        for s in sites:   # per site, so each answer comes from an index (site_id, first_seen) / (site_id)
            counts[s.id] = conn.scalar(select(func.count()).select_from(A).where(A.c.site_id == s.id))
            sightings[s.id] = conn.scalar(select(func.count()).select_from(SI).where(SI.c.site_id == s.id))
            newest[s.id] = conn.scalar(select(func.max(A.c.first_seen)).where(A.c.site_id == s.id))
    last_run = latest_runs_by_site(engine, [s.name for s in sites]) if sites else {}
    return [{"id": s.id, "name": s.name, "title": s.title, "articles": counts.get(s.id) or 0,
             "sightings": sightings.get(s.id) or 0, "newest": aware(newest.get(s.id)),
             "last_run": last_run.get(s.name)} for s in sites]


def site_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(S.c.name).order_by(S.c.name)).scalars())


# ----------------------------------------------------------------------------------- site
def site_articles(engine: Engine, name: str, *, column: str | None = None, page: int = 1,
                  per_page: int = PAGE_SIZE) -> dict[str, Any] | None:
    """One page of a site's articles, newest published first (undated ones last), with the
    site's columns and their counts; ``None`` when there is no such site.

    Three indexed statements (migration 0008): the column counts are an index-only group-by on
    (site_id, column, ...) and give the total; the page is read backwards from (site_id,
    published_at, id) — or (site_id, column, published_at, id) — in two parts, dated rows then
    undated ones, which is ``ORDER BY published_at DESC NULLS LAST, id DESC`` without a sort."""
    with engine.connect() as conn:
        site = conn.execute(select(S.c.id, S.c.name, S.c.title).where(S.c.name == name)).first()
        if site is None:
            return None
        columns = conn.execute(
            select(A.c.column, func.count()).where(A.c.site_id == site.id)
            .group_by(A.c.column).order_by(func.count().desc(), A.c.column)).all()
        where = [A.c.site_id == site.id]
        if column is None:
            total = sum(n for _c, n in columns)
        else:
            where.append(A.c.column == column if column else A.c.column.is_(None))
            total = next((n for c, n in columns if c == (column or None)), 0)
        shown = select(A.c.id, A.c.title, A.c.published_at, A.c.first_seen, A.c.column, A.c.source, A.c.url)
        offset = (page - 1) * per_page
        dated = [*where, A.c.published_at.is_not(None)]
        rows = list(conn.execute(shown.where(*dated).order_by(A.c.published_at.desc(), A.c.id.desc())
                                 .limit(per_page).offset(offset)))
        if len(rows) < per_page:          # the page reaches the undated articles (newest archived first)
            n_dated = (offset + len(rows) if rows or not offset
                       else conn.scalar(select(func.count()).select_from(A).where(*dated)) or 0)
            rows += conn.execute(shown.where(*where, A.c.published_at.is_(None)).order_by(A.c.id.desc())
                                 .limit(per_page - len(rows)).offset(max(0, offset - n_dated))).all()
    items = [dict(r._mapping, published_at=aware(r.published_at), first_seen=aware(r.first_seen)) for r in rows]
    for it in items:
        when = it["published_at"]
        it["day"] = when.astimezone(LOCAL_TZ).strftime("%Y-%m-%d") if when else None
    return {"site": dict(site._mapping), "columns": [(c, n) for c, n in columns], "column": column,
            "items": items, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page))}


# ----------------------------------------------------------------------------------- article
def _value(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def article_detail(engine: Engine, article_id: int) -> dict[str, Any] | None:
    """Everything about one article: fields (every column), body, sightings, revisions, the
    rows of tables pointing at it (attachments, ...); ``None`` when there is no such article."""
    sc = schema(engine)
    t = sc.articles
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == article_id)).first()
        if row is None:
            return None
        art = dict(row._mapping)
        site = conn.execute(select(S.c.name, S.c.title).where(S.c.id == art["site_id"])).first()
        sightings = conn.execute(
            select(SI.c.id, SI.c.url, SI.c.first_seen, SI.c.last_seen, SI.c.status, SI.c.page_id,
                   SI.c.revision_id, S.c.name.label("site"))
            .select_from(SI.join(S, S.c.id == SI.c.site_id))
            .where(SI.c.article_id == article_id).order_by(SI.c.id)).all()
        revisions = conn.execute(
            select(R.c.id, R.c.title, R.c.body, R.c.url, R.c.similarity, R.c.first_seen, R.c.page_id)
            .where(R.c.article_id == article_id).order_by(R.c.id)).all()
        page = None
        if art.get("page_id") is not None:
            page = conn.execute(select(P.c.id, P.c.url, P.c.status, P.c.fetched_at, P.c.length, P.c.outcome)
                                .where(P.c.id == art["page_id"])).first()
        related = []
        for child in sc.children:
            cols = [c for c in child.table.columns if not isinstance(c.type, LargeBinary)]
            src: Any = child.table
            for other, on in child.joins:
                src = src.outerjoin(other, on)
                cols += [c.label(f"{other.name}.{c.name}") for c in other.columns
                         if not isinstance(c.type, LargeBinary) and c.name != "id"]
            rows = conn.execute(select(*cols).select_from(src)
                                .where(child.table.c.article_id == article_id).limit(200)).all()
            if rows:
                keys = [k for k in rows[0]._mapping if k not in ("article_id", "id")]
                related.append({"table": child.table.name, "columns": keys,
                                "rows": [[_value(r._mapping[k]) for k in keys] for r in rows]})
    for k in ("published_at", "first_seen", "updated_at"):
        art[k] = aware(art.get(k))
    fields = [(label, key, art.get(key)) for key, label in ARTICLE_FIELDS if key in art]
    fields += [(key, key, _value(art.get(key))) for key in sc.extra_columns]
    return {
        "article": art, "site": dict(site._mapping) if site else {"name": "?", "title": None},
        "fields": fields,
        "paragraphs": [p for p in (art.get("body") or "").split("\n") if p.strip()],
        "sightings": [dict(s._mapping, first_seen=aware(s.first_seen), last_seen=aware(s.last_seen))
                      for s in sightings],
        "revisions": [dict(r._mapping, first_seen=aware(r.first_seen)) for r in revisions],
        "page": dict(page._mapping, fetched_at=aware(page.fetched_at)) if page else None,
        "related": related,
    }


def raw_page(engine: Engine, page_id: int):
    """The stored fetch ``page_id`` (a :class:`storage.pages.RawPage`) or ``None``."""
    from storage.pages import load_raw_page

    with engine.connect() as conn:
        return load_raw_page(conn, page_id)


# ----------------------------------------------------------------------------------- health
def _local_day(dt: datetime) -> str:
    return dt.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")


def _day_sql(dialect: str, col: Any, since: datetime, until: datetime) -> Any:
    """SQL for the Asia/Shanghai day (``YYYY-MM-DD``) of ``col``, or None to bucket in Python.
    SQLite has no time zones: it shifts by the zone's UTC offset, valid when the offset is the same
    at both ends of the range (Asia/Shanghai: +8 hours, no daylight saving since 1991), as the
    ``site_daily_counts`` view of migration 0002 does."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal_column(f"'{LOCAL_TZ_NAME}'"), col), literal_column("'YYYY-MM-DD'"))
    if dialect == "sqlite":
        first, last = since.astimezone(LOCAL_TZ).utcoffset(), until.astimezone(LOCAL_TZ).utcoffset()
        if first is not None and first == last:
            return func.date(col, literal_column(f"'{int(first.total_seconds() // 60):+d} minutes'"))
    return None


def daily_counts(engine: Engine, since: datetime, now: datetime | None = None) -> dict[str, dict[str, dict[str, int]]]:
    """``{site: {"published": {day: n}, "archived": {day: n}}}`` since ``since`` (Asia/Shanghai
    days): by publication time (first archived when undated), and by first archived.

    Indexed ranges only, counted by day in SQL (two grouped statements per site, one for all): per
    site ``first_seen >= since`` on (site_id, first_seen) — archived, and the undated articles'
    publication day — and ``published_at >= since`` on (published_at) for the dated ones."""
    out: dict[str, dict[str, dict[str, int]]] = {}

    def add(name: str, kind: str, day: Any, n: int) -> None:
        if not isinstance(day, str):
            day = _local_day(aware(day))  # type: ignore[arg-type]
        d = out.setdefault(name, {"published": {}, "archived": {}})[kind]
        d[day] = d.get(day, 0) + n

    def grouped(key: Any, raw: Any, *cols: Any) -> Any:
        if key is None:        # no SQL day: every row, bucketed in Python
            return select(*cols, raw, literal(1))
        return select(*cols, key, func.count()).group_by(*cols, key)

    with engine.connect() as conn:
        dialect = engine.dialect.name
        end = now or utcnow()
        seen_day = _day_sql(dialect, A.c.first_seen, since, end)
        pub_day = _day_sql(dialect, A.c.published_at, since, end)
        names = dict(conn.execute(select(S.c.id, S.c.name)).all())
        for site_id, name in names.items():
            in_range = (A.c.site_id == site_id, A.c.first_seen >= since)
            for day, n in conn.execute(grouped(seen_day, A.c.first_seen).where(*in_range)):
                add(name, "archived", day, n)
            for day, n in conn.execute(grouped(seen_day, A.c.first_seen).where(*in_range, A.c.published_at.is_(None))):
                add(name, "published", day, n)
        for site_id, day, n in conn.execute(grouped(pub_day, A.c.published_at, A.c.site_id)
                                            .where(A.c.published_at >= since)):
            add(names.get(site_id, "?"), "published", day, n)
    return out


def health_data(engine: Engine, profiles: list | None = None, now: datetime | None = None, *,
                days: int = HEALTH_DAYS, deadletter_dir: Any = None) -> dict[str, Any]:
    """Everything the crawl-health page shows (see docs/WEB.md): per site the daily counts of the
    last ``days`` days, the last runs, schedule health (``govnews.scheduling.site_health``); failures
    by reason, blocked pages and dead letters waiting."""
    from govnews.scheduling import site_health

    now = now or utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=LOCAL_TZ)
    day_list = [(first_day + timedelta(days=i)).isoformat() for i in range(days)]
    sites = sites_overview(engine)
    counts = daily_counts(engine, since, now)
    fail_since = now - timedelta(days=FAILURE_WINDOW_DAYS)
    health = {h["site"]: h for h in site_health(engine, profiles or [], now)} if profiles else {}
    names = [s["name"] for s in sites] + [n for n in health if n not in {s["name"] for s in sites}]
    with engine.connect() as conn:
        runs: dict[str, list[dict]] = {}
        run_failures: dict[str, dict[str, int]] = {}
        shown = (C.c.id, C.c.site, C.c.trigger, C.c.started_at, C.c.finished_at, C.c.status, C.c.requests,
                 C.c.pages, C.c.new_articles, C.c.duplicates, C.c.failures, C.c.exit_code)
        for site_name in names:   # per site: index (site, started_at), read backwards, LIMIT
            for r in conn.execute(select(*shown).where(C.c.site == site_name)
                                  .order_by(C.c.started_at.desc(), C.c.id.desc()).limit(RUNS_PER_SITE)):
                d = dict(r._mapping)
                d["started_at"], d["finished_at"] = aware(d["started_at"]), aware(d["finished_at"])
                d["failures"] = _value(d["failures"]) or {}
                d["duration"] = ((d["finished_at"] - d["started_at"]).total_seconds()
                                 if d["finished_at"] and d["started_at"] else None)
                runs.setdefault(d["site"], []).append(d)
            for (failures,) in conn.execute(select(C.c.failures).where(C.c.site == site_name,
                                                                          C.c.started_at >= fail_since)):
                agg = run_failures.setdefault(site_name, {})
                for k, v in (_value(failures) or {}).items():
                    agg[k] = agg.get(k, 0) + int(v or 0)
        bad = ("failed", "refused", "blocked", "soft404", "empty")
        reason_key = func.coalesce(P.c.reason, literal(""))
        page_failures = conn.execute(   # index (outcome, fetched_at) of 0008
            select(S.c.name, P.c.outcome, reason_key.label("reason"), func.count().label("n"))
            .select_from(P.join(S, S.c.id == P.c.site_id))
            .where(P.c.outcome.in_(bad), P.c.fetched_at >= fail_since)
            .group_by(S.c.name, P.c.outcome, reason_key).order_by(func.count().desc()).limit(200)).all()
        blocked_cols = (S.c.name.label("site"), P.c.id, P.c.url, P.c.status, P.c.fetched_at, P.c.reason)
        blocked = []
        for cond in (P.c.outcome == "blocked", and_(P.c.outcome == "failed", P.c.reason.like("%challenge%"))):
            blocked += conn.execute(select(*blocked_cols).select_from(P.join(S, S.c.id == P.c.site_id)).where(cond)
                                    .order_by(P.c.fetched_at.desc(), P.c.id.desc()).limit(BLOCKED_SHOWN)).all()
        blocked = sorted(blocked, key=lambda r: (aware(r.fetched_at) or now, r.id), reverse=True)[:BLOCKED_SHOWN]
    per_site = []
    by_name = {s["name"]: s for s in sites}
    for name in names:
        c = counts.get(name, {"published": {}, "archived": {}})
        per_site.append({
            "name": name, "overview": by_name.get(name),
            "published": [c["published"].get(d, 0) for d in day_list],
            "archived": [c["archived"].get(d, 0) for d in day_list],
            "runs": runs.get(name, []), "health": health.get(name),
            "run_failures": sorted(run_failures.get(name, {}).items(), key=lambda kv: -kv[1]),
        })
    silent = [h for h in health.values() if set(h["flags"]) & {"overdue", "failing", "no_new_articles"}]
    return {"now": now, "days": day_list, "sites": per_site, "silent": silent,
            "page_failures": [dict(r._mapping) for r in page_failures],
            "blocked": [dict(r._mapping, fetched_at=aware(r.fetched_at)) for r in blocked],
            "deadletters": deadletters(deadletter_dir)}


def deadletters(directory: Any = None) -> dict[str, Any]:
    """Dead letters waiting for replay: files and records per site (``crawler.deadletter``)."""
    from crawler.deadletter import deadletter_dir, letter_files

    root = directory if directory is not None else deadletter_dir()
    per_site: dict[str, dict[str, int]] = {}
    for path in letter_files(root):
        d = per_site.setdefault(path.parent.name, {"files": 0, "records": 0})
        d["files"] += 1
        try:
            with open(path, "rb") as f:            # one record a line; not parsed (bodies are large)
                d["records"] += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        except OSError:
            pass
    return {"dir": str(root), "sites": sorted(per_site.items())}
