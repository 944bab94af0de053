"""Dead letters: the writer, the circuit-breaking guard, and replay through the ingest service
(no Scrapy crawler involved); letters written before FetchedPage (plain item dicts) still replay."""
from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from crawler.deadletter import (
    DeadLetterGuard,
    DeadLetterWriter,
    Replayer,
    ReplayReport,
    deadletter_dir,
    letter_files,
    read_records,
    replay,
)
from crawler.ingest import ProfileHints
from crawler.items import FetchedPage
from storage.db import make_engine
from storage.models import Article, Page, Sighting
from tests.support.badserver import article_html
from tests.support.crawl import REPO


def page_item(i: int, kind: str = "article", **extra) -> FetchedPage:
    _, html = article_html(f"dl-{i}", 300 + i)
    values = {"kind": kind, "site": "demo", "url": f"http://127.0.0.1:9/a/dl-{i}.html",
              "request_url": f"http://127.0.0.1:9/a/dl-{i}.html", "status": 200,
              "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": html.encode("utf-8"),
              "charset": "utf-8", "fetched_at": datetime(2024, 5, 1, 8, i, tzinfo=UTC), **extra}
    return FetchedPage(**values)


def counts(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        out = tuple(conn.scalar(select(func.count(t.id))) for t in (Page, Article, Sighting))
    engine.dispose()
    return out


def test_database_down_items_go_to_dead_letters_and_replay_is_idempotent(db_url, tmp_path):
    from storage.archive import Archive

    def broken(item):
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    clock = [0.0]
    writer = DeadLetterWriter(tmp_path, db_url)
    guard = DeadLetterGuard(writer, cooldown=30, clock=lambda: clock[0])
    items = [page_item(i) for i in range(3)] + [page_item(9, kind="failed", reason="timeout", body=b"")]
    for item in items:
        assert guard.process(item, broken).deadletter
    assert guard.open_until == 30            # the circuit opened once; later items skipped the database
    writer.close()
    assert writer.written == 4 and len(letter_files(tmp_path, "demo")) == 1

    with Archive(db_url) as archive:
        report = replay(archive, tmp_path, db_url=db_url)
    assert (report.records, report.stored, report.failed) == (4, 4, 0)
    assert report.outcomes["new"] == 3
    assert counts(db_url) == (4, 3, 3) and not letter_files(tmp_path)   # replayed files are removed

    # a crash between storing and removing the file: the same letters replayed again change nothing
    writer = DeadLetterWriter(tmp_path, db_url)
    for item in items:
        writer.write(item, "again")
    writer.close()
    with Archive(db_url) as archive:
        report = replay(archive, tmp_path, db_url=db_url)
    assert report.already == 4 and report.outcomes["seen"] == 3
    assert counts(db_url) == (4, 3, 3), "nothing doubled"


def test_letters_for_another_database_and_live_files_are_left_alone(sqlite_url, tmp_path):
    from storage.archive import Archive

    other = DeadLetterWriter(tmp_path, "postgresql+psycopg://u:pw@127.0.0.1/otherdb")
    other.write(page_item(1), "x")
    other.close()
    live = DeadLetterWriter(tmp_path, sqlite_url)
    live.write(page_item(2), "x")                          # still open: its flock is held
    with Archive(sqlite_url) as archive:
        report = replay(archive, tmp_path, db_url=sqlite_url)
        assert report.records == 0 and len(report.skipped_files) == 2
        live.close()
        report = replay(archive, tmp_path, db_url=sqlite_url)
        assert report.stored == 1
        report = replay(archive, tmp_path, db_url=sqlite_url, any_db=True)
        assert report.stored == 1 and not letter_files(tmp_path)


def test_replay_command(sqlite_url, tmp_path):
    from govnews.cli import main

    writer = DeadLetterWriter(tmp_path, sqlite_url)
    writer.write(page_item(4), "OperationalError: database is locked")
    writer.close()
    runner = CliRunner()
    dry = runner.invoke(main, ["replay", "--db", sqlite_url, "--dir", str(tmp_path), "--dry-run"])
    assert dry.exit_code == 0 and "1 dead letter(s)" in dry.output
    res = runner.invoke(main, ["replay", "--db", sqlite_url, "--dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "1 stored" in res.output and counts(sqlite_url)[1] == 1
    helptext = runner.invoke(main, ["replay", "--help"]).output
    assert "Examples:" in helptext




# ------------------------------------------------------------------------------------- new cases
PROFILE = """name = "demo"
title = "示范县"
start_urls = ["http://127.0.0.1:9/"]
[hints]
body_selector = "div.note"
"""
NOTE = "本页附注：" + "这是附件说明文字，用于测试正文选择器。" * 6


def old_letter(item: dict, body: bytes, db: str | None = None) -> dict:
    """A record as written before FetchedPage: the spider's item dict (with its ``hints``)."""
    return {"v": 1, "id": "x", "written_at": "2024-05-01T08:00:00+00:00", "db": db, "error": "x",
            "item": item, "body_b64": base64.b64encode(body).decode("ascii")}


def test_letters_written_as_item_dicts_still_replay(sqlite_url, tmp_path):
    from storage.archive import Archive

    _, html = article_html("dl-old", 350)
    article = {"kind": "article", "site": "demo", "url": "http://127.0.0.1:9/a/old.html",
               "request_url": "http://127.0.0.1:9/a/old.html", "status": 200,
               "headers": {"Content-Type": "text/html; charset=utf-8"}, "charset": "utf-8",
               "fetched_at": "2024-05-01T08:00:00+00:00", "link_text": "旧", "list_url": "http://127.0.0.1:9/",
               "hints": {}, "outcome": "article"}
    failed = {"kind": "failed", "site": "demo", "url": "http://127.0.0.1:9/a/gone.html",
              "request_url": "http://127.0.0.1:9/a/gone.html", "status": None, "headers": {}, "charset": None,
              "fetched_at": "2024-05-01T08:01:00+00:00", "reason": "timeout", "request_kind": "article",
              "outcome": "failed"}
    folder = tmp_path / "demo"
    folder.mkdir()
    lines = [old_letter(article, html.encode("utf-8")), old_letter(failed, b"")]
    (folder / "20240501T080000-host-1-abcdef.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    with Archive(sqlite_url) as archive:
        report = replay(archive, tmp_path, db_url=sqlite_url, hints_for=lambda site: {})
    assert (report.records, report.stored, report.failed, report.outcomes["new"]) == (2, 2, 0, 1)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Page.url, Page.outcome)).all())
    engine.dispose()
    assert rows == {"http://127.0.0.1:9/a/old.html": "article", "http://127.0.0.1:9/a/gone.html": "failed"}
    assert not letter_files(tmp_path)


def test_replay_uses_the_site_profile_hints_without_a_crawler(sqlite_url, tmp_path):
    from storage.archive import Archive

    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "demo.toml").write_text(PROFILE, encoding="utf-8")
    _, html = article_html("dl-hints", 360)
    html = html.replace("<div class='foot'>", f"<div class='note'>{NOTE}</div><div class='foot'>")
    writer = DeadLetterWriter(tmp_path / "dead", sqlite_url)
    writer.write(page_item(1, body=html.encode("utf-8")), "OperationalError: database is locked")
    writer.close()
    with Archive(sqlite_url) as archive:
        replayer = Replayer(archive, db_url=sqlite_url, hints_for=ProfileHints(sites))
        report = ReplayReport()
        for path in letter_files(tmp_path / "dead"):
            replayer.replay_file(path, report)
        assert report.stored == 1 and report.outcomes["new"] == 1
        with archive.engine.connect() as conn:
            assert conn.scalar(select(Article.body)) == NOTE
    assert replayer.stats["govnews/articles/new"] == 1 and replayer.stats["govnews/outcome/article"] == 1


