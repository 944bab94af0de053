"""``govnews sites``: the site profiles, their schedules, and which profiles are broken."""
from __future__ import annotations

import json
import sys

import click

from crawler.profiles import ProfileError, SiteProfile, load_profile, scan_profiles
from govnews.commands import db_option, require_archive, resolve_db_url, sites_option


def _when(p: SiteProfile) -> str:
    return f"every {p.interval_seconds:g}s" if p.interval_seconds else f"{p.schedule} ({p.timezone})"


@click.command("sites")
@sites_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per profile (broken ones with \"error\").")
@click.option("--check", "check", is_flag=True,
              help="Validate the profiles (or only the NAMEs given): exit 1 when one is broken.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also show the article URL templates each site's crawls learned (read from the archive).")
@db_option
@click.argument("names", nargs=-1, metavar="[NAME]...")
def sites_cmd(sites_dir: str | None, as_json: bool, check: bool, verbose: bool, db_url: str | None,
              names: tuple[str, ...]) -> None:
    """List site profiles and their schedules; mark the broken ones (and say why).

    Every profile is validated as it is loaded (cron fields, time zone, hint types and ranges,
    URL schemes, unknown keys with a "did you mean"); a broken file is listed as BROKEN with all
    its problems, the others are listed as usual. `[unverified]` profiles are not scheduled by
    `govnews schedule` or `crawl --due` unless --include-unverified. Keys: docs/PROFILES.md.

    \b
    Examples:
      govnews sites
      govnews sites --json
      govnews sites --check              # exit 1 when a profile is broken
      govnews sites --check demo
      govnews sites --verbose            # with the article templates learned by the crawls
    """
    if names and not check:
        raise click.UsageError("NAMEs are only for --check")
    if names:
        good: list[SiteProfile] = []
        broken: dict[str, ProfileError] = {}
        for name in names:
            try:
                good.append(load_profile(name, sites_dir))
            except ProfileError as exc:
                broken[name] = exc
    else:
        good, broken = scan_profiles(sites_dir)
    if not good and not broken:
        click.echo("no site profiles found", err=True)
        sys.exit(1 if check else 0)
    if check:
        for p in good:
            click.echo(f"ok      {p.name:<20} {p.path}")
        for where, err in broken.items():
            click.echo(f"BROKEN  {where}")
            for line in err.errors:
                click.echo(f"        {line.removeprefix(where + ': ')}")
        click.echo(f"{len(good)} ok, {len(broken)} broken", err=True)
        sys.exit(1 if broken else 0)
    learned = _learned_templates(db_url) if verbose else {}
    for p in good:
        if as_json:
            row: dict[str, object] = {"name": p.name, "title": p.title, "schedule": p.schedule,
                   "interval_seconds": p.interval_seconds, "timezone": p.timezone,
                   "start_urls": p.start_urls, "verified": p.verified, "path": str(p.path)}
            if verbose:
                row["templates"] = learned.get(p.name, [])
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
        else:
            mark = "" if p.verified else "  [unverified]"
            click.echo(f"{p.name:<20} {_when(p):<32} {p.title}{mark}")
            if verbose:
                templates = learned.get(p.name, [])
                if not templates:
                    click.echo("    no article templates learned yet (crawl the site once)")
                for t in templates:
                    click.echo(f"    template {t['template']}  ({t['support']} links, e.g. {t['example']})")
    for where, err in broken.items():
        if as_json:
            click.echo(json.dumps({"path": where, "error": str(err), "errors": err.errors}, ensure_ascii=False))
        else:
            click.echo(f"BROKEN  {where}: {str(err).removeprefix(where + ': ')}")
    if broken and not as_json:
        click.echo(f"{len(broken)} broken profile(s): `govnews sites --check` lists every problem", err=True)


def _learned_templates(db_url: str | None) -> dict[str, list[dict]]:
    """Article URL templates per site from the archive (``storage.templates``); {} without an archive."""
    from storage.db import make_engine
    from storage.templates import templates_by_site

    url = require_archive(resolve_db_url(db_url))
    engine = make_engine(url)
    try:
        return templates_by_site(engine)
    finally:
        engine.dispose()
