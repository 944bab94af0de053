"""govnews.scheduling: triggers, job sync, misfires and coalescing, due sites, health, the daemon.

Scheduler behaviour is driven by a controllable clock, not by sleeping: a ``ManualScheduler`` (the
real APScheduler ``BaseScheduler`` logic, no thread) whose ``tick()`` processes due jobs at the time
the ``clock`` fixture says, with APScheduler's ``datetime.now`` patched to that clock.
"""
from __future__ import annotations

import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.profiles import SiteProfile
from govnews import scheduling
from govnews.scheduling import (
    JOB_PREFIX,
    JOBSTORE_TABLE,
    Daemon,
    DaemonConfig,
    build_trigger,
    due_sites,
    expected_interval,
    load_profile_dir,
    next_fire_times,
    site_health,
    sync_jobs,
    trigger_fingerprint,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = UTC
CALLS: list[tuple[str, str]] = []


def record_call(site: str, fingerprint: str = "") -> None:
    """Job function for tests (importable as tests.test_scheduler:record_call)."""
    CALLS.append((site, fingerprint))


def prof(name="demo", schedule="0 */6 * * *", **extra) -> SiteProfile:
    data = {"name": name, "start_urls": ["http://127.0.0.1:9/"], "schedule": schedule, **extra}
    return SiteProfile.from_dict(data)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


# ------------------------------------------------------------------ controllable clock


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def advance(self, **kw) -> datetime:
        self.now = self.now + timedelta(**kw)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock(sh(2024, 3, 10, 10, 0, 30))

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return c.now.astimezone(tz) if tz else c.now.astimezone(UTC).replace(tzinfo=None)

    import apscheduler.executors.base as eb
    import apscheduler.schedulers.base as sb
    import apscheduler.triggers.interval as ti

    for mod in (sb, eb, ti):
        monkeypatch.setattr(mod, "datetime", FakeDatetime)
    return c


class ManualScheduler(BaseScheduler):
    """APScheduler's scheduling logic without a thread: ``tick()`` = one wake-up."""

    def wakeup(self):
        pass

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def tick(self):
        return self._process_jobs()


class HangingExecutor(BaseExecutor):
    """Accepts jobs and never finishes them until ``finish()`` (a crawl still running)."""

    def __init__(self):
        super().__init__()
        self.submitted = []

    def _do_submit_job(self, job, run_times):
        self.submitted.append((job.id, run_times))

    def finish(self, job_id):
        self._run_job_success(job_id, [])


def manual_scheduler(executor=None, jobstore=None, events=None) -> ManualScheduler:
    s = ManualScheduler(jobstores={"default": jobstore or MemoryJobStore()},
                        executors={"default": executor or DebugExecutor()},
                        timezone=SH)
    if events is not None:
        s.add_listener(lambda e: events.append(e), EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    s.start()
    return s


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    yield
    CALLS.clear()


# ------------------------------------------------------------------ triggers and times


def test_cron_trigger_in_shanghai_from_explicit_now():
    p = prof(schedule="0 */6 * * *")
    trig = build_trigger(p)
    assert isinstance(trig, CronTrigger) and str(trig.timezone) == "Asia/Shanghai"
    times = next_fire_times(p, sh(2024, 3, 10, 5, 59), count=4)
    assert times == [sh(2024, 3, 10, 6), sh(2024, 3, 10, 12), sh(2024, 3, 10, 18), sh(2024, 3, 11, 0)]
    assert [t.utcoffset() for t in times] == [timedelta(hours=8)] * 4
    # a fire time is inclusive of `now` (start of the minute)
    assert next_fire_times(p, sh(2024, 3, 10, 6), count=1) == [sh(2024, 3, 10, 6)]


@pytest.mark.parametrize("day", [
    (2024, 3, 9), (2024, 3, 10), (2024, 3, 11),      # US DST starts
    (2024, 3, 30), (2024, 3, 31), (2024, 4, 1),      # EU DST starts
    (2024, 10, 26), (2024, 10, 27), (2024, 11, 3),   # EU / US DST ends
])
def test_shanghai_has_no_dst_so_daily_runs_stay_at_the_same_utc_time(day):
    p = prof(schedule="30 2 * * *")
    [t] = next_fire_times(p, datetime(*day, 0, 0, tzinfo=UTC) - timedelta(hours=8), count=1)
    assert t == sh(*day, 2, 30)
    assert t.astimezone(UTC).time().isoformat() == "18:30:00"   # always 18:30 UTC the day before


def test_profile_timezone_is_honoured():
    p = prof(schedule="0 9 * * *", timezone="Europe/Berlin")
    before = next_fire_times(p, datetime(2024, 3, 30, tzinfo=UTC), count=1)[0]
    after = next_fire_times(p, datetime(2024, 4, 1, tzinfo=UTC), count=1)[0]
    assert before.astimezone(UTC).hour == 8 and after.astimezone(UTC).hour == 7   # DST in Berlin


def test_interval_seconds_replaces_the_cron_schedule():
    p = prof(schedule="0 0 1 1 *", interval_seconds=2.5)
    trig = build_trigger(p, start_date=sh(2024, 1, 1))
    assert isinstance(trig, IntervalTrigger) and trig.interval == timedelta(seconds=2.5)
    assert trig.get_next_fire_time(None, sh(2024, 1, 1, 0, 0, 6)) == sh(2024, 1, 1, 0, 0, 7, 500000)
    assert trigger_fingerprint(p).startswith("interval:2.5")
    assert expected_interval(p) == timedelta(seconds=2.5)


def test_expected_interval_of_cron_is_the_longest_gap():
    now = sh(2024, 3, 11, 12)   # a Monday
    assert expected_interval(prof(schedule="0 */6 * * *"), now) == timedelta(hours=6)
    assert expected_interval(prof(schedule="0 8 * * 1-5"), now) == timedelta(days=3)


def test_bad_cron_is_a_profile_error(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "bad"\nstart_urls = ["http://127.0.0.1:9/"]\n'
                                       'schedule = "99 * * * *"\n')
    (tmp_path / "good.toml").write_text('name = "good"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    loaded = load_profile_dir(tmp_path)
    assert list(loaded.profiles) == ["good"]
    assert "bad.toml" in next(iter(loaded.errors))


# ------------------------------------------------------------------ jobs: options, misfires, coalescing


def test_jobs_have_coalesce_max_instances_and_misfire_grace(clock):
    s = manual_scheduler()
    report = sync_jobs(s, [prof("a"), prof("b", interval_seconds=3)], misfire_grace_time=900,
                       func=record_call)
    assert report.added == ["a", "b"]
    for job in s.get_jobs():
        assert job.id.startswith(JOB_PREFIX)
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 900
    a = s.get_job(JOB_PREFIX + "a")
    assert a.next_run_time == sh(2024, 3, 10, 12)
    assert s.get_job(JOB_PREFIX + "b").next_run_time == sh(2024, 3, 10, 10, 0, 33)
    assert a.kwargs == {"site": "a", "fingerprint": "cron:0 */6 * * *@Asia/Shanghai"}


def test_default_job_function_is_importable_for_the_db_jobstore(clock):
    s = manual_scheduler()
    sync_jobs(s, [prof("a")])
    assert s.get_job(JOB_PREFIX + "a").func_ref == "govnews.scheduling.jobs:run_scheduled_site"


def test_jobs_stored_by_the_old_module_path_still_resolve_and_are_updated(clock):
    """Job stores written before the split hold ``govnews.scheduling:run_scheduled_site``."""
    s = manual_scheduler()
    p = prof("a")
    s.add_job("govnews.scheduling:run_scheduled_site", trigger=build_trigger(p), id=JOB_PREFIX + "a",
              kwargs={"site": "a", "fingerprint": trigger_fingerprint(p)}, **scheduling.job_options())
    assert sync_jobs(s, [p]).unchanged == ["a"]
    assert s.get_job(JOB_PREFIX + "a").func_ref == "govnews.scheduling.jobs:run_scheduled_site"


def test_job_runs_at_its_fire_time_not_before(clock):
    s = manual_scheduler()
    sync_jobs(s, [prof("a", schedule="0 * * * *")], func=record_call)
    clock.now = sh(2024, 3, 10, 10, 59, 59)
    s.tick()
    assert CALLS == []
    clock.now = sh(2024, 3, 10, 11, 0, 1)
    s.tick()
    assert [c[0] for c in CALLS] == ["a"]
    assert s.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 12)


def test_missed_runs_within_grace_are_coalesced_into_one(clock):
    events = []
    s = manual_scheduler(events=events)
    sync_jobs(s, [prof("a", schedule="0 * * * *")], misfire_grace_time=1800, func=record_call)
    clock.now = sh(2024, 3, 10, 13, 20)    # 11:00, 12:00 and 13:00 were missed (e.g. host asleep)
    s.tick()
    assert len(CALLS) == 1                 # one run, not three
    assert events == []
    assert s.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 14)


def test_missed_run_beyond_grace_is_skipped_until_next_fire_time(clock):
    events = []
    s = manual_scheduler(events=events)
    sync_jobs(s, [prof("a", schedule="0 * * * *")], misfire_grace_time=1800, func=record_call)
    clock.now = sh(2024, 3, 10, 13, 45)    # latest missed fire (13:00) is 45 min late > 30 min
    s.tick()
    assert CALLS == []
    assert [e.code for e in events] == [EVENT_JOB_MISSED]
    assert events[0].scheduled_run_time == sh(2024, 3, 10, 13)
    assert s.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 14)
    clock.now = sh(2024, 3, 10, 14, 0, 2)
    s.tick()
    assert len(CALLS) == 1


