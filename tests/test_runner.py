"""govnews.runner: one crawl subprocess with a time limit, recorded in crawl_runs.

The crawl is replaced by small ``python -c`` programs (exit codes, SIGTERM handling, sleeping), with
limits of about a second, so nothing here needs Scrapy or the network.
"""
from __future__ import annotations

import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from crawler.profiles import SiteProfile
from govnews import runner
from govnews.runner import absolute_db_url, crawl_command, run_crawl

PY = sys.executable


def profile(name="demo", path=None):
    return SiteProfile.from_dict({"name": name, "start_urls": ["http://127.0.0.1:9/"]}, path=path)


def script(body: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(body)]


class FakeStore:
    """In-memory RunStore: records what the runner would write to crawl_runs."""

    def __init__(self, holder=None, recorded=None):
        self.runs: dict[int, dict] = {}
        self.holder = holder
        self.recorded = recorded

    def start(self, site, trigger):
        run_id = len(self.runs) + 1
        self.runs[run_id] = {"site": site, "trigger": trigger, "status": "running"}
        return run_id

    def attach(self, run_id, pid):
        self.runs[run_id]["pid"] = pid

    def finish(self, run_id, *, status, exit_code, log_tail, reason=None):
        self.runs[run_id].update(status=status, exit_code=exit_code, log_tail=log_tail, reason=reason)

    def lock_holder(self, site):
        return self.holder

    def recorded_status(self, run_id):
        return self.recorded or self.runs[run_id]["status"]


def run(cmd, store=None, **kw):
    store = store or FakeStore()
    kw.setdefault("db_url", "sqlite:////tmp/govnews-runner-test.db")
    return run_crawl(profile(), store=store, command=cmd, **kw), store


# ------------------------------------------------------------------ with a fake store


def test_ok_passes_run_id_and_db_url_in_env():
    res, store = run(script("""
        import os
        print("run", os.environ["GOVNEWS_RUN_ID"])
        print("db", os.environ["GOVNEWS_DB_URL"])
    """), db_url="sqlite:///relative/archive.db")
    assert res.status == "ok" and res.exit_code == 0
    assert res.run_id == 1
    assert "run 1" in res.log_tail
    # a relative SQLite path is made absolute (against this directory): the crawl runs in the govnews home
    assert f"db sqlite:///{Path('relative/archive.db').resolve()}" in res.log_tail
    assert store.runs[1]["status"] == "ok" and store.runs[1]["pid"] == res.pid
    assert store.runs[1]["trigger"] == "schedule"


def test_nonzero_exit_is_failed_with_log_tail():
    res, store = run(script("""
        import sys
        for i in range(200):
            print("line", i)
        print("boom", file=sys.stderr)
        sys.exit(3)
    """), tail_lines=10)
    assert res.status == "failed" and res.exit_code == 3
    lines = res.log_tail.splitlines()
    assert "line 190" not in lines and "line 191" in lines and "boom" in lines
    assert lines[-1] == "[runner] crawl exited with code 3"
    assert store.runs[1]["log_tail"] == res.log_tail


def test_passwords_are_masked_in_the_recorded_tail():
    res, store = run(script("print('connecting to postgresql://govnews:s3cret@db/archive')"))
    assert "s3cret" not in res.log_tail and "govnews:***@db" in res.log_tail
    assert "s3cret" not in store.runs[1]["log_tail"]
    res, _ = run(["/nonexistent/crawler", "-s", "REDIS_URL=redis://:pw123@queue:6379/0"])
    assert res.status == "failed" and "pw123" not in res.log_tail and ":***@queue" in res.log_tail


def test_launch_error_is_failed():
    res, store = run(["/nonexistent/govnews-crawler"])
    assert res.status == "failed" and res.exit_code is None
    assert "could not launch" in res.log_tail
    assert store.runs[1]["status"] == "failed"


def test_timeout_sends_sigterm_and_crawl_shuts_down_gracefully():
    t0 = time.monotonic()
    res, store = run(script("""
        import signal, sys, time
        def term(*_):
            print("got SIGTERM, closing spider", flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, term)
        print("ready", flush=True)
        time.sleep(30)
    """), time_limit=1.0, grace=5.0)
    elapsed = time.monotonic() - t0
    assert res.status == "timeout"
    assert res.exit_code == 0
    assert "got SIGTERM, closing spider" in res.log_tail
    assert "exited within the grace period" in res.log_tail
    assert 0.9 < elapsed < 5, elapsed
    assert store.runs[1]["status"] == "timeout"


