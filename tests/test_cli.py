"""The ``govnews`` command group: help texts with examples, and the archive-reading commands."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from crawler.extract.article import Article
from govnews.cli import COMMANDS, main

SHANGHAI = ZoneInfo("Asia/Shanghai")


def run(*args, **kw):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)
    return result


def test_every_registered_command_exists_and_has_examples():
    names = set(main.commands)
    assert len(names) == len(COMMANDS), f"a command module failed to register: {sorted(names)}"
    for name in names:
        out = run(name, "--help").output
        assert "Examples:" in out and f"govnews {name}" in out, name


def test_sites_lists_bundled_profiles():
    out = run("sites").output
    assert "demo" in out and "[unverified]" in out
    rows = [json.loads(line) for line in run("sites", "--json").output.splitlines()]
    assert {"name", "schedule", "timezone", "start_urls"} <= set(rows[0])


@pytest.fixture
def filled(archive, db_url):
    archive.ensure_site("demo", "示范县", ["127.0.0.1"])
    page = archive.record_page("demo", "http://127.0.0.1/a/t20241024_1.html", status=200,
                               headers={"Content-Type": "text/html; charset=utf-8"},
                               body="<html><body><p>正文</p></body></html>".encode(), outcome="article")
    archive.store_article("demo", "http://127.0.0.1/a/t20241024_1.html", Article(
        url="http://127.0.0.1/a/t20241024_1.html", title="经开区推动项目建设“加速跑”",
        body="近日，记者来到经开区连接器产业园项目，看到现场塔吊耸立。\n该项目是市区重点项目。",
        published_at=datetime(2024, 10, 24, 9, 3, tzinfo=SHANGHAI), source="绵阳日报", editor="谭鹏"),
        page_id=page)
    archive.store_article("demo", "http://127.0.0.1/a/t20230101_2.html", Article(
        title="旧闻", body="二〇二三年的一条完全不同的新闻，讲的是另外一件事情，和上面那条毫无关系。",
        published_at=datetime(2023, 1, 1, 8, 0, tzinfo=SHANGHAI)), page_id=None)
    return db_url


def test_export_jsonl_filters_and_shows_shanghai_time(filled):
    out = run("export", "--db", filled, "--since", "2024-01-01").output
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["title"] for r in rows] == ["经开区推动项目建设“加速跑”"]
    assert rows[0]["published_at"] == "2024-10-24T09:03:00+08:00"
    assert rows[0]["editor"] == "谭鹏" and rows[0]["author"] is None and rows[0]["site"] == "demo"
    assert len(run("export", "--db", filled, "--until", "2024-01-01").output.splitlines()) == 1
    assert run("export", "--db", filled, "--site", "nowhere").output == ""


def test_export_csv(filled, tmp_path):
    out = tmp_path / "a.csv"
    run("export", "--db", filled, "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 2 and rows[0]["source"] == "绵阳日报"


def test_export_warc_holds_the_raw_response(filled, tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    out = tmp_path / "a.warc.gz"
    run("export", "--db", filled, "--format", "warc", "-o", str(out))
    with open(out, "rb") as f:
        records = [(r.rec_headers.get_header("WARC-Target-URI"), r.http_headers.get_statuscode(),
                    r.content_stream().read()) for r in ArchiveIterator(f)]
    assert records == [("http://127.0.0.1/a/t20241024_1.html", "200",
                        "<html><body><p>正文</p></body></html>".encode())]


def test_export_rejects_bad_dates(filled):
    result = CliRunner().invoke(main, ["export", "--db", filled, "--since", "yesterday"])
    assert result.exit_code == 2 and "ISO date" in result.output


def test_stats(filled):
    out = run("stats", "--db", filled).output
    assert "demo" in out and " 2 " in out


def test_crawl_unknown_site_is_a_clear_error():
    result = CliRunner().invoke(main, ["crawl", "no-such-site"])
    assert result.exit_code == 1 and "no site profile 'no-such-site'" in result.output


def test_csv_export_defuses_spreadsheet_formulas(archive, db_url, tmp_path):
    archive.ensure_site("demo", "示范县", ["127.0.0.1"])
    archive.store_article("demo", "http://127.0.0.1/a/t20241024_9.html", Article(
        title='=HYPERLINK("http://evil.example/","点此")', body="一篇标题被篡改成电子表格公式的文章，正文本身没有问题。"))
    out = tmp_path / "a.csv"
    run("export", "--db", db_url, "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0]["title"].startswith("'=HYPERLINK")
    jsonl = json.loads(run("export", "--db", db_url).output)
    assert jsonl["title"].startswith("=HYPERLINK"), "JSON Lines keep the text as archived"
