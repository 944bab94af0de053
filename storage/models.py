"""Typed SQLAlchemy 2 models of the archive. Every change goes through an Alembic migration.

Times are stored in UTC with :class:`UTCDateTime`: ``timestamptz`` on PostgreSQL; on SQLite a naive
UTC string that is returned as an aware UTC datetime.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.clock import utcnow
from common.text import to_simplified
from storage.enums import PageOutcome, RunStatus, Trigger, sql_in

__all__ = ["NAMING_CONVENTION", "Article", "ArticleAttachment", "ArticleRevision", "Attachment", "AttachmentContent",
           "AttachmentVersion",
           "Base", "CrawlRun", "HttpValidator", "MinHashBand",
           "Page", "Sighting", "Site", "SiteLock", "SiteTemplate", "UTCDateTime", "utcnow"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _title_simplified_default(context) -> str | None:
    """Insert default of ``articles.title_simplified``: OpenCC t2s of the row's title (search)."""
    title = context.get_current_parameters().get("title")
    return to_simplified(title) if title else title


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    Naive datetimes given to it are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    allowed_domains: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Page(Base):
    """Every fetch, successful or not: nothing fetched is lost."""

    __tablename__ = "pages"
    __table_args__ = (
        Index("ix_pages_url_fetched_at", "url", "fetched_at"),
        Index("ix_pages_site_id_fetched_at", "site_id", "fetched_at"),
        Index("ix_pages_raw_page_id", "raw_page_id"),                               # 0005
        Index("ix_pages_outcome_fetched_at", "outcome", "fetched_at"),              # 0008
        CheckConstraint(f"outcome IN ({sql_in(PageOutcome)})", name="outcome"),  # ck_pages_outcome (0003)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    codec: Mapped[str] = mapped_column(String(10), default="zlib")
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    length: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))  # a storage.enums.PageOutcome value
    reason: Mapped[str | None] = mapped_column(Text)
    #: identical bytes of the same URL are stored once: ``raw`` is NULL and this page holds them (0005)
    raw_page_id: Mapped[int | None] = mapped_column(Integer)


class Article(Base):
    """One story, whatever the number of URLs and sites it was seen at."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_site_id_first_seen", "site_id", "first_seen"),
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_site_id_id", "site_id", "id"),                                          # 0008
        Index("ix_articles_site_id_published_at_id", "site_id", "published_at", "id"),             # 0008
        Index("ix_articles_site_id_column_published_at_id", "site_id", "column", "published_at", "id"),  # 0008
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    #: simplified title for full-text search (filled on insert; migration 0002 backfilled it)
    title_simplified: Mapped[str | None] = mapped_column(Text, default=_title_simplified_default)
    published_at: Mapped[datetime | None]
    source: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    editor: Mapped[str | None] = mapped_column(Text)
    original_title: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    column: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    body_simplified: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    images: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))
    # 政府信息公开 metadata (0006; crawler/extract/disclosure.py)
    index_no: Mapped[str | None] = mapped_column(Text)        # 索引号
    doc_number: Mapped[str | None] = mapped_column(Text, index=True)   # 文号 / 发文字号
    issuer: Mapped[str | None] = mapped_column(Text, index=True)       # 发布机构 / 发文机关
    written_at: Mapped[date | None] = mapped_column(Date)      # 成文日期
    topic: Mapped[str | None] = mapped_column(Text)           # 主题分类 / 组配分类
    validity: Mapped[str | None] = mapped_column(Text)        # 有效性
    subject_words: Mapped[str | None] = mapped_column(Text)   # 主题词

    sightings: Mapped[list[Sighting]] = relationship(back_populates="article", order_by="Sighting.id")
    revisions: Mapped[list[ArticleRevision]] = relationship(
        back_populates="article", order_by="ArticleRevision.id"
    )


class ArticleRevision(Base):
    """A later, different text of an archived story (a verified near-duplicate)."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    body_simplified: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    similarity: Mapped[float | None]
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))

    article: Mapped[Article] = relationship(back_populates="revisions")


