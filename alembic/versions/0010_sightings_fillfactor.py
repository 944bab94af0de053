"""sightings: fillfactor 90 on PostgreSQL, so a re-crawl's sighting update stays on its page (HOT)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:55:00

Every re-crawl of a known URL updates its sighting (``last_seen``, ``status``, ``page_id``; none of
them indexed). With the default fillfactor 100 the heap pages are full, so the new row version goes
to another page and every index of ``sightings`` (id, url, article_id, site_id) gets a new entry
for it: the indexes bloat with each crawl of an unchanged site. With 10 % of each page kept free the
update is a heap-only tuple (HOT): no index entries, and the old version is pruned in place.

PostgreSQL only (SQLite has no fillfactor), a storage parameter: applies to pages written from now
on, no table rewrite, no data step. Downgrade resets it.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGHTINGS_FILLFACTOR = 90


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE sightings SET (fillfactor = {SIGHTINGS_FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sightings RESET (fillfactor)")
