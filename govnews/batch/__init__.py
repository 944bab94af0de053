"""Many sites, one process: crawl a batch of sites in one Scrapy subprocess.

A crawl subprocess per site costs about 180 MB and seconds of start-up; a province has hundreds of
sites. A batch runs them as several ``Crawler``\\ s in one reactor (:mod:`govnews.batch.process`,
``python -m govnews.batch``), ``concurrency`` sites at a time, a site starting as another
finishes. Each site keeps what a crawl of its own has: its lock, its ``crawl_runs`` row, its stats,
its politeness and budget, its time limit, and failure isolation (a crash or a timeout ends that
site's crawler, not the batch). The batch itself is still a subprocess: a crash of it does not
take the daemon (or ``govnews crawl``) down, and the runs it left ``running`` are closed
``interrupted`` here.

Used by ``govnews crawl A B C``, ``govnews crawl --due`` and the daemon::

    from govnews.batch import run_batch
    results = run_batch(profiles, db_url=url, trigger="due", time_limit=3600, concurrency=8)

:class:`BatchSession` is one batch subprocess that is fed sites while it runs (the daemon's jobs
fire one by one); :func:`run_batch` gives it a fixed list. The parent talks to the child through
JSON lines: sites on the child's stdin, ``start``/``end``/``skipped`` events on its stdout (and,
when the parent passes ``on_progress``, a ``progress`` event a second: sites done/running/pending,
pages, articles new/dup, failures); the child's log (stderr) is relayed like a crawl's output
(``on_line``, ``log_path``).

Sites are only batched with sites whose ``allow_private_hosts`` are the same: the DNS resolver and
its private-address allow-list are per process, so a batch's allow-list is then every member's own.
"""
from __future__ import annotations

import collections
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, select, update

from common.clock import utcnow
from common.secrets import mask_secrets
from govnews.runner import (
    DEFAULT_GRACE,
    DEFAULT_TIME_LIMIT,
    RunResult,
    absolute_db_url,
    crawl_cwd,
    crawl_env,
    terminate,
)
from storage.db import default_db_url, make_engine
from storage.enums import RunStatus, Trigger
from storage.models import CrawlRun

__all__ = ["DEFAULT_CONCURRENCY", "BatchDispatcher", "BatchSession", "batch_command", "batch_groups", "parse_settings",
           "run_batch", "site_spec"]

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8          # sites crawled at once in one batch process
TAIL_LINES = 60
POLL_SECONDS = 0.1