def test_replay_imports_neither_scrapy_nor_the_pipelines():
    code = ("import sys, crawler.deadletter; bad = [m for m in ('scrapy', 'twisted', 'crawler.pipelines') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_blocked_list_page_keeps_its_outcome_through_replay(sqlite_url, tmp_path):
    from storage.archive import Archive

    writer = DeadLetterWriter(tmp_path, sqlite_url)
    writer.write(page_item(2, kind="list", outcome="blocked", reason="blocked: waf_challenge",
                           body=b"<html><script>x</script></html>"), "x")
    writer.close()
    with Archive(sqlite_url) as archive:
        assert replay(archive, tmp_path, db_url=sqlite_url).stored == 1
        with archive.engine.connect() as conn:
            assert conn.execute(select(Page.outcome, Page.reason)).one() == ("blocked", "blocked: waf_challenge")


def test_passwords_are_masked_in_letters_and_the_circuit_in_async_stores(tmp_path):
    clock = [0.0]
    writer = DeadLetterWriter(tmp_path, "postgresql+psycopg://arch:hunter2@db/x")
    guard = DeadLetterGuard(writer, cooldown=10, clock=lambda: clock[0])

    async def down(page):
        raise OperationalError("INSERT", {}, Exception("could not connect to postgresql://arch:hunter2@db/x"))

    async def up(page):
        page.page_id = 1
        return page
    first = asyncio.run(guard.process_async(page_item(1), down))
    skipped = asyncio.run(guard.process_async(page_item(2), up))      # circuit open: not even tried
    clock[0] = 11
    stored = asyncio.run(guard.process_async(page_item(3), up))
    writer.close()
    assert first.deadletter and skipped.deadletter and skipped.page_id is None
    assert stored.page_id == 1 and stored.deadletter is None
    (path,) = letter_files(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "hunter2" not in text and "arch:***@db" in text and "hunter2" not in guard.last_error
    assert [r["item"]["url"] for r in read_records(path)] == [first.url, skipped.url]
    assert writer.db != DeadLetterWriter(tmp_path, "postgresql+psycopg://arch:other@db/y").db


def test_default_directory_is_under_the_data_dir_at_call_time(tmp_path, monkeypatch):
    monkeypatch.delenv("GOVNEWS_DEADLETTER_DIR", raising=False)
    monkeypatch.delenv("GOVNEWS_DATA_DIR", raising=False)
    monkeypatch.setenv("GOVNEWS_HOME", str(tmp_path / "home"))
    assert deadletter_dir() == (tmp_path / "home").resolve() / "data" / "deadletter"
    monkeypatch.setenv("GOVNEWS_DEADLETTER_DIR", str(tmp_path / "dl"))
    assert deadletter_dir() == tmp_path / "dl"
    assert deadletter_dir({"GOVNEWS_DEADLETTER_DIR": str(tmp_path / "s")}) == tmp_path / "s"
