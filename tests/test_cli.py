"""The ``govnews`` command group: help texts with examples, and the archive-reading commands."""
from __future__ import annotations

import csv
import io
import json
import sys
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
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                    r.http_headers.get_statuscode() if r.http_headers else None,
                    r.content_stream().read()) for r in ArchiveIterator(f)]
    # issue 14: a warcinfo record first, and the request record of each response
    assert [r[0] for r in records] == ["warcinfo", "response", "request"]
    assert b"software: govnews" in records[0][3]
    assert records[1][1] == records[2][1] == "http://127.0.0.1/a/t20241024_1.html"
    assert records[1][2:] == ("200", "<html><body><p>正文</p></body></html>".encode())


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


# ------------------------------------------------------------------ exit codes


def _profile(d, name, schedule="0 0 * * *"):
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.toml").write_text(f'name = "{name}"\nstart_urls = ["http://127.0.0.1:9/{name}/"]\n'
                                    f'schedule = "{schedule}"\n', encoding="utf-8")


@pytest.mark.parametrize("args, code", [
    (["--help"], 0),
    (["no-such-command"], 2),
    (["sites", "--json"], 0),
    (["crawl"], 2),                                   # neither SITE nor --due: a usage error
    (["crawl", "no-such-site"], 1),
    (["export", "--format", "warc"], 2),              # WARC needs -o FILE
    (["export", "--since", "yesterday"], 2),
    (["search", "x", "--limit", "0"], 2),
    (["duplicates", "--since", "soon"], 2),
    (["reextract", "--since", "later"], 2),
    (["extract", "/no/such/file.html"], 2),
    (["serve-demo", "--host", "8.8.8.8"], 2),         # loopback only
    (["schedule", "--max-parallel", "many"], 2),
    (["schedule", "--help"], 0),
])
def test_exit_codes_of_usage_errors_and_help(args, code):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, (args, result.output)


def test_exit_codes_on_an_archive(filled, tmp_path):
    runner = CliRunner()
    for args in (["stats"], ["export"], ["search", "经开区"], ["search", "不存在的词语"], ["duplicates"],
                 ["reextract", "--dry-run", "--no-progress"], ["export", "--format", "warc", "-o", str(tmp_path / "a.warc.gz")]):
        result = runner.invoke(main, [*args, "--db", filled, *(["--force"] if "warc" in args else [])])
        assert result.exit_code == 0, (args, result.output)
    report = json.loads(runner.invoke(main, ["reextract", "--db", filled, "--dry-run", "--no-progress"]).output)
    assert report["dry_run"] is True and report["checked"] == 2


def test_init_db_exit_codes(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'a.db'}"
    result = CliRunner().invoke(main, ["init-db", "--db", url])
    assert result.exit_code == 0 and "archive ready" in result.output
    assert CliRunner().invoke(main, ["init-db", "--db", url]).exit_code == 0      # again: nothing to do
    assert CliRunner().invoke(main, ["init-db", "--db", "nosuchdialect://x/y"]).exit_code != 0