def parse_settings(settings: Iterable[str]) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` (``-s``) as a dict; ``ValueError`` for an item without ``=``."""
    out = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"-s expects NAME=VALUE, not {item!r}")
        out[name.strip()] = value
    return out


def profile_target(profile) -> str:
    path = getattr(profile, "path", None)
    return str(Path(path).resolve()) if path else profile.name


def site_spec(profile, *, trigger: str, time_limit: float | None, full: bool = False,
              jobdir: str | os.PathLike | None = None, settings: dict[str, Any] | None = None,
              log_path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The JSON line that hands one site to the batch process."""
    site_settings = dict(settings or {})
    if jobdir:
        site_settings["JOBDIR"] = str(Path(jobdir).resolve())
    return {"name": profile.name, "target": profile_target(profile), "trigger": str(trigger),
            "time_limit": time_limit, "spider_args": {"full_walk": "1"} if full else {},
            "settings": site_settings, "log_path": str(Path(log_path).resolve()) if log_path else None}


def batch_command(options: dict[str, Any], python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", "govnews.batch", json.dumps(options)]


def allow_key(profile) -> tuple[str, ...]:
    return tuple(sorted({str(h).strip().lower().rstrip(".") for h in (getattr(profile, "allow_private_hosts", None)
                                                                      or [])}))


def batch_groups(profiles: Iterable[Any]) -> list[list[Any]]:
    """The profiles grouped by their ``allow_private_hosts`` (order kept): one batch process each."""
    groups: dict[tuple[str, ...], list[Any]] = {}
    for p in profiles:
        groups.setdefault(allow_key(p), []).append(p)
    return list(groups.values())


class BatchSession:
    """One batch subprocess; :meth:`submit` hands it a site and returns a future of its ``RunResult``.

    :meth:`close_input` says no more sites will come (the process exits when the last one is done);
    :meth:`stop` asks it to stop (running crawls end ``interrupted``), :meth:`kill` ends it.
    When the process ends, every site it had not reported finished is resolved: a run it had started
    is closed ``interrupted`` in ``crawl_runs`` (also a row it started but never reported), a site it
    never started gets an ``interrupted`` result without a row (it stays due).
    """

    def __init__(self, *, db_url: str | None = None, engine: Engine | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY, grace: float = DEFAULT_GRACE,
                 settings: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                 cwd: str | os.PathLike | None = None, log_path: str | os.PathLike | None = None,
                 on_line: Callable[[str], None] | None = None, python: str | None = None,
                 command: Sequence[str] | None = None, tail_lines: int = TAIL_LINES,
                 on_progress: Callable[[dict[str, Any]], None] | None = None):
        self.db_url = absolute_db_url(db_url or default_db_url())
        self._own_engine = engine is None
        self.engine = engine if engine is not None else make_engine(self.db_url)
        self.concurrency = max(1, int(concurrency))
        self.grace = grace
        options = {"concurrency": self.concurrency, "grace": grace, "settings": dict(settings or {}),
                   "progress": on_progress is not None}
        self.on_progress = on_progress
        self.command = list(command) if command is not None else batch_command(options, python)
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.on_line = on_line
        self.tail: collections.deque[str] = collections.deque(maxlen=max(1, tail_lines))
        self.proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._futures: dict[str, Future] = {}
        self._started: dict[str, tuple[int, Any]] = {}    # site -> (run_id, started_at)
        self._submitted_at: dict[str, Any] = {}
        self.input_closed = False
        self.finished = threading.Event()
        self._threads: list[threading.Thread] = []
        self._log_file: IO[str] | None = None
        self.stop_requested = False

    # ---- lifecycle
    def start(self) -> BatchSession:
        if self.log_path is not None:
            Path(self.log_path).parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in _finish
        self.proc = subprocess.Popen(
            self.command, cwd=str(crawl_cwd(self.cwd)), env=crawl_env(self.db_url, None, self.env),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            encoding="utf-8", errors="replace", bufsize=1, start_new_session=True)
        logger.info("batch process %s started (%d sites at once)", self.proc.pid, self.concurrency)
        for target, name in ((self._read_events, "events"), (self._read_log, "log")):
            t = threading.Thread(target=target, name=f"batch-{name}-{self.proc.pid}", daemon=True)
            t.start()
            self._threads.append(t)
        waiter = threading.Thread(target=self._wait, name=f"batch-wait-{self.proc.pid}", daemon=True)
        waiter.start()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def submit(self, spec: dict[str, Any]) -> Future | None:
        """Hand the process one site (:func:`site_spec`); None when it takes no more sites."""
        with self._lock:
            if self.input_closed or self.finished.is_set() or self.proc is None:
                return None
            name = spec["name"]
            if name in self._futures and not self._futures[name].done():
                return self._futures[name]
            fut: Future = Future()
            self._futures[name] = fut
            self._submitted_at[name] = utcnow()
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"site": spec}, ensure_ascii=False) + "\n")
                self.proc.stdin.flush()
            except (OSError, ValueError):
                self._futures.pop(name, None)
                return None
            return fut

    def outstanding(self) -> int:
        with self._lock:
            return sum(1 for f in self._futures.values() if not f.done())

    def close_input(self) -> None:
        with self._lock:
            if self.input_closed:
                return
            self.input_closed = True
            try:
                if self.proc is not None and self.proc.stdin is not None:
                    self.proc.stdin.close()
            except OSError:  # pragma: no cover - the process is gone
                pass

    def stop(self) -> None:
        """SIGTERM: the batch stops starting sites and closes its spiders gracefully."""
        self.stop_requested = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:  # pragma: no cover
                pass

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            terminate(self.proc, 0)

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def stop_and_wait(self, grace: float | None = None) -> None:
        """SIGTERM, ``grace`` seconds, then SIGKILL of the process group."""
        grace = self.grace if grace is None else grace
        self.stop()
        if not self.finished.wait(grace + 5):
            logger.warning("batch process %s did not stop within %ss; killing it", self.pid, grace)
            self.kill()
            self.finished.wait(30)

    # ---- reading the child
    def _read_events(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    self._log_line(line)
                    continue
                self._event(event)
        except (OSError, ValueError):  # pragma: no cover - stream closed under us
            pass

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        try:
            for line in self.proc.stderr:
                self._log_line(line.rstrip("\n"))
        except (OSError, ValueError):  # pragma: no cover
            pass

    def _log_line(self, line: str) -> None:
        self.tail.append(line)
        if self._log_file is not None:
            self._log_file.write(line + "\n")
            self._log_file.flush()
        if self.on_line is not None:
            self.on_line(line)

    def _event(self, event: dict[str, Any]) -> None:
        kind, site = event.get("event"), event.get("site")
        if kind == "progress":
            if self.on_progress is not None:
                self.on_progress(event)
            return
        if kind == "start" and site:
            with self._lock:
                self._started[site] = (int(event["run_id"]), utcnow())
            return
        if kind in ("end", "skipped") and site:
            with self._lock:
                fut = self._futures.get(site)
                started = self._started.pop(site, None)
            status = event.get("status") or RunStatus.FAILED
            result = RunResult(site, status, run_id=event.get("run_id"), exit_code=event.get("exit_code"),
                               log_tail=mask_secrets(event.get("note") or event.get("reason") or ""),
                               started_at=started[1] if started else self._submitted_at.get(site),
                               finished_at=utcnow(), pid=self.pid, holder=event.get("holder"),
                               command=list(self.command))
            logger.debug("batch %s: %s: %s (run %s)", self.pid, site, status, result.run_id)   # callers log it
            if fut is not None and not fut.done():
                fut.set_result(result)

    # ---- the end
    def _wait(self) -> None:
        assert self.proc is not None
        rc = self.proc.wait()
        for t in self._threads:
            t.join(timeout=10)
        try:
            self._finish(rc)
        finally:
            if self._own_engine:
                self.engine.dispose()
            self.finished.set()

    def _finish(self, rc: int) -> None:
        with self._lock:
            self.input_closed = True
            open_futures = {s: f for s, f in self._futures.items() if not f.done()}
            started = dict(self._started)
            self._started.clear()
        why = ("stopped" if self.stop_requested else f"ended with exit code {rc}")
        note = f"[batch] the batch process {why} before this crawl finished"
        tail = list(self.tail)[-20:]
        now = utcnow()
        closed: dict[int, str] = {}
        try:
            for site, (run_id, _) in started.items():
                self._close_row(run_id, note, tail)
                closed[run_id] = site
            # rows it started but did not report (killed in between): this pid, this host, still running
            t = CrawlRun.__table__
            with self.engine.connect() as conn:
                leftover = conn.execute(select(t.c.id, t.c.site).where(
                    t.c.pid == self.pid, t.c.status == RunStatus.RUNNING.value)).all()
            for run_id, site in leftover:
                if run_id not in closed:
                    self._close_row(run_id, note, tail)
                    closed[run_id] = site
        except Exception:  # noqa: BLE001 - recorded as well as we can; the caller goes on
            logger.exception("batch %s: could not close its interrupted runs", self.pid)
        by_site = {site: run_id for run_id, site in closed.items()}
        for site, fut in open_futures.items():
            run_id = by_site.get(site)
            status = RunStatus.INTERRUPTED
            fut.set_result(RunResult(site, status, run_id=run_id, exit_code=rc,
                                     log_tail=note if run_id else "[batch] not started: the batch process "
                                     + why, started_at=started.get(site, (None, now))[1], finished_at=now,
                                     pid=self.pid, command=list(self.command)))
        if rc != 0 and not self.stop_requested:
            logger.error("batch process %s exited with code %s%s", self.pid, rc,
                         f"; {len(open_futures)} site(s) interrupted" if open_futures else "")
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _close_row(self, run_id: int, note: str, tail: list[str]) -> None:
        text = mask_secrets("\n".join([*tail, note]))[-8000:]
        t = CrawlRun.__table__
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == run_id, t.c.status == RunStatus.RUNNING.value).values(
                status=RunStatus.INTERRUPTED.value, finished_at=utcnow(), log_tail=text))


def run_batch(
    profiles: Iterable[Any],
    *,
    db_url: str | None = None,
    engine: Engine | None = None,
    trigger: str = Trigger.MANUAL,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    grace: float = DEFAULT_GRACE,
    concurrency: int = DEFAULT_CONCURRENCY,
    full: bool = False,
    settings: Sequence[str] | dict[str, Any] = (),
    jobdir: str | os.PathLike | None = None,
    stop_event: threading.Event | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    log_path: str | os.PathLike | None = None,
    on_line: Callable[[str], None] | None = None,
    command: Sequence[str] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[RunResult]:
    """Crawl ``profiles`` in batch processes (one per :func:`batch_groups` group, one after another)
    and return their ``RunResult``\\ s in the order given. ``jobdir``: each site gets
    ``DIR/<site>``; ``settings``: ``-s`` items (or a dict) for every crawler; ``stop_event``: when set,
    the batch is stopped (running crawls ``interrupted``, SIGKILL after ``grace``); ``on_progress``:
    called with the batch process's progress event every second (sites done/running/pending,
    pages, articles new/dup, failures; ``govnews crawl``'s live line), none are sent without it."""
    profiles = list(profiles)
    extra = parse_settings(settings) if not isinstance(settings, dict) else dict(settings)
    db_url = absolute_db_url(db_url or default_db_url())
    results: dict[str, RunResult] = {}
    for group in batch_groups(profiles):
        if stop_event is not None and stop_event.is_set():
            break
        session = BatchSession(db_url=db_url, engine=engine, concurrency=concurrency, grace=grace,
                               settings=extra, env=env, cwd=cwd, log_path=log_path, on_line=on_line,
                               command=command, on_progress=on_progress).start()
        futures = {}
        for p in group:
            spec = site_spec(p, trigger=trigger, time_limit=time_limit, full=full,
                             jobdir=Path(jobdir) / p.name if jobdir else None)
            fut = session.submit(spec)
            if fut is not None:
                futures[p.name] = fut
        session.close_input()
        try:
            while not session.wait(POLL_SECONDS):
                if stop_event is not None and stop_event.is_set():
                    session.stop_and_wait(grace)
                    break
        except KeyboardInterrupt:
            session.stop_and_wait(grace)
            raise
        session.wait()
        for name, fut in futures.items():
            results[name] = fut.result()
    return [results[p.name] for p in profiles if p.name in results]


class BatchDispatcher:
    """Feeds sites to one long-lived :class:`BatchSession` as they come (the daemon's jobs fire one
    by one): :meth:`run` hands the site over and blocks until its run ended. The session's input is
    closed after ``idle_seconds`` with nothing to do (the process then exits); the next site starts
    a new one. A session that crashed resolves its sites ``interrupted`` and the next site gets a
    new session: the caller survives."""

    def __init__(self, *, db_url: str | None = None, engine: Engine | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY, grace: float = DEFAULT_GRACE,
                 settings: dict[str, Any] | None = None, log_dir: str | os.PathLike | None = None,
                 idle_seconds: float = 10.0, command: Sequence[str] | None = None,
                 env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None):
        self.options = dict(db_url=db_url, engine=engine, concurrency=concurrency, grace=grace,
                            settings=settings, command=command, env=env, cwd=cwd)
        self.grace = grace
        self.log_dir = log_dir
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, ...], BatchSession] = {}
        self._idle_since: dict[tuple[str, ...], float] = {}
        self._stopped = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="batch-idle", daemon=True)
        self._watcher.start()

    def _new_session(self) -> BatchSession:
        log_path = None
        if self.log_dir:
            log_path = Path(self.log_dir) / "batch" / f"{utcnow():%Y%m%dT%H%M%S%fZ}.log"
        return BatchSession(log_path=log_path, **self.options).start()

    def run(self, profile, *, trigger: str, time_limit: float | None,
            stop_event: threading.Event | None = None, **spec_options: Any) -> RunResult:
        if self.log_dir and "log_path" not in spec_options:      # as the runner: <log dir>/<site>/<stamp>.log
            spec_options["log_path"] = Path(self.log_dir) / profile.name / f"{utcnow():%Y%m%dT%H%M%SZ}.log"
        spec = site_spec(profile, trigger=trigger, time_limit=time_limit, **spec_options)
        key = allow_key(profile)
        while True:
            with self._lock:
                if self._stopped.is_set():
                    return RunResult(profile.name, RunStatus.INTERRUPTED, log_tail="[batch] not started: stopping")
                session = self._sessions.get(key)
                if session is None or session.input_closed or session.finished.is_set():
                    session = self._sessions[key] = self._new_session()
                fut = session.submit(spec)
                self._idle_since.pop(key, None)
            if fut is not None:
                break
        while True:
            try:
                return fut.result(timeout=POLL_SECONDS * 2)
            except TimeoutError:
                if stop_event is not None and stop_event.is_set():
                    self.stop()

    def _watch(self) -> None:
        import time as _time

        while not self._stopped.wait(1.0):
            now = _time.monotonic()
            with self._lock:
                for key, session in list(self._sessions.items()):
                    if session.finished.is_set():
                        self._sessions.pop(key, None)
                        continue
                    if session.outstanding():
                        self._idle_since.pop(key, None)
                        continue
                    since = self._idle_since.setdefault(key, now)
                    if now - since >= self.idle_seconds:
                        session.close_input()
                        self._idle_since.pop(key, None)

    def stop(self) -> None:
        """Stop every session (running crawls end ``interrupted``); idempotent."""
        with self._lock:
            first = not self._stopped.is_set()
            self._stopped.set()
            sessions = list(self._sessions.values())
        if first:
            for s in sessions:
                threading.Thread(target=s.stop_and_wait, args=(self.grace,), daemon=True).start()
        for s in sessions:
            s.wait(self.grace + 40)
