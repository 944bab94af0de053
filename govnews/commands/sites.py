import click

from crawler.profiles import ProfileError, list_profiles
from govnews.commands import sites_option


@click.command("sites")
@sites_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per profile.")
def sites_cmd(sites_dir, as_json):
    """List site profiles and their schedules.

    \b
    Examples:
      govnews sites
      govnews sites --sites /etc/govnews/sites --json
    """
    import json
    try:
        profiles = list_profiles(sites_dir)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    if not profiles:
        click.echo("no site profiles found", err=True)
        return
    for p in profiles:
        when = f"every {p.interval_seconds:g}s" if p.interval_seconds else f"{p.schedule} ({p.timezone})"
        if as_json:
            click.echo(json.dumps({"name": p.name, "title": p.title, "schedule": p.schedule,
                                   "interval_seconds": p.interval_seconds, "timezone": p.timezone,
                                   "start_urls": p.start_urls, "verified": p.verified,
                                   "path": str(p.path)}, ensure_ascii=False))
        else:
            mark = "" if p.verified else "  [unverified]"
            click.echo(f"{p.name:<20} {when:<32} {p.title}{mark}")
