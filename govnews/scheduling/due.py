"""System cron (``govnews crawl --due``): which sites are due, and crawling them once each.

A site is due when its schedule had a fire time after the start of its last run (runs that did not
crawl, status ``locked``, do not count), or when it never ran; an ``interval_seconds`` site is due
that many seconds after its last run started.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from common.clock import utcnow
from crawler.profiles import SiteProfile
from govnews.runner import DEFAULT_GRACE, DEFAULT_TIME_LIMIT, absolute_db_url, run_crawl
from govnews.runner import run_crawl as _run_crawl_subprocess
from govnews.scheduling.triggers import as_aware, build_trigger
from storage.db import default_db_url, make_engine
from storage.enums import RunStatus, Trigger
from storage.models import CrawlRun

__all__ = ["SKIP_STATUSES_FOR_DUE", "due_sites", "last_runs_by_site", "run_due"]

SKIP_STATUSES_FOR_DUE: tuple[str, ...] = (RunStatus.LOCKED,)   # runs that did not crawl are not "the last run"


def due_sites(profiles: Iterable[SiteProfile], last_run_by_site: Mapping[str, datetime | None],
              now: datetime | None = None) -> list[SiteProfile]:
    """Sites whose schedule had a fire time after their last run started (``last < t <= now``), or
    that never ran. Interval profiles are due ``interval_seconds`` after the last start."""
    now = as_aware(now) if now else utcnow()
    due = []
    for profile in profiles:
        started = last_run_by_site.get(profile.name)
        if started is None:
            due.append(profile)
            continue
        last = as_aware(started)
        if profile.interval_seconds:
            if now - last >= timedelta(seconds=float(profile.interval_seconds)):
                due.append(profile)
            continue
        # the first fire time strictly after the last start
        nxt = build_trigger(profile).get_next_fire_time(None, last + timedelta(microseconds=1))
        if nxt is not None and nxt <= now:
            due.append(profile)
    return due


def last_runs_by_site(engine: Engine, *, skip_statuses: Sequence[str] = SKIP_STATUSES_FOR_DUE
                      ) -> dict[str, datetime]:
    """Start time (aware UTC) of each site's latest run in ``crawl_runs``, not counting runs that
    did not crawl (status ``locked``)."""
    t = CrawlRun.__table__
    q = select(t.c.site, func.max(t.c.started_at)).group_by(t.c.site)
    if skip_statuses:
        q = q.where(t.c.status.not_in(list(skip_statuses)))
    with engine.connect() as conn:
        return {site: as_aware(ts) for site, ts in conn.execute(q) if ts is not None}


def run_due(
    profiles: Iterable[SiteProfile],
    *,
    db_url: str | None = None,
    engine: Engine | None = None,
    now: datetime | None = None,
    last_run_by_site: Mapping[str, datetime | None] | None = None,
    trigger: str = Trigger.DUE,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    grace: float = DEFAULT_GRACE,
    max_parallel: int = 1,
    stop_event: threading.Event | None = None,
    handle_signals: bool = False,
    run_crawl: Callable[..., Any] = run_crawl,
    crawl_command: Callable[[SiteProfile], Sequence[str]] | None = None,
    dry_run: bool = False,
    batch: bool = False,
    batch_options: Mapping[str, Any] | None = None,
    **run_kwargs: Any,
) -> list:
    """Crawl every due site (see :func:`due_sites`) and return the ``RunResult`` list (or, with
    ``dry_run``, the due profiles). ``crawl_command(profile)``: the command of each crawl (default
    :func:`govnews.runner.crawl_command`; ``govnews crawl --due`` passes its ``--full``, ``-s`` and
    ``--jobdir`` this way). ``handle_signals``: SIGTERM/SIGINT stop the running crawls gracefully
    (recorded ``interrupted``) instead of killing this process; call from the main thread.

    ``batch``: crawl the due sites together in one Scrapy process (:func:`govnews.batch.run_batch`,
    ``max_parallel`` sites at once; ``batch_options``: its ``full``, ``settings``, ``jobdir``)
    instead of one subprocess per site (``crawl_command`` is then not used; a ``run_crawl`` other
    than the runner's means per-site crawls)."""
    db_url = absolute_db_url(db_url or default_db_url())
    own_engine = None
    if engine is None:
        engine = own_engine = make_engine(db_url)
    try:
        profiles = list(profiles)
        if last_run_by_site is None:
            last_run_by_site = last_runs_by_site(engine)
        due = due_sites(profiles, last_run_by_site, now)
        if dry_run or not due:
            return due
        stopping = stop_event or threading.Event()
        old_handlers = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                old_handlers[sig] = signal.signal(sig, lambda *_: stopping.set())

        def one(profile: SiteProfile):
            if stopping.is_set():
                return None
            kwargs = dict(run_kwargs)
            if crawl_command is not None:
                kwargs["command"] = list(crawl_command(profile))
            return run_crawl(profile, db_url=db_url, engine=engine, trigger=trigger,
                             time_limit=time_limit, grace=grace, stop_event=stopping, **kwargs)

        try:
            if batch and run_crawl is _run_crawl_subprocess:   # an injected run_crawl crawls per site
                from govnews.batch import run_batch

                return run_batch(due, db_url=db_url, engine=engine, trigger=trigger, time_limit=time_limit,
                                 grace=grace, concurrency=max(1, max_parallel), stop_event=stopping,
                                 **dict(batch_options or {}))
            if max_parallel <= 1:
                results = [one(p) for p in due]
            else:
                with ThreadPoolExecutor(max_workers=max_parallel) as pool:
                    results = list(pool.map(one, due))
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
        return [r for r in results if r is not None]
    finally:
        if own_engine is not None:
            own_engine.dispose()
