"""``govnews crawl``: one crawl of one site now, or every site whose schedule is due (for cron)."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from crawler.profiles import ProfileError, SiteProfile, load_profile
from govnews.batch import DEFAULT_CONCURRENCY, parse_settings
from govnews.commands import db_option, open_archive_engine, resolve_db_url, sites_option
from govnews.runner import DEFAULT_TIME_LIMIT, PROGRESS_ENV, PROGRESS_MARKER, crawl_command, run_crawl
from govnews.scheduling import load_profile_dir, run_due
from storage.enums import RunStatus, Trigger

#: run statuses that make ``govnews crawl`` exit non-zero (``empty`` is a warning, exit 0)
FAILED_STATUSES = (RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.LOCKED, RunStatus.INTERRUPTED)


def exit_code_of(statuses: Sequence[str]) -> int:
    """1 when any run failed, timed out, was locked or interrupted; else 0."""
    return 1 if any(s in FAILED_STATUSES for s in statuses) else 0


def extra_scrapy_args(full: bool, settings: Sequence[str], jobdir: str | Path | None,
                      log_level: str | None = None) -> list[str]:
    """The ``scrapy crawl`` arguments of ``--full``, ``--jobdir``, the log level and ``-s NAME=VALUE``
    (last, so the user's ``-s LOG_LEVEL=...`` wins). The JOBDIR is made absolute: the crawl runs in
    the govnews home, not in this directory."""
    args = ["-a", "full_walk=1"] if full else []
    if jobdir:
        args += ["-s", f"JOBDIR={Path(jobdir).resolve()}"]
    if log_level:
        args += ["-s", f"LOG_LEVEL={log_level}"]
    for s in settings:
        args += ["-s", s]
    return args


def due_crawl_command(full: bool, settings: Sequence[str], jobdir: str | None, log_level: str | None = None):
    """The command of each due crawl: the same ``--full`` and ``-s`` for every site, and a JOBDIR
    of its own under ``--jobdir`` (``DIR/<site>``: Scrapy's resume state is per crawl)."""
    def command(profile: SiteProfile) -> list[str]:
        site_jobdir = Path(jobdir) / profile.name if jobdir else None
        return crawl_command(profile, extra_args=extra_scrapy_args(full, settings, site_jobdir, log_level))
    return command


def _check_settings(settings: Sequence[str]) -> None:
    for s in settings:
        name, sep, _ = s.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{s!r} is not NAME=VALUE", param_hint="-s/--set")


class Progress:
    """The live line (pages, articles new/duplicate, failures, queue) while a crawl runs: on a
    terminal only; lines of the crawl's own log are passed through."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: Any = None

    def on_line(self, line: str) -> None:
        if line.startswith(PROGRESS_MARKER):
            if self.enabled:
                self._show(line[len(PROGRESS_MARKER):])
            return
        if self.bar is not None:
            self.bar.clear()
        click.echo(line, err=True)
        if self.bar is not None:
            self.bar.refresh()

    def _show(self, payload: str) -> None:
        try:
            p = json.loads(payload)
        except ValueError:
            return
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=None, unit="page", file=sys.stderr, dynamic_ncols=True, leave=False)
        self.bar.n = int(p.get("pages", 0))
        self.bar.set_postfix_str(f"new {p.get('new', 0)} dup {p.get('dup', 0)} failed {p.get('failed', 0)} "
                                 f"queue {p.get('queue', 0)}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class BatchProgress(Progress):
    """The live line of a batch run (``govnews crawl A B``, ``--due``): sites done of total, running,
    pages, articles new/dup, failures, from the batch process's progress events; on a terminal only,
    the batch's log lines passed through as for one crawl."""

    def on_progress(self, event: dict[str, Any]) -> None:
        if not self.enabled:
            return
        total = int(event.get("done", 0)) + int(event.get("running", 0)) + int(event.get("pending", 0))
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="site", file=sys.stderr, dynamic_ncols=True, leave=False)
        self.bar.total = total
        self.bar.n = int(event.get("done", 0))
        self.bar.set_postfix_str(f"running {event.get('running', 0)} pages {event.get('pages', 0)} "
                                 f"new {event.get('new', 0)} dup {event.get('dup', 0)} "
                                 f"failed {event.get('failed', 0)}", refresh=False)
        self.bar.refresh()


def attachment_counts(conn: Any, site: str, started: Any, finished: Any) -> dict[str, int]:
    """A run's attachments, from the archive: ``new`` (first stored by this run), ``known`` (stored
    before it, and linked by this run's articles or revalidated by it), ``failed`` (fetched by this
    run without success)."""
    from sqlalchemy import and_, func, or_, select

    from storage.models import Article, ArticleAttachment, Attachment, Site

    site_id = conn.scalar(select(Site.id).where(Site.name == site))
    if site_id is None:
        return {"new": 0, "known": 0, "failed": 0}

    def within(col):
        return and_(col >= started, col <= finished) if finished is not None else col >= started

    new = conn.scalar(select(func.count(Attachment.id)).where(
        Attachment.site_id == site_id, within(Attachment.first_seen), Attachment.outcome == "ok"))
    failed = conn.scalar(select(func.count(Attachment.id)).where(
        Attachment.site_id == site_id, within(func.coalesce(Attachment.fetched_at, Attachment.first_seen)),
        Attachment.outcome == "failed"))
    linked = (select(ArticleAttachment.attachment_id)
              .join(Article, Article.id == ArticleAttachment.article_id)
              .where(Article.site_id == site_id, within(ArticleAttachment.linked_at)))
    known = conn.scalar(select(func.count(Attachment.id)).where(
        Attachment.site_id == site_id, Attachment.first_seen < started, Attachment.outcome == "ok",
        or_(Attachment.id.in_(linked), within(Attachment.fetched_at))))
    return {"new": int(new or 0), "known": int(known or 0), "failed": int(failed or 0)}


def run_summary(url: str, run_id: int | None) -> dict[str, Any] | None:
    """What the end-of-crawl table shows for one run: its ``crawl_runs`` row, its pages by outcome
    and its attachments (:func:`attachment_counts`); None when there is no such run."""
    if run_id is None:
        return None
    from sqlalchemy import func, select

    from storage import runs
    from storage.models import Page, Site

    try:
        engine = open_archive_engine(url)
    except click.ClickException:
        return None
    try:
        row = runs.get_run(engine, run_id)
        if row is None:
            return None
        with engine.connect() as conn:
            q = (select(Page.outcome, func.count(Page.id)).join(Site, Site.id == Page.site_id)
                 .where(Site.name == row["site"], Page.fetched_at >= row["started_at"]))
            if row.get("finished_at"):
                q = q.where(Page.fetched_at <= row["finished_at"])
            outcomes = dict(conn.execute(q.group_by(Page.outcome)).all())
            attachments = attachment_counts(conn, row["site"], row["started_at"], row.get("finished_at"))
    except Exception:  # noqa: BLE001 - a summary is not worth a traceback
        return None
    finally:
        engine.dispose()
    took = (row["finished_at"] - row["started_at"]).total_seconds() if row.get("finished_at") else None
    return {"site": row["site"], "status": row["status"], "new_articles": row["new_articles"],
            "revisions": row["revisions"], "duplicates": row["duplicates"], "attachments": attachments,
            "requests": row["requests"], "pages": outcomes, "failures": row.get("failures") or {},
            "seconds": took}


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(d.items())) or "none"


