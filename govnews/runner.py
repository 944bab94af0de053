"""Launch one crawl as a subprocess with a time limit, and record it in ``crawl_runs``.

Used by the scheduler daemon (``govnews schedule`` / ``scheduler.py``) and by ``govnews crawl --due``::

    from govnews.runner import run_crawl
    result = run_crawl(profile, db_url=url, trigger="schedule", time_limit=3600, grace=30)
    result.status    # "ok" | "failed" | "timeout" | "interrupted" | "locked"

What one run does:

1. Probe the site lock (``storage.runs``). If another process holds it, record a run with status
   ``locked`` (with the holder in ``log_tail``) and do not launch anything. The crawl process itself
   takes the lock again at spider open, so the probe is only an early, cheap check.
2. ``start_run`` (status ``running``), then launch ``python -m scrapy crawl gov_news -a site=<profile>``
   in the govnews home directory (``common.paths.home()``, created if missing) with
   ``SCRAPY_SETTINGS_MODULE=crawler.settings`` (Scrapy needs no ``scrapy.cfg``), ``GOVNEWS_DB_URL``
   (a relative SQLite path made absolute first, against the caller's directory) and
   ``GOVNEWS_RUN_ID`` in its environment: nothing depends on the caller's working directory or on
   where govnews is installed. The crawl writes its counters into that row; the runner owns the
   row's status, exit code and log tail.
3. Collect its output (stdout and stderr merged), keeping the last lines, passwords masked with
   ``common.secrets.mask_secrets`` (and optionally writing everything to a log file).
4. On the time limit, or when ``stop_event`` is set (daemon shutdown), send SIGTERM (Scrapy then
   closes the spider gracefully), wait ``grace`` seconds, then SIGKILL the process group.
5. ``finish_run`` with status ``ok`` (exit 0 and the crawl found its pages), ``failed`` (non-zero
   exit, launch error, or the crawl's own verdict: no start URL answered, every request failed or
   was refused, spider start error), ``empty`` (the crawl's verdict: nothing held an article),
   ``timeout``, ``interrupted`` or ``locked`` (the crawl lost the lock race), a one-line ``reason``,
   the exit code and the log tail. The crawl's ``failed``/``empty``/``locked`` is never overridden
   with ``ok``. The crawl's lease is released once it has exited, whatever the exit path (a crawl
   killed after the grace period cannot release it itself).

The crawl runs in its own session (process group), so a Ctrl-C in the daemon's terminal or a signal
to the daemon's group does not reach it directly: the runner decides when and how it is stopped.
"""
from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from common import paths
from common.clock import utcnow
from common.hosts import holder_id
from common.secrets import mask_secrets
from storage import runs
from storage.db import default_db_url, make_engine, normalize_db_url
from storage.enums import RunStatus, Trigger

logger = logging.getLogger(__name__)

DB_URL_ENV = "GOVNEWS_DB_URL"
RUN_ID_ENV = "GOVNEWS_RUN_ID"
SETTINGS_MODULE_ENV = "SCRAPY_SETTINGS_MODULE"
SETTINGS_MODULE = "crawler.settings"   # the crawl finds the Scrapy project without scrapy.cfg
DEFAULT_TIME_LIMIT = 2 * 3600.0   # seconds
DEFAULT_GRACE = 30.0              # seconds between SIGTERM and SIGKILL
LOG_TAIL_LINES = 60
LOG_TAIL_CHARS = 8000
POLL_SECONDS = 0.1
#: the crawl prints a progress line (``PROGRESS_MARKER`` + JSON) every second when this is set
PROGRESS_ENV = "GOVNEWS_PROGRESS"
PROGRESS_MARKER = "\x1egovnews-progress "

# Scrapy logs "Spider closed (<reason>)"; the crawl's run extension closes with reason "locked"
# when it cannot take the site lock.
_LOCKED_MARKERS = ("Spider closed (locked)",)


@dataclass
class RunResult:
    site: str
    status: str
    run_id: int | None = None
    exit_code: int | None = None
    log_tail: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    pid: int | None = None
    holder: str | None = None          # the other lock holder when status == "locked"
    reason: str | None = None          # one line: why the run ended so
    command: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.OK


class RunStore(Protocol):
    """Where runs are recorded and locks probed (the default is :class:`StorageRunStore`)."""

    def start(self, site: str, trigger: str) -> int: ...

    def finish(self, run_id: int, *, status: str, exit_code: int | None, log_tail: str,
               reason: str | None = None) -> None: ...

    def lock_holder(self, site: str) -> str | None: ...

    def recorded_status(self, run_id: int) -> str | None: ...


