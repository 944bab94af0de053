"""full-text search (simplified title + FTS5 trigram / pg_trgm) and the stable SQL views

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00

* ``articles.title_simplified`` (OpenCC t2s of the title), backfilled here for existing rows.
* SQLite: ``articles_search_src`` (view: the text that is indexed), ``articles_fts`` (FTS5,
  external content = that view, ``tokenize='trigram'``), ``articles_fts_vocab`` (fts5vocab
  ``instance``: the short-query path) and triggers ``articles_fts_ai/_ad/_au`` keeping the index in
  step with ``articles``; the index is built here from the existing rows.
* PostgreSQL: extension ``pg_trgm``; GIN ``gin_trgm_ops`` indexes on ``body_simplified`` and on
  ``coalesce(title_simplified, title, '')``.
* Both: views ``article_view``, ``site_daily_counts``, ``site_latest_crawl`` (see docs/SQL.md).

The SQL is frozen here on purpose (a later change of the views is a new revision).
Objects that autogenerate cannot compare are excluded in ``alembic/env.py``.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from common.text import to_simplified  # OpenCC t2s, the same converter the archive uses on insert

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 2000

# --------------------------------------------------------------------------- SQLite search
# Two spaces are appended to each indexed column so that every character of the text starts a
# trigram: a 1- or 2-character query q then matches exactly the documents having an index term
# with prefix q (see storage/search.py, "short queries").
SQLITE_SEARCH = [
    """CREATE VIEW articles_search_src AS
       SELECT id, coalesce(title_simplified, title, '') || '  ' AS title,
              coalesce(body_simplified, '') || '  ' AS body
       FROM articles""",
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
       title, body, content='articles_search_src', content_rowid='id', tokenize='trigram')""",
    "CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, 'instance')",
    """CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
         INSERT INTO articles_fts(rowid, title, body) VALUES (
           new.id, coalesce(new.title_simplified, new.title, '') || '  ',
           coalesce(new.body_simplified, '') || '  ');
       END""",
    """CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
         INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete',
           old.id, coalesce(old.title_simplified, old.title, '') || '  ',
           coalesce(old.body_simplified, '') || '  ');
       END""",
    """CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, title_simplified, body_simplified
       ON articles BEGIN
         INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete',
           old.id, coalesce(old.title_simplified, old.title, '') || '  ',
           coalesce(old.body_simplified, '') || '  ');
         INSERT INTO articles_fts(rowid, title, body) VALUES (
           new.id, coalesce(new.title_simplified, new.title, '') || '  ',
           coalesce(new.body_simplified, '') || '  ');
       END""",
]
SQLITE_SEARCH_DROP = [
    "DROP TRIGGER IF EXISTS articles_fts_au",
    "DROP TRIGGER IF EXISTS articles_fts_ad",
    "DROP TRIGGER IF EXISTS articles_fts_ai",
    "DROP TABLE IF EXISTS articles_fts_vocab",
    "DROP TABLE IF EXISTS articles_fts",
    "DROP VIEW IF EXISTS articles_search_src",
]

# --------------------------------------------------------------------------- PostgreSQL search
PG_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_articles_body_simplified_trgm ON articles "
    "USING gin (body_simplified gin_trgm_ops)",
    "CREATE INDEX ix_articles_title_simplified_trgm ON articles "
    "USING gin ((coalesce(title_simplified, title, '')) gin_trgm_ops)",
]
PG_SEARCH_DROP = [
    "DROP INDEX IF EXISTS ix_articles_title_simplified_trgm",
    "DROP INDEX IF EXISTS ix_articles_body_simplified_trgm",
]

