"""``govnews serve-demo``: serve the bundled demo government site on loopback until Ctrl-C."""
from __future__ import annotations

import os

import click

DEFAULT_PORT = 8765


def _default_port() -> int:
    try:
        return int(os.environ.get("DEMO_PORT") or DEFAULT_PORT)
    except ValueError:
        return DEFAULT_PORT


@click.command(
    "serve-demo",
    epilog="""\b
Examples:
  govnews serve-demo                      # http://127.0.0.1:8765/ (or $DEMO_PORT)
  govnews serve-demo --port 9000
  govnews serve-demo --articles 500       # a bigger generated site
  DEMO_PORT=8800 govnews serve-demo
  govnews serve-demo --write-profile sites/demo.toml   # also write a matching profile

\b
Sections: /xwzx/zwyw/index.html (TRS WCM), /col/col1234/index.html (Hanweb),
/news/index.html (home-made portal), /mirror/index.html (traditional + pinyin mirror),
/rss.xml, /robots.txt.  Only loopback hosts are accepted.""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=int, default=_default_port, show_default="$DEMO_PORT or 8765",
              help="TCP port (0 = any free port).")
@click.option("--articles", type=click.IntRange(min=1), default=None,
              help="Generate a site with N stories instead of the bundled demo.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generator.")
@click.option("--write-profile", type=click.Path(dir_okay=False), default=None,
              help="Write a site profile (TOML) pointing at the served URL.")
def serve_demo_cmd(host: str, port: int, articles: int | None, seed: int, write_profile: str | None) -> None:
    """Serve the demo government site on 127.0.0.1 until Ctrl-C."""
    from govnews.demosite import DemoServer, DemoSite, demo_profile_toml, is_loopback

    if not is_loopback(host):
        raise click.BadParameter(f"{host!r} is not a loopback address; the demo site only serves on loopback",
                                 param_hint="--host")
    site = DemoSite(articles, seed=seed)
    try:
        server = DemoServer(site, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
    if write_profile:
        with open(write_profile, "w", encoding="utf-8") as fh:
            fh.write(demo_profile_toml(server.url))
        click.echo(f"wrote profile {write_profile}")
    n = len({a.canonical_group for a in site.expected_articles})
    click.echo(f"demo site at {server.url} ({len(site.expected_articles)} article pages, {n} stories); Ctrl-C to stop")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.stop()
