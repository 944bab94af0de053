"""crawl_runs.reason; identical raw bytes of a URL stored once (pages.raw_page_id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:10:00

* ``crawl_runs.reason`` (text, NULL): one line saying why a run ended as it did
  (``failed: no start URL answered (connection_refused=5)``, ``empty: 12 pages, no article``).
* ``pages.raw_page_id`` (integer, NULL, indexed): a fetch whose raw bytes equal an earlier stored
  copy of the same URL keeps ``raw`` NULL and points at the page that holds the bytes (its
  ``sha256``, ``length`` and headers stay on the row: every fetch is still a record).
* Data step: existing duplicates are moved in place: for every (url, sha256) the oldest page with
  bytes keeps them, every later identical copy gets ``raw = NULL`` and ``raw_page_id`` = that page.
  Plain SQL only: this revision never imports the app's models.

Downgrade copies the bytes back into every pointing row, then drops both columns.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOLDER = ("(SELECT MIN(p2.id) FROM pages p2 WHERE p2.url = pages.url AND p2.sha256 = pages.sha256 "
           "AND p2.raw IS NOT NULL)")


def upgrade() -> None:
    op.add_column("crawl_runs", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("pages", sa.Column("raw_page_id", sa.Integer(), nullable=True))
    op.create_index("ix_pages_raw_page_id", "pages", ["raw_page_id"])
    op.execute(sa.text(
        f"UPDATE pages SET raw_page_id = {_HOLDER}, raw = NULL "
        f"WHERE sha256 IS NOT NULL AND raw IS NOT NULL AND id > {_HOLDER}"))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE pages SET raw = (SELECT p2.raw FROM pages p2 WHERE p2.id = pages.raw_page_id), "
        "codec = (SELECT p2.codec FROM pages p2 WHERE p2.id = pages.raw_page_id) "
        "WHERE raw_page_id IS NOT NULL"))
    op.drop_index("ix_pages_raw_page_id", table_name="pages")
    op.drop_column("pages", "raw_page_id")
    op.drop_column("crawl_runs", "reason")
