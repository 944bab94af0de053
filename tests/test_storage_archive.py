"""Archive API on both backends: sites, pages, store_article outcomes, known_urls, validators."""
from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crawler.extract.article import Article, Image
from storage.archive import Archive, decompress
from storage.models import Article as ArticleRow
from storage.models import ArticleRevision, MinHashBand, Page, Sighting, Site

BODY = (
    "绵阳市科技城新区直管区深入实施工作大走访、思想大解放、作风大转变、能力大提升、效率大提高“五大活动”。\n"
    "一个个大项目签约落地、一项项重大基础设施建设如火如荼、一座座新楼拔地而起，为新区经济社会高质量发展注入了新动力。\n"
    "建设绵阳科技城新区，是省委省政府着眼高水平服务国家科技自强作出的重大决策，也是高水平建设中国科技城的关键一步。\n"
    "今年以来，直管区新签约项目三十个，总投资超过二百亿元，其中十亿元以上项目八个。"
)
SH = timezone(timedelta(hours=8))


def _art(body=BODY, **kw):
    return Article(url=kw.pop("url", None), title=kw.pop("title", "“五大活动”激发干事创业强大动力"),
                   body=body, body_simplified=body,
                   published_at=kw.pop("published_at", datetime(2021, 10, 29, 9, 19, tzinfo=SH)),
                   source="绵阳日报", images=[Image("http://a.gov.cn/1.jpg", "图")], flags={"method": "x"},
                   **kw)


def _count(a: Archive, model, *where):
    with a.engine.connect() as c:
        return c.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_ensure_site_idempotent(archive):
    sid = archive.ensure_site("mianyang", "绵阳新闻", ["www.my.gov.cn"])
    assert archive.ensure_site("mianyang", "绵阳新闻", ["www.my.gov.cn"]) == sid
    assert _count(archive, Site) == 1


def test_record_page_keeps_raw_bytes_compressed(archive):
    archive.ensure_site("s", "S", ["a.gov.cn"])
    raw = ("<html>" + "政务公开" * 500 + "</html>").encode("gbk")
    pid = archive.record_page("s", "http://a.gov.cn/1.html", status=200,
                              headers={b"ETag": [b'"abc"'], b"Content-Type": [b"text/html; charset=gbk"],
                                       b"Set-Cookie": [b"x=1"]},
                              body=raw, outcome="article")
    assert archive.page_body(pid) == raw
    with archive.engine.connect() as c:
        row = c.execute(select(Page).where(Page.id == pid)).one()._mapping
    assert row["codec"] == "zlib" and len(row["raw"]) < len(raw)
    assert zlib.decompress(row["raw"]) == raw and decompress(row["raw"], "zlib") == raw
    assert row["length"] == len(raw) and len(row["sha256"]) == 64
    assert row["headers"] == {"etag": '"abc"', "content-type": "text/html; charset=gbk"}
    assert row["fetched_at"].tzinfo is not None


def test_record_failures_with_reason(archive):
    pid = archive.record_page("s", "http://a.gov.cn/x", status=None, body=None, outcome="failed",
                              reason="dns_lookup_failed")
    pid2 = archive.record_page("s", "http://a.gov.cn/y", status=403, body=b"", outcome="blocked",
                               reason="waf_challenge")
    with archive.engine.connect() as c:
        rows = {r.id: r for r in c.execute(select(Page.id, Page.outcome, Page.reason, Page.length))}
    assert rows[pid].outcome == "failed" and rows[pid].reason == "dns_lookup_failed"
    assert rows[pid2].outcome == "blocked" and archive.page_body(pid2) == b""


