"""``storage.reextract`` takes ``extract(RawPage) -> Article``: storage decodes nothing and imports no crawler."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import Article, MinHashBand
from storage.pages import RawPage
from storage.reextract import reextract, reextract_article

URL = "http://a.gov.cn/xwzx/t20240101_1.html"
OLD = "区政府召开常务会议，研究部署安全生产和森林防火工作。会议要求各部门压紧压实责任，强化巡查管控。"
NEW = "区政府召开常务会议，研究部署今冬明春的安全生产工作。会议强调要坚决守住安全底线，确保群众平安过冬。"
FETCHED = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)


def stored(archive, body=OLD, raw=b"<html>\xc7\xf8</html>"):
    archive.ensure_site("gbk-site", "GBK site", ["a.gov.cn"])
    pid = archive.record_page("gbk-site", URL, status=200, headers={"Content-Type": "text/html; charset=gbk",
                                                                     "X-Other": "dropped"},
                              body=raw, outcome="article", fetched_at=FETCHED)
    res = archive.store_article("gbk-site", URL, {"title": "旧标题", "body": body}, page_id=pid)
    return res.article_id, pid


def test_extractor_gets_the_raw_page(archive):
    aid, pid = stored(archive)
    seen: list[RawPage] = []

    def extract(page: RawPage):
        seen.append(page)
        return {"title": "新标题", "body": OLD, "source": "某某日报"}

    assert reextract_article(archive, aid, extract) == "updated"
    [page] = seen
    assert page == RawPage(page_id=pid, site="gbk-site", url=URL, status=200,
                           headers={"content-type": "text/html; charset=gbk"}, body=b"<html>\xc7\xf8</html>",
                           fetched_at=FETCHED)
    assert page.header("Content-Type") == "text/html; charset=gbk"   # the extractor decides the charset
    assert archive.raw_page(pid) == page
    with archive.engine.connect() as c:
        row = c.execute(select(Article.title, Article.title_simplified, Article.source)
                        .where(Article.id == aid)).one()
    assert tuple(row) == ("新标题", "新标题", "某某日报")


def test_text_change_replaces_hash_and_bands_and_is_idempotent(archive):
    aid, _ = stored(archive)

    def bands():
        with archive.engine.connect() as c:
            return sorted(c.scalars(select(MinHashBand.band_hash).where(MinHashBand.article_id == aid)))

    before = bands()
    report = reextract(archive, lambda page: {"title": "旧标题", "body": NEW})
    assert (report.checked, report.updated, report.text_changed) == (1, 1, 1)
    assert bands() and bands() != before
    again = reextract(archive, lambda page: {"title": "旧标题", "body": NEW})
    assert again.unchanged == 1 and again.updated == 0


def test_dry_run_no_raw_page_errors_and_progress(archive):
    aid, _ = stored(archive)
    archive.store_article("gbk-site", "http://a.gov.cn/2.html", {"title": "无页面", "body": NEW})
    ticks: list[int] = []
    report = reextract(archive, lambda page: {"title": "变了", "body": OLD}, dry_run=True, progress=ticks.append)
    assert (report.checked, report.updated, report.no_raw_page) == (2, 1, 1) and ticks == [1, 1]
    with archive.engine.connect() as c:
        assert c.scalar(select(Article.title).where(Article.id == aid)) == "旧标题"

    def broken(page):
        raise RuntimeError("bad page")

    assert reextract(archive, broken).errors == {"RuntimeError: bad page": 1}


def test_conflict_when_another_article_owns_the_new_text(archive):
    aid, _ = stored(archive)
    archive.store_article("gbk-site", "http://a.gov.cn/other.html", {"title": "另一篇", "body": NEW})
    assert reextract_article(archive, aid, lambda page: {"title": "旧标题", "body": NEW}) == "conflict"


def test_storage_imports_no_crawler():
    code = ("import sys, storage.reextract, storage.archive, storage.runs, storage.search, storage.audit; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('crawler', 'govnews', 'scrapy', 'twisted')); "
            "print(bad); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_attachments_a_fresh_extraction_finds_are_linked(archive):
    """Issue 16: known URLs linked without a download, unknown ones pending, lost links kept."""
    from storage.attachments import link, record_fetch
    from storage.models import ArticleAttachment, Attachment

    aid, _ = stored(archive)
    other = archive.store_article("gbk-site", "http://a.gov.cn/3.html", {"title": "别的", "body": NEW}).article_id
    engine = archive.engine
    link(engine, other, "gbk-site", [{"url": "http://a.gov.cn/f/known.pdf"}])
    record_fetch(engine, "http://a.gov.cn/f/known.pdf", outcome="ok", data=b"%PDF-1.4 known")
    link(engine, aid, "gbk-site", [{"url": "http://a.gov.cn/f/old.doc"}])
    found = [{"url": "http://a.gov.cn/f/known.pdf", "name": "办法.pdf", "ext": "pdf"},
             {"url": "http://a.gov.cn/f/new.xls", "name": "名单.xls", "ext": "xls"}]

    def extract(page):
        return {"title": "旧标题", "body": OLD, "attachments": found}

    dry = reextract(archive, extract, dry_run=True, site="gbk-site")
    assert (dry.links_added, dry.links_pending, dry.links_kept) == (2, 1, 1)
    report = reextract(archive, extract, site="gbk-site")
    assert (report.links_added, report.links_pending, report.links_kept) == (2, 1, 1)
    assert report.as_dict()["links_added"] == 2
    with archive.engine.connect() as c:
        rows = dict(c.execute(select(Attachment.url, Attachment.outcome)
                              .join(ArticleAttachment, ArticleAttachment.attachment_id == Attachment.id)
                              .where(ArticleAttachment.article_id == aid)).all())
    assert rows == {"http://a.gov.cn/f/known.pdf": "ok", "http://a.gov.cn/f/new.xls": "pending",
                    "http://a.gov.cn/f/old.doc": "pending"}
    again = reextract(archive, extract, site="gbk-site")
    assert (again.links_added, again.links_pending) == (0, 0)
    off = reextract(archive, lambda page: {"title": "旧标题", "body": OLD, "attachments": found + [
        {"url": "http://a.gov.cn/f/later.pdf"}]}, site="gbk-site", link_attachments=False)
    assert off.links_added == 0
