"""``govnews search``: full-text search of the archive (Chinese, simplified or traditional)."""
from __future__ import annotations

import json

import click

from govnews.commands import db_option, require_archive, resolve_db_url, site_filter_option
from govnews.dates import cli_date, local_iso, show_local


@click.command("search")
@db_option
@click.argument("query", nargs=-1, required=True)
@site_filter_option
@click.option("--since", metavar="DATE",
              help="Published (published_at) on or after DATE (ISO; Asia/Shanghai unless an offset is given).")
@click.option("--until", metavar="DATE", help="Published before DATE (same format).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N hits.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit (for scripts).")
@click.option("--attachments/--no-attachments", "with_attachments", default=True, show_default=True,
              help="Also search the text of attachments (hits name the attachment).")
@click.option("--attachments-only", is_flag=True, help="Search only the text of attachments.")
def search_cmd(db_url, query, site_names, since, until, limit, as_json, with_attachments, attachments_only):
    """Search archived articles; prints ranked hits with a highlighted «snippet».

    The query is converted to simplified Chinese first and matched against the
    simplified title and body, so simplified and traditional texts are both found.
    Several words must all occur. Every character is searched literally
    (quotes, %, _, *, AND/OR/NEAR have no special meaning). Queries of 3+
    characters are ranked by relevance; 1-2-character queries (绵阳, 新区) list
    the newest archived articles first.

    \b
    Examples:
      govnews search 乡村振兴
      govnews search 绵阳 科技城新区 --since 2024-01-01 --limit 5
      govnews search 新區 --site demo              # traditional input works too
      govnews search 营商环境 --json > hits.jsonl
    """
    from storage.search import search

    since_d, until_d = cli_date(since, "--since"), cli_date(until, "--until")
    url = require_archive(resolve_db_url(db_url))
    text = " ".join(query)
    names = list(dict.fromkeys(site_names)) or [None]      # --site is repeatable: each site, merged
    hits: list = []
    if not attachments_only:
        hits = [h for name in names for h in search(url, text, site=name, since=since_d, until=until_d,
                                                    limit=limit)]
        if len(names) > 1:   # by score (newest first for short queries without one)
            hits.sort(key=lambda h: (h.score is None, -(h.score or 0.0),
                                     -(h.published_at.timestamp() if h.published_at else 0.0)))
        hits = hits[:limit]
    if with_attachments or attachments_only:      # issue 16: hits in attachment text, after the article hits
        from storage.attachments import search_attachments
        from storage.db import make_engine
        engine = make_engine(url)
        try:
            for name in names:
                hits += search_attachments(engine, text, site=name, since=since_d, until=until_d,
                                           limit=max(0, limit - len(hits)))
        finally:
            engine.dispose()
    if as_json:
        for h in hits:
            d = h.as_dict()
            d.setdefault("attachment", None)
            for k in ("published_at", "first_seen"):
                d[k] = local_iso(d[k])
            click.echo(json.dumps(d, ensure_ascii=False))
        return
    if not hits:
        click.echo("no matches", err=True)
        return
    for n, h in enumerate(hits, 1):
        when = show_local(h.published_at)
        click.echo(f"{n:>3}. [{h.site}] {when}  {h.title or '(no title)'}")
        click.echo(f"     {h.url}")
        if getattr(h, "attachment", None):
            click.echo(f"     in attachment: {h.attachment}  {h.attachment_url}")
        click.echo(f"     {h.snippet}")