def _attachments(a: dict[str, int]) -> str:
    return f"{a['new']} new, {a['known']} known, {a['failed']} failed"


def summary_table(url: str, run_id: int | None, crawl_exit: int | None) -> list[str]:
    """The end-of-crawl table: new articles, revisions, duplicates, attachments, pages by outcome,
    failures by reason, requests, time (from the run's ``crawl_runs`` row and the archive)."""
    s = run_summary(url, run_id)
    if s is None:
        return []
    took = s["seconds"]
    return [
        f"  new articles   {s['new_articles']:>8}",
        f"  revisions      {s['revisions']:>8}",
        f"  duplicates     {s['duplicates']:>8}",
        f"  attachments    {_attachments(s['attachments'])}",
        f"  requests       {s['requests']:>8}",
        "  pages          " + _counts(s["pages"]),
        "  failures       " + _counts(s["failures"]),
        f"  time           {took:>7.1f}s" if took is not None else "  time                 -",
        f"  crawl process  exit {crawl_exit}",
    ]


BATCH_COLUMNS = ("site", "status", "new", "rev", "dup", "attach new/known/failed", "requests", "time",
                 "pages", "failures")


def batch_summary_table(url: str, results: Sequence[Any], seconds: float | None = None) -> list[str]:
    """The end of a batch run: one row per site (the fields of :func:`summary_table`) and a total
    (its time: ``seconds``, the batch's wall time, else the longest site's)."""
    rows: list[tuple[str, ...]] = []
    total: dict[str, Any] = {"new": 0, "rev": 0, "dup": 0, "att": [0, 0, 0], "requests": 0, "seconds": 0.0,
                             "pages": {}, "failures": {}}
    for r in results:
        s = run_summary(url, getattr(r, "run_id", None))
        if s is None:
            rows.append((r.site, str(r.status), *("-",) * (len(BATCH_COLUMNS) - 2)))
            continue
        a = s["attachments"]
        rows.append((s["site"], str(s["status"]), str(s["new_articles"]), str(s["revisions"]),
                     str(s["duplicates"]), f"{a['new']}/{a['known']}/{a['failed']}", str(s["requests"]),
                     f"{s['seconds']:.1f}s" if s["seconds"] is not None else "-", _counts(s["pages"]),
                     _counts(s["failures"])))
        total["new"] += s["new_articles"]
        total["rev"] += s["revisions"]
        total["dup"] += s["duplicates"]
        total["att"] = [x + y for x, y in zip(total["att"], (a["new"], a["known"], a["failed"]))]
        total["requests"] += s["requests"]
        total["seconds"] = max(total["seconds"], s["seconds"] or 0.0)
        for key in ("pages", "failures"):
            for k, v in s[key].items():
                total[key][k] = total[key].get(k, 0) + int(v)
    if not rows:
        return []
    failed = sum(1 for r in results if r.status in FAILED_STATUSES)
    rows.append(("total", f"{len(results)} sites, {failed} failed", str(total["new"]), str(total["rev"]),
                 str(total["dup"]), "/".join(map(str, total["att"])), str(total["requests"]),
                 f"{seconds if seconds is not None else total['seconds']:.1f}s", _counts(total["pages"]),
                 _counts(total["failures"])))
    table = [BATCH_COLUMNS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(BATCH_COLUMNS) - 1)]
    return ["  " + "  ".join([*(c.ljust(w) for c, w in zip(row, widths)), row[-1]]).rstrip() for row in table]


