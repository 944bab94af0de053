"""``storage.attachments``: what a crawl requests (pending, retries, revalidation by age), links a
re-extraction adds, a failed check that keeps the stored file (issue 16). SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.attachments import (
    AttachmentState,
    due_retries,
    link,
    needs_fetch,
    record_check_failed,
    record_fetch,
    record_not_modified,
    sync_links,
    versions,
)
from storage.models import ArticleAttachment, Attachment, AttachmentContent

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
SITE = "att"
BASE = "http://www.att.gov.cn/files/"


def state(outcome: str, *, attempts: int = 0, fetched_at: datetime | None = None) -> AttachmentState:
    return AttachmentState(1, BASE + "a.pdf", outcome, attempts, None, None, None, fetched_at)


def test_needs_fetch_by_outcome_and_age():
    assert needs_fetch(state("pending"))
    assert needs_fetch(state("failed", attempts=2)) and not needs_fetch(state("failed", attempts=3))
    checked = state("ok", fetched_at=T0)
    assert not needs_fetch(checked), "no cut-off: a stored attachment is not requested again"
    assert not needs_fetch(checked, revalidate_before=T0), "checked exactly at the cut-off: not yet"
    assert needs_fetch(checked, revalidate_before=T0 + timedelta(seconds=1))
    assert needs_fetch(checked, revalidate=True), "the flag: every stored one, now"
    naive = state("ok", fetched_at=T0.replace(tzinfo=None))      # as SQLite may give it back
    assert needs_fetch(naive, revalidate_before=T0 + timedelta(days=1))


def _site_with_article(archive, url="http://www.att.gov.cn/art/1.html"):
    archive.ensure_site(SITE, "附件站", ["att.gov.cn"])
    return archive.store_article(SITE, url, {"title": "通知", "body": "关于印发专项资金管理办法的通知，请认真贯彻执行。"
                                             + url}).article_id


def test_due_retries_pending_failed_then_stale_oldest_first(archive):
    aid = _site_with_article(archive)
    engine = archive.engine
    link(engine, aid, SITE, [{"url": BASE + n} for n in ("new.pdf", "gone.pdf", "dead.pdf", "old.pdf",
                                                          "older.pdf", "fresh.pdf")], now=T0)
    record_fetch(engine, BASE + "gone.pdf", outcome="failed", reason="http_404", fetched_at=T0)
    for _ in range(3):
        record_fetch(engine, BASE + "dead.pdf", outcome="failed", reason="timeout", fetched_at=T0)
    record_fetch(engine, BASE + "old.pdf", outcome="ok", data=b"%PDF old", fetched_at=T0 - timedelta(days=40))
    record_fetch(engine, BASE + "older.pdf", outcome="ok", data=b"%PDF older", fetched_at=T0 - timedelta(days=50))
    record_fetch(engine, BASE + "fresh.pdf", outcome="ok", data=b"%PDF fresh", fetched_at=T0 - timedelta(days=1))

    names = [s.url.rsplit("/", 1)[-1] for s in due_retries(engine, SITE)]
    assert names == ["new.pdf", "gone.pdf"], "without a cut-off: pending and failed with attempts left"
    cut = T0 - timedelta(days=30)
    due = due_retries(engine, SITE, revalidate_before=cut)
    assert [s.url.rsplit("/", 1)[-1] for s in due] == ["new.pdf", "gone.pdf", "older.pdf", "old.pdf"]
    assert due[-1].fetched_at == T0 - timedelta(days=40) and due[-1].content_id is not None
    assert [s.url.rsplit("/", 1)[-1] for s in due_retries(engine, SITE, revalidate_before=cut, limit=3)] == [
        "new.pdf", "gone.pdf", "older.pdf"]
    assert due_retries(engine, "no-such-site", revalidate_before=cut) == []

    # a 304 moves the check time: no longer due
    record_not_modified(engine, BASE + "older.pdf", fetched_at=T0)
    assert "older.pdf" not in [s.url.rsplit("/", 1)[-1] for s in due_retries(engine, SITE, revalidate_before=cut)]


def test_a_failed_check_keeps_the_stored_file(archive):
    aid = _site_with_article(archive)
    engine = archive.engine
    link(engine, aid, SITE, [{"url": BASE + "kept.pdf"}, {"url": BASE + "never.pdf"}], now=T0)
    cid = record_fetch(engine, BASE + "kept.pdf", outcome="ok", data=b"%PDF kept", status=200,
                       fetched_at=T0 - timedelta(days=40))
    later = T0 + timedelta(hours=1)
    record_check_failed(engine, BASE + "kept.pdf", checked_at=later)
    record_check_failed(engine, BASE + "never.pdf", checked_at=later)      # not stored: left as it is
    with engine.connect() as conn:
        rows = {r.url.rsplit("/", 1)[-1]: r for r in conn.execute(select(Attachment))}
    kept = rows["kept.pdf"]
    assert (kept.outcome, kept.content_id, kept.status, kept.attempts) == ("ok", cid, 200, 1)
    assert kept.fetched_at == later
    assert (rows["never.pdf"].outcome, rows["never.pdf"].fetched_at) == ("pending", None)


def test_changed_bytes_are_a_new_file_and_the_old_one_is_a_version(archive):
    aid = _site_with_article(archive)
    engine = archive.engine
    link(engine, aid, SITE, [{"url": BASE + "v.pdf"}], now=T0)
    old = record_fetch(engine, BASE + "v.pdf", outcome="ok", data=b"%PDF version 1", fetched_at=T0)
    same = record_fetch(engine, BASE + "v.pdf", outcome="ok", data=b"%PDF version 1", fetched_at=T0 + timedelta(1))
    new = record_fetch(engine, BASE + "v.pdf", outcome="ok", data=b"%PDF version 2", fetched_at=T0 + timedelta(2))
    assert same == old and new != old
    with engine.connect() as conn:
        att = conn.execute(select(Attachment)).one()
        contents = conn.scalars(select(AttachmentContent.id).order_by(AttachmentContent.id)).all()
        n_links = len(conn.execute(select(ArticleAttachment)).all())
    assert att.content_id == new and contents == [old, new] and n_links == 1
    [was] = versions(engine, BASE + "v.pdf")
    assert (was["content_id"], was["fetched_at"], was["replaced_at"]) == (old, T0 + timedelta(1), T0 + timedelta(2))
    assert was["sha256"] == hashlib.sha256(b"%PDF version 1").hexdigest() and was["size"] == 14
    back = record_fetch(engine, BASE + "v.pdf", outcome="ok", data=b"%PDF version 1", fetched_at=T0 + timedelta(3))
    assert back == old and [v["content_id"] for v in versions(engine, BASE + "v.pdf")] == [old, new]
    assert versions(engine, BASE + "other.pdf") == []


def test_sync_links_known_pending_kept_and_dry_run(archive):
    aid = _site_with_article(archive)
    other = _site_with_article(archive, "http://www.att.gov.cn/art/2.html")
    engine = archive.engine
    # known from another article (stored), and a link this article had that the fresh extraction lost
    link(engine, other, SITE, [{"url": BASE + "known.pdf", "name": "办法"}], now=T0)
    record_fetch(engine, BASE + "known.pdf", outcome="ok", data=b"%PDF known", fetched_at=T0)
    link(engine, aid, SITE, [{"url": BASE + "lost.pdf"}], now=T0)
    fresh = [{"url": BASE + "known.pdf", "name": "管理办法", "ext": "pdf"},
             {"url": BASE + "new.xlsx", "name": "名单.xlsx", "ext": "xlsx"},
             {"url": BASE + "new.xlsx#frag", "name": "重复"}]

    dry = sync_links(engine, aid, SITE, fresh, dry_run=True)
    assert (dry.added, dry.pending, dry.kept) == (2, 1, 1)
    with engine.connect() as conn:
        assert len(conn.execute(select(ArticleAttachment).where(ArticleAttachment.article_id == aid)).all()) == 1
        assert conn.scalar(select(Attachment.id).where(Attachment.url == BASE + "new.xlsx")) is None

    done = sync_links(engine, aid, SITE, fresh, now=T0)
    assert (done.added, done.pending, done.kept) == (2, 1, 1)
    with engine.connect() as conn:
        links = {r.url.rsplit("/", 1)[-1]: r for r in conn.execute(
            select(Attachment.url, Attachment.outcome, Attachment.ext, Attachment.name.label("first_name"),
                   ArticleAttachment.name, ArticleAttachment.position)
            .join(ArticleAttachment, ArticleAttachment.attachment_id == Attachment.id)
            .where(ArticleAttachment.article_id == aid))}
    assert set(links) == {"known.pdf", "new.xlsx", "lost.pdf"}, "the lost link is kept"
    assert links["known.pdf"].outcome == "ok" and links["known.pdf"].name == "管理办法"
    assert (links["new.xlsx"].outcome, links["new.xlsx"].ext, links["new.xlsx"].name) == ("pending", "xlsx", "名单.xlsx")
    assert links["new.xlsx"].position == 1
    assert BASE + "new.xlsx" in [s.url for s in due_retries(engine, SITE)], "the next crawl fetches it"

    again = sync_links(engine, aid, SITE, fresh)
    assert (again.added, again.pending, again.kept) == (0, 0, 1), "idempotent"
    capped = sync_links(engine, other, SITE, fresh, limit=1, dry_run=True)
    assert (capped.added, capped.kept) == (0, 0), "beyond the per-article limit: not linked, not 'lost'"
