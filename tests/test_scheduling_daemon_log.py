"""The daemon's line per finished run (govnews/scheduling/daemon.py, issue 14): ``failed`` at ERROR,
``empty`` at WARNING, with the run's reason, for single-site and batch runs alike (a batch run's
reason is read from its crawl_runs row)."""
from __future__ import annotations

import logging

import pytest

from crawler.profiles import SiteProfile
from govnews.runner import RunResult
from govnews.scheduling.daemon import Daemon, DaemonConfig
from storage import runs
from storage.db import make_engine
from storage.enums import RunStatus

LOGGER = "govnews.scheduler"


def _profile(name: str) -> SiteProfile:
    return SiteProfile.from_dict({"name": name, "start_urls": ["http://127.0.0.1:9/"], "schedule": "0 */6 * * *"})


def _records(caplog, site):
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER and r.getMessage().startswith(site)]


@pytest.mark.parametrize(("status", "level"), [
    (RunStatus.FAILED, logging.ERROR), (RunStatus.EMPTY, logging.WARNING), (RunStatus.TIMEOUT, logging.WARNING),
    (RunStatus.OK, logging.INFO)])
def test_a_single_site_runs_line_has_the_level_of_its_status_and_its_reason(tmp_path, caplog, status, level):
    def fake_run_crawl(profile, **kw):
        return RunResult(profile.name, status, run_id=3, exit_code=0, reason=f"why {status}")

    d = Daemon(DaemonConfig(sites_dir=tmp_path, jobstore="memory"), run_crawl=fake_run_crawl)
    d.profiles = {"a": _profile("a")}
    with caplog.at_level(logging.INFO, logger=LOGGER):
        d.run_site("a")
    assert _records(caplog, "a:") == [(level, f"a: run 3 {status}: why {status}")]


class _FakeDispatcher:
    def __init__(self, results):
        self.results = results

    def run(self, profile, **kw):
        return self.results[profile.name]


def test_a_batch_runs_line_reads_its_reason_from_crawl_runs(sqlite_url, tmp_path, caplog):
    engine = make_engine(sqlite_url)
    failed = runs.start_run(engine, "f")
    runs.finish_run(engine, failed, status=RunStatus.FAILED, reason="every request failed (connection_refused=3)")
    empty = runs.start_run(engine, "e")
    runs.finish_run(engine, empty, status=RunStatus.EMPTY, reason="4 pages fetched, none held an article")
    d = Daemon(DaemonConfig(sites_dir=tmp_path, db_url=sqlite_url, jobstore="memory"))
    assert d._batch, "the daemon's default is batch mode"
    d._engine = engine
    d._batcher = _FakeDispatcher({"f": RunResult("f", RunStatus.FAILED, run_id=failed),      # as BatchSession
                                  "e": RunResult("e", RunStatus.EMPTY, run_id=empty)})       # gives them: no reason
    d.profiles = {"f": _profile("f"), "e": _profile("e")}
    with caplog.at_level(logging.INFO, logger=LOGGER):
        d.run_site("f")
        d.run_site("e")
    engine.dispose()
    assert _records(caplog, "f:") == [(logging.ERROR, f"f: run {failed} failed: every request failed "
                                                      "(connection_refused=3)")]
    assert _records(caplog, "e:") == [(logging.WARNING, f"e: run {empty} empty: 4 pages fetched, none held "
                                                        "an article")]
