"""``govnews links PAGE_OR_URL [--url URL] [--site PROFILE] [--json]``: what the crawl would do with
one list page — its outcome, every link with its kind and why, the pagination and data URLs its
scripts announce, the templates it teaches (issue 13)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from govnews.commands import sites_option


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("links")
@click.argument("page_or_url")
@click.option("--url", "page_url", default=None, help="The URL a saved PAGE was fetched from (resolves its links).")
@click.option("--site", "site", default=None, help="Site profile: its hints and host rules apply.")
@click.option("--allow-private-host", "allow_private", multiple=True,
              help="May fetch from this host although it resolves to a private address (tests, intranets).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (outcome, articles, lists, feeds, other, ...).")
@sites_option
def links_cmd(page_or_url: str, page_url: str | None, site: str | None, allow_private: tuple[str, ...],
              as_json: bool, sites_dir: str | None) -> None:
    """Classify a saved page (or fetch one URL) and print what the crawl would do with it.

    \b
    Examples:
      govnews links http://www.example.gov.cn/xwzx/index.html --site example
      govnews links saved/list.html --url http://www.example.gov.cn/xwzx/index.html --json
    """
    from crawler.challenge import challenge_reason
    from crawler.discovery.analyze import analyze_page
    from crawler.discovery.fetch import FetchRefused, fetch_page
    from crawler.extract.decode import content_type_charset, decode_html
    from crawler.profiles import ProfileError, load_profile

    profile = None
    if site:
        try:
            profile = load_profile(site, sites_dir)
        except ProfileError as exc:
            _fail(str(exc).splitlines()[0], 2)
    path = Path(page_or_url)
    if path.is_file():
        body, ctype = path.read_bytes(), ""
        base = page_url or f"http://saved.invalid/{path.name}"
        status = 200
    elif re.match(r"^https?://", page_or_url, re.I):
        base = page_or_url
        try:
            got = fetch_page(page_or_url, allowed_domains=profile.allowed_domains if profile else None,
                             allow_private_hosts=[*(profile.allow_private_hosts if profile else []), *allow_private])
        except FetchRefused as exc:
            _fail(str(exc))
        body, ctype, status, base = got.body, got.content_type, got.status, got.url
    else:
        _fail(f"{page_or_url}: no such file, and not an http(s) URL", 2)
    hints = profile.hints if profile else None
    text, _ = decode_html(body, content_type_charset(ctype))
    blocked = challenge_reason(body, base, status, ctype)
    page = analyze_page(
        text, base,
        article_re=re.compile(hints.article_url_regex) if hints and hints.article_url_regex else None,
        list_re=re.compile(hints.list_url_regex) if hints and hints.list_url_regex else None,
        deny_re=re.compile(hints.deny_url_regex) if hints and hints.deny_url_regex else None,
        allowed_domains=profile.allowed_domains if profile else None, is_data="json" in ctype.lower())
    if blocked:
        page.outcome = "blocked"
    elif status != 200:
        page.outcome = "failed"
    if as_json:
        out = page.as_json()
        if blocked:
            out["reason"] = blocked
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"page: {base}\noutcome: {page.outcome}" + (f" ({blocked})" if blocked else "")
               + f"\ncms: {page.cms or 'unknown'}")
    for kind in ("article", "list", "feed", "other", "skip"):
        chosen = page.of_kind(kind)
        click.echo(f"\n{kind} links ({len(chosen)}):")
        for d in chosen:
            click.echo(f"  [{d.reason}] {d.url}  {d.text[:40]}  {d.template}")
    if page.paging or page.next_urls:
        click.echo("\npagination:")
        for seq in page.paging:
            click.echo(f"  {seq.source}: {seq.fmt.format(seq.first)} … {seq.fmt.format(seq.last)} ({len(seq)} pages)")
        for u in page.next_urls:
            click.echo(f"  link: {u}")
    if page.data_urls or page.proxies:
        click.echo("\ndata URLs:")
        for u in [*page.proxies, *page.data_urls]:
            click.echo(f"  {u}")
    click.echo("\nlearned templates:" + ("" if page.learned else " none"))
    for t, n, ex in page.learned:
        click.echo(f"  {t}  ({n} links, e.g. {ex})")
    if page.refusals:
        click.echo("\nrefused: " + ", ".join(f"{k} {v}" for k, v in sorted(page.refusals.items())))