@click.command("crawl")
@click.argument("sites", nargs=-1, metavar="[SITE]...")
@db_option
@sites_option
@click.option("--due", is_flag=True, help="Crawl every site whose schedule has fired since its last run, then exit.")
@click.option("--dry-run", is_flag=True, help="Only list what would be crawled (with --due: the due sites).")
@click.option("--include-unverified", is_flag=True,
              help="With --due: also crawl profiles marked `verified = false` (skipped by default).")
@click.option("--full", is_flag=True, help="Walk every list page, not only until nothing is new.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Extra Scrapy setting.")
@click.option("--jobdir", metavar="DIR",
              help="Scrapy JOBDIR, so an interrupted crawl can resume (with --due: DIR/<site> for each site).")
@click.option("--time-limit", type=click.FloatRange(min=1), default=DEFAULT_TIME_LIMIT, show_default=True,
              metavar="S", help="Stop the crawl after S seconds (at least 1; recorded as timeout).")
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's INFO log (default: warnings and errors only).")
@click.option("--no-progress", is_flag=True, help="No live progress line (it is off anyway when not a terminal).")
@click.option("--batch/--no-batch", "batch", default=None,
              help="Several sites (or --due): crawl them together in one Scrapy process (default), "
                   "or one subprocess per site.")
@click.option("--parallel", type=click.IntRange(min=1), default=DEFAULT_CONCURRENCY, show_default=True,
              metavar="N", help="Several sites (or --due): crawl N sites at once.")
