"""``govnews serve``: browse the archive in a web browser (read-only, loopback by default)."""
from __future__ import annotations

import click

from govnews.commands import db_option, sites_option
from govnews.commands.web_common import load_profiles, open_readonly


@click.command("serve")
@db_option
@sites_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback publishes the archive to that network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8766, show_default=True, help="TCP port (0: any free).")
@click.option("--base-url", metavar="URL", help="Public URL of the view, for absolute links in feeds.")
def serve_cmd(db_url, sites_dir, host, port, base_url):
    """Serve the archive: sites, articles, search, revisions, crawl health, Atom feeds.

    The archive is opened read-only; pages run no JavaScript, and archived pages are shown as
    text or in a sandboxed frame. Stop with Ctrl-C.

    \b
    Examples:
      govnews serve                          # http://127.0.0.1:8766/
      govnews serve --port 9000 --db postgresql://localhost/govnews
    """
    from govnews.web.app import make_app
    from govnews.web.server import make_web_server, url_of

    engine = open_readonly(db_url)
    app = make_app(engine, profiles=load_profiles(sites_dir), base_url=base_url)
    try:
        server = make_web_server(app, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}, not loopback: anyone who reaches it can read the archive",
                   err=True)
    click.echo(f"govnews archive at {url_of(server)}  (read-only; Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.server_close()
        engine.dispose()
