"""``govnews stats``: what the archive holds per site, and how the last crawls went."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from govnews.commands import db_option, resolve_db_url, sites_option

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECENT_RUNS = 10


def site_counts(engine) -> list[dict]:
    from sqlalchemy import func, select

    from storage.models import Article, CrawlRun, Sighting, Site

    with engine.connect() as conn:
        articles = dict(conn.execute(select(Site.name, func.count(Article.id))
                                     .join(Article, Article.site_id == Site.id, isouter=True).group_by(Site.name)).all())
        sightings = dict(conn.execute(select(Site.name, func.count(Sighting.id))
                                      .join(Sighting, Sighting.site_id == Site.id, isouter=True).group_by(Site.name)).all())
        latest = dict(conn.execute(select(Article.site_id, func.max(Article.published_at)).group_by(Article.site_id)).all())
        ids = dict(conn.execute(select(Site.name, Site.id)).all())
        last_run = {}
        for run in conn.execute(select(CrawlRun).order_by(CrawlRun.id)).mappings():
            last_run[run["site"]] = run
    return [{"site": name, "articles": articles.get(name, 0), "sightings": sightings.get(name, 0),
             "latest_published": latest.get(ids[name]), "last_run": last_run.get(name)} for name in sorted(ids)]


def recent_runs(engine, limit: int = RECENT_RUNS) -> list:
    from sqlalchemy import select

    from storage.models import CrawlRun

    with engine.connect() as conn:
        return list(conn.execute(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).mappings())


def _t(value) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "-"


@click.command("stats")
@db_option
@sites_option
@click.option("--runs", "n_runs", default=RECENT_RUNS, show_default=True, help="How many recent crawl runs to show.")
def stats_cmd(db_url, sites_dir, n_runs):
    """Articles per site, sites that failed or found nothing for too long, the last crawl runs.

    Times are shown in Asia/Shanghai. A site needs attention when its crawls keep failing, when no
    crawl succeeded within three of its schedule intervals, or when it found no new article for a week.

    \b
    Examples:
      govnews stats
      GOVNEWS_DB_URL=postgresql://localhost/govnews govnews stats --runs 30
    """
    from storage.db import make_engine, mask_url

    url = resolve_db_url(db_url)
    engine = make_engine(url)
    click.echo(f"archive: {mask_url(url)}")
    rows = site_counts(engine)
    click.echo(f"\n{'site':<20}{'articles':>9}{'sightings':>10}  {'latest article':<17} last run")
    for r in rows:
        run = r["last_run"]
        last = f"{_t(run['started_at'])} {run['status']}" if run else "never"
        click.echo(f"{r['site']:<20}{r['articles']:>9}{r['sightings']:>10}  {_t(r['latest_published']):<17} {last}")
    from govnews.scheduling import load_profile_dir, site_health

    health = [h for h in site_health(engine, load_profile_dir(sites_dir).profiles.values())
              if h["level"] != "ok" and h["runs"]]
    if health:
        click.echo("\nneeds attention:")
        for h in health:
            click.echo(f"  {h['level'].upper():<8}{h['site']:<20}" + "; ".join(h["problems"]))
    runs = recent_runs(engine, n_runs)
    if runs:
        click.echo(f"\n{'run':>5}  {'site':<18}{'started':<17} {'status':<12}{'req':>6}{'new':>6}{'dup':>6}{'rev':>5}  failures")
        for r in runs:
            fails = ", ".join(f"{k}={v}" for k, v in sorted((r["failures"] or {}).items())) or "-"
            click.echo(f"{r['id']:>5}  {r['site']:<18}{_t(r['started_at']):<17} {r['status']:<12}"
                       f"{r['requests']:>6}{r['new_articles']:>6}{r['duplicates']:>6}{r['revisions']:>5}  {fails}")
