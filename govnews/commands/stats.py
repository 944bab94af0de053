"""``govnews stats``: what the archive holds per site, and how the last crawls went."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from sqlalchemy import Engine, func, select

from govnews.commands import db_option, open_archive_engine, resolve_db_url, site_filter_option, sites_option
from govnews.dates import show_local
from govnews.scheduling import load_profile_dir, site_health
from storage.db import mask_url
from storage.models import Article, CrawlRun, Sighting, Site
from storage.runs import latest_runs_by_site
from storage.templates import templates_by_site

RECENT_RUNS = 10


def site_counts(engine: Engine) -> list[dict[str, Any]]:
    """Per archived site: articles, sightings, the newest publication time and the latest run (a
    row of the ``site_latest_crawl`` view, or None): a few grouped queries, however many runs."""
    with engine.connect() as conn:
        articles = dict(conn.execute(
            select(Site.name, func.count(Article.id)).join(Article, Article.site_id == Site.id, isouter=True)
            .group_by(Site.name)).all())
        sightings = dict(conn.execute(
            select(Site.name, func.count(Sighting.id)).join(Sighting, Sighting.site_id == Site.id, isouter=True)
            .group_by(Site.name)).all())
        latest = dict(conn.execute(
            select(Site.name, func.max(Article.published_at)).join(Article, Article.site_id == Site.id)
            .group_by(Site.name)).all())
        names = sorted(conn.execute(select(Site.name)).scalars())
    last_run = latest_runs_by_site(engine, names)
    return [{"site": name, "articles": articles.get(name, 0), "sightings": sightings.get(name, 0),
             "latest_published": latest.get(name), "last_run": last_run.get(name)} for name in names]


def recent_runs(engine: Engine, limit: int = RECENT_RUNS, sites: Sequence[str] = ()) -> list:
    q = select(CrawlRun.__table__)
    if sites:
        q = q.where(CrawlRun.site.in_(list(sites)))
    with engine.connect() as conn:
        return list(conn.execute(q.order_by(CrawlRun.id.desc()).limit(limit)).mappings())


#: statuses `govnews stats` flags (a crawl that did not do its job)
FLAGGED = {"failed": "FAILED", "empty": "EMPTY", "timeout": "TIMEOUT", "interrupted": "INTERRUPTED",
           "locked": "LOCKED"}


@click.command("stats")
@db_option
@sites_option
@site_filter_option
@click.option("--runs", "n_runs", type=click.IntRange(min=0), default=RECENT_RUNS, show_default=True,
              help="How many recent crawl runs to show.")
def stats_cmd(db_url: str | None, sites_dir: str | None, site_names: tuple[str, ...], n_runs: int) -> None:
    """Articles per site, sites that failed or found nothing for too long, the last crawl runs.

    Times are shown in Asia/Shanghai. A site needs attention when its crawls keep failing, when no
    crawl succeeded within three of its schedule intervals, or when it found no new article for a week.
    Runs that ended failed, empty, timeout, interrupted or locked are flagged in capitals with their
    reason. "latest article" is the newest publication date of the site's articles.

    \b
    Examples:
      govnews stats
      govnews stats --site demo --runs 30
    """
    url = resolve_db_url(db_url)
    engine = open_archive_engine(url)
    try:
        _print_stats(engine, url, sites_dir, n_runs, site_names)
    finally:
        engine.dispose()


def _print_stats(engine: Engine, url: str, sites_dir: str | None, n_runs: int,
                 site_names: Sequence[str] = ()) -> None:
    click.echo(f"archive: {mask_url(url)}")
    rows = [r for r in site_counts(engine) if not site_names or r["site"] in site_names]
    click.echo(f"\n{'site':<20}{'articles':>9}{'sightings':>10}  {'latest article':<17} last run")
    for r in rows:
        run = r["last_run"]
        last = f"{show_local(run['started_at'])} {FLAGGED.get(run['status'], run['status'])}" if run else "never"
        click.echo(f"{r['site']:<20}{r['articles']:>9}{r['sightings']:>10}  "
                   f"{show_local(r['latest_published']):<17} {last}")
    learned = templates_by_site(engine)
    shown = [(s, t) for s, ts in sorted(learned.items()) if not site_names or s in site_names for t in ts[:3]]
    if shown:
        click.echo("\narticle URL templates learned (most used first; `govnews sites --verbose` lists all):")
        for site, t in shown:
            click.echo(f"  {site:<20}{t['template']}  ({t['support']} links)")
    profiles = load_profile_dir(sites_dir, include_unverified=True).profiles.values()
    health = [h for h in site_health(engine, profiles)
              if h["level"] != "ok" and h["runs"] and (not site_names or h["site"] in site_names)]
    if health:
        click.echo("\nneeds attention:")
        for h in health:
            click.echo(f"  {h['level'].upper():<8}{h['site']:<20}" + "; ".join(h["problems"]))
    runs = recent_runs(engine, n_runs, site_names) if n_runs else []
    if runs:
        click.echo(f"\n{'run':>5}  {'site':<18}{'started':<17} {'status':<12}{'req':>6}{'new':>6}{'dup':>6}"
                   f"{'rev':>5}  failures")
        for r in runs:
            fails = ", ".join(f"{k}={v}" for k, v in sorted((r["failures"] or {}).items())) or "-"
            status = FLAGGED.get(r["status"], r["status"])
            click.echo(f"{r['id']:>5}  {r['site']:<18}{show_local(r['started_at']):<17} {status:<12}"
                       f"{r['requests']:>6}{r['new_articles']:>6}{r['duplicates']:>6}{r['revisions']:>5}  {fails}")
            if r["status"] in FLAGGED and r.get("reason"):
                click.echo(f"{'':>7}{r['reason']}")
    _print_attachments(engine, site_names)


def _print_attachments(engine: Engine, site_names: Sequence[str] = ()) -> None:
    """Issue 16: attachment counts, failures by reason, text status (storage.attachments.counts)."""
    from storage.attachments import counts

    names: list[str | None] = list(site_names) or [None]
    for name in names:
        c = counts(engine, site=name)
        if not c["urls"]:
            continue
        o = c["outcomes"]
        click.echo(f"\nattachments{' of ' + name if name else ''}: {c['urls']} URLs, {c['files']} files "
                   f"({c['bytes'] / 1048576:.1f} MB), {c['links']} links; ok {o.get('ok', 0)}, "
                   f"failed {o.get('failed', 0)}, pending {o.get('pending', 0)}")
        if c["reasons"]:
            click.echo("  failures: " + ", ".join(f"{k}={v}" for k, v in sorted(c["reasons"].items())))
        if c["text"]:
            click.echo("  text: " + ", ".join(f"{k}={v}" for k, v in sorted(c["text"].items())))
