"""The stable SQL views (migration 0002, docs/SQL.md) and the Datasette canned queries, on both backends."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import runs
from storage.db import make_engine

UTC = UTC
REPO = Path(__file__).resolve().parent.parent
METADATA = REPO / "datasette" / "metadata.json"

ARTICLE_VIEW_COLUMNS = ["id", "site", "site_title", "title", "published_at", "published_at_local",
                        "source", "author", "editor", "section", "url", "summary", "body",
                        "first_seen", "first_seen_local", "updated_at",
                        # 0006 (issue 16): 信息公开 columns and the number of attachments
                        "index_no", "doc_number", "issuer", "written_at", "topic", "validity", "subject_words",
                        "attachments"]
DAILY_COLUMNS = ["site", "day", "articles"]
LATEST_CRAWL_COLUMNS = ["site", "run_id", "triggered_by", "status", "started_at", "started_at_local",
                        "finished_at", "finished_at_local", "duration_seconds", "requests", "pages",
                        "new_articles", "duplicates", "revisions", "bytes", "exit_code", "host"]


@pytest.fixture
def filled(archive, db_url):
    archive.ensure_site("demo", "示范县", ["127.0.0.1"])
    archive.ensure_site("other", "另一个县")
    seen = datetime(2024, 10, 25, 3, 0, tzinfo=UTC)
    arts = [
        ("demo", "http://127.0.0.1/a/1.html", "经开区推动项目建设“加速跑”", datetime(2024, 10, 24, 1, 3, tzinfo=UTC),
         "绵阳日报", "近日，记者来到经开区连接器产业园项目，看到现场塔吊耸立，营商环境持续优化。"),
        # 2024-10-23 20:00 UTC = 2024-10-24 04:00 in Shanghai: the same local day as the first
        ("demo", "http://127.0.0.1/a/2.html", "科技城新区召开会议", datetime(2024, 10, 23, 20, 0, tzinfo=UTC),
         None, "科技城新区召开会议，部署乡村振兴工作，要求各部门狠抓落实，确保见到实效。"),
        ("demo", "http://127.0.0.1/a/3.html", "没有日期的文章", None,
         None, "这是一篇没有发布日期的文章，按首次发现的日期计数，用来检查视图的回退逻辑。"),
        ("other", "http://other.gov.cn/4.html", "另一个县的新闻", datetime(2024, 9, 30, 16, 30, tzinfo=UTC),
         "新华社", "另一个县的营商环境新闻，内容与上面的文章完全不同，只是为了有第二个站点。"),
    ]
    for site, url, title, pub, source, body in arts:
        archive.store_article(site, url, {"title": title, "body": body, "published_at": pub, "source": source,
                                          "author": "张三" if source else None, "column": "要闻"}, seen_at=seen)
    # a second URL of the first story
    archive.store_article("other", "http://other.gov.cn/copy.html",
                          {"title": arts[0][2], "body": arts[0][5]}, seen_at=seen)
    t0 = datetime(2024, 10, 25, 0, 0, tzinfo=UTC)
    r1 = runs.start_run(db_url, "demo", "schedule", started_at=t0)
    runs.finish_run(db_url, r1, "failed", exit_code=1)
    r2 = runs.start_run(db_url, "demo", "manual", started_at=t0 + timedelta(hours=1))
    runs.finish_run(db_url, r2, "ok", exit_code=0, pages=12, new_articles=3)
    eng = make_engine(db_url)
    with eng.begin() as c:  # fixed finish times
        c.execute(text("UPDATE crawl_runs SET finished_at = :f WHERE id = :i"),
                  {"f": t0 + timedelta(minutes=5), "i": r1})
        c.execute(text("UPDATE crawl_runs SET finished_at = :f WHERE id = :i"),
                  {"f": t0 + timedelta(hours=1, seconds=90.5), "i": r2})
    eng.dispose()
    r3 = runs.start_run(db_url, "other", "due", started_at=t0)
    return db_url, {"ok": r2, "failed": r1, "running": r3}


def _rows(url, sql, params=None):
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            res = c.execute(text(sql), params or {})
            return list(res.keys()), [dict(r._mapping) for r in res]
    finally:
        eng.dispose()


def test_view_columns(filled):
    url, _ = filled
    assert _rows(url, "SELECT * FROM article_view")[0] == ARTICLE_VIEW_COLUMNS
    assert _rows(url, "SELECT * FROM site_daily_counts")[0] == DAILY_COLUMNS
    assert _rows(url, "SELECT * FROM site_latest_crawl")[0] == LATEST_CRAWL_COLUMNS


def test_article_view_times_in_shanghai(filled):
    url, _ = filled
    _, rows = _rows(url, "SELECT * FROM article_view ORDER BY id")
    assert len(rows) == 4
    first = rows[0]
    assert first["site"] == "demo" and first["site_title"] == "示范县" and first["section"] == "要闻"
    assert first["published_at_local"] == "2024-10-24T09:03:00+08:00"
    assert first["first_seen_local"] == "2024-10-25T11:00:00+08:00"
    assert first["source"] == "绵阳日报" and first["author"] == "张三"
    assert first["url"] == "http://127.0.0.1/a/1.html" and "塔吊" in first["body"]
    assert rows[1]["published_at_local"] == "2024-10-24T04:00:00+08:00"
    assert rows[2]["published_at_local"] is None
    assert rows[3]["published_at_local"] == "2024-10-01T00:30:00+08:00"
    # string comparison on the local text works the same on both backends
    _, oct_rows = _rows(url, "SELECT id FROM article_view WHERE published_at_local >= '2024-10-01' "
                             "AND published_at_local < '2024-10-02'")
    assert [r["id"] for r in oct_rows] == [rows[3]["id"]]


def test_site_daily_counts(filled):
    url, _ = filled
    _, rows = _rows(url, "SELECT site, day, articles FROM site_daily_counts ORDER BY site, day")
    assert [(r["site"], r["day"], int(r["articles"])) for r in rows] == [
        ("demo", "2024-10-24", 2), ("demo", "2024-10-25", 1), ("other", "2024-10-01", 1)]


def test_site_latest_crawl(filled):
    url, ids = filled
    _, rows = _rows(url, "SELECT * FROM site_latest_crawl ORDER BY site")
    demo, other = rows
    assert demo["run_id"] == ids["ok"] and demo["status"] == "ok" and demo["triggered_by"] == "manual"
    assert demo["started_at_local"] == "2024-10-25T09:00:00+08:00"
    assert demo["finished_at_local"] == "2024-10-25T09:01:30+08:00"
    assert demo["duration_seconds"] == pytest.approx(90.5, abs=0.051)
    assert (demo["pages"], demo["new_articles"], demo["exit_code"]) == (12, 3, 0)
    assert other["run_id"] == ids["running"] and other["status"] == "running"
    assert other["finished_at"] is None and other["duration_seconds"] is None


def _canned():
    meta = json.loads(METADATA.read_text(encoding="utf-8"))
    return meta["databases"]["archive"]["queries"]


CANNED_PARAMS = {"site": "demo", "since": "2024-10-01", "until": "2024-11-01", "q": "营商环境"}


def test_datasette_canned_queries_run(filled):
    url, _ = filled
    queries = _canned()
    assert {"latest_articles", "search", "short_search", "daily_counts", "crawl_health"} <= set(queries)
    is_sqlite = url.startswith("sqlite")
    for name, q in queries.items():
        sql = q["sql"]
        if not is_sqlite and ("articles_fts" in sql):
            continue  # FTS5 queries are SQLite-only (Datasette serves SQLite)
        import re

        params = {p: CANNED_PARAMS[p] for p in re.findall(r"(?<!:):(\w+)", sql)}
        _, rows = _rows(url, sql, params)
        if name in ("latest_articles", "daily_counts", "crawl_health", "site_articles", "search"):
            assert rows, name
    if is_sqlite:
        _, rows = _rows(url, queries["short_search"]["sql"], {"q": "新区"})
        assert [r["title"] for r in rows] == ["科技城新区召开会议"]
        _, rows = _rows(url, queries["search"]["sql"], {"q": 'x" OR "y'})
        assert rows == []


def test_datasette_loads_archive(sqlite_url, tmp_path):
    """With Datasette installed: the archive and metadata load and a canned query runs."""
    datasette_app = pytest.importorskip("datasette.app")
    import asyncio

    path = sqlite_url.split("///", 1)[1]
    archive = tmp_path / "archive.db"
    Path(path).rename(archive)
    meta = json.loads(METADATA.read_text(encoding="utf-8"))

    async def go():
        ds = datasette_app.Datasette([str(archive)], metadata=meta)
        r = await ds.client.get("/archive/latest_articles.json?_shape=array")
        assert r.status_code == 200, r.text
        r = await ds.client.get("/archive/article_view.json")
        assert r.status_code == 200, r.text

    asyncio.run(go())