def test_timeout_kills_after_grace_when_sigterm_is_ignored():
    t0 = time.monotonic()
    res, _ = run(script("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(30)
    """), time_limit=1.0, grace=0.5)
    elapsed = time.monotonic() - t0
    assert res.status == "timeout"
    assert res.exit_code == -signal.SIGKILL
    assert "killed after 0.5s grace" in res.log_tail
    assert elapsed < 5


def test_stop_event_interrupts_the_crawl():
    stop = threading.Event()

    def on_line(line):
        if line == "ready":
            stop.set()

    res, store = run(script("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: (print("shutting down", flush=True), sys.exit(0)))
        print("ready", flush=True)
        time.sleep(30)
    """), stop_event=stop, on_line=on_line, time_limit=20, grace=5)
    assert res.status == "interrupted"
    assert "shutting down" in res.log_tail and "stop requested" in res.log_tail
    assert store.runs[1]["status"] == "interrupted"


def test_lock_held_elsewhere_records_locked_and_does_not_launch(tmp_path):
    marker = tmp_path / "launched"
    store = FakeStore(holder="otherhost:4242")
    res, _ = run([PY, "-c", f"open({str(marker)!r}, 'w').close()"], store=store)
    assert res.status == "locked" and res.holder == "otherhost:4242"
    assert not marker.exists()
    assert store.runs[1]["status"] == "locked"
    assert "locked by otherhost:4242" in store.runs[1]["log_tail"]


def test_crawl_that_loses_the_lock_race_is_recorded_locked():
    res, _ = run(script("""
        print("[govnews] site demo is being crawled by another process; stopping")
        print("[scrapy.core.engine] INFO: Spider closed (locked)")
    """))
    assert res.status == "locked" and res.exit_code == 0


def test_crawl_recorded_failed_keeps_failed():
    res, _ = run(script("print('done')"), store=FakeStore(recorded="failed"))
    assert res.status == "failed"


def test_log_file_gets_everything(tmp_path):
    log = tmp_path / "logs" / "demo.log"
    res, _ = run(script("for i in range(100): print('x', i)"), log_path=log, tail_lines=5)
    assert res.ok
    assert log.read_text().count("\n") == 100
    assert len(res.log_tail.splitlines()) == 5


def test_crawl_command_uses_scrapy_module_and_absolute_profile_path(tmp_path):
    p = profile(path=Path("sites/demo.toml"))
    cmd = crawl_command(p)
    assert cmd[:6] == [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a"]
    assert cmd[6] == f"site={Path('sites/demo.toml').resolve()}"
    assert crawl_command(profile())[-1] == "site=demo"


def test_crawl_runs_in_the_govnews_home_with_the_settings_module(tmp_path, monkeypatch):
    """Nothing depends on the caller's directory or on where govnews is installed: the crawl runs
    in common.paths.home() (created when missing) and finds Scrapy's settings without scrapy.cfg."""
    home = tmp_path / "home"
    monkeypatch.setenv("GOVNEWS_HOME", str(home))
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "someone.elses.settings")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res, _ = run(script("import os; print('cwd', os.getcwd()); print('settings', os.environ['SCRAPY_SETTINGS_MODULE'])"),
                 db_url="sqlite:///rel/archive.db")
    assert res.ok, res.log_tail
    assert f"cwd {home.resolve()}" in res.log_tail
    assert "settings crawler.settings" in res.log_tail
    assert runner.crawl_env("sqlite:///rel/x.db")["GOVNEWS_DB_URL"] == f"sqlite:///{elsewhere / 'rel' / 'x.db'}"
    assert "GOVNEWS_RUN_ID" not in runner.crawl_env("sqlite:///x.db")
    assert runner.crawl_env("sqlite:///x.db", env={"SCRAPY_SETTINGS_MODULE": "mine"})["SCRAPY_SETTINGS_MODULE"] == "mine"
    res, _ = run(script("import os; print('cwd', os.getcwd())"), cwd=elsewhere)
    assert f"cwd {elsewhere}" in res.log_tail


def test_runner_does_not_know_the_checkout():
    import govnews.runner as mod

    assert not hasattr(mod, "REPO_ROOT")
    assert "__file__" not in Path(mod.__file__).read_text(encoding="utf-8")


def test_absolute_db_url_keeps_other_urls():
    assert absolute_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert absolute_db_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"
    assert absolute_db_url("sqlite:///:memory:") == "sqlite:///:memory:"


# ------------------------------------------------------------------ with the real crawl_runs table


