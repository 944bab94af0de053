"""``govnews duplicates``: audit what deduplication merged."""
from __future__ import annotations

import json

import click

from common.clock import UTC
from govnews.commands import db_option, require_archive, resolve_db_url, site_filter_option
from govnews.dates import cli_date
from govnews.dates import show_local as _fmt


@click.command("duplicates")
@db_option
@site_filter_option
@click.option("--since", default=None, metavar="DATE",
              help="Only groups that gained a sighting or revision since DATE "
                   "(ISO, e.g. 2024-05-01 or 2024-05-01T08:00; Asia/Shanghai unless an offset is given).")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True,
              help="At most this many groups (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group (for scripts).")
def duplicates_cmd(db_url, site_names, since, limit, as_json):
    """List merged groups: one story with its URLs (sightings) and later texts (revisions).

    A group is an archived article seen at more than one URL, or with at least one
    revision (a near-duplicate text that differs). Use it to audit what was merged.
    --site keeps groups with a sighting on that site; --since is the date a sighting or
    revision was first seen (not the publication date).

    \b
    Examples:
      govnews duplicates                         # newest 100 groups
      govnews duplicates --site demo --since 2024-05-01
      govnews duplicates --limit 0 --json > merged.jsonl
      govnews duplicates --db postgresql://postgres@127.0.0.1/govnews
    """
    from storage.audit import duplicate_groups
    from storage.db import make_engine

    since_d = cli_date(since, "--since")
    if since_d is not None:
        since_d = since_d.astimezone(UTC)       # compared with the archive's UTC times
    engine = make_engine(require_archive(resolve_db_url(db_url)))
    try:
        if len(site_names) <= 1:
            groups = duplicate_groups(engine, site=site_names[0] if site_names else None, since=since_d,
                                      limit=limit or None)
        else:
            seen: dict = {}
            for name in dict.fromkeys(site_names):
                for g in duplicate_groups(engine, site=name, since=since_d, limit=limit or None):
                    seen.setdefault(g["id"], g)
            groups = list(seen.values())[: limit or None]
    finally:
        engine.dispose()
    if as_json:
        for g in groups:
            click.echo(json.dumps(g, ensure_ascii=False, default=str))
        return
    if not groups:
        click.echo("no merged groups")
        return
    for g in groups:
        click.echo(f"article {g['id']}  {g['title'] or '(no title)'}  first seen {_fmt(g['first_seen'])}"
                   f"  [{g['n_sightings']} URLs, {g['n_revisions']} revisions]")
        for s in g["sightings"]:
            rev = f"  rev {s['revision_id']}" if s["revision_id"] else ""
            kind = "rep" if s.get("representative") else "url"
            click.echo(f"    {kind}  {s['url']}  site={s['site']}  first={_fmt(s['first_seen'])}"
                       f"  last={_fmt(s['last_seen'])}  status={s['status']}{rev}")
        for r in g["revisions"]:
            sim = f"  similarity={r['similarity']:.2f}" if r["similarity"] is not None else ""
            click.echo(f"    rev  {r['id']}  {r['content_hash'][:12]}  first={_fmt(r['first_seen'])}"
                       f"  {r['url'] or ''}{sim}")
    click.echo(f"{len(groups)} group(s)")