class StorageRunStore:
    """:class:`RunStore` on ``storage.runs`` (``crawl_runs`` and ``site_locks``)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self, site: str, trigger: str) -> int:
        return runs.start_run(self.engine, site, trigger=trigger)

    def attach(self, run_id: int, pid: int) -> None:
        """Record the crawl's pid (the row is created with the runner's pid)."""
        runs.update_run(self.engine, run_id, pid=pid)

    def finish(self, run_id: int, *, status: str, exit_code: int | None, log_tail: str,
               reason: str | None = None) -> None:
        runs.finish_run(self.engine, run_id, status=status, exit_code=exit_code, log_tail=log_tail,
                        reason=reason)

    def lock_holder(self, site: str) -> str | None:
        """Who holds a live lease on ``site`` (host, pid, since; None when free, expired or its
        process is gone from this host)."""
        info = runs.live_lock_holder(self.engine, site)
        return runs.describe_holder(info) if info else None

    def recorded_status(self, run_id: int) -> str | None:
        row = runs.get_run(self.engine, run_id)
        return row["status"] if row else None

    def recorded_reason(self, run_id: int) -> str | None:
        row = runs.get_run(self.engine, run_id)
        return row.get("reason") if row else None

    def release_child(self, site: str, pid: int) -> None:
        """Release the lease the crawl process ``pid`` may have left (it exited)."""
        if runs.release_lock(self.engine, site, holder_id(pid)):
            logger.warning("released the lease on %s left by crawl process %s", site, pid)


def absolute_db_url(url: str) -> str:
    """``url`` normalised, with a relative SQLite path made absolute against the current directory
    (the crawl runs in the govnews home, so it must not see a relative path)."""
    url = normalize_db_url(url)
    parsed = make_url(url)
    db = parsed.database
    if parsed.drivername.startswith("sqlite") and db and db != ":memory:" \
            and not db.startswith("file:") and not Path(db).is_absolute():
        url = parsed.set(database=str(Path(db).resolve())).render_as_string(hide_password=False)
    return url


def crawl_command(profile, *, python: str | None = None, extra_args: Sequence[str] = ()) -> list[str]:
    """``python -m scrapy crawl gov_news -a site=<profile path or name>`` for a SiteProfile."""
    path = getattr(profile, "path", None)
    target = str(Path(path).resolve()) if path else profile.name
    return [python or sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={target}",
            *extra_args]


def _signal_process(proc: subprocess.Popen, sig: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def terminate(proc: subprocess.Popen, grace: float) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL the process group.

    Returns True when the process had to be killed."""
    if proc.poll() is not None:
        return False
    _signal_process(proc, signal.SIGTERM, group=False)
    try:
        proc.wait(timeout=max(grace, 0))
        return False
    except subprocess.TimeoutExpired:
        pass
    _signal_process(proc, signal.SIGKILL, group=True)
    proc.wait()
    return True


def _reader(stream, tail: collections.deque, log_file, on_line: Callable[[str], None] | None):
    try:
        for line in stream:
            line = line.rstrip("\n")
            tail.append(line)
            if log_file is not None:
                log_file.write(line + "\n")
                log_file.flush()
            if on_line is not None:
                on_line(line)
    except (ValueError, OSError):  # pragma: no cover - stream closed under us
        pass


def _format_tail(lines: Iterable[str], notes: list[str]) -> str:
    """The last lines and the runner's notes, passwords masked (``crawl_runs.log_tail`` is shown
    by ``govnews stats`` and read by anyone with access to the archive)."""
    text = mask_secrets("\n".join([*lines, *notes]))
    if len(text) > LOG_TAIL_CHARS:
        text = "…" + text[-(LOG_TAIL_CHARS - 1):]
    return text