def test_a_site_never_overlaps_itself(clock):
    events = []
    ex = HangingExecutor()
    s = manual_scheduler(executor=ex, events=events)
    sync_jobs(s, [prof("a", schedule="0 * * * *")], func=record_call)
    clock.now = sh(2024, 3, 10, 11, 0, 1)
    s.tick()
    assert len(ex.submitted) == 1          # crawl of 11:00 still running ...
    clock.now = sh(2024, 3, 10, 12, 0, 1)
    s.tick()
    assert len(ex.submitted) == 1          # ... so 12:00 is skipped
    assert [e.code for e in events] == [EVENT_JOB_MAX_INSTANCES]
    ex.finish(JOB_PREFIX + "a")
    clock.now = sh(2024, 3, 10, 13, 0, 1)
    s.tick()
    assert len(ex.submitted) == 2


def test_interval_job_runs_every_n_seconds(clock):
    s = manual_scheduler()
    sync_jobs(s, [prof("fast", interval_seconds=2)], func=record_call)
    for _ in range(5):
        clock.advance(seconds=2)
        s.tick()
    assert len(CALLS) == 5


# ------------------------------------------------------------------ profile changes -> job changes


def test_sync_adds_removes_reschedules_and_keeps_unchanged(clock):
    s = manual_scheduler()
    sync_jobs(s, [prof("a", "0 */6 * * *"), prof("b", "0 3 * * *"), prof("c", "*/30 * * * *")],
              func=record_call)
    b_next = s.get_job(JOB_PREFIX + "b").next_run_time
    clock.advance(minutes=5)
    report = sync_jobs(s, [prof("a", "15 * * * *"),          # changed schedule
                           prof("b", "0 3 * * *", title="B"),  # changed title only
                           prof("d", "0 0 * * *")],            # new; c is gone
                       func=record_call)
    assert (report.added, report.removed, report.rescheduled, report.unchanged) == (
        ["d"], ["c"], ["a"], ["b"])
    assert sorted(j.id for j in s.get_jobs()) == [JOB_PREFIX + x for x in ("a", "b", "d")]
    assert s.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 10, 15)
    assert s.get_job(JOB_PREFIX + "a").kwargs["fingerprint"] == "cron:15 * * * *@Asia/Shanghai"
    assert s.get_job(JOB_PREFIX + "b").next_run_time == b_next
    # timezone and interval changes also reschedule
    report = sync_jobs(s, [prof("a", "15 * * * *", timezone="UTC"), prof("b", "0 3 * * *"),
                           prof("d", "0 0 * * *", interval_seconds=60)], func=record_call)
    assert report.rescheduled == ["a", "d"]
    assert s.get_job(JOB_PREFIX + "d").next_run_time == clock.now + timedelta(seconds=60)
    assert not sync_jobs(s, [prof("a", "15 * * * *", timezone="UTC"), prof("b", "0 3 * * *"),
                             prof("d", "0 0 * * *", interval_seconds=60)], func=record_call).changed