def test_store_outcomes(archive):
    archive.ensure_site("a", "A", ["a.gov.cn"])
    archive.ensure_site("b", "B", ["b.gov.cn"])
    p = archive.record_page("a", "http://a.gov.cn/1.html", status=200, body=b"x", outcome="article")
    r1 = archive.store_article("a", "http://A.gov.cn:80/1.html?utm_source=x#top", _art(), page_id=p)
    assert r1.outcome == "new"
    # same URL again -> seen
    r2 = archive.store_article("a", "http://a.gov.cn/1.html", _art(), page_id=p)
    assert (r2.outcome, r2.article_id) == ("seen", r1.article_id)
    # another site publishes the same text (traditional characters + glosses) -> duplicate sighting
    trad = BODY.replace("绵阳", "綿陽").replace("区", "區(qū)").replace("发展", "發(fā)展")
    r3 = archive.store_article("b", "http://b.gov.cn/art/2.html", _art(trad))
    assert (r3.outcome, r3.article_id) == ("duplicate", r1.article_id)
    # a near duplicate (last paragraph trimmed, editor line added) -> revision
    near = BODY.rsplit("\n", 1)[0] + "\n（责任编辑：王五）"
    r4 = archive.store_article("b", "http://b.gov.cn/art/3.html", _art(near))
    assert (r4.outcome, r4.article_id) == ("revision", r1.article_id)
    assert r4.revision_id and r4.similarity >= 0.9
    # the revision's exact text again elsewhere -> duplicate of the same story
    r5 = archive.store_article("a", "http://a.gov.cn/9.html", _art(near))
    assert (r5.outcome, r5.article_id, r5.revision_id) == ("duplicate", r1.article_id, r4.revision_id)
    # a different article -> new
    r6 = archive.store_article("a", "http://a.gov.cn/2.html", _art("完全不同的一篇通知。" * 3 + "关于做好冬季安全生产工作的通知，各单位要高度重视。"))
    assert r6.outcome == "new" and r6.article_id != r1.article_id
    assert _count(archive, ArticleRow) == 2
    assert _count(archive, Sighting, Sighting.article_id == r1.article_id) == 4
    assert _count(archive, ArticleRevision) == 1
    assert _count(archive, MinHashBand, MinHashBand.article_id == r1.article_id) >= 32
    with archive.engine.connect() as c:
        row = c.execute(select(ArticleRow).where(ArticleRow.id == r1.article_id)).one()._mapping
    assert row["url"] == "http://a.gov.cn/1.html"
    assert row["published_at"] == datetime(2021, 10, 29, 1, 19, tzinfo=UTC)
    assert row["published_at"].utcoffset() == timedelta(0)
    assert row["images"] == [{"url": "http://a.gov.cn/1.jpg", "caption": "图"}]
    assert row["page_id"] == p


def test_changed_page_at_known_url_is_revision(archive):
    r1 = archive.store_article("a", "http://a.gov.cn/1.html", _art())
    r2 = archive.store_article("a", "http://a.gov.cn/1.html", _art(BODY + "\n（更新：补充了项目清单）"))
    assert (r2.outcome, r2.article_id) == ("revision", r1.article_id)
    r3 = archive.store_article("a", "http://a.gov.cn/1.html", _art(BODY + "\n（更新：补充了项目清单）"))
    assert r3.outcome == "seen"


def test_empty_bodies_never_merge(archive):
    r1 = archive.store_article("a", "http://a.gov.cn/1.html", _art(""))
    r2 = archive.store_article("a", "http://a.gov.cn/2.html", _art(""))
    assert r1.outcome == r2.outcome == "new" and r1.article_id != r2.article_id


def test_known_urls_batch_canonical(archive):
    archive.store_article("a", "http://a.gov.cn/1.html", _art())
    urls = ["HTTP://A.GOV.CN/1.html#x", "http://a.gov.cn/2.html"] + [f"http://a.gov.cn/n{i}" for i in range(1200)]
    assert archive.known_urls(urls) == {"http://a.gov.cn/1.html"}
    assert archive.known_urls([]) == set()


def test_validators_roundtrip(archive):
    assert archive.get_validators("http://a.gov.cn/1.html") is None
    archive.set_validators("http://a.gov.cn/1.html", '"e1"', "Mon, 01 Jan 2024 00:00:00 GMT")
    archive.set_validators("http://A.gov.cn/1.html", '"e2"', None)
    assert archive.get_validators("http://a.gov.cn/1.html") == ('"e2"', None)


def test_store_accepts_dict(archive):
    d = _art().to_dict()
    d["published_at"] = datetime(2024, 1, 1, tzinfo=UTC)
    assert archive.store_article("a", "http://a.gov.cn/d.html", d).outcome == "new"


