"""Full-text search (storage.search, `govnews search`) on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from govnews.cli import main
from storage import search as search_mod
from storage.db import make_engine
from storage.search import fts5_phrase, like_pattern, query_terms, search

UTC = UTC

# (url, title, body, published) — 1: traditional, 2-4: simplified
DOCS = [
    ("http://a.gov.cn/1.html", "綿陽科技城新區召開鄉村振興推進會",
     "綿陽市科技城新區召開會議，部署鄉村振興工作。會議強調，要推動產業發展。",
     datetime(2024, 3, 1, 2, 0, tzinfo=UTC)),
    ("http://a.gov.cn/2.html", "成都新都区优化营商环境",
     "新都区持续优化营商环境，100% 完成年度任务_目标。引用\"特别说明\"：AND OR NEAR * 均为普通文字。",
     datetime(2024, 5, 10, 1, 0, tzinfo=UTC)),
    ("http://b.gov.cn/3.html", "随州高新区安全生产检查",
     "高新区开展安全生产大检查。检查组一行深入企业。它在绵阳吗？不，在随州。",
     datetime(2023, 12, 31, 20, 0, tzinfo=UTC)),
    ("http://b.gov.cn/4.html", "关于营商环境的通知",
     "各单位：营商环境营商环境营商环境，是发展的关键。O'Brien 100 percent; 完成任务X目标。",
     datetime(2024, 6, 1, 0, 0, tzinfo=UTC)),
]


@pytest.fixture
def filled(archive, db_url):
    archive.ensure_site("mianyang", "绵阳")
    archive.ensure_site("suizhou", "随州")
    ids = []
    for url, title, body, pub in DOCS:
        site = "mianyang" if "a.gov.cn" in url else "suizhou"
        r = archive.store_article(site, url, {"title": title, "body": body, "published_at": pub})
        assert r.outcome == "new"
        ids.append(r.article_id)
    return db_url, ids


def _ids(url, q, **kw):
    return [h.id for h in search(url, q, **kw)]


def test_query_helpers():
    assert query_terms(" 新區  綿陽 新区 ") == ["新区", "绵阳"]
    assert like_pattern("100%_\\") == "%100\\%\\_\\\\%"
    assert fts5_phrase('a"b') == '"a""b"'
    assert search_mod.make_snippet("甲乙丙丁戊己庚辛", ["丁戊"], width=2) == "…乙丙«丁戊»己庚…"


def test_simplified_query_finds_traditional_and_back(filled):
    url, ids = filled
    assert _ids(url, "乡村振兴") == [ids[0]]            # traditional article, simplified query
    assert _ids(url, "鄉村振興") == [ids[0]]            # traditional query
    assert _ids(url, "科技城新区") == [ids[0]]
    assert _ids(url, "營商環境") == [ids[3], ids[1]] or set(_ids(url, "營商環境")) == {ids[1], ids[3]}
    hit = search(url, "乡村振兴")[0]
    assert "«乡村振兴»" in hit.snippet and hit.site == "mianyang"
    assert hit.title == DOCS[0][1]  # shown as archived
    assert hit.published_at == DOCS[0][3]


def test_one_and_two_character_queries(filled):
    url, ids = filled
    assert set(_ids(url, "绵阳")) == {ids[0], ids[2]}    # in a title (traditional) / a body
    assert set(_ids(url, "綿")) == {ids[0], ids[2]}
    assert set(_ids(url, "新区")) == {ids[0], ids[2]}     # 新區 (traditional), 高新区
    assert set(_ids(url, "区")) == {ids[0], ids[1], ids[2]}
    assert set(_ids(url, "州")) == {ids[2]}              # last characters of a body
    assert _ids(url, "鳄") == []
    # short queries: newest archived first
    assert _ids(url, "区") == sorted(_ids(url, "区"), reverse=True)
    hit = search(url, "绵阳", site="suizhou")[0]
    assert "«绵阳»" in hit.snippet


def test_short_path_index_and_scan_agree(filled, monkeypatch):
    url, ids = filled
    queries = ["绵阳", "区", "新区", "州", "营商", "环 区", "Br", "o'", "鳄"]
    via_index = {q: _ids(url, q) for q in queries}
    monkeypatch.setattr(search_mod, "SHORT_PROBE", 1)     # every short term counts as frequent
    via_scan = {q: _ids(url, q) for q in queries}
    assert via_index == via_scan
    assert via_index["Br"] == [ids[3]] and via_index["o'"] == [ids[3]]


def test_mixed_long_and_short_terms(filled):
    url, ids = filled
    assert _ids(url, "科技城 区") == [ids[0]]
    assert _ids(url, "营商环境 成都") == [ids[1]]
    assert _ids(url, "营商环境 成都 绵阳") == []


@pytest.mark.parametrize("q,expected", [
    ("100%", [1]),            # % literal: not "100 percent"
    ("_目标", [1]),           # _ literal: not "X目标"
    ("任务_目标", [1]),
    ('"特别说明"', [1]),
    ('"', [1]),
    ("AND OR", [1]),
    ("NEAR", [1]),
    ("*", [1]),
    ("O'Brien", [3]),
    ("'", [3]),
    ("'; DROP TABLE articles; --", []),
    ("\\", []),
    ("%", [1]),
    ("_", [1]),
    ("%%", []),
    ("a OR 1=1", []),
    ("NOT", []),
    ("(", []),
    ("营商环境 AND", [1]),    # both words occur in 2 (AND is a word there)
    ("营商环境 NOT", []),
    ("NEAR(营商 环境)", []),
])
def test_metacharacters_are_literal(filled, q, expected):
    url, ids = filled
    assert sorted(_ids(url, q)) == sorted(ids[i] for i in expected), q
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            assert c.execute(text("SELECT count(*) FROM articles")).scalar() == 4
    finally:
        eng.dispose()


def test_filters_limit_and_ranking(filled):
    url, ids = filled
    assert set(_ids(url, "营商环境")) == {ids[1], ids[3]}
    # title + 4 occurrences beat title + 1 occurrence, on both backends
    assert _ids(url, "营商环境") == [ids[3], ids[1]]
    assert _ids(url, "营商环境", site="mianyang") == [ids[1]]
    assert _ids(url, "营商环境", since=datetime(2024, 5, 31, tzinfo=UTC)) == [ids[3]]
    assert _ids(url, "营商环境", until=datetime(2024, 5, 31, tzinfo=UTC)) == [ids[1]]
    assert len(_ids(url, "区", limit=1)) == 1
    assert _ids(url, "   ") == []
    # a title hit outranks a body-only hit
    assert _ids(url, "安全生产")[0] == ids[2]


def test_index_follows_updates_and_deletes(filled):
    url, ids = filled
    eng = make_engine(url)
    try:
        with eng.begin() as c:
            c.execute(text("UPDATE articles SET body_simplified = '改写后的正文：数字经济示范区。' WHERE id = :i"),
                      {"i": ids[2]})
            c.execute(text("UPDATE articles SET title_simplified = '全新标题内容' WHERE id = :i"), {"i": ids[1]})
        assert _ids(url, "数字经济") == [ids[2]]
        assert _ids(url, "检查组") == []                    # old text gone from the index
        assert _ids(url, "全新标题") == [ids[1]]
        assert _ids(url, "成都新都") == []                  # old simplified title gone
        with eng.begin() as c:
            c.execute(text("DELETE FROM sightings WHERE article_id = :i"), {"i": ids[0]})
            c.execute(text("DELETE FROM articles WHERE id = :i"), {"i": ids[0]})
        assert _ids(url, "乡村振兴") == [] and ids[0] not in _ids(url, "绵阳")
        if eng.dialect.name == "sqlite":
            with eng.begin() as c:  # the external-content index matches its content exactly
                c.execute(text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"))
    finally:
        eng.dispose()


def test_title_simplified_filled_on_insert(filled):
    url, ids = filled
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            t = c.execute(text("SELECT title_simplified FROM articles WHERE id = :i"), {"i": ids[0]}).scalar()
    finally:
        eng.dispose()
    assert t == "绵阳科技城新区召开乡村振兴推进会"


@pytest.mark.postgres
def test_pg_trgm_handles_cjk_on_this_server(pg_url):
    """pg_trgm only indexes characters the DB locale calls alphanumeric: check CJK is, and the index is used."""
    eng = make_engine(pg_url)
    try:
        with eng.begin() as c:
            ctype = c.execute(text("SELECT datctype FROM pg_database WHERE datname = current_database()")).scalar()
            trgms = c.execute(text("SELECT show_trgm('绵阳市新区')")).scalar()
            assert len(trgms) >= 5, (ctype, trgms)   # CJK classified alphanumeric -> real trigrams
            c.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r[0] for r in c.execute(text(
                "EXPLAIN SELECT id FROM articles WHERE body_simplified ILIKE '%乡村振兴%'")))
            assert "ix_articles_body_simplified_trgm" in plan, plan
            plan = "\n".join(r[0] for r in c.execute(text(
                "EXPLAIN SELECT id FROM articles WHERE coalesce(title_simplified, title, '') ILIKE '%乡村振兴%'")))
            assert "ix_articles_title_simplified_trgm" in plan, plan
    finally:
        eng.dispose()


def test_sqlite_fts_objects(sqlite_url):
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as c:
            names = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master"))}
    finally:
        eng.dispose()
    assert {"articles_fts", "articles_fts_vocab", "articles_search_src", "articles_fts_ai",
            "articles_fts_ad", "articles_fts_au"} <= names


def test_cli_search(filled):
    url, ids = filled
    r = CliRunner().invoke(main, ["search", "--db", url, "鄉村振興"], catch_exceptions=False)
    assert r.exit_code == 0
    assert "[mianyang] 2024-03-01 10:00" in r.output and "«乡村振兴»" in r.output
    r = CliRunner().invoke(main, ["search", "--db", url, "绵阳", "--json", "--limit", "1"],
                           catch_exceptions=False)
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert len(rows) == 1 and rows[0]["id"] == ids[2] and rows[0]["published_at"].endswith("+08:00")
    r = CliRunner().invoke(main, ["search", "--db", url, "营商环境", "--since", "2024-06-01", "--json"],
                           catch_exceptions=False)
    assert [json.loads(x)["id"] for x in r.output.splitlines()] == [ids[3]]
    r = CliRunner().invoke(main, ["search", "--db", url, "鳄鱼"], catch_exceptions=False)
    assert r.exit_code == 0
    help_ = CliRunner().invoke(main, ["search", "--help"]).output
    assert "Examples:" in help_ and "govnews search" in help_


def test_nul_in_a_term_is_a_separator(filled):
    """The bug: a NUL inside a 3+ character term raised an uncaught OperationalError (FTS5)."""
    url, ids = filled
    assert query_terms("乡村\x00振兴") == ["乡村", "振兴"]
    assert _ids(url, "乡村振兴\x00") == [ids[0]]
    assert _ids(url, "乡村\x00振兴") == [ids[0]]
    assert _ids(url, "\x00\x00") == []
    assert _ids(url, "营商环境\x00成都") == [ids[1]]


SAME_QUERIES = ["绵阳", "区", "新区", "州", "营商", "环 区", "Br", "o'", "O'BRIEN", "鳄", "营商环境",
                "科技城 区", "100%", "完成任务_目标", "特别说明", "安全生产 检查组"]


def test_rare_and_common_paths_agree(filled, monkeypatch):
    """PostgreSQL: a term estimated rare is read from the gram / trigram indexes, a common one in
    id order with bitmap scans off; SQLite: the rank window. The matches are the same either way."""
    url, ids = filled
    rare = {q: sorted(_ids(url, q)) for q in SAME_QUERIES}
    monkeypatch.setattr(search_mod, "_estimate", lambda term, freqs: 1.0)   # every term common
    monkeypatch.setattr(search_mod, "_gram_freqs", lambda conn: {})
    common = {q: sorted(_ids(url, q)) for q in SAME_QUERIES}
    assert rare == common
    monkeypatch.setattr(search_mod, "COMMON_SCAN", 2)     # PG: too few matches among the newest 2
    assert {q: sorted(_ids(url, q)) for q in SAME_QUERIES} == rare
    monkeypatch.setattr(search_mod, "RANK_WINDOW", 1)     # SQLite: rank only the newest match's window
    monkeypatch.setattr(search_mod, "PG_RANK_WINDOW", 1)
    assert set(_ids(url, "营商环境")) <= {ids[1], ids[3]} and len(_ids(url, "营商环境")) == 1
    assert rare["Br"] == [ids[3]] and rare["O'BRIEN"] == [ids[3]] and rare["区"] == sorted(ids[:3])


def test_term_grams():
    assert search_mod.term_grams("绵") == ["绵"]
    assert search_mod.term_grams("AB") == ["ab"]
    assert search_mod.term_grams("营商环境") == sorted(["营商", "商环", "环境"])
    assert search_mod._estimate("营商环境", {"营商": 0.5, "商环": 0.1, "环境": 0.4}) == 0.1
    assert search_mod._estimate("营商环境", {"营商": 0.5}) == 0.0
    assert search_mod._estimate("营商", None) is None


@pytest.mark.postgres
def test_pg_grams_index_answers_short_queries(pg_url, archive):
    eng = make_engine(pg_url)
    with eng.connect() as conn:
        grams = conn.execute(text("SELECT govnews_grams(:t)"), {"t": "Ab 绵阳\n市"}).scalar()
        assert sorted(set(grams)) == sorted({"a", "b", "ab", "绵", "阳", "绵阳", "市"})
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text(
            f"EXPLAIN SELECT id FROM articles a WHERE {search_mod.GRAMS_EXPR} @> ARRAY['绵阳']")))
    eng.dispose()
    assert search_mod.GRAMS_INDEX in plan, plan


FILTERS = [dict(site="mianyang"), dict(site="suizhou"), dict(since=datetime(2024, 5, 1, tzinfo=UTC)),
           dict(until=datetime(2024, 5, 1, tzinfo=UTC)), dict(site="suizhou", since=datetime(2024, 1, 1, tzinfo=UTC))]


@pytest.mark.parametrize("share", [1.0, 0.15, 0.05])   # dense; bitmaps over two spans; one span
def test_common_path_with_filters_agrees_with_the_indexes(filled, monkeypatch, share):
    """PostgreSQL's common-terms paths — dense terms (share >= DENSE_FREQ): an id-order scan to the
    window; others: bitmaps ANDed with the newest ids' range — give the same hits, in the same
    order, as the index path, with site and date filters (the range starts within the site)."""
    url, ids = filled
    if url.startswith("sqlite") and share != 1.0:
        pytest.skip("the shares choose PostgreSQL plans; SQLite is checked once")
    qs = ["营商环境", "区", "新区", "安全生产 检查组", "营商环境 发展", "O'BRIEN", "科技城 区"]
    via_index = {(q, i): _ids(url, q, **f) for q in qs for i, f in enumerate(FILTERS)}
    assert via_index[("营商环境", 0)] == [ids[1]] and via_index[("营商环境", 1)] == [ids[3]]
    assert via_index[("区", 4)] == [] and via_index[("区", 3)] == sorted([ids[0], ids[2]], reverse=True)
    monkeypatch.setattr(search_mod, "_estimate", lambda term, freqs: share)   # every term common
    monkeypatch.setattr(search_mod, "_gram_freqs", lambda conn: {})
    assert {(q, i): _ids(url, q, **f) for q in qs for i, f in enumerate(FILTERS)} == via_index
    monkeypatch.setattr(search_mod, "COMMON_SCAN", 1)     # the window start inside the site's newest row
    assert {(q, i): _ids(url, q, **f) for q in qs for i, f in enumerate(FILTERS)} == via_index