def test_sync_leaves_foreign_jobs_alone(clock):
    s = manual_scheduler()
    s.add_job(record_call, "interval", hours=1, id="someone-else", kwargs={"site": "x"})
    report = sync_jobs(s, [], func=record_call)
    assert report.removed == [] and s.get_job("someone-else") is not None


def _write(d: Path, name: str, schedule="0 */6 * * *", extra=""):
    (d / f"{name}.toml").write_text(textwrap.dedent(f"""\
        name = "{name}"
        start_urls = ["http://127.0.0.1:9/{name}/"]
        schedule = "{schedule}"
        {extra}
    """), encoding="utf-8")


def test_daemon_reload_follows_the_sites_directory(clock, tmp_path):
    s = manual_scheduler()
    d = Daemon(DaemonConfig(sites_dir=tmp_path, jobstore="memory"), scheduler=s)
    _write(tmp_path, "a")
    _write(tmp_path, "b", "0 3 * * *")
    assert d.reload().added == ["a", "b"]
    _write(tmp_path, "c")                                        # added
    _write(tmp_path, "a", "0 * * * *")                           # changed
    (tmp_path / "b.toml").unlink()                               # removed
    r = d.reload()
    assert (r.added, r.removed, r.rescheduled) == (["c"], ["b"], ["a"])
    assert s.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 11)
    # a file being edited (invalid) keeps its last good version and job
    (tmp_path / "a.toml").write_text('name = "a"\nstart_urls = [', encoding="utf-8")
    r = d.reload()
    assert not r.changed and "a" in d.profiles and s.get_job(JOB_PREFIX + "a") is not None
    assert str(tmp_path / "a.toml") in d.profile_errors
    # duplicate names: the first file wins
    _write(tmp_path, "z-dup", extra="")
    (tmp_path / "z-dup.toml").write_text((tmp_path / "c.toml").read_text(), encoding="utf-8")
    r = d.reload()
    assert not r.changed and "duplicate site name" in d.profile_errors[str(tmp_path / "z-dup.toml")]
    # interval_seconds replaces the schedule
    _write(tmp_path, "c", extra="interval_seconds = 2")
    assert d.reload().rescheduled == ["c"]
    assert d.profiles["c"].path == (tmp_path / "c.toml").resolve()


