"""``govnews discover URL [-o sites/NAME.toml]``: find a site's news and notice columns, detect its
CMS, sample one list page per column and write an unverified profile (issue 13)."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("discover")
@click.argument("url")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Write the profile here (e.g. sites/NAME.toml); default: print it.")
@click.option("--name", default=None, help="Profile name (default: from the file name or the host).")
@click.option("--allow-private-host", "allow_private", multiple=True,
              help="May fetch from this host although it resolves to a private address (tests, intranets); "
                   "also written to the profile.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def discover_cmd(url: str, output: str | None, name: str | None, allow_private: tuple[str, ...], force: bool) -> None:
    """Find the news/notice columns of the site at URL and write a profile (verified = false).

    \b
    Examples:
      govnews discover http://www.example.gov.cn/ -o sites/example.toml
    """
    from common.clock import utcnow
    from crawler.discovery.discover import discover_site, profile_toml
    from crawler.discovery.fetch import fetch_page

    if not re.match(r"^https?://[^/\s]+", url, re.I):
        _fail(f"{url}: not an http(s) URL", 2)
    out = Path(output) if output else None
    if out is not None and out.exists() and not force:
        _fail(f"{out} exists (use --force to overwrite)", 2)
    host = (urlsplit(url).hostname or "").lower()
    domain = host[4:] if host.startswith("www.") else host

    def fetch(u: str) -> tuple[int, str, bytes]:
        got = fetch_page(u, allowed_domains=[domain], allow_private_hosts=list(allow_private))
        return got.status, got.content_type, got.body

    d = discover_site(url, fetch, allowed_domains=[domain])
    if not d.fetched:
        _fail(d.errors[0] if d.errors else f"{url}: nothing fetched")
    name = name or (out.stem if out is not None else re.sub(r"[^a-z0-9]+", "-", domain).strip("-"))
    text = profile_toml(d, name, now=utcnow(), allow_private_hosts=list(allow_private))
    click.echo(f"site: {url} ({d.title or 'no title'})", err=True)
    click.echo(f"cms: {d.cms or 'unknown'}", err=True)
    for c in d.columns:
        click.echo(f"  column {c.name or '?'}: {c.url} -> "
                   + (f"{c.articles} article links ({c.via})" if c.articles else "no article links"), err=True)
    for t, n, _ in d.book.learned()[:10]:
        click.echo(f"  template {t} ({n} links)", err=True)
    for e in d.errors[:5]:
        click.echo(f"  note: {e}", err=True)
    click.echo(f"confidence: {d.confidence} ({len(d.confirmed)} columns with article lists, "
               f"{len(d.book.article)} templates, {d.fetched} pages fetched)", err=True)
    if out is None:
        click.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} (verified = false: check it, then set verified = true)", err=True)