def crawl_cmd(sites: tuple[str, ...], db_url: str | None, sites_dir: str | None, due: bool, dry_run: bool,
              include_unverified: bool, full: bool, settings: tuple[str, ...], jobdir: str | None,
              time_limit: float, verbose: bool, no_progress: bool, batch: bool | None, parallel: int) -> None:
    """Crawl sites now (profile names or paths to .toml profiles), or every due site (--due).

    Each crawl runs `scrapy crawl gov_news -a site=SITE` in a subprocess, takes the site's lock and
    is recorded in crawl_runs with a status and a one-line reason: ok (pages fetched and
    processed), empty (nothing held an article), failed (no start URL answered, every request
    failed or was refused, the spider could not start), timeout, interrupted, locked. The exit
    status is 1 when a run failed, timed out, was locked or interrupted, else 0 (for a batch: when
    any site's run did). The crawl ends with a summary: new articles, revisions, duplicates,
    attachments, requests, pages by outcome, failures, time; a batch with one row per site and a
    total. On a terminal a live line shows the progress (a batch: sites done/running, pages,
    articles new/dup, failures).

    \b
    Examples:
      govnews crawl demo
      govnews crawl demo --dry-run
      govnews crawl demo -v -s DOWNLOAD_DELAY=0 --full --time-limit 600
      govnews crawl --due --dry-run       # from cron: which sites are due
      govnews crawl --due --full -s DOWNLOAD_DELAY=2 --jobdir /var/lib/govnews/jobs
      govnews crawl site-a site-b site-c --parallel 8   # one Scrapy process, 8 sites at once

    Several sites, and --due, run in one Scrapy process (govnews.batch: one crawler per site,
    --parallel at a time, each with its own lock, crawl_runs row, stats and time limit);
    --no-batch runs one subprocess per site instead.
    """
    _check_settings(settings)
    log_level = None if any(s.startswith("LOG_LEVEL=") for s in settings) else ("INFO" if verbose else "WARNING")
    if due:
        if sites:
            raise click.UsageError("name SITEs or use --due, not both")
        sys.exit(_crawl_due(db_url, sites_dir, dry_run, full, settings, jobdir, time_limit, log_level,
                            include_unverified, batch=batch is not False, parallel=parallel,
                            no_progress=no_progress))
    if not sites:
        raise click.UsageError("name a SITE, or use --due")
    profiles = []
    for name in sites:
        try:
            profiles.append(load_profile(name, sites_dir))
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from None
    url = resolve_db_url(db_url)
    open_archive_engine(url, write=True).dispose()         # a missing or unmigrated archive: one clear line
    if dry_run:
        for p in profiles:
            cmd = crawl_command(p, extra_args=extra_scrapy_args(full, settings, jobdir, log_level))
            click.echo(f"{p.name}: would run: {' '.join(cmd)}")
        sys.exit(0)
    if len(profiles) > 1 or batch:
        sys.exit(_crawl_many(profiles, url, full, settings, jobdir, time_limit, log_level,
                             batch=batch is not False, parallel=parallel, no_progress=no_progress))
    sys.exit(exit_code_of([_crawl_one(profiles[0], url, full, settings, jobdir, time_limit, log_level,
                                      no_progress)]))


def _with_reasons(url: str, results: Sequence[Any]) -> None:
    """Fill each result's ``reason`` from its ``crawl_runs`` row when the runner did not set it."""
    from storage import runs

    missing = [r for r in results if getattr(r, "reason", None) is None and getattr(r, "run_id", None)]
    if not missing:
        return
    try:
        engine = open_archive_engine(url)
    except click.ClickException:
        return
    try:
        for r in missing:
            row = runs.get_run(engine, r.run_id)
            r.reason = row.get("reason") if row else None
    finally:
        engine.dispose()


def _report(url: str, results: Sequence[Any], seconds: float | None = None) -> int:
    """The batch's summary table (stderr), one status line per site (stdout); the exit code: 1 when
    any site's run failed, timed out, was locked or interrupted."""
    _with_reasons(url, results)
    for line in batch_summary_table(url, results, seconds):
        click.echo(line, err=True)
    for r in results:
        reason = f": {r.reason}" if getattr(r, "reason", None) else ""
        click.echo(f"{r.site}: {r.status} (run {r.run_id}, exit {exit_code_of([r.status])}){reason}")
    return exit_code_of([r.status for r in results])


