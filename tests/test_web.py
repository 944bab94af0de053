"""The web view (govnews.web) through WSGI on both backends: pages, safety of archived HTML,
search, pagination, read-only access; ``govnews serve`` / ``govnews report`` command lines."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from wsgiref.util import setup_testing_defaults

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from govnews.cli import main
from govnews.web.app import CSP, RAW_CSP, make_app
from govnews.web.db import readonly_engine
from govnews.web.queries import forget_schema
from storage.archive import Archive
from storage.db import make_engine
from tests.support.webarchive import HOSTILE_TITLE, TRAD_TITLE, fill

NOW = datetime(2024, 10, 26, 4, 0, tzinfo=UTC)


class Client:
    def __init__(self, app):
        self.app = app

    def get(self, path, query="", method="GET"):
        env: dict = {}
        setup_testing_defaults(env)
        env.update(PATH_INFO=path.encode("utf-8").decode("latin-1"), QUERY_STRING=query, REQUEST_METHOD=method)
        out: dict = {}

        def start_response(status, headers):
            out["status"], out["headers"] = status, dict(headers)

        body = b"".join(self.app(env, start_response))
        return int(out["status"].split()[0]), out["headers"], body.decode("utf-8")


@pytest.fixture
def web(archive, db_url, tmp_path):
    facts = fill(archive, db_url)
    engine = readonly_engine(db_url)
    app = make_app(engine, deadletter_dir=tmp_path / "dl", clock=lambda: NOW)
    yield Client(app), facts, engine
    forget_schema(engine)
    engine.dispose()


def texts(html, cls):
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(rf'class="{cls}"[^>]*>(.*?)</', html, re.S)]


def test_home_lists_sites_with_counts_and_last_crawl(web):
    client, facts, _ = web
    status, headers, html = client.get("/")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert 'id="total-articles">5<' in html
    demo = html[html.index('data-site="demo"'):html.index('data-site="other"')]
    assert 'class="num articles">4<' in demo and "示范县人民政府" in demo
    assert 'status-ok">ok<' in demo
    assert "<script" not in html


def test_site_page_by_date_and_column_with_pagination(web, monkeypatch):
    client, facts, _ = web
    status, _, html = client.get("/site/demo")
    assert status == 200 and 'id="site-total">4<' in html
    titles = texts(html, "title")
    assert titles[:3] == ["经开区推动项目建设“加速跑”", TRAD_TITLE, HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")]
    assert titles[-1] == "没有日期的通知", "undated last"
    assert "政务要闻 (2)" in html and "部门动态 (1)" in html
    status, _, html = client.get("/site/demo", "column=%E9%83%A8%E9%97%A8%E5%8A%A8%E6%80%81")
    assert texts(html, "title") == [TRAD_TITLE]
    from govnews.web import queries
    data = queries.site_articles(web[2], "demo", page=2, per_page=2)
    assert data["pages"] == 2 and [i["title"] for i in data["items"]] == [HOSTILE_TITLE, "没有日期的通知"]
    assert client.get("/site/demo", "page=9")[0] == 400
    assert client.get("/site/nosuch")[0] == 404


def test_article_page_fields_sightings_revisions_and_raw_links(web):
    client, facts, _ = web
    status, _, html = client.get(f"/article/{facts['articles']['main']}")
    assert status == 200
    assert '<h1 id="title">经开区推动项目建设“加速跑”</h1>' in html
    assert "项目负责人介绍，园区今年新增企业二十余家" in html
    for field in ("source", "author", "column", "published_at", "content_hash", "flags"):
        assert f'data-field="{field}"' in html
    assert "绵阳日报" in html and "张三" in html
    sightings = html[html.index('id="sightings"'):]
    assert "http://127.0.0.1/a/1.html" in sightings and "http://other.gov.cn/copy.html" in sightings
    assert facts["revision_outcome"] == "revision"
    if True:
        assert "修订 revisions (1)" in html
        assert "<del>二</del><ins>三</ins>" in html, "the diff marks the changed characters"
    assert re.search(r'href="/raw/\d+"', html) and re.search(r'href="/raw/\d+/render"', html)


def test_hostile_article_and_raw_page_are_inert(web):
    client, facts, _ = web
    status, _, html = client.get(f"/article/{facts['articles']['hostile']}")
    assert "<script" not in html and "onerror=" not in html.replace("onerror=alert", "")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;恶意标题测试" in html
    page_id = re.search(r'href="/raw/(\d+)"', html).group(1)
    status, headers, raw = client.get(f"/raw/{page_id}")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert "<script" not in raw and "&lt;script&gt;window.parent.document.title" in raw
    status, headers, frame = client.get(f"/raw/{page_id}/render")
    assert '<iframe class="raw" id="raw-frame" sandbox=""' in frame
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    status, headers, body = client.get(f"/raw/{page_id}/sandbox")
    assert headers["Content-Security-Policy"] == RAW_CSP and RAW_CSP.startswith("sandbox;")
    assert "script-src" not in RAW_CSP and "default-src 'none'" in RAW_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/raw/999999")[0] == 404


def test_search_simplified_finds_traditional_with_highlights_filters_and_pages(web):
    client, facts, _ = web
    status, _, html = client.get("/search", "q=%E6%96%B0%E5%8C%BA")          # 新区
    assert status == 200
    assert "科技城<mark>新區</mark>召開鄉村振興會議" in html, "traditional title found and highlighted"
    assert "<mark>新区</mark>" in html, "snippet highlighted"
    status, _, html = client.get("/search", "q=%E6%96%B0%E5%8D%80")          # 新區 (traditional query)
    assert TRAD_TITLE[:3] in html and 'class="hit"' in html
    _, _, html = client.get("/search", "q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83")   # 营商环境
    assert len(re.findall('class="hit"', html)) == 2
    _, _, html = client.get("/search", "q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83&site=other")
    assert len(re.findall('class="hit"', html)) == 1 and "另一个县的" in html
    _, _, html = client.get("/search", "q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83&since=2024-10-02&until=2024-10-31")
    assert len(re.findall('class="hit"', html)) == 1 and "经开区" in html
    assert client.get("/search", "q=x&since=yesterday")[0] == 400
    assert client.get("/search", "q=x&page=99")[0] == 400
    _, _, html = client.get("/search", "q=%3Cscript%3E")
    assert "<script>" not in html


def test_search_pagination(web, monkeypatch):
    client, _, _ = web
    from govnews.web import app as appmod
    monkeypatch.setattr(appmod, "SEARCH_PER_PAGE", 1)
    _, _, p1 = client.get("/search", "q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83")
    _, _, p2 = client.get("/search", "q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83&page=2")
    assert len(re.findall('class="hit"', p1)) == len(re.findall('class="hit"', p2)) == 1
    assert 'rel="next"' in p1 and 'rel="next"' not in p2 and 'rel="prev"' in p2
    assert texts(p1, "title") != texts(p2, "title")


def test_health_page(web):
    client, _, _ = web
    status, _, html = client.get("/health")
    assert status == 200
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 2, "one chart per site"
    demo = html[html.index('data-site="demo"'):]
    assert 'class="bar"' in demo, "bars for the days with articles"
    assert 'status-failed">failed<' in demo and "http_404=3" in demo
    assert "http://127.0.0.1/blocked.html" in html and "challenge: waf" in html
    assert "http_404" in html[html.index('id="page-failures"'):]


def test_related_tables_and_extra_columns_are_shown_when_present(sqlite_url):
    with Archive(sqlite_url) as archive:
        fill(archive, sqlite_url)
    rw = make_engine(sqlite_url)
    with rw.begin() as c:
        c.execute(text("ALTER TABLE articles ADD COLUMN disclosure_index_no TEXT"))
        c.execute(text("UPDATE articles SET disclosure_index_no = '11510700MB1234567A/2024-00123'"))
        c.execute(text("CREATE TABLE files (id INTEGER PRIMARY KEY, url TEXT, filename TEXT, data BLOB)"))
        c.execute(text("CREATE TABLE article_files (article_id INTEGER REFERENCES articles(id), "
                       "file_id INTEGER REFERENCES files(id))"))
        c.execute(text("INSERT INTO files VALUES (1, 'http://127.0.0.1/f/1.pdf', '实施方案.pdf', x'00')"))
        c.execute(text("INSERT INTO article_files VALUES (1, 1)"))
    rw.dispose()
    engine = readonly_engine(sqlite_url)
    _, _, html = Client(make_app(engine)).get("/article/1")
    assert 'data-field="disclosure_index_no"' in html and "11510700MB1234567A/2024-00123" in html
    assert 'data-table="article_files"' in html and "实施方案.pdf" in html
    engine.dispose()


def test_methods_other_than_get_are_refused_and_the_engine_cannot_write(web):
    client, _, engine = web
    status, headers, _ = client.get("/", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("DELETE FROM articles"))


def test_report_command_writes_one_static_file(sqlite_url, tmp_path):
    with Archive(sqlite_url) as archive:
        fill(archive, sqlite_url)
    out = tmp_path / "report.html"
    res = CliRunner().invoke(main, ["report", "--db", sqlite_url, "--now", "2024-10-26T12:00", "-o", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "<style>" in html and 'rel="stylesheet"' not in html and "<script" not in html
    assert 'class="bar"' in html and "http_404=3" in html
    assert not re.search(r'(src|href)="/', html), "no link that needs the server"


def test_serve_and_report_refuse_a_missing_archive(tmp_path):
    for args in (["serve"], ["report", "-o", str(tmp_path / "r.html")]):
        res = CliRunner().invoke(main, [*args, "--db", f"sqlite:///{tmp_path}/none.db"])
        assert res.exit_code == 1 and "no archive at" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "none.db").exists()


def _reference_order(engine, site, column=None):
    """The site page's order in one sorted statement (what site_articles must reproduce)."""
    sql = ("SELECT a.id, a.published_at FROM articles a JOIN sites s ON s.id = a.site_id WHERE s.name = :s"
           + ("" if column is None else " AND a.\"column\" = :c" if column else " AND a.\"column\" IS NULL"))
    rows = list(make_engine_rows(engine, sql, {"s": site, "c": column}))
    dated = sorted((r for r in rows if r[1] is not None), key=lambda r: (str(r[1]), r[0]), reverse=True)
    undated = sorted((r for r in rows if r[1] is None), key=lambda r: r[0], reverse=True)
    return [r[0] for r in dated + undated]