def test_read_commands_need_an_archive_and_create_nothing(tmp_path, monkeypatch):
    """stats, search, export (and the other readers) on the default archive of a fresh govnews
    home: a clear error, exit 1, and no data/ directory or empty database left behind."""
    home = tmp_path / "home"
    monkeypatch.setenv("GOVNEWS_HOME", str(home))
    monkeypatch.delenv("GOVNEWS_DB_URL", raising=False)
    monkeypatch.delenv("GOVNEWS_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for args in (["stats"], ["search", "经开区"], ["export"], ["duplicates"], ["reextract", "--no-progress"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "no archive at" in result.output and "govnews init-db" in result.output
    assert runner.invoke(main, ["sites"]).exit_code == 0
    assert not (home / "data").exists() and not (tmp_path / "data").exists()
    assert not home.exists() or not any(home.rglob("*.db"))


def test_crawl_due_passes_full_settings_and_jobdir_to_every_due_crawl(sqlite_url, tmp_path, monkeypatch):
    """The bug: `govnews crawl --due --full -s X=1 --jobdir J` crawled without them."""
    import govnews.commands.crawl as crawl_module
    from govnews.runner import RunResult
    from govnews.scheduling import run_due

    sites = tmp_path / "sites"
    _profile(sites, "alpha")
    _profile(sites, "beta")
    launched = {}

    def fake_run_crawl(profile, *, command, trigger, **kw):
        launched[profile.name] = (command, trigger)
        return RunResult(profile.name, "failed" if profile.name == "beta" else "ok", run_id=1, exit_code=0)

    monkeypatch.setattr(crawl_module, "run_due", lambda *a, **kw: run_due(*a, run_crawl=fake_run_crawl, **kw))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["crawl", "--due", "--db", sqlite_url, "--sites", str(sites), "--full",
                                       "-s", "DOWNLOAD_DELAY=3", "--set", "CONCURRENT_REQUESTS=2",
                                       "--jobdir", "jobs"])
    assert sorted(launched) == ["alpha", "beta"]
    for name, (cmd, trigger) in launched.items():
        assert trigger == "due"
        assert cmd[:5] == [sys.executable, "-m", "scrapy", "crawl", "gov_news"]
        assert f"site={(sites / f'{name}.toml').resolve()}" in cmd
        pairs = list(zip(cmd, cmd[1:]))
        assert ("-a", "full_walk=1") in pairs
        assert ("-s", "DOWNLOAD_DELAY=3") in pairs and ("-s", "CONCURRENT_REQUESTS=2") in pairs
        assert ("-s", f"JOBDIR={tmp_path / 'jobs' / name}") in pairs      # one resume state per site
    assert result.exit_code == 1, result.output                           # beta failed
    assert "alpha: ok" in result.output and "beta: failed" in result.output


def test_crawl_due_exit_codes(sqlite_url, tmp_path, monkeypatch):
    import govnews.commands.crawl as crawl_module
    from govnews.runner import RunResult
    from govnews.scheduling import run_due

    sites = tmp_path / "sites"
    _profile(sites, "alpha")
    (sites / "broken.toml").write_text('name = "broken"\n', encoding="utf-8")
    monkeypatch.setattr(crawl_module, "run_due", lambda *a, **kw: run_due(
        *a, run_crawl=lambda p, **k: RunResult(p.name, "ok", run_id=7, exit_code=0), **kw))
    dry = CliRunner().invoke(main, ["crawl", "--due", "--dry-run", "--db", sqlite_url, "--sites", str(sites)])
    assert dry.exit_code == 0 and dry.stdout.split() == ["alpha"]
    assert "skipped profile" in dry.output and "broken.toml" in dry.output
    ok = CliRunner().invoke(main, ["crawl", "--due", "--db", sqlite_url, "--sites", str(sites)])
    assert ok.exit_code == 0 and "alpha: ok (run 7" in ok.output


def test_crawl_passes_its_options_to_the_crawl(sqlite_url, tmp_path, monkeypatch):
    import govnews.commands.crawl as crawl_module
    from govnews.runner import RunResult

    sites = tmp_path / "sites"
    _profile(sites, "alpha")
    seen = {}

    def fake_run_crawl(profile, *, command, trigger, db_url, **kw):
        seen.update(command=command, trigger=trigger, db_url=db_url)
        return RunResult(profile.name, "timeout", run_id=3, exit_code=-15)

    monkeypatch.setattr(crawl_module, "run_crawl", fake_run_crawl)
    monkeypatch.chdir(tmp_path)
    import shutil
    shutil.copyfile(sqlite_url.removeprefix("sqlite:///"), tmp_path / "rel.db")
    result = CliRunner().invoke(main, ["crawl", "alpha", "--sites", str(sites), "--db", "sqlite:///rel.db",
                                       "--jobdir", "j", "-s", "A=1"])
    # the printed exit code is govnews's own (issue 14: it printed the crawl process's "exit 0" and exited 1)
    assert result.exit_code == 1 and "alpha: timeout (run 3, exit 1)" in result.output
    assert seen["trigger"] == "manual" and seen["db_url"] == f"sqlite:///{tmp_path / 'rel.db'}"
    assert f"JOBDIR={tmp_path / 'j'}" in seen["command"] and "A=1" in seen["command"]


# ------------------------------------------------------------------ stats: the latest run per site


