"""Atom feeds (govnews.feeds, ``govnews feed``, the web view's /feeds/): valid Atom 1.0 read by
feedparser as a feed reader would, entries that match the archive, escaped titles, stable ids."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from govnews.cli import main
from govnews.feeds import ATOM_NS, FeedSpec, build_feed, write_atomic
from govnews.web.app import make_app
from govnews.web.db import readonly_engine
from govnews.web.server import running
from storage.models import Article, Site
from tests.support.webarchive import HOSTILE_TITLE, TRAD_TITLE, fill

NS = {"a": ATOM_NS}


@pytest.fixture
def filled(archive, db_url):
    facts = fill(archive, db_url)
    engine = readonly_engine(db_url)
    yield engine, facts, db_url
    engine.dispose()


def archive_articles(engine, site=None, column=None):
    stmt = select(Article.id, Article.url, Article.title, Article.column, Site.name).join(Site)
    if site:
        stmt = stmt.where(Site.name == site)
    if column:
        stmt = stmt.where(Article.column == column)
    with engine.connect() as conn:
        return {r.url: r for r in conn.execute(stmt)}


def parse(data: bytes):
    d = feedparser.parse(data)
    assert not d.bozo, d.get("bozo_exception")
    assert d.version == "atom10"
    return d


@pytest.mark.parametrize("spec", [FeedSpec(), FeedSpec(site="demo"), FeedSpec(site="demo", column="政务要闻"),
                                  FeedSpec(column="政务要闻"), FeedSpec(query="营商环境"), FeedSpec(query="新区")],
                         ids=["all", "site", "site+column", "column", "query", "query-traditional"])
def test_every_feed_kind_is_valid_atom_and_matches_the_archive(filled, spec):
    engine, facts, _ = filled
    d = parse(build_feed(engine, spec, base_url="http://127.0.0.1:8766"))
    assert d.feed.id.startswith("tag:govnews,2024:feed:")
    assert d.feed.title and d.feed.updated
    if spec.query:
        from storage.search import search

        expected = {h.url for h in search(engine, spec.query, site=spec.site, limit=50)}
    else:
        expected = set(archive_articles(engine, spec.site, spec.column))
    assert expected, "the selection is not empty"
    got = {e.link for e in d.entries}
    assert got == expected
    rows = archive_articles(engine)
    for e in d.entries:
        row = rows[e.link]
        assert e.id == row.url, "entry id = canonical URL"
        assert e.title == (row.title or "(无标题 no title)")
        assert e.updated_parsed is not None
        assert e.author
        assert e.content[0].type == "text/plain"
        assert any(link.href == f"http://127.0.0.1:8766/article/{row.id}" for link in e.links)
    when = [e.get("published_parsed") or e.updated_parsed for e in d.entries]
    assert when == sorted(when, reverse=True), "newest published (first archived when undated) first"
    if spec.query == "新区":
        assert TRAD_TITLE in {e.title for e in d.entries}, "a simplified query finds the traditional article"


def test_hostile_title_and_body_come_out_escaped_text(filled):
    engine, facts, _ = filled
    data = build_feed(engine, FeedSpec(site="demo"))
    assert b"<script>" not in data, "no raw markup from the archive in the feed document"
    root = ET.fromstring(data)
    titles = [t.text for t in root.findall("a:entry/a:title", NS)]
    assert HOSTILE_TITLE in titles, "the title is text (escaped in XML, intact once parsed)"
    for el in root.iter():
        if el.tag in (f"{{{ATOM_NS}}}title", f"{{{ATOM_NS}}}summary", f"{{{ATOM_NS}}}content"):
            assert el.get("type") == "text"
            assert len(el) == 0, "no child elements: content is never XHTML"
    d = parse(data)
    hostile = next(e for e in d.entries if "恶意标题测试" in e.title)
    # a reader shows text/plain content as text: the markup is in the text, never markup
    assert "<script>" in hostile.content[0].value and hostile.content[0].type == "text/plain"


def test_ids_and_bytes_are_stable_across_two_generations(filled, tmp_path):
    engine, _, db_url = filled
    runner = CliRunner()
    out1, out2 = tmp_path / "a.atom", tmp_path / "b.atom"
    for out in (out1, out2):
        res = runner.invoke(main, ["feed", "--db", db_url, "--site", "demo", "-o", str(out)])
        assert res.exit_code == 0, res.output
    assert out1.read_bytes() == out2.read_bytes()
    ids = [e.id for e in parse(out1.read_bytes()).entries]
    assert len(ids) == len(set(ids)) == len(archive_articles(engine, "demo"))


def test_feed_command_errors_are_one_line(filled, tmp_path):
    _, _, db_url = filled
    runner = CliRunner()
    res = runner.invoke(main, ["feed", "--db", db_url, "--site", "nosuch", "-o", str(tmp_path / "x.atom")])
    assert res.exit_code == 1 and "no site named 'nosuch'" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.atom").exists()
    res = runner.invoke(main, ["feed", "--db", f"sqlite:///{tmp_path}/missing.db", "-o", str(tmp_path / "x.atom")])
    assert res.exit_code == 1 and "no archive at" in res.output
    assert not (tmp_path / "missing.db").exists(), "a read command creates no database"
    res = runner.invoke(main, ["feed", "--db", db_url, "--limit", "0", "-o", str(tmp_path / "x.atom")])
    assert res.exit_code == 2


def test_feed_limit_and_stdout(filled):
    _, _, db_url = filled
    res = CliRunner().invoke(main, ["feed", "--db", db_url, "--limit", "2", "-o", "-"])
    assert res.exit_code == 0
    assert len(parse(res.stdout_bytes).entries) == 2


def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "f.atom"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.atom"], "no temporary file left"


def test_live_feeds_read_over_http_like_a_reader(filled):
    engine, facts, _ = filled
    app = make_app(engine, base_url=None)
    with running(app) as base:
        for path in ("feeds/all.atom", "feeds/site/demo.atom?column=%E6%94%BF%E5%8A%A1%E8%A6%81%E9%97%BB",
                     "feeds/search.atom?q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83"):
            d = feedparser.parse(base + path)
            assert not d.bozo, (path, d.get("bozo_exception"))
            assert d.status == 200 and d.headers["content-type"].startswith("application/atom+xml")
            assert d.entries
        d = feedparser.parse(base + "feeds/site/demo.atom?column=%E6%94%BF%E5%8A%A1%E8%A6%81%E9%97%BB")
        assert {e.tags[0].term for e in d.entries} == {"政务要闻"}
        assert feedparser.parse(base + "feeds/site/nosuch.atom").status == 404
        assert feedparser.parse(base + "feeds/search.atom").status == 400


def test_empty_archive_gives_a_valid_empty_feed(sqlite_url):
    engine = readonly_engine(sqlite_url)
    d = parse(build_feed(engine, FeedSpec()))
    assert d.entries == [] and d.feed.updated
    engine.dispose()
