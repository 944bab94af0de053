"""Re-extraction of archived raw pages (``storage.reextract`` and ``govnews reextract``)."""
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.extract import extract
from crawler.extract.article import Article
from crawler.ingest import Reextractor
from govnews.cli import main
from storage.dedup import to_simplified
from storage.models import Article as ArticleRow
from storage.models import MinHashBand
from storage.reextract import reextract

PAGE = Path(__file__).parent / "fixtures" / "extract" / "trs_spam_glosses.html"
URL = "http://127.0.0.1/xwzx/202110/t20211029_1.html"


def archive_stale_copy(archive):
    """An article as an older, worse extractor stored it: spam title, glossed text."""
    archive.ensure_site("demo", "demo", ["127.0.0.1"])
    raw = PAGE.read_bytes()
    page = archive.record_page("demo", URL, status=200, headers={"Content-Type": "text/html"},
                               body=raw, outcome="article")
    good = extract(raw, URL)
    stale = Article(url=URL, title="亚洲成av人无码不卡影片_欧美性爱在线观看亚洲",
                    body=good.body.replace("区", "區(qū)") + "\n相关新闻：某某某某某某某某",
                    published_at=None, source=None)
    result = archive.store_article("demo", URL, stale, page_id=page)
    return result.article_id, good


def row(archive, article_id):
    with Session(archive.engine, expire_on_commit=False) as session:
        art = session.execute(select(ArticleRow).where(ArticleRow.id == article_id)).scalar_one()
        bands = session.execute(select(MinHashBand.band_hash).where(MinHashBand.article_id == article_id)).all()
    return art, sorted(b for (b,) in bands)


def test_reextract_updates_fields_text_hash_and_bands(archive):
    aid, good = archive_stale_copy(archive)
    before, bands_before = row(archive, aid)
    report = reextract(archive, Reextractor())
    after, bands_after = row(archive, aid)
    assert report.checked == 1 and report.updated == 1 and report.text_changed == 1
    assert after.title == good.title and after.title_simplified == to_simplified(good.title)
    assert after.published_at == good.published_at and after.source == good.source
    assert after.body == good.body and "(qū)" not in after.body
    assert after.content_hash != before.content_hash
    assert bands_after and bands_after != bands_before
    assert archive.known_urls([URL]) == {URL}            # the sighting is untouched
    again = reextract(archive, Reextractor())
    assert again.unchanged == 1 and again.updated == 0   # idempotent


def test_dry_run_writes_nothing_and_missing_raw_pages_are_counted(archive):
    aid, _ = archive_stale_copy(archive)
    archive.store_article("demo", "http://127.0.0.1/x/t20240101_2.html",
                          Article(title="无原始页面", body="这是一篇没有原始页面记录的文章，用来检查重新抽取时的计数。"))
    before, _ = row(archive, aid)
    report = reextract(archive, Reextractor(), dry_run=True)
    assert report.updated == 1 and report.no_raw_page == 1
    assert row(archive, aid)[0].title == before.title


def test_reextract_command(archive, db_url):
    archive_stale_copy(archive)
    result = CliRunner().invoke(main, ["reextract", "--db", db_url, "--site", "demo", "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["checked"] == 1 and report["text_changed"] == 1 and report["dry_run"] is False