class Sighting(Base):
    """One canonical URL at which a story was seen.

    PostgreSQL: fillfactor 90 (migration 0010, a storage parameter the models do not compare), so
    a re-crawl's update of last_seen/status/page_id is a HOT update (no new index entries).
    """

    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_revisions.id", ondelete="SET NULL")
    )
    url: Mapped[str] = mapped_column(Text, unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))

    article: Mapped[Article] = relationship(back_populates="sightings")


class MinHashBand(Base):
    """LSH band of a stored text: (band index, band hash) -> article. Primary key = lookup index."""

    __tablename__ = "minhash_bands"

    band_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    band_idx: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (
        Index("ix_crawl_runs_site_started_at", "site", "started_at"),
        CheckConstraint(f"status IN ({sql_in(RunStatus)})", name="status"),    # ck_crawl_runs_status (0003)
        CheckConstraint(f"\"trigger\" IN ({sql_in(Trigger)})", name="trigger"),  # ck_crawl_runs_trigger (0003)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    requests: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    revisions: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    log_tail: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    #: what discovery skipped (0004): lists without article links, unclassified link shapes
    skipped: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: one line: why the run ended as it did (0005)
    reason: Mapped[str | None] = mapped_column(Text)


class SiteTemplate(Base):
    """An article URL template learned on a site's list pages (0004; ``storage.templates``)."""

    __tablename__ = "site_templates"
    __table_args__ = (
        UniqueConstraint("site", "kind", "template"),
        CheckConstraint("kind IN ('article')", name="kind"),                  # ck_site_templates_kind (0004)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="article")
    template: Mapped[str] = mapped_column(Text)
    support: Mapped[int] = mapped_column(Integer, default=0)
    example: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class SiteLock(Base):
    __tablename__ = "site_locks"

    site: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class HttpValidator(Base):
    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------------------ attachments (0006)
#: ``attachments.outcome``: the last fetch of the URL (``pending`` until one happened)
ATTACHMENT_OUTCOMES = ("ok", "failed", "pending")
#: ``attachment_contents.text_status``
TEXT_STATUSES = ("pending", "ok", "empty", "unsupported", "failed", "timeout", "too_large", "encrypted")


class AttachmentContent(Base):
    """One attachment file, stored once per sha256 (compressed), with its extracted text."""

    __tablename__ = "attachment_contents"
    __table_args__ = (
        CheckConstraint("text_status IN (" + ", ".join(f"'{v}'" for v in TEXT_STATUSES) + ")", name="text_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    #: what the bytes are (sniffed: application/pdf, ...), whatever the server said
    content_type: Mapped[str | None] = mapped_column(String(100))
    codec: Mapped[str] = mapped_column(String(10), default="zlib")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    text: Mapped[str | None] = mapped_column(Text)
    #: simplified text (search); the attachment-text index (0006) follows this column
    text_simplified: Mapped[str | None] = mapped_column(Text)
    text_status: Mapped[str] = mapped_column(String(20), default="pending")
    text_reason: Mapped[str | None] = mapped_column(Text)
    text_chars: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int | None] = mapped_column(Integer)
    extracted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """One attachment URL and its last fetch (content by hash in :class:`AttachmentContent`)."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_site_id_outcome", "site_id", "outcome"),
        CheckConstraint("outcome IN (" + ", ".join(f"'{v}'" for v in ATTACHMENT_OUTCOMES) + ")", name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str | None] = mapped_column(Text)
    ext: Mapped[str | None] = mapped_column(String(10))
    #: the Content-Type header as served
    declared_type: Mapped[str | None] = mapped_column(String(200))
    content_id: Mapped[int | None] = mapped_column(ForeignKey("attachment_contents.id"), index=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime | None]


class AttachmentVersion(Base):
    """A file an attachment URL served before a revalidation found different bytes (the content is
    kept; the URL's row points to the new one). Migration 0009."""

    __tablename__ = "attachment_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("attachment_contents.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    #: the old file's last download or check
    fetched_at: Mapped[datetime | None]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleAttachment(Base):
    """Article -> attachment link (the name is the link text on that article's page)."""

    __tablename__ = "article_attachments"
    __table_args__ = (PrimaryKeyConstraint("article_id", "attachment_id"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