def test_runs_are_recorded_in_crawl_runs(db_url):
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(db_url)
    try:
        res = run_crawl(profile(), db_url=db_url, engine=engine, trigger="due",
                        command=script("import os; print('run id', os.environ['GOVNEWS_RUN_ID'])"))
        row = runs.get_run(engine, res.run_id)
        assert row["status"] == "ok" and row["exit_code"] == 0 and row["trigger"] == "due"
        assert row["finished_at"] is not None and row["pid"] == res.pid
        assert f"run id {res.run_id}" in row["log_tail"]
    finally:
        engine.dispose()


def test_lock_contention_records_locked_run(db_url, tmp_path):
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(db_url)
    marker = tmp_path / "launched"
    try:
        lock = runs.acquire_crawl_lock(engine, "demo", "otherhost:99", ttl_seconds=600)  # a live crawl
        assert lock is not None
        res = run_crawl(profile(), db_url=db_url, engine=engine,
                        command=[PY, "-c", f"open({str(marker)!r}, 'w').close()"])
        assert res.status == "locked" and res.holder.startswith("host otherhost, pid 99, since 20")
        assert not marker.exists()
        row = runs.get_run(engine, res.run_id)
        assert row["status"] == "locked" and "host otherhost, pid 99, since" in row["log_tail"]
        assert row["reason"].startswith("site is being crawled by another process (host otherhost, pid 99")
        # the lock is untouched and, once released, the next run goes ahead
        assert runs.lock_holder(engine, "demo")["holder"] == "otherhost:99"
        lock.release()
        res2 = run_crawl(profile(), db_url=db_url, engine=engine,
                         command=[PY, "-c", f"open({str(marker)!r}, 'w').close()"])
        assert res2.status == "ok" and marker.exists()
    finally:
        engine.dispose()


def test_expired_lock_does_not_block(db_url):
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(db_url)
    try:
        assert runs.acquire_lock(engine, "demo", "deadhost:1", ttl_seconds=-1)  # already expired
        res = run_crawl(profile(), db_url=db_url, engine=engine, command=script("pass"))
        assert res.status == "ok"
    finally:
        engine.dispose()


def test_timeout_recorded_in_crawl_runs(db_url):
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(db_url)
    try:
        res = run_crawl(profile(), db_url=db_url, engine=engine, time_limit=0.5, grace=0.5,
                        command=script("import time; time.sleep(30)"))
        row = runs.get_run(engine, res.run_id)
        assert row["status"] == "timeout" and row["exit_code"] == -signal.SIGTERM
    finally:
        engine.dispose()


def test_nothing_is_launched_once_stopping(tmp_path):
    marker = tmp_path / "launched"
    stop = threading.Event()
    stop.set()
    res, store = run([PY, "-c", f"open({str(marker)!r}, 'w').close()"], stop_event=stop)
    assert res.status == "interrupted" and res.run_id is None
    assert not marker.exists() and store.runs == {}


def test_keyboard_interrupt_stops_the_crawl_and_records_it():
    def on_line(line):
        if line == "ready":
            raise KeyboardInterrupt   # as if Ctrl-C hit the foreground `govnews crawl --due`

    store = FakeStore()
    with pytest.raises(KeyboardInterrupt):
        run(script("""
            import signal, sys, time
            signal.signal(signal.SIGTERM, lambda *_: (print("bye", flush=True), sys.exit(0)))
            print("ready", flush=True)
            time.sleep(30)
        """), store=store, grace=5, on_line=_main_thread_interrupt(on_line))
    [row] = store.runs.values()
    assert row["status"] == "interrupted" and row["exit_code"] is not None


def _main_thread_interrupt(on_line):
    """on_line runs in the reader thread; deliver the KeyboardInterrupt to the main thread."""
    import _thread

    def wrapped(line):
        try:
            on_line(line)
        except KeyboardInterrupt:
            _thread.interrupt_main()
    return wrapped


def test_the_crawls_failed_or_empty_verdict_stands_and_is_logged_with_its_reason(caplog):
    """Issue 14: the runner never turns the crawl's `failed`/`empty` into `ok`; the daemon's log
    (the runner's logger) flags them with the reason."""
    import logging

    for verdict, level in (("failed", logging.ERROR), ("empty", logging.WARNING)):
        store = FakeStore(recorded=verdict)
        store.recorded_reason = lambda run_id: "every request failed (connection_refused=5)"
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="govnews.runner"):
            res = run_crawl(profile(), store=store, command=[PY, "-c", "pass"], cwd=".")
        assert res.status == verdict and res.exit_code == 0
        assert store.runs[res.run_id]["reason"] == "every request failed (connection_refused=5)"
        [rec] = [r for r in caplog.records if "finished" in r.getMessage()]
        assert rec.levelno == level and "connection_refused=5" in rec.getMessage()
