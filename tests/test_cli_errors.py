"""Issue 14, "errors a person can act on": every database, profile and file error is one line and
an exit code (`--debug` for the traceback); read-only commands create nothing; unverified profiles
are listed but not --due-crawled; ranges validated; --dry-run only lists."""
from __future__ import annotations

import os
import sqlite3

import pytest
from click.testing import CliRunner

from govnews.cli import main
from govnews.commands import db_error_line
from govnews.scheduling import load_profile_dir


def run(*args, **kw):
    return CliRunner().invoke(main, list(args), **kw)


def one_line_error(result, code=1):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("command", [["stats"], ["search", "经开区"], ["export"], ["duplicates"],
                                     ["crawl", "demo"]])
def test_uninitialised_archive_says_run_init_db(tmp_path, command):
    """Was: "no such table" tracebacks."""
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    line = one_line_error(run(*command, "--db", f"sqlite:///{path}"))
    assert "govnews init-db" in line and str(path) in line


def test_archive_with_an_old_schema_is_one_line_and_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "half.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
    con.execute("CREATE TABLE crawl_runs (id INTEGER PRIMARY KEY)")
    con.close()
    line = one_line_error(run("stats", "--db", f"sqlite:///{path}"))
    assert "no such table" in line and "govnews init-db" in line and "--debug" in line
    debug = run("--debug", "stats", "--db", f"sqlite:///{path}")
    assert debug.exit_code == 1 and debug.exception is not None and "no such table" in str(debug.exception)


def test_bad_db_urls_are_usage_errors_and_create_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(run("stats", "--db", "notaurl"), code=2)
    assert "'notaurl' is not a database URL" in line
    assert not (tmp_path / "notaurl").exists(), "--db notaurl created ./notaurl"
    line = one_line_error(run("init-db", "--db", "sqllite:///x.db"), code=2)
    assert "unknown database kind 'sqllite'" in line
    assert one_line_error(run("stats", "--db", "sqlite://"), code=2).startswith("Error: --db")
    assert list(tmp_path.iterdir()) == []


def test_unreachable_postgresql_is_one_line():
    line = one_line_error(run("stats", "--db", "postgresql://nobody@127.0.0.1:1/govnews"))
    assert "cannot reach the database" in line and "127.0.0.1:1" in line and "GOVNEWS_DB_URL" in line
    line = one_line_error(run("init-db", "--db", "postgresql://nobody@127.0.0.1:1/govnews"))
    assert "cannot reach the database" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_sqlite_file_is_refused_before_crawling(sqlite_url):
    path = sqlite_url.removeprefix("sqlite:///")
    os.chmod(path, 0o444)
    try:
        line = one_line_error(run("crawl", "demo", "--db", sqlite_url))
    finally:
        os.chmod(path, 0o644)
    assert "read-only" in line


def test_read_only_database_errors_say_so():
    from sqlalchemy.exc import OperationalError

    exc = OperationalError("INSERT", {}, Exception("attempt to write a readonly database"))
    assert "read-only" in db_error_line(exc, "sqlite:////srv/a.db") and "/srv/a.db" in db_error_line(exc, "sqlite:////srv/a.db")


def test_export_to_a_missing_directory_or_a_directory(sqlite_url, tmp_path):
    line = one_line_error(run("export", "--db", sqlite_url, "-o", str(tmp_path / "no" / "such" / "x.jsonl")))
    assert "no such directory" in line
    line = one_line_error(run("export", "--db", sqlite_url, "-o", str(tmp_path)))
    assert "is a directory" in line


PROFILE = 'name = "{name}"\nstart_urls = ["http://127.0.0.1:9/"]\nverified = {verified}\n'


def test_unverified_profiles_are_listed_not_due_crawled(tmp_path, sqlite_url):
    """Was: the scheduler and `crawl --due` crawled the shipped verified = false profiles."""
    (tmp_path / "checked.toml").write_text(PROFILE.format(name="checked", verified="true"), encoding="utf-8")
    (tmp_path / "guess.toml").write_text(PROFILE.format(name="guess", verified="false"), encoding="utf-8")
    assert "[unverified]" in run("sites", "--sites", str(tmp_path)).output
    due = run("crawl", "--due", "--dry-run", "--sites", str(tmp_path), "--db", sqlite_url)
    assert due.exit_code == 0 and due.stdout.split() == ["checked"]
    assert "skipped unverified profile guess" in due.output
    both = run("crawl", "--due", "--dry-run", "--include-unverified", "--sites", str(tmp_path), "--db", sqlite_url)
    assert both.stdout.split() == ["checked", "guess"]
    loaded = load_profile_dir(tmp_path)                       # what the daemon schedules
    assert set(loaded.profiles) == {"checked"} and set(loaded.unverified) == {"guess"}
    assert set(load_profile_dir(tmp_path, include_unverified=True).profiles) == {"checked", "guess"}


def test_ranges_and_dry_run(sqlite_url):
    assert run("crawl", "demo", "--time-limit", "-5", "--db", sqlite_url).exit_code == 2
    assert run("stats", "--runs", "-1", "--db", sqlite_url).exit_code == 2
    dry = run("crawl", "demo", "--dry-run", "--db", sqlite_url)
    assert dry.exit_code == 0 and "demo: would run:" in dry.output
    from storage import runs
    assert runs.last_run(sqlite_url, "demo", skip_statuses=()) is None, "crawl --dry-run crawled for real"
    assert run("sites", "demo").exit_code == 2, "NAMEs only with --check"