def make_engine_rows(engine, sql, params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_site_page_pages_dated_then_undated_like_one_sorted_query(archive, db_url):
    """site_articles reads dated rows then undated ones from two indexed statements; every page of
    every size, with and without a column filter, equals ORDER BY published_at DESC NULLS LAST, id DESC."""
    from govnews.web import queries

    archive.ensure_site("many", "多文章")
    day = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(13):
        pub = None if i % 3 == 0 else day.replace(day=1 + i % 5)     # undated ones, and ties on the date
        archive.store_article("many", f"http://m.gov.cn/{i}.html",
                              {"title": f"第{i}篇", "body": f"正文{i}，内容各不相同{'甲' * i}。", "published_at": pub,
                               "column": None if i % 4 == 0 else "要闻"})
    engine = readonly_engine(db_url)
    try:
        for column in (None, "要闻", ""):
            expected = _reference_order(engine, "many", column)
            assert expected
            for per_page in (1, 2, 4, 5, 50):
                got, page = [], 1
                while True:
                    d = queries.site_articles(engine, "many", column=column, page=page, per_page=per_page)
                    assert d["total"] == len(expected)
                    got += [it["id"] for it in d["items"]]
                    if page >= d["pages"]:
                        break
                    page += 1
                assert got == expected, (column, per_page)
    finally:
        forget_schema(engine)
        engine.dispose()


def test_health_daily_counts_match_a_plain_count(web, monkeypatch):
    """daily_counts (indexed ranges per site, days counted in SQL) counts like one
    coalesce(published_at, first_seen) scan bucketed in Python, and like its own Python fallback."""
    from govnews.web import queries

    _, _, engine = web
    since = datetime(2024, 10, 23, tzinfo=UTC)
    got = queries.daily_counts(engine, since)
    assert queries._day_sql(engine.dialect.name, queries.A.c.first_seen, since, NOW) is not None
    want: dict = {}
    rows = make_engine_rows(engine, "SELECT s.name, a.published_at, a.first_seen FROM articles a "
                                    "JOIN sites s ON s.id = a.site_id", {})
    from govnews.web.db import aware
    for name, pub, seen in rows:
        for kind, t in (("published", pub if pub is not None else seen), ("archived", seen)):
            t = aware(t)
            if t >= since:
                d = want.setdefault(name, {"published": {}, "archived": {}})[kind]
                day = queries._local_day(t)
                d[day] = d.get(day, 0) + 1
    assert got == want
    assert sum(got["demo"]["published"].values()) == 3     # two dated since the 23rd + the undated one
    assert "2024-10-24" in got["demo"]["published"]        # 2024-10-23 20:00 UTC is the 24th in Shanghai
    monkeypatch.setattr(queries, "_day_sql", lambda *a: None)
    assert queries.daily_counts(engine, since) == want


def test_site_page_and_search_by_site_read_indexes_without_sorting(sqlite_url):
    """SQLite plans: the site page and the column counts come from the 0008 indexes (no temp b-tree)."""
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as c:
            def plan(sql):
                return " | ".join(r[-1] for r in c.execute(text("EXPLAIN QUERY PLAN " + sql)))
            p = plan("SELECT id FROM articles WHERE site_id = 1 AND published_at IS NOT NULL "
                     "ORDER BY published_at DESC, id DESC LIMIT 50")
            assert "ix_articles_site_id_published_at_id" in p and "TEMP B-TREE" not in p, p
            p = plan("SELECT \"column\", count(*) FROM articles WHERE site_id = 1 GROUP BY \"column\"")
            assert "COVERING INDEX ix_articles_site_id_column_published_at_id" in p, p
            p = plan("SELECT id FROM articles WHERE site_id = 1 ORDER BY id DESC LIMIT 20")
            assert "TEMP B-TREE" not in p, p
    finally:
        eng.dispose()
