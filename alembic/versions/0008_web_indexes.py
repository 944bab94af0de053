"""indexes for the web view and search at 100k+ articles (issues 18, 19)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:10:00

Both backends, plain b-tree indexes (no data change):

* ``ix_articles_site_id_id`` (site_id, id): a site's articles in id order. A search with a site
  filter reads the site's newest matches from it (``storage/search.py``, PostgreSQL) instead of
  every site's rows.
* ``ix_articles_site_id_published_at_id`` (site_id, published_at, id): the site page (newest
  published first) reads one page of rows from the index, backwards, instead of sorting the site.
* ``ix_articles_site_id_column_published_at_id`` (site_id, column, published_at, id): the site
  page's column counts (an index-only group-by) and a column's page.
* ``ix_pages_outcome_fetched_at`` (outcome, fetched_at): the health page's failed/blocked pages of
  the last days without reading every fetch.

Plain Alembic operations only (the app's models are never imported).
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_articles_site_id_id", "articles", ["site_id", "id"]),
    ("ix_articles_site_id_published_at_id", "articles", ["site_id", "published_at", "id"]),
    ("ix_articles_site_id_column_published_at_id", "articles", ["site_id", "column", "published_at", "id"]),
    ("ix_pages_outcome_fetched_at", "pages", ["outcome", "fetched_at"]),
]


def upgrade() -> None:
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols)


def downgrade() -> None:
    for name, table, _cols in reversed(INDEXES):
        op.drop_index(name, table_name=table)
