"""``govnews feed``: an Atom feed of the archive as a static file."""
from __future__ import annotations

import click

from govnews.commands import db_option


@click.command("feed")
@db_option
@click.option("--site", metavar="NAME", help="Only this site (profile name).")
@click.option("--column", metavar="NAME", help="Only this column (栏目), e.g. 政务要闻.")
@click.option("--query", "-q", metavar="WORDS", help="Only articles matching this search (simplified or traditional).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="At most N entries.")
@click.option("--base-url", metavar="URL", help="URL of `govnews serve`, for links to the archived copies.")
@click.option("-o", "--output", metavar="FILE", required=True, help="Feed file to write ('-' = stdout).")
def feed_cmd(db_url, site, column, query, limit, base_url, output):
    """Write an Atom 1.0 feed of the newest archived articles.

    Entry ids are the articles' canonical URLs, so a feed reader never shows an article twice
    across regenerations; the file is replaced atomically (safe to publish from cron).

    \b
    Examples:
      govnews feed -o public/all.atom
      govnews feed --site demo --column 政务要闻 -o public/demo-zwyw.atom
      govnews feed --query 乡村振兴 --limit 100 -o public/xczx.atom
    """
    import sys

    from sqlalchemy import select

    from govnews.commands.web_common import open_readonly
    from govnews.feeds import FeedSpec, build_feed, write_atomic
    from storage.models import Site

    engine = open_readonly(db_url)
    try:
        if site:
            with engine.connect() as conn:
                if conn.scalar(select(Site.id).where(Site.name == site)) is None:
                    raise click.ClickException(f"no site named {site!r} in the archive")
        if query is not None and not query.strip():
            raise click.UsageError("--query must not be empty")
        data = build_feed(engine, FeedSpec(site=site, column=column, query=query, limit=limit), base_url=base_url)
    finally:
        engine.dispose()
    if output == "-":
        sys.stdout.buffer.write(data)
        return
    try:
        write_atomic(output, data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {data.count(b'<entry>')} entries to {output}", err=True)