def test_db_jobstore_keeps_next_run_time_across_restarts(clock, sqlite_url):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from sqlalchemy import inspect

    from storage.db import make_engine

    profiles = [prof("a", schedule="0 * * * *")]
    s1 = manual_scheduler(jobstore=SQLAlchemyJobStore(engine=make_engine(sqlite_url),
                                                      tablename=JOBSTORE_TABLE))
    sync_jobs(s1, profiles, misfire_grace_time=3600, func=record_call)
    s1.shutdown(wait=False)
    engine = make_engine(sqlite_url)
    assert JOBSTORE_TABLE in inspect(engine).get_table_names()
    engine.dispose()

    clock.now = sh(2024, 3, 10, 13, 30)    # the daemon was down over 11:00, 12:00 and 13:00
    s2 = manual_scheduler(jobstore=SQLAlchemyJobStore(engine=make_engine(sqlite_url),
                                                      tablename=JOBSTORE_TABLE))
    report = sync_jobs(s2, profiles, misfire_grace_time=3600, func=record_call)
    assert report.unchanged == ["a"]
    assert s2.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 11)
    s2.tick()
    assert CALLS == [("a", "cron:0 * * * *@Asia/Shanghai")]   # made up once
    assert s2.get_job(JOB_PREFIX + "a").next_run_time == sh(2024, 3, 10, 14)
    s2.shutdown(wait=False)


# ------------------------------------------------------------------ the daemon's run path


def test_run_site_passes_limits_and_stops_after_shutdown(tmp_path):
    seen = []

    def fake_run_crawl(profile, **kw):
        seen.append((profile.name, kw))
        return None

    d = Daemon(DaemonConfig(sites_dir=tmp_path, time_limit=123, grace=4, log_dir=tmp_path / "logs"),
               run_crawl=fake_run_crawl)
    d.db_url = "sqlite:////tmp/x.db"
    d.profiles = {"a": prof("a")}
    d.run_site("a")
    d.run_site("unknown")
    [(name, kw)] = seen
    assert name == "a" and kw["trigger"] == "schedule" and kw["time_limit"] == 123
    assert kw["grace"] == 4 and kw["stop_event"] is d.stop_event
    assert str(kw["log_path"]).startswith(str(tmp_path / "logs" / "a"))
    d.stop_event.set()
    d.run_site("a")
    assert len(seen) == 1


