"""search at scale: a character-gram index on PostgreSQL (1-2 character queries, planner estimates)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00

PostgreSQL only (SQLite's FTS5 trigram index and its vocabulary table already answer every query
length, migration 0002):

* ``govnews_grams(text) -> text[]``: the characters and character pairs of the lowercased text,
  none containing whitespace (plpgsql, IMMUTABLE so it can be indexed; about 2 ms per 1 000
  characters);
* ``ix_articles_grams``: a GIN index on ``govnews_grams(coalesce(title_simplified, title, '') || ' '
  || coalesce(body_simplified, ''))``. A term of 1-2 characters t occurs in an article iff its
  grams contain ``lower(t)``: a rare 1-2 character query is answered from this index
  (``storage/search.py``; the ``LIKE`` recheck keeps results exact). ANALYZE's element statistics
  of the index expression say how common each gram is; search reads them to send a common term
  to an ``id DESC`` scan that stops at the window (index-ordered top-k) instead of a GIN bitmap
  that fetches and rechecks every match.
* statistics target 1000 on the indexed expression (10 000 most common grams with frequencies).

The SQL is frozen here on purpose.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION govnews_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  grams text[] := '{}';
  prev text := NULL;
  ch text;
BEGIN
  FOREACH ch IN ARRAY string_to_array(lower(t), NULL) LOOP
    IF ch ~ '\s' THEN
      prev := NULL;
    ELSE
      grams := grams || ch;
      IF prev IS NOT NULL THEN
        grams := grams || (prev || ch);
      END IF;
      prev := ch;
    END IF;
  END LOOP;
  RETURN grams;   -- duplicates are fine: GIN and ANALYZE count each gram once per row
END
$$"""
GRAMS_EXPR = "govnews_grams(coalesce(title_simplified, title, '') || ' ' || coalesce(body_simplified, ''))"
PG_UP = [
    GRAMS_FUNCTION,
    f"CREATE INDEX ix_articles_grams ON articles USING gin (({GRAMS_EXPR}))",
    "ALTER INDEX ix_articles_grams ALTER COLUMN 1 SET STATISTICS 1000",
    "ANALYZE articles",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_articles_grams",
    "DROP FUNCTION IF EXISTS govnews_grams(text)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in PG_UP:
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in PG_DOWN:
            op.execute(sql)