def test_stats_shows_each_sites_latest_run_from_the_view(filled):
    """`govnews stats` reads site_latest_crawl (one row per site) instead of loading every run: the
    number of statements does not grow with the runs, and the latest run is the latest started."""
    from sqlalchemy import event

    from govnews.commands.stats import site_counts
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(filled)
    base = datetime(2024, 10, 1, 8, 0, tzinfo=SHANGHAI)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, *a: statements.append(sql))
    try:
        runs.finish_run(engine, runs.start_run(engine, "demo", "manual", started_at=base), status="ok")
        statements.clear()
        site_counts(engine)
        few = len(statements)
        for day in range(2, 30):
            runs.finish_run(engine, runs.start_run(engine, "demo", "schedule", started_at=base.replace(day=day)),
                            status="failed" if day == 29 else "ok")
        # recorded last, but started before all the others: not "the latest run"
        runs.finish_run(engine, runs.start_run(engine, "demo", "manual", started_at=base.replace(month=9)),
                        status="timeout")
        statements.clear()
        [row] = site_counts(engine)
    finally:
        engine.dispose()
    assert len(statements) == few
    assert any("site_latest_crawl" in sql for sql in statements)
    assert not any("FROM crawl_runs" in sql for sql in statements)
    assert row["last_run"]["status"] == "failed"
    assert row["last_run"]["started_at"] == base.replace(day=29)
    out = CliRunner().invoke(main, ["stats", "--db", filled]).output
    assert "2024-10-29 08:00 FAILED" in out      # flagged (issue 14)


# ------------------------------------------------------------------ from any directory


def test_demo_crawl_from_any_directory(tmp_path):
    """init-db, serve-demo, crawl demo and export from a directory that is not the checkout: the
    archive and the profile live in $GOVNEWS_HOME, the crawl finds Scrapy's settings without
    scrapy.cfg, and nothing lands in the working directory."""
    import os
    import subprocess

    from tests.support.crawl import REPO

    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    (home / "sites").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVNEWS_", "SCRAPY_"))}
    env.update(GOVNEWS_HOME=str(home), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")   # PYTHONPATH: a stale dev install

    def govnews(*args, timeout=120):
        return subprocess.run([sys.executable, "-m", "govnews.cli", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=timeout)

    assert govnews("init-db").returncode == 0
    assert (home / "data" / "archive.db").is_file()
    server = subprocess.Popen([sys.executable, "-m", "govnews.cli", "serve-demo", "--port", "0",
                               "--write-profile", str(home / "sites" / "demo.toml")],
                              cwd=work, env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = [server.stdout.readline() for _ in range(2)]
        assert "demo site at http://127.0.0.1:" in lines[1], lines
        crawl = govnews("crawl", "demo", timeout=300)
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        assert "demo: ok" in crawl.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
    export = govnews("export")
    assert export.returncode == 0
    assert len(export.stdout.splitlines()) >= 10
    stats = govnews("stats")
    assert stats.returncode == 0 and "demo" in stats.stdout
    assert sorted(p.name for p in work.iterdir()) == [], "nothing is written to the working directory"


# ------------------------------------------------------------------ reextract: the profile's hints


def test_reextract_applies_the_site_profiles_hints(archive, db_url, tmp_path):
    """The bug: `govnews reextract` extracted without the profile's hints (body_selector here), so
    re-extraction disagreed with the crawl. It now uses crawler.ingest.Reextractor with --sites."""
    from sqlalchemy import select

    from crawler.extract import extract
    from storage.models import Article as ArticleRow

    url = "http://127.0.0.1/a/t20241024_1.html"
    html = ("<html><head><title>标题</title></head><body><h1>经开区推动项目建设</h1><div class='main'>"
            + "".join(f"<p>这是正文的第{i}段，讲述经开区连接器产业园项目的建设进展情况，现场塔吊耸立。</p>" for i in range(8))
            + "</div><div class='note'>"
            + "".join(f"<p>编者按第{i}段：这一段才是配置文件指定的正文容器里的内容，用于检验选择器是否生效。</p>" for i in range(3))
            + "</div></body></html>").encode()
    archive.ensure_site("hinted", "有提示的站点", ["127.0.0.1"])
    page = archive.record_page("hinted", url, status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                               body=html, outcome="article")
    archive.store_article("hinted", url, extract(html, url), page_id=page)       # extracted without hints
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "hinted.toml").write_text('name = "hinted"\nstart_urls = ["http://127.0.0.1/"]\n\n[hints]\n'
                                       'body_selector = "div.note"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["reextract", "--db", db_url, "--sites", str(sites), "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert (report["checked"], report["text_changed"]) == (1, 1), report
    with archive.engine.connect() as conn:
        body = conn.scalar(select(ArticleRow.body))
    assert body.startswith("编者按第0段") and "这是正文" not in body
