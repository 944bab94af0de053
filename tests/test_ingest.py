"""IngestService (classify -> extract -> hostile check -> store) and Reextractor, without Scrapy."""
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crawler.extract.article import Article
from crawler.ingest import IngestService, IngestStats, ProfileHints, Reextractor, extraction_options, profile_hints
from crawler.items import FetchedPage
from crawler.profiles import load_profile
from storage.models import Page
from storage.pages import RawPage
from tests.support.badserver import article_html

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
HIDDEN_SPAM = ("<div style='display:none'>" + "".join(
    f"<a href='http://casino{i}.example.com/'>博彩娱乐城{i}</a>" for i in range(3)) + "</div>")


def page(url, html, kind="article", **extra):
    body = html.encode("utf-8") if isinstance(html, str) else html
    return FetchedPage(kind=kind, site="demo", url=url, request_url=url, status=200,
                       headers={"Content-Type": "text/html; charset=utf-8"}, body=body, charset="utf-8",
                       fetched_at=NOW, **extra)


def page_rows(archive):
    with archive.engine.connect() as conn:
        return {r.url: (r.outcome, r.reason) for r in conn.execute(select(Page.url, Page.outcome, Page.reason))}


def drop_last_paragraph(html: str) -> str:
    return re.sub(r"<p>(?:(?!<p>).)*</p>(?=</div>)", "", html, count=1)


def test_new_duplicate_revision_and_seen_outcomes_with_their_counters(archive):
    stats = IngestStats()
    ingest = IngestService(archive, stats=stats)
    _, html = article_html("ingest", 1)
    first = ingest.process(page("http://127.0.0.1/a/1.html", html))
    copy = ingest.process(page("http://127.0.0.1/b/1.html", html))
    near = ingest.process(page("http://127.0.0.1/c/1.html", drop_last_paragraph(html)))
    again = ingest.process(page("http://127.0.0.1/a/1.html", html))
    assert [p.store_outcome for p in (first, copy, near, again)] == ["new", "duplicate", "revision", "seen"]
    assert len({p.article_id for p in (first, copy, near, again)}) == 1
    assert all(p.outcome == "article" and p.page_id for p in (first, copy, near, again))
    rows = page_rows(archive)
    assert rows["http://127.0.0.1/a/1.html"][0] in ("article", "duplicate")   # two fetches of that URL
    assert rows["http://127.0.0.1/b/1.html"] == ("duplicate", f"duplicate: article {first.article_id}")
    assert rows["http://127.0.0.1/c/1.html"] == ("revision", f"revision: article {first.article_id}")
    assert stats["govnews/outcome/article"] == 4
    assert {k: v for k, v in stats.items() if k.startswith("govnews/articles/")} == {
        "govnews/articles/new": 1, "govnews/articles/duplicate": 1, "govnews/articles/revision": 1,
        "govnews/articles/seen": 1}
    assert stats["govnews/bytes"] == sum(len(p.body) for p in (first, copy, near, again))


def test_hostile_page_is_archived_with_a_flag_and_a_reason(archive):
    stats = IngestStats()
    _, html = article_html("hostile", 2, extra=HIDDEN_SPAM)
    out = IngestService(archive, stats=stats).process(page("http://127.0.0.1/h.html", html))
    assert out.outcome == "article" and out.store_outcome == "new"
    assert out.article.flags["hostile"] == ["hidden_links:3"] and out.reason == "hostile: hidden_links:3"
    assert stats["govnews/hostile_pages"] == 1
    assert page_rows(archive)["http://127.0.0.1/h.html"] == ("article", "hostile: hidden_links:3")


