"""attachments, article_attachments, attachment_contents; 信息公开 columns on articles (issue 16)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:20:00

* ``attachment_contents``: one row per sha256 (compressed bytes, sniffed type, extracted text and
  its simplified form, ``text_status`` in a named CHECK); ``attachments``: one row per URL (name,
  served Content-Type, size, sha256, HTTP status, ``outcome`` ok/failed/pending + reason, validators,
  attempts, fetch time); ``article_attachments``: article <-> attachment links.
* ``articles``: ``index_no``, ``doc_number``, ``issuer``, ``written_at`` (DATE), ``topic``,
  ``validity``, ``subject_words``; indexes on ``doc_number`` and ``issuer``.
* ``article_view`` is re-created with those columns appended (the older columns keep their order).
* Attachment-text index: SQLite ``attachments_fts`` (FTS5 trigram, external content
  ``attachment_contents``, triggers); PostgreSQL ``ix_attachment_contents_text_trgm`` (pg_trgm GIN).

Plain SQL and Alembic operations only (the app's models are never imported).
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_STATUSES = ("pending", "ok", "empty", "unsupported", "failed", "timeout", "too_large", "encrypted")
OUTCOMES = ("ok", "failed", "pending")
DISCLOSURE = (("index_no", sa.Text()), ("doc_number", sa.Text()), ("issuer", sa.Text()), ("written_at", sa.Date()),
              ("topic", sa.Text()), ("validity", sa.Text()), ("subject_words", sa.Text()))


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


SQLITE_FTS = [
    """CREATE VIRTUAL TABLE attachments_fts USING fts5(
       text_simplified, content='attachment_contents', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER attachments_fts_ai AFTER INSERT ON attachment_contents BEGIN
         INSERT INTO attachments_fts(rowid, text_simplified) VALUES (new.id, coalesce(new.text_simplified, ''));
       END""",
    """CREATE TRIGGER attachments_fts_ad AFTER DELETE ON attachment_contents BEGIN
         INSERT INTO attachments_fts(attachments_fts, rowid, text_simplified)
           VALUES ('delete', old.id, coalesce(old.text_simplified, ''));
       END""",
    """CREATE TRIGGER attachments_fts_au AFTER UPDATE OF text_simplified ON attachment_contents BEGIN
         INSERT INTO attachments_fts(attachments_fts, rowid, text_simplified)
           VALUES ('delete', old.id, coalesce(old.text_simplified, ''));
         INSERT INTO attachments_fts(rowid, text_simplified) VALUES (new.id, coalesce(new.text_simplified, ''));
       END""",
]
SQLITE_FTS_DROP = ["DROP TRIGGER IF EXISTS attachments_fts_au", "DROP TRIGGER IF EXISTS attachments_fts_ad",
                   "DROP TRIGGER IF EXISTS attachments_fts_ai", "DROP TABLE IF EXISTS attachments_fts"]
PG_INDEX = ["CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE INDEX ix_attachment_contents_text_trgm ON attachment_contents "
            "USING gin (text_simplified gin_trgm_ops)"]
PG_INDEX_DROP = ["DROP INDEX IF EXISTS ix_attachment_contents_text_trgm"]

_LOCAL = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%S', {c}, '+8 hours') || '+08:00'",
    "postgresql": "to_char({c} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')",
}


def _article_view(dialect: str, with_disclosure: bool) -> str:
    local = lambda c: _LOCAL[dialect].format(c=c)  # noqa: E731
    extra = """,
               a.index_no AS index_no,
               a.doc_number AS doc_number,
               a.issuer AS issuer,
               a.written_at AS written_at,
               a.topic AS topic,
               a.validity AS validity,
               a.subject_words AS subject_words,
               (SELECT count(*) FROM article_attachments aa WHERE aa.article_id = a.id) AS attachments""" \
        if with_disclosure else ""
    return f"""CREATE VIEW article_view AS
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
               a.updated_at AS updated_at{extra}
        FROM articles a JOIN sites s ON s.id = a.site_id"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "attachment_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("codec", sa.String(length=10), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_simplified", sa.Text(), nullable=True),
        sa.Column("text_status", sa.String(length=20), nullable=False),
        sa.Column("text_reason", sa.Text(), nullable=True),
        sa.Column("text_chars", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"text_status IN ({_in(TEXT_STATUSES)})", name=op.f("ck_attachment_contents_text_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_contents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_attachment_contents_sha256")),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("ext", sa.String(length=10), nullable=True),
        sa.Column("declared_type", sa.String(length=200), nullable=True),
        sa.Column("content_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"outcome IN ({_in(OUTCOMES)})", name=op.f("ck_attachments_outcome")),
        sa.ForeignKeyConstraint(["content_id"], ["attachment_contents.id"],
                                name=op.f("fk_attachments_content_id_attachment_contents")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_attachments_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("url", name=op.f("uq_attachments_url")),
    )
    op.create_index(op.f("ix_attachments_content_id"), "attachments", ["content_id"])
    op.create_index("ix_attachments_site_id_outcome", "attachments", ["site_id", "outcome"])
    op.create_table(
        "article_attachments",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE",
                                name=op.f("fk_article_attachments_article_id_articles")),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"], ondelete="CASCADE",
                                name=op.f("fk_article_attachments_attachment_id_attachments")),
        sa.PrimaryKeyConstraint("article_id", "attachment_id", name=op.f("pk_article_attachments")),
    )
    op.create_index(op.f("ix_article_attachments_attachment_id"), "article_attachments", ["attachment_id"])
    op.execute("DROP VIEW IF EXISTS article_view")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        for name, type_ in DISCLOSURE:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_index(op.f("ix_articles_doc_number"), "articles", ["doc_number"])
    op.create_index(op.f("ix_articles_issuer"), "articles", ["issuer"])
    op.execute(_article_view(dialect, True))
    if dialect == "sqlite":
        for sql in SQLITE_FTS:
            op.execute(sql)
    elif dialect == "postgresql":
        for sql in PG_INDEX:
            op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for sql in SQLITE_FTS_DROP:
            op.execute(sql)
    elif dialect == "postgresql":
        for sql in PG_INDEX_DROP:
            op.execute(sql)
    op.execute("DROP VIEW IF EXISTS article_view")
    op.drop_index(op.f("ix_articles_issuer"), table_name="articles")
    op.drop_index(op.f("ix_articles_doc_number"), table_name="articles")
    for name, _ in reversed(DISCLOSURE):
        # natively (SQLite >= 3.35): a batch rebuild of articles would break the views over it
        op.execute(f"ALTER TABLE articles DROP COLUMN {name}")
    op.execute(_article_view(dialect, False))
    op.drop_index(op.f("ix_article_attachments_attachment_id"), table_name="article_attachments")
    op.drop_table("article_attachments")
    op.drop_index("ix_attachments_site_id_outcome", table_name="attachments")
    op.drop_index(op.f("ix_attachments_content_id"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("attachment_contents")
