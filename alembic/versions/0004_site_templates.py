"""site_templates table (learned article URL templates per site); crawl_runs.skipped (stub)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

Stub committed first so 0005-0007 can chain on it; filled in by the discovery work (issue 13).
"""
from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