def test_extraction_error_is_recorded_failed_not_raised(archive, monkeypatch):
    import crawler.ingest as ingest_mod

    def boom(*a, **k):
        raise RuntimeError("parser exploded")
    monkeypatch.setattr(ingest_mod, "extract_page", boom)
    stats = IngestStats()
    out = IngestService(archive, stats=stats).process(page("http://127.0.0.1/e.html", "<html></html>"))
    assert out.outcome == "failed" and out.reason == "extract_error: RuntimeError: parser exploded"
    assert out.article is None and out.store_outcome is None
    assert page_rows(archive)["http://127.0.0.1/e.html"] == ("failed", out.reason)
    assert stats["govnews/outcome/failed"] == 1


def test_classification_and_empty_body(monkeypatch):
    import crawler.ingest as ingest_mod

    stats = IngestStats()
    ingest = IngestService(None, stats=stats)
    waf = ingest.extract(page("http://127.0.0.1/w.html", '<html><script>window.location="/?adfwkey=x";</script></html>'))
    assert waf.outcome == "blocked" and waf.article is None
    _, html = article_html("empty", 3)
    bare = re.sub(r"<div class='TRS_Editor'>.*?</div>|<h1>.*?</h1>|<div class='info'>.*?</div>", "", html, flags=re.S)
    assert ingest.extract(page("http://127.0.0.1/n.html", bare)).outcome == "not_article"
    # an article page whose extraction finds no body text is recorded failed / empty_body
    monkeypatch.setattr(ingest_mod, "extract_page", lambda *a, **k: ("article", None, Article(body=" \n")))
    empty = ingest.extract(page("http://127.0.0.1/e.html", html))
    assert (empty.outcome, empty.reason) == ("failed", "empty_body") and empty.article is not None
    assert stats == {"govnews/outcome/blocked": 1, "govnews/outcome/not_article": 1, "govnews/outcome/failed": 1}
    with pytest.raises(RuntimeError, match="extracts only"):
        ingest.store(empty)


def test_other_kinds_keep_their_outcome_and_are_stored(archive):
    ingest = IngestService(archive)
    lst = ingest.process(page("http://127.0.0.1/l.html", "<html></html>", kind="list"))
    blocked = ingest.process(page("http://127.0.0.1/b.html", "<html></html>", kind="list", outcome="blocked",
                                  reason="blocked: waf_challenge"))
    failed = ingest.process(FetchedPage.failure("demo", "http://127.0.0.1/f.html", "timeout", now=NOW))
    assert (lst.outcome, blocked.outcome, failed.outcome) == ("list", "blocked", "failed")
    rows = page_rows(archive)
    assert rows["http://127.0.0.1/l.html"] == ("list", None)
    assert rows["http://127.0.0.1/b.html"] == ("blocked", "blocked: waf_challenge")
    assert rows["http://127.0.0.1/f.html"] == ("failed", "timeout")


def test_a_page_with_a_page_id_is_not_recorded_again(archive):
    ingest = IngestService(archive)
    first = ingest.process(page("http://127.0.0.1/l.html", "<html></html>", kind="list"))
    again = ingest.store(first)
    assert again.page_id == first.page_id and len(page_rows(archive)) == 1


def test_hints_come_from_hints_for(monkeypatch):
    seen = []

    def hints_for(site):
        seen.append(site)
        return {"body_selector": "div.only", "encoding": "gbk"}
    import crawler.ingest as ingest_mod

    calls = []
    monkeypatch.setattr(ingest_mod, "extract_page", lambda *a, **k: calls.append(k) or ("not_article", None, None))
    IngestService(None, hints_for=hints_for).extract(page("http://127.0.0.1/x.html", "<html></html>"))
    assert seen == ["demo"]
    assert calls[0]["encoding"] == "gbk" and calls[0]["hints"] == {"body_selector": "div.only"}
    assert calls[0]["now"] == NOW                  # the fetch time bounds the dates extraction accepts


def test_extraction_options_profile_encoding_wins_over_the_header():
    assert extraction_options({"encoding": "gbk", "body_selector": "div"}, "utf-8") == ("gbk", {"body_selector": "div"})
    assert extraction_options({}, "utf-8") == ("utf-8", {})
    assert extraction_options(None, None) == (None, {})


