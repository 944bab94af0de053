"""attachment_versions: the files an attachment URL served before it changed (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:30:00

A revalidation that finds different bytes at a known attachment URL stores them as a new
``attachment_contents`` row and moves the URL's row to it. ``attachment_versions`` keeps what it
pointed to before — one row per replaced file: the attachment, the old content (kept, never
deleted), its sha256, size and validators, when it was last fetched or checked, and when it was
replaced — so no served version of a policy document is lost or orphaned.

No data step: nothing has been replaced before this revision. Plain Alembic operations only (the
app's models are never imported).
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"], ondelete="CASCADE",
                                name=op.f("fk_attachment_versions_attachment_id_attachments")),
        sa.ForeignKeyConstraint(["content_id"], ["attachment_contents.id"],
                                name=op.f("fk_attachment_versions_content_id_attachment_contents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_versions")),
    )
    op.create_index(op.f("ix_attachment_versions_attachment_id"), "attachment_versions", ["attachment_id"])
    op.create_index(op.f("ix_attachment_versions_content_id"), "attachment_versions", ["content_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_attachment_versions_content_id"), table_name="attachment_versions")
    op.drop_index(op.f("ix_attachment_versions_attachment_id"), table_name="attachment_versions")
    op.drop_table("attachment_versions")