def run_crawl(
    profile,
    *,
    db_url: str | None = None,
    engine=None,
    store: RunStore | None = None,
    trigger: str = Trigger.SCHEDULE,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    grace: float = DEFAULT_GRACE,
    command: Sequence[str] | None = None,
    cwd: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    stop_event: threading.Event | None = None,
    log_path: str | os.PathLike | None = None,
    tail_lines: int = LOG_TAIL_LINES,
    check_lock: bool = True,
    on_start: Callable[[subprocess.Popen, int], None] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> RunResult:
    """Run one crawl of ``profile`` (a ``crawler.profiles.SiteProfile``) and record it.

    ``db_url``: the archive (default ``storage.db.default_db_url()``), passed to the crawl as
    ``GOVNEWS_DB_URL``; ``engine``/``store`` override where the run is recorded (tests).
    ``command``: the process to launch (default :func:`crawl_command`); ``cwd``: where it runs
    (default the govnews home, ``common.paths.home()``, created if missing); ``env``: extra
    environment variables (the child gets ``SCRAPY_SETTINGS_MODULE=crawler.settings`` unless
    ``env`` says otherwise). ``time_limit``: seconds
    (None: no limit). ``grace``: seconds between SIGTERM and SIGKILL. ``stop_event``: when set, the
    crawl is stopped the same way and recorded as ``interrupted``. ``on_start(proc, run_id)`` is
    called once the process runs.
    """
    site = profile.name
    db_url = absolute_db_url(db_url or default_db_url())
    own_engine = None
    if store is None:
        if engine is None:
            engine = own_engine = make_engine(db_url)
        store = StorageRunStore(engine)
    try:
        return _run(profile, site=site, db_url=db_url, store=store, trigger=trigger, time_limit=time_limit,
                    grace=grace, command=command, cwd=cwd, env=env, stop_event=stop_event, log_path=log_path,
                    tail_lines=tail_lines, check_lock=check_lock, on_start=on_start, on_line=on_line)
    finally:
        if own_engine is not None:
            own_engine.dispose()


def crawl_env(db_url: str, run_id: int | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a crawl process: this one's, ``SCRAPY_SETTINGS_MODULE``, then ``env``,
    then ``GOVNEWS_DB_URL`` (absolute) and ``GOVNEWS_RUN_ID``."""
    child_env = dict(os.environ)
    child_env[SETTINGS_MODULE_ENV] = SETTINGS_MODULE
    child_env.update(env or {})
    child_env[DB_URL_ENV] = absolute_db_url(db_url)
    if run_id is None:
        child_env.pop(RUN_ID_ENV, None)
    else:
        child_env[RUN_ID_ENV] = str(run_id)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    return child_env


def crawl_cwd(cwd: str | os.PathLike | None = None) -> Path:
    """Where a crawl process runs: ``cwd``, else the govnews home (created if missing)."""
    if cwd is not None:
        return Path(cwd)
    home = paths.home()
    home.mkdir(parents=True, exist_ok=True)
    return home


def _run(profile, *, site: str, db_url: str, store: RunStore, trigger: str, time_limit: float | None,
         grace: float, command: Sequence[str] | None, cwd: str | os.PathLike | None,
         env: dict[str, str] | None, stop_event: threading.Event | None, log_path: str | os.PathLike | None,
         tail_lines: int, check_lock: bool, on_start: Callable[[subprocess.Popen, int], None] | None,
         on_line: Callable[[str], None] | None) -> RunResult:
    started = utcnow()
    if stop_event is not None and stop_event.is_set():     # shutting down: launch nothing
        return RunResult(site, RunStatus.INTERRUPTED, log_tail="[runner] not started: stopping",
                         started_at=started, finished_at=started)
    if check_lock:
        holder = store.lock_holder(site)
        if holder:
            note = f"[runner] not started: site {site!r} is locked by {holder}"
            why = f"site is being crawled by another process ({holder})"
            run_id = store.start(site, trigger)
            store.finish(run_id, status=RunStatus.LOCKED, exit_code=None, log_tail=note, reason=why)
            logger.warning("%s (run %s)", note, run_id)
            return RunResult(site, RunStatus.LOCKED, run_id=run_id, log_tail=note, started_at=started,
                             finished_at=utcnow(), holder=holder, reason=why)

    cmd = list(command) if command is not None else crawl_command(profile)
    run_id = store.start(site, trigger)
    result = RunResult(site, RunStatus.FAILED, run_id=run_id, started_at=started, command=cmd)
    child_env = crawl_env(db_url, run_id, env)

    tail: collections.deque[str] = collections.deque(maxlen=max(tail_lines, 1))
    notes: list[str] = []
    log_file: IO[str] | None = None
    proc = None
    reader = None
    reason: str | None = None
    try:
        if log_path is not None:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            log_file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in `finally`
        logger.info("run %s: starting crawl of %s (trigger=%s, limit=%ss)", run_id, site, trigger,
                    time_limit)
        try:
            proc = subprocess.Popen(
                cmd, cwd=str(crawl_cwd(cwd)), env=child_env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                errors="replace", bufsize=1, start_new_session=True,
            )
        except OSError as exc:
            notes.append(f"[runner] could not launch {cmd!r}: {exc}")
            result.status = RunStatus.FAILED
            result.reason = f"could not launch the crawl: {exc}"
            return result
        result.pid = proc.pid
        attach = getattr(store, "attach", None)
        if attach is not None:
            try:
                attach(run_id, proc.pid)
            except Exception:  # pragma: no cover - informative only
                logger.exception("run %s: could not record the crawl pid", run_id)
        reader = threading.Thread(target=_reader, args=(proc.stdout, tail, log_file, on_line),
                                  name=f"crawl-output-{site}", daemon=True)
        reader.start()
        if on_start is not None:
            on_start(proc, run_id)

        deadline = None if time_limit is None else time.monotonic() + time_limit
        try:
            while proc.poll() is None:
                if stop_event is not None and stop_event.is_set():
                    reason = RunStatus.INTERRUPTED
                elif deadline is not None and time.monotonic() >= deadline:
                    reason = RunStatus.TIMEOUT
                if reason:
                    break
                if stop_event is not None:
                    stop_event.wait(POLL_SECONDS)
                else:
                    time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            reason = RunStatus.INTERRUPTED
            _stop(proc, reason, grace, time_limit, notes, site, run_id)
            raise
        if reason:
            _stop(proc, reason, grace, time_limit, notes, site, run_id)
        rc = proc.wait()
        result.exit_code = rc
        if reader is not None:
            reader.join(timeout=5)
        recorded_reason = getattr(store, "recorded_reason", None)
        crawl_reason = recorded_reason(run_id) if recorded_reason is not None else None
        if reason:
            result.status = reason
            why = (f"time limit of {time_limit:g}s reached" if reason == RunStatus.TIMEOUT
                   else "stopped on request (SIGTERM/Ctrl-C)")
            result.reason = why + (f"; {crawl_reason}" if crawl_reason else "")
        elif rc == 0:
            result.status = RunStatus.OK
            recorded = store.recorded_status(run_id)
            if recorded == RunStatus.LOCKED or any(m in line for line in tail for m in _LOCKED_MARKERS):
                result.status = RunStatus.LOCKED
            elif recorded in (RunStatus.FAILED, RunStatus.EMPTY):    # the crawl's verdict stands
                result.status = RunStatus(recorded)
            result.reason = crawl_reason
        else:
            result.status = RunStatus.FAILED
            notes.append(f"[runner] crawl exited with code {rc}")
            result.reason = f"crawl exited with code {rc}: {last_error(tail) or 'see the log tail'}"
        return result
    except BaseException as exc:
        if proc is not None:
            if proc.poll() is None:
                reason = reason or RunStatus.INTERRUPTED
                _stop(proc, reason, grace, time_limit, notes, site, run_id)
            result.exit_code = proc.returncode
        result.status = reason or RunStatus.FAILED
        if not isinstance(exc, KeyboardInterrupt):
            notes.append(f"[runner] error: {exc!r}")
        raise
    finally:
        if reader is not None and reader.is_alive():
            reader.join(timeout=5)
        if log_file is not None:
            log_file.close()
        if proc is not None and proc.stdout is not None:
            try:
                proc.stdout.close()
            except OSError:  # pragma: no cover
                pass
        result.finished_at = utcnow()
        result.log_tail = _format_tail(tail, notes)
        if result.reason is None and result.status == RunStatus.INTERRUPTED:
            result.reason = "stopped on request (SIGTERM/Ctrl-C)"
        if result.reason:
            result.reason = mask_secrets(runs.one_line(result.reason))
        release = getattr(store, "release_child", None)
        if release is not None and proc is not None and proc.poll() is not None:
            try:
                release(site, proc.pid)
            except Exception:  # pragma: no cover - the lease expires anyway
                logger.exception("run %s: could not release the crawl's lease", run_id)
        try:
            store.finish(run_id, status=result.status, exit_code=result.exit_code,
                         log_tail=result.log_tail, reason=result.reason)
        except Exception:
            logger.exception("run %s: could not record the end of the run", run_id)
        level = logging.INFO if result.status in (RunStatus.OK,) else logging.WARNING
        if result.status == RunStatus.FAILED:
            level = logging.ERROR
        logger.log(level, "run %s: crawl of %s finished: %s (exit code %s, %.1fs)%s", run_id, site,
                    str(result.status).upper() if level > logging.INFO else result.status, result.exit_code,
                    result.duration or 0.0, f": {result.reason}" if result.reason else "")


def last_error(lines: Iterable[str]) -> str | None:
    """The last line of the output that says what went wrong (an exception or an ERROR line)."""
    for line in reversed(list(lines)):
        text = line.strip()
        if not text or text.startswith(("File ", "^", "~", "Traceback")):
            continue
        if "ERROR" in text or "Error" in text or "Exception" in text:
            return text[:300]
    return None


def _stop(proc, reason, grace, time_limit, notes, site, run_id) -> None:
    why = f"time limit of {time_limit}s reached" if reason == RunStatus.TIMEOUT else "stop requested"
    logger.warning("run %s: %s for %s; sending SIGTERM (grace %ss)", run_id, why, site, grace)
    killed = terminate(proc, grace)
    notes.append(f"[runner] {why}: sent SIGTERM"
                 + (f"; killed after {grace}s grace" if killed else "; it exited within the grace period"))


__all__ = [
    "PROGRESS_ENV", "PROGRESS_MARKER",
    "RunResult", "RunStore", "StorageRunStore", "absolute_db_url", "crawl_command", "crawl_cwd", "crawl_env",
    "run_crawl", "terminate", "DEFAULT_TIME_LIMIT", "DEFAULT_GRACE",
]