PROFILE = """name = "{name}"
title = "测试"
start_urls = ["http://127.0.0.1/"]
[hints]
body_selector = "div.note"
max_pages = 3
"""


def test_profile_hints_by_site_name_and_a_missing_profile(tmp_path):
    (tmp_path / "t.toml").write_text(PROFILE.format(name="t"), encoding="utf-8")
    hints_for = ProfileHints(tmp_path)
    assert hints_for("t") == {"body_selector": "div.note"} == profile_hints(load_profile("t", tmp_path))
    assert hints_for("gone") == {} and hints_for(None) == {}
    (tmp_path / "t.toml").unlink()
    assert hints_for("t") == {"body_selector": "div.note"}     # read once per site


NOTE = "本页附注：" + "这是附件说明文字，用于测试正文选择器。" * 6


def test_reextract_applies_the_profile_body_selector(tmp_path):
    """The bug "reextract ignores profile hints": the profile's body_selector picks the body, as in the crawl."""
    (tmp_path / "t.toml").write_text(PROFILE.format(name="t"), encoding="utf-8")
    _, html = article_html("reextract", 4)
    html = html.replace("<div class='foot'>", f"<div class='note'>{NOTE}</div><div class='foot'>")
    raw = RawPage(page_id=1, site="t", url="http://127.0.0.1/r.html", status=200,
                  headers={"content-type": "text/html; charset=utf-8"}, body=html.encode("utf-8"), fetched_at=NOW)
    with_hints = Reextractor(tmp_path)(raw)
    assert isinstance(with_hints, Article) and with_hints.body == NOTE
    assert with_hints.flags["container"] == "div.note"
    without = Reextractor(tmp_path)(RawPage(**{**raw.__dict__, "site": "gone"}))
    assert without.body != NOTE and NOTE not in without.body
    # the crawl's extraction of the same page with the same profile agrees
    crawled = IngestService(None, hints_for=ProfileHints(tmp_path)).extract(
        FetchedPage(kind="article", site="t", url=raw.url, status=200, headers={"Content-Type": "text/html"},
                    body=raw.body, charset="utf-8"))
    assert crawled.article.body == with_hints.body and crawled.article.title == with_hints.title


def test_reextract_uses_the_stored_charset_and_flags_hostile_pages():
    _, html = article_html("gbk", 5, charset="gbk", meta_charset=False, extra=HIDDEN_SPAM)
    raw = RawPage(page_id=1, site="x", url="http://127.0.0.1/g.html", status=200,
                  headers={"content-type": "text/html; charset=GBK"}, body=html.encode("gbk"), fetched_at=NOW)
    art = Reextractor(lambda site: {})(raw)
    assert art.encoding == "gb18030" and art.title and art.title in html
    assert art.flags["hostile"] == ["hidden_links:3"]


def test_reextract_of_an_archived_page(archive, tmp_path):
    """Through storage: the page recorded by the ingest service, read back as a RawPage."""
    (tmp_path / "demo.toml").write_text(PROFILE.format(name="demo"), encoding="utf-8")
    _, html = article_html("stored", 6)
    html = html.replace("<div class='foot'>", f"<div class='note'>{NOTE}</div><div class='foot'>")
    stored = IngestService(archive).process(page("http://127.0.0.1/s.html", html))
    raw = archive.raw_page(stored.page_id)
    assert raw is not None and raw.site == "demo"
    assert Reextractor(tmp_path)(raw).body == NOTE
    assert NOTE not in stored.article.body          # the crawl here had no hints
    # storage.reextract with the Reextractor: the archived article now follows the profile
    from storage.models import Article as ArticleRow
    from storage.reextract import reextract

    report = reextract(archive, Reextractor(tmp_path), site="demo")
    assert (report.checked, report.updated, dict(report.errors)) == (1, 1, {})
    with archive.engine.connect() as conn:
        assert conn.scalar(select(ArticleRow.body).where(ArticleRow.id == stored.article_id)) == NOTE