# --------------------------------------------------------------------------- views
# Asia/Shanghai is UTC+8 without daylight saving since 1991: SQLite shifts by 8 hours.
_LOCAL = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%S', {c}, '+8 hours') || '+08:00'",
    "postgresql": "to_char({c} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')",
}
_DAY = {
    "sqlite": "date({c}, '+8 hours')",
    "postgresql": "to_char({c} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')",
}
_SECONDS = {
    "sqlite": "round((julianday(r.finished_at) - julianday(r.started_at)) * 86400.0, 1)",
    "postgresql": "CAST(round(CAST(extract(epoch FROM r.finished_at - r.started_at) AS numeric), 1) "
                  "AS double precision)",
}


def _views(dialect: str) -> list[str]:
    local = lambda c: _LOCAL[dialect].format(c=c)  # noqa: E731
    day = lambda c: _DAY[dialect].format(c=c)  # noqa: E731
    return [
        f"""CREATE VIEW article_view AS
        SELECT a.id AS id,
               s.name AS site,
               s.title AS site_title,
               a.title AS title,
               a.published_at AS published_at,
               {local('a.published_at')} AS published_at_local,
               a.source AS source,
               a.author AS author,
               a.editor AS editor,
               a."column" AS section,
               a.url AS url,
               a.summary AS summary,
               a.body AS body,
               a.first_seen AS first_seen,
               {local('a.first_seen')} AS first_seen_local,
               a.updated_at AS updated_at
        FROM articles a JOIN sites s ON s.id = a.site_id""",
        f"""CREATE VIEW site_daily_counts AS
        SELECT s.name AS site,
               {day('coalesce(a.published_at, a.first_seen)')} AS day,
               count(*) AS articles
        FROM articles a JOIN sites s ON s.id = a.site_id
        GROUP BY s.name, {day('coalesce(a.published_at, a.first_seen)')}""",
        f"""CREATE VIEW site_latest_crawl AS
        SELECT r.site AS site,
               r.id AS run_id,
               r."trigger" AS triggered_by,
               r.status AS status,
               r.started_at AS started_at,
               {local('r.started_at')} AS started_at_local,
               r.finished_at AS finished_at,
               {local('r.finished_at')} AS finished_at_local,
               {_SECONDS[dialect]} AS duration_seconds,
               r.requests AS requests,
               r.pages AS pages,
               r.new_articles AS new_articles,
               r.duplicates AS duplicates,
               r.revisions AS revisions,
               r.bytes AS bytes,
               r.exit_code AS exit_code,
               r.host AS host
        FROM (SELECT c.*, row_number() OVER (PARTITION BY c.site
                                             ORDER BY c.started_at DESC, c.id DESC) AS rn
              FROM crawl_runs c) r
        WHERE r.rn = 1""",
    ]


VIEW_NAMES = ("site_latest_crawl", "site_daily_counts", "article_view")


def _backfill_title_simplified(conn) -> None:
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, title FROM articles WHERE id > :last AND title IS NOT NULL "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BACKFILL_BATCH}).all()
        if not rows:
            return
        conn.execute(sa.text("UPDATE articles SET title_simplified = :t WHERE id = :id"),
                     [{"id": r.id, "t": to_simplified(r.title)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_simplified", sa.Text(), nullable=True))
    _backfill_title_simplified(conn)  # before the triggers exist: one index build below
    if dialect == "sqlite":
        for sql in SQLITE_SEARCH:
            op.execute(sql)
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        for sql in PG_SEARCH:
            op.execute(sql)
    for sql in _views(dialect):
        op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in VIEW_NAMES:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if dialect == "sqlite":
        for sql in SQLITE_SEARCH_DROP:
            op.execute(sql)
    elif dialect == "postgresql":
        for sql in PG_SEARCH_DROP:
            op.execute(sql)
    if dialect == "sqlite":
        # native DROP COLUMN (SQLite >= 3.35): a batch move-and-copy would DROP TABLE articles,
        # which with foreign_keys=ON deletes through the ON DELETE CASCADE references
        op.execute("ALTER TABLE articles DROP COLUMN title_simplified")
    else:
        op.drop_column("articles", "title_simplified")