def test_scheduled_run_with_site_locked_elsewhere_is_recorded_locked(sqlite_url, tmp_path):
    from storage import runs
    from storage.db import make_engine

    marker = tmp_path / "launched"
    d = Daemon(DaemonConfig(sites_dir=tmp_path, db_url=sqlite_url, jobstore="memory"),
               crawl_command=lambda p: [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"])
    d.db_url = sqlite_url
    d._engine = engine = make_engine(sqlite_url)
    d.profiles = {"a": prof("a")}
    scheduling.set_active_runner(d)
    try:
        assert runs.acquire_lock(engine, "a", "worker-2:777", ttl_seconds=600)
        assert scheduling.run_scheduled_site("a") == "locked"
        assert not marker.exists()
        runs.release_lock(engine, "a", "worker-2:777")
        assert scheduling.run_scheduled_site("a") == "ok"
        assert marker.exists()
        rows = [runs.get_run(engine, i) for i in (1, 2)]
        assert [(r["status"], r["trigger"]) for r in rows] == [("locked", "schedule"), ("ok", "schedule")]
    finally:
        scheduling.set_active_runner(None)
        engine.dispose()


def _due_job_at_shutdown(scheduler_class, url, caplog) -> list:
    """Start a scheduler paused, give it a job that is already due, shut it down: what ran?
    (The daemon's job store is the database; a memory job store forgets its jobs at shutdown.)"""
    import logging

    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from storage.db import make_engine

    store = SQLAlchemyJobStore(engine=make_engine(url), tablename=JOBSTORE_TABLE)
    s = scheduler_class(jobstores={"default": store},
                        executors={"default": ThreadPoolExecutor(max_workers=1)}, timezone=SH)
    s.start(paused=True)                      # the daemon pauses first when it is told to stop
    s.add_job(record_call, "interval", hours=1, next_run_time=datetime.now(SH) - timedelta(seconds=1),
              id="due", kwargs={"site": "due"}, misfire_grace_time=None)
    with caplog.at_level(logging.INFO, logger="apscheduler"):
        s.shutdown(wait=True)                 # joins the scheduler thread: its last round is over
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_a_stopping_daemon_submits_no_job_so_sigterm_logs_no_traceback(tmp_path, caplog):
    """APScheduler's shutdown() shuts the executor down, then wakes the scheduler thread, which
    submits the jobs that came due meanwhile to the closed pool: "RuntimeError: cannot schedule new
    futures after shutdown" with a traceback on every clean SIGTERM. DaemonScheduler submits nothing
    unless it is running."""
    from apscheduler.schedulers.background import BackgroundScheduler

    errors = _due_job_at_shutdown(BackgroundScheduler, f"sqlite:///{tmp_path / 'a.db'}", caplog)
    assert errors and "cannot schedule new futures after shutdown" in str(errors[0].exc_info[1]), \
        "APScheduler no longer has the bug this test reproduces"
    caplog.clear()
    assert _due_job_at_shutdown(scheduling.DaemonScheduler, f"sqlite:///{tmp_path / 'b.db'}", caplog) == []
    assert CALLS == []


def test_daemon_stop_interrupts_running_crawl_and_returns_0(sqlite_url, tmp_path, caplog):
    """In-process daemon (real BackgroundScheduler, memory job store, 0.3 s interval): a crawl that
    would sleep 30 s is running when the daemon is asked to stop; it gets SIGTERM and is recorded;
    nothing is logged with a traceback."""
    import logging

    caplog.set_level(logging.INFO)
    from storage import runs
    from storage.db import make_engine

    _write(tmp_path, "slow", extra="interval_seconds = 0.3")
    crawl = [sys.executable, "-c", textwrap.dedent("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: (print("graceful stop", flush=True), sys.exit(0)))
        time.sleep(30)
    """)]
    d = Daemon(DaemonConfig(sites_dir=tmp_path, db_url=sqlite_url, jobstore="memory", grace=5,
                            reload_interval=3600), crawl_command=lambda p: crawl)
    rc = []
    t = threading.Thread(target=lambda: rc.append(d.run(install_signals=False)))
    t.start()
    try:
        deadline = time.monotonic() + 15
        while not any(d.active_sites().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert d.active_sites(), "no crawl started"
        time.sleep(0.3)                      # let the child install its SIGTERM handler
        t0 = time.monotonic()
        d.request_stop()
        t.join(timeout=20)
        assert not t.is_alive() and rc == [0]
        assert time.monotonic() - t0 < 6
    finally:
        d.request_stop()
        t.join(timeout=20)
    engine = make_engine(sqlite_url)
    try:
        row = runs.get_run(engine, 1)
        assert row["status"] == "interrupted" and "graceful stop" in row["log_tail"]
        assert runs.get_run(engine, 2) is None        # max_instances=1: no overlapping second run
    finally:
        engine.dispose()
    assert "scheduler stopped" in caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


# ------------------------------------------------------------------ system cron: due sites


def test_due_sites_cron_and_interval_and_never_ran():
    now = sh(2024, 3, 10, 12, 5)
    a = prof("a", "0 */6 * * *")     # fired 12:00
    b = prof("b", "0 */6 * * *")
    c = prof("c", "0 3 * * *")       # fired 03:00
    n = prof("never")
    i = prof("i", interval_seconds=600)
    last = {
        "a": sh(2024, 3, 10, 11, 0),             # before the 12:00 fire -> due
        "b": sh(2024, 3, 10, 12, 0, 0, 400000),  # the 12:00 run itself -> not due
        "c": sh(2024, 3, 10, 3, 1),              # after 03:00, next is tomorrow -> not due
        "i": sh(2024, 3, 10, 11, 58),            # 7 min ago, interval 10 min -> not due
    }
    assert [p.name for p in due_sites([a, b, c, n, i], last, now)] == ["a", "never"]
    assert [p.name for p in due_sites([i], last, now + timedelta(minutes=3))] == ["i"]
    # exactly at a fire time: a run started at that instant covers it
    assert due_sites([b], {"b": sh(2024, 3, 10, 12)}, now) == []
    # naive datetimes (from SQLite) are UTC
    assert [p.name for p in due_sites([a], {"a": datetime(2024, 3, 10, 3, 0)}, now)] == ["a"]
    assert due_sites([a], {"a": datetime(2024, 3, 10, 4, 1)}, now) == []


def test_run_due_runs_only_due_sites_and_skips_locked_runs(db_url):
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(db_url)
    now = datetime.now(UTC)
    try:
        # "fresh" ran a minute ago; "old" ran 2 days ago; "blocked" only has a locked run
        runs.finish_run(engine, runs.start_run(engine, "fresh", "due", started_at=now - timedelta(minutes=1)))
        runs.finish_run(engine, runs.start_run(engine, "old", "due", started_at=now - timedelta(days=2)))
        runs.finish_run(engine, runs.start_run(engine, "blocked", "due", started_at=now), status="locked")
        last = scheduling.last_runs_by_site(engine)
        assert set(last) == {"fresh", "old"} and last["old"].tzinfo is not None
        profiles = [prof("fresh", "0 0 * * *"), prof("old", "0 0 * * *"), prof("blocked", "0 0 * * *")]
        launched = []

        def fake_run_crawl(profile, **kw):
            launched.append((profile.name, kw["trigger"]))
            return profile.name

        res = scheduling.run_due(profiles, db_url=db_url, engine=engine, run_crawl=fake_run_crawl)
        assert res == ["old", "blocked"] and launched == [("old", "due"), ("blocked", "due")]
        dry = scheduling.run_due(profiles, db_url=db_url, engine=engine, dry_run=True)
        assert [p.name for p in dry] == ["old", "blocked"]
    finally:
        engine.dispose()


def test_run_due_turns_sigterm_into_a_graceful_stop(sqlite_url):
    """`govnews crawl --due` under cron/systemd: SIGTERM stops the running crawl, which is recorded
    `interrupted`, and the previous signal handler is restored."""
    import os
    import signal as sig

    from storage import runs
    from storage.db import make_engine

    crawl = [sys.executable, "-c", textwrap.dedent("""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: (print("bye", flush=True), sys.exit(0)))
        print("ready", flush=True)
        time.sleep(30)
    """)]
    before = sig.getsignal(sig.SIGTERM)
    timer = None

    def on_line(line):
        nonlocal timer
        if line == "ready":
            timer = threading.Timer(0.2, os.kill, (os.getpid(), sig.SIGTERM))
            timer.start()

    engine = make_engine(sqlite_url)
    try:
        t0 = time.monotonic()
        [res] = scheduling.run_due([prof("a")], db_url=sqlite_url, engine=engine, handle_signals=True,
                                   command=crawl, on_line=on_line, grace=5)
        assert time.monotonic() - t0 < 10
        assert res.status == "interrupted" and "bye" in res.log_tail
        assert runs.get_run(engine, res.run_id)["status"] == "interrupted"
        assert sig.getsignal(sig.SIGTERM) is before
    finally:
        if timer is not None:
            timer.join()
        engine.dispose()


# ------------------------------------------------------------------ health


def _seed(engine, site, started, status, new=0):
    from storage import runs

    rid = runs.start_run(engine, site, "schedule", started_at=started)
    if status != "running":
        runs.finish_run(engine, rid, status=status, new_articles=new)
    return rid


def test_site_health_flags(db_url):
    from storage.db import make_engine

    engine = make_engine(db_url)
    now = datetime(2024, 3, 20, 12, tzinfo=UTC)
    h = lambda hours: now - timedelta(hours=hours)  # noqa: E731
    try:
        # healthy: runs every 6h, finds articles
        for k in range(0, 60, 6):
            _seed(engine, "good", h(k), "ok", new=2)
        # failing: last ok 30h ago (> 3 x 6h), failed since
        _seed(engine, "bad", h(30), "ok", new=1)
        for k in (24, 18, 12, 6, 1):
            _seed(engine, "bad", h(k), "failed")
        # stale: runs fine but nothing new for 10 days
        _seed(engine, "stale", h(24 * 12), "ok", new=5)
        for k in range(0, 24 * 10, 6):
            _seed(engine, "stale", h(k), "ok", new=0)
        # overdue: scheduler stopped 2 days ago
        for k in (72, 66, 60, 54, 48):
            _seed(engine, "down", h(k), "ok", new=1)
        # one timeout just now, otherwise fine; plus a locked run that does not count
        for k in (18, 12, 6):
            _seed(engine, "blip", h(k), "ok", new=1)
        _seed(engine, "blip", h(1), "timeout")
        _seed(engine, "blip", h(0.5), "locked")
        _seed(engine, "busy", h(0.2), "running")
        profiles = [prof(n) for n in ("good", "bad", "stale", "down", "blip", "busy", "new")]
        rows = {r["site"]: r for r in site_health(engine, profiles, now)}
        assert list(rows) == ["good", "bad", "stale", "down", "blip", "busy", "new"]
        assert rows["good"]["flags"] == [] and rows["good"]["level"] == "ok"
        assert rows["good"]["last_ok_at"] == now and rows["good"]["expected_interval_s"] == 6 * 3600
        assert rows["bad"]["flags"] == ["failing", "last_failed"] and rows["bad"]["level"] == "problem"
        assert rows["bad"]["consecutive_failures"] == 5
        assert "no successful run for 30.0h" in rows["bad"]["problems"][0]
        assert rows["stale"]["flags"] == ["no_new_articles"]
        assert rows["stale"]["last_new_articles_at"] == h(24 * 12)
        assert rows["down"]["flags"] == ["overdue", "failing"]
        assert rows["blip"]["flags"] == ["last_failed"] and rows["blip"]["level"] == "warning"
        assert rows["blip"]["last_status"] == "timeout" and rows["blip"]["runs"] == 4
        assert rows["busy"]["running_since"] == h(0.2) and rows["busy"]["last_status"] == "running"
        assert rows["new"]["flags"] == ["never_ran"] and rows["new"]["last_run_at"] is None
    finally:
        engine.dispose()


# ------------------------------------------------------------------ entry points


def test_entry_points_share_options():
    import subprocess

    from click.testing import CliRunner

    from govnews.commands.schedule import schedule_cmd

    out = CliRunner().invoke(schedule_cmd, ["--help"]).output
    root = Path(__file__).resolve().parent.parent
    py = subprocess.run([sys.executable, str(root / "scheduler.py"), "--help"], capture_output=True,
                        text=True, cwd=root, timeout=60)
    assert py.returncode == 0
    for opt in ("--sites", "--db", "--reload-interval", "--time-limit", "--grace", "--misfire-grace",
                "--max-parallel", "--log-dir", "--memory-jobstore", "--redis-url", "--log-level"):
        assert opt in out and opt in py.stdout
    # one command under two names: scheduler.py is `govnews schedule` (click), not a second parser
    assert py.stdout.startswith("Usage: scheduler.py [OPTIONS]") and "govnews schedule --sites" in py.stdout
    bad = subprocess.run([sys.executable, str(root / "scheduler.py"), "--max-parallel", "x"],
                         capture_output=True, text=True, cwd=root, timeout=60)
    assert bad.returncode == 2 and "Invalid value for '--max-parallel'" in bad.stderr