# ------------------------------------------------------------------------------ representative copy
def _mirror(body=BODY, title="“五大活动”激发干事创业强大动力", **kw):
    """The same story on a spam mirror: traditional characters, pinyin glosses, spam title flag."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    trad = s2t.convert(body).replace("區", "區(qū)").replace("發", "發(fā)")
    from storage.dedup import to_simplified

    return Article(url=None, title=s2t.convert(title) + "_澳门博彩官网", body=trad, body_simplified=to_simplified(trad),
                   source=s2t.convert("绵阳日报"), flags={"spam_title": True, "glosses_removed": 7}, **kw)


def _row(a: Archive, aid: int):
    with a.engine.connect() as c:
        return c.execute(select(ArticleRow).where(ArticleRow.id == aid)).one()._mapping


def _sightings(a: Archive, aid: int):
    with a.engine.connect() as c:
        return {r.url: r.revision_id for r in c.execute(select(Sighting.url, Sighting.revision_id)
                                                         .where(Sighting.article_id == aid))}


def test_better_copy_becomes_representative(archive):
    archive.ensure_site("mirror", "M", ["m.example.com"])
    archive.ensure_site("a", "A", ["a.gov.cn"])
    pm = archive.record_page("mirror", "http://m.example.com/1.html", status=200, body=b"m", outcome="article")
    r1 = archive.store_article("mirror", "http://m.example.com/1.html", _mirror(), page_id=pm)
    assert r1.outcome == "new" and "綿陽" in _row(archive, r1.article_id)["body"]
    po = archive.record_page("a", "http://a.gov.cn/1.html", status=200, body=b"o", outcome="article")
    r2 = archive.store_article("a", "http://a.gov.cn/1.html", _art(), page_id=po)
    assert (r2.outcome, r2.article_id, r2.revision_id) == ("duplicate", r1.article_id, None)
    row = _row(archive, r1.article_id)
    assert row["title"] == "“五大活动”激发干事创业强大动力"
    assert row["body"] == BODY and row["source"] == "绵阳日报"
    assert row["url"] == "http://a.gov.cn/1.html" and row["page_id"] == po
    assert row["site_id"] == archive.site_id("a") and row["flags"] == {"method": "x"}
    # both copies stay sightings of the one article
    assert _sightings(archive, r1.article_id) == {"http://m.example.com/1.html": None, "http://a.gov.cn/1.html": None}
    # a third, worse copy does not switch back
    r3 = archive.store_article("mirror", "http://m.example.com/2.html", _mirror())
    assert r3.outcome == "duplicate" and _row(archive, r1.article_id)["url"] == "http://a.gov.cn/1.html"


def test_worse_copy_later_does_not_switch(archive):
    r1 = archive.store_article("a", "http://a.gov.cn/1.html", _art())
    r2 = archive.store_article("mirror", "http://m.example.com/1.html", _mirror())
    assert (r2.outcome, r2.article_id) == ("duplicate", r1.article_id)
    row = _row(archive, r1.article_id)
    assert row["title"] == "“五大活动”激发干事创业强大动力" and row["body"] == BODY
    assert row["url"] == "http://a.gov.cn/1.html" and row["site_id"] == archive.site_id("a")


def test_better_near_duplicate_swaps_texts_with_its_revision(archive):
    """Mirror copy (with an extra line) first, then the original: the texts swap places."""
    mirror_body = BODY + "\n更多精彩內容請關注本站"
    r1 = archive.store_article("mirror", "http://m.example.com/1.html", _mirror(mirror_body))
    old_hash = _row(archive, r1.article_id)["content_hash"]
    r2 = archive.store_article("a", "http://a.gov.cn/1.html", _art())
    assert (r2.outcome, r2.article_id) == ("revision", r1.article_id) and r2.revision_id
    row = _row(archive, r1.article_id)
    assert row["body"] == BODY and row["title"] == "“五大活动”激发干事创业强大动力"
    assert row["url"] == "http://a.gov.cn/1.html" and row["content_hash"] != old_hash
    with archive.engine.connect() as c:
        rev = c.execute(select(ArticleRevision).where(ArticleRevision.id == r2.revision_id)).one()._mapping
    # the mirror's text is kept as the revision, and its sighting now points at it
    assert rev["content_hash"] == old_hash and "綿陽" in rev["body"] and rev["url"] == "http://m.example.com/1.html"
    assert _sightings(archive, r1.article_id) == {"http://m.example.com/1.html": r2.revision_id,
                                                  "http://a.gov.cn/1.html": None}
    # the hashes still lead to the right place: each text again is a duplicate of the one story
    r3 = archive.store_article("b", "http://b.gov.cn/1.html", _art())
    r4 = archive.store_article("b", "http://b.gov.cn/2.html", _mirror(mirror_body))
    assert (r3.outcome, r3.article_id, r3.revision_id) == ("duplicate", r1.article_id, None)
    assert (r4.outcome, r4.article_id, r4.revision_id) == ("duplicate", r1.article_id, r2.revision_id)
    assert _count(archive, ArticleRow) == 1 and _count(archive, ArticleRevision) == 1


def test_worse_near_duplicate_later_stays_revision(archive):
    r1 = archive.store_article("a", "http://a.gov.cn/1.html", _art())
    r2 = archive.store_article("mirror", "http://m.example.com/1.html", _mirror(BODY + "\n更多精彩內容請關注本站"))
    assert (r2.outcome, r2.article_id) == ("revision", r1.article_id)
    row = _row(archive, r1.article_id)
    assert row["body"] == BODY and row["url"] == "http://a.gov.cn/1.html"
    assert _sightings(archive, r1.article_id) == {"http://a.gov.cn/1.html": None,
                                                  "http://m.example.com/1.html": r2.revision_id}


def test_duplicate_groups_show_representative(archive):
    from storage.audit import duplicate_groups

    r1 = archive.store_article("mirror", "http://m.example.com/1.html", _mirror())
    archive.store_article("a", "http://a.gov.cn/1.html", _art())
    (g,) = duplicate_groups(archive.engine)
    assert g["id"] == r1.article_id
    assert g["representative"]["url"] == "http://a.gov.cn/1.html" and g["representative"]["site"] == "a"
    assert [(s["url"], s["representative"]) for s in g["sightings"]] == [
        ("http://a.gov.cn/1.html", True), ("http://m.example.com/1.html", False)]


# ---------------------------------------------------------------------------- thread safety
def test_archive_is_safe_to_share_between_threads(archive):
    """The crawler writes from worker threads (deferToThread): one Archive, many threads."""
    from concurrent.futures import ThreadPoolExecutor

    base = "区政府召开第{}次常务会议，研究部署安全生产和森林防火工作，要求各部门压紧压实责任，强化巡查管控。"

    def work(i):
        site = f"site{i % 3}"
        pid = archive.record_page(site, f"http://a.gov.cn/{i}.html", status=200, body=b"x", outcome="article")
        r = archive.store_article(site, f"http://a.gov.cn/{i}.html",
                                  {"title": f"t{i % 10}", "body": base.format(i % 10)}, page_id=pid)
        return r.outcome, archive.site_id(site)

    with ThreadPoolExecutor(6) as ex:
        results = list(ex.map(work, range(30)))
    outcomes = [o for o, _ in results]
    assert outcomes.count("new") == 10 and outcomes.count("duplicate") == 20
    with archive.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(Site)) == 3
        assert c.scalar(select(func.count()).select_from(ArticleRow)) == 10
    assert {sid for _, sid in results} == {archive.site_id(f"site{k}") for k in range(3)}


def test_one_cache_pragma_listener_per_engine(sqlite_url):
    from sqlalchemy import event

    from storage import archive as archive_mod
    from storage.db import make_engine

    eng = make_engine(sqlite_url)
    try:
        for _ in range(3):
            Archive(engine=eng)
        assert event.contains(eng, "connect", archive_mod._sqlite_cache_pragma)
        listeners = [fn for fn in eng.pool.dispatch.connect if fn is archive_mod._sqlite_cache_pragma]
        assert len(listeners) == 1
        with eng.connect() as c:
            assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -archive_mod.SQLITE_CACHE_KIB
    finally:
        eng.dispose()


@pytest.mark.postgres
def test_recrawl_sighting_update_stays_on_its_page(pg_url):
    """A re-crawl's sighting update (last_seen/status/page_id) is written on the row's own heap page
    (HOT, migration 0010: fillfactor 90); on full pages (fillfactor 100) it moved to another page and
    added an entry to every sightings index."""
    from sqlalchemy import text

    a = Archive(pg_url)
    try:
        first = a.store_article("s", "http://s.gov.cn/0.html", _art())
        n = 300  # several heap pages of sightings (about 70 rows each)
        for i in range(1, n):
            assert a.store_article("s", f"http://s.gov.cn/{i}.html", _art()).outcome == "duplicate"
        with a.engine.connect() as c:
            assert "fillfactor=90" in (c.scalar(text(
                "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'sightings'")) or "")

            def pages() -> dict[str, int]:
                rows = c.execute(text("SELECT url, (ctid::text::point)[0]::int FROM sightings")).all()
                c.commit()
                return dict(rows)

            before = pages()
            assert max(before.values()) >= 3
            urls = [u for u, p in before.items() if p < max(before.values())][::25]  # full pages only
            for url in urls:
                r = a.store_article("s", url, _art(), status=304)
                assert (r.outcome, r.article_id) == ("seen", first.article_id)
            after = pages()
        assert len(urls) >= 8
        assert {u: after[u] for u in urls} == {u: before[u] for u in urls}
    finally:
        a.close()