def _crawl_many(profiles: Sequence[SiteProfile], url: str, full: bool, settings: Sequence[str],
                jobdir: str | None, time_limit: float, log_level: str | None, *, batch: bool, parallel: int,
                no_progress: bool = False) -> int:
    """``govnews crawl A B C``: every named site, in one batch process (or one subprocess each)."""
    unique = {p.name: p for p in reversed(profiles)}
    progress = BatchProgress(enabled=batch and not no_progress and sys.stderr.isatty())
    t0 = time.monotonic()
    try:
        results = run_due(list(reversed(unique.values())), db_url=url, handle_signals=True,
                          last_run_by_site={}, trigger=Trigger.MANUAL, time_limit=time_limit,
                          max_parallel=parallel, batch=batch,
                          batch_options=_batch_options(full, settings, jobdir, log_level, progress),
                          crawl_command=due_crawl_command(full, settings, jobdir, log_level))
    finally:
        progress.close()
    return _report(url, results, time.monotonic() - t0)


def _batch_options(full: bool, settings: Sequence[str], jobdir: str | None, log_level: str | None,
                   progress: BatchProgress | None = None) -> dict:
    try:
        parsed = parse_settings(settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if log_level:
        parsed.setdefault("LOG_LEVEL", log_level)
    options: dict[str, Any] = {"full": full, "settings": parsed, "jobdir": jobdir,
                               "on_line": lambda line: click.echo(line, err=True)}
    if progress is not None and progress.enabled:
        options["on_line"] = progress.on_line
        options["on_progress"] = progress.on_progress
    return options


def _crawl_one(profile: SiteProfile, url: str, full: bool, settings: Sequence[str], jobdir: str | None,
               time_limit: float, log_level: str | None, no_progress: bool) -> str:
    progress = Progress(enabled=not no_progress and sys.stderr.isatty())
    env = {PROGRESS_ENV: "1"} if progress.enabled else {}
    on_line: Callable[[str], None] = progress.on_line
    try:
        result = run_crawl(profile, db_url=url, trigger=Trigger.MANUAL, time_limit=time_limit, env=env,
                           command=crawl_command(profile, extra_args=extra_scrapy_args(full, settings, jobdir,
                                                                                       log_level)),
                           on_line=on_line)
    finally:
        progress.close()
    code = exit_code_of([result.status])
    for line in summary_table(url, result.run_id, result.exit_code):
        click.echo(line, err=True)
    reason = f": {result.reason}" if result.reason else ""
    click.echo(f"{profile.name}: {result.status} (run {result.run_id}, exit {code}){reason}", err=True)
    return str(result.status)


def _crawl_due(db_url: str | None, sites_dir: str | None, dry_run: bool, full: bool,
               settings: tuple[str, ...], jobdir: str | None, time_limit: float, log_level: str | None,
               include_unverified: bool, *, batch: bool = True, parallel: int = DEFAULT_CONCURRENCY,
               no_progress: bool = False) -> int:
    loaded = load_profile_dir(sites_dir, include_unverified=include_unverified)
    for path, message in loaded.errors.items():
        click.echo(f"skipped profile {path}: {message.removeprefix(path + ': ')}", err=True)
    for name in sorted(loaded.unverified):
        click.echo(f"skipped unverified profile {name} (verified = false; --include-unverified crawls it)",
                   err=True)
    url = resolve_db_url(db_url)
    open_archive_engine(url, write=True).dispose()
    progress = BatchProgress(enabled=batch and not dry_run and not no_progress and sys.stderr.isatty())
    t0 = time.monotonic()
    try:
        results = run_due(loaded.profiles.values(), db_url=url, handle_signals=True,
                          dry_run=dry_run, time_limit=time_limit, batch=batch,
                          max_parallel=parallel if batch else 1,
                          batch_options=_batch_options(full, settings, jobdir, log_level, progress),
                          crawl_command=due_crawl_command(full, settings, jobdir, log_level))
    finally:
        progress.close()
    if dry_run:
        for p in results:
            click.echo(p.name)
        return 0
    if not results:
        click.echo("no site is due", err=True)
    return _report(url, results, time.monotonic() - t0)
