"""site_templates (article URL templates learned per site); crawl_runs.skipped (issue 13)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

* ``site_templates``: one row per (site, kind, template): ``support`` (links of article blocks that
  carried it, summed over crawls), ``example`` (one URL), ``first_seen`` / ``last_seen``. Written at
  the end of a crawl (``storage.templates.save_templates``), read at the start of the next one.
  ``kind`` is ``article`` for now (named CHECK ``ck_site_templates_kind``).
* ``crawl_runs.skipped`` (JSON, NULL for older runs): what discovery skipped —
  ``{"lists_without_articles": N, "unclassified": [{"shape", "count", "example"}, ...]}``.
  Added with ``ALTER TABLE ... ADD COLUMN`` (no rebuild; the ``site_latest_crawl`` view names its
  columns, so it is untouched).

Plain SQL and Alembic operations only (the app's models are never imported).
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("example", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('article')", name=op.f("ck_site_templates_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_templates")),
        sa.UniqueConstraint("site", "kind", "template", name=op.f("uq_site_templates_site_kind_template")),
    )
    op.add_column("crawl_runs", sa.Column("skipped", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("crawl_runs", "skipped")     # native DROP COLUMN (SQLite >= 3.35, as 0003)
    op.drop_table("site_templates")
