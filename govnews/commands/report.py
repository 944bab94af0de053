"""``govnews report``: the crawl-health page as one static HTML file."""
from __future__ import annotations

import click

from govnews.commands import db_option, sites_option


@click.command("report")
@db_option
@sites_option
@click.option("-o", "--output", metavar="FILE", required=True, help="HTML file to write.")
@click.option("--now", metavar="TIME", help="Report as of this time (ISO, Asia/Shanghai; default: now).")
def report_cmd(db_url, sites_dir, output, now):
    """Write the crawl-health report: articles per day of each site (last 90 days), the last runs,
    failures by reason, sites silent for longer than their schedule, blocked pages, dead letters.

    One self-contained file (inline styles and SVG charts, no JavaScript, nothing loaded from the
    network), written atomically.

    \b
    Examples:
      govnews report -o report.html
      govnews report --sites /etc/govnews/sites -o /var/www/health.html
    """
    from govnews.commands.web_common import load_profiles, open_readonly
    from govnews.dates import cli_date
    from govnews.report import write_report

    when = cli_date(now, "--now")
    engine = open_readonly(db_url)
    try:
        write_report(engine, output, profiles=load_profiles(sites_dir), now=when)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        engine.dispose()
    click.echo(f"wrote the crawl-health report to {output}", err=True)
