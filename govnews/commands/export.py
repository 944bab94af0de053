"""``govnews export``: archived articles as JSON Lines, CSV or WARC, streamed in constant memory."""
from __future__ import annotations

import contextlib
import csv
import json
import sys
from typing import IO

import click

from govnews.commands import db_option, require_archive, resolve_db_url
from govnews.dates import cli_date, local_iso

FIELDS = ("url", "site", "title", "published_at", "source", "author", "editor", "original_title",
          "summary", "column", "body", "first_seen")
STREAM_BATCH = 500
#: a CSV cell starting with one of these is a formula to spreadsheet programs (CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(record: dict) -> dict:
    """Archived pages are untrusted: defuse cells a spreadsheet would evaluate as formulas."""
    return {k: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            for k, v in record.items()}


def article_rows(engine, *, site=None, since=None, until=None):
    """Archived articles as dicts (times in Asia/Shanghai), oldest first, streamed in batches."""
    from sqlalchemy import select

    from storage.models import Article, Site

    stmt = (select(Article, Site.name).join(Site, Site.id == Article.site_id).order_by(Article.id)
            .execution_options(yield_per=STREAM_BATCH))
    if site:
        stmt = stmt.where(Site.name == site)
    when = Article.published_at
    if since:
        stmt = stmt.where(when >= since)
    if until:
        stmt = stmt.where(when < until)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        for art, site_name in session.execute(stmt):
            yield art, site_name
            session.expunge(art)          # keep memory flat however large the archive is


def as_record(art, site_name) -> dict:
    return {"url": art.url, "site": site_name, "title": art.title, "published_at": local_iso(art.published_at),
            "source": art.source, "author": art.author, "editor": art.editor,
            "original_title": art.original_title, "summary": art.summary, "column": art.column,
            "body": art.body, "first_seen": local_iso(art.first_seen)}


def write_warc(engine, out, *, site=None, since=None, until=None) -> int:
    """The archived raw responses of the selected articles as WARC response records."""
    from io import BytesIO

    from sqlalchemy import select
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from storage.codecs import decompress
    from storage.models import Page

    writer = WARCWriter(out, gzip=True)
    n = 0
    for art, _site in article_rows(engine, site=site, since=since, until=until):
        if art.page_id is None:
            continue
        with engine.connect() as conn:
            page = conn.execute(select(Page).where(Page.id == art.page_id)).first()
        if page is None:
            continue
        raw = decompress(page.raw, page.codec) or b""
        headers = [(k, v) for k, v in (page.headers or {}).items() if k.lower() != "content-length"]
        http = StatusAndHeaders(f"{page.status or 200} OK", headers, protocol="HTTP/1.1")
        warc_date = page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        record = writer.create_warc_record(page.url, "response", payload=BytesIO(raw), http_headers=http,
                                           warc_headers_dict={"WARC-Date": warc_date})
        writer.write_record(record)
        n += 1
    return n


@click.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "warc"]), default="jsonl", show_default=True)
@click.option("-o", "--output", metavar="FILE", default="-", help="Output file ('-' = stdout; not for warc).")
@click.option("--site", metavar="NAME", help="Only this site.")
@click.option("--since", metavar="DATE", help="Published on or after DATE (ISO, Asia/Shanghai).")
@click.option("--until", metavar="DATE", help="Published before DATE.")
def export_cmd(db_url, fmt, output, site, since, until):
    """Export archived articles, one per line (JSON Lines), row (CSV) or WARC record.

    \b
    Fields: url, site, title, published_at, source, author, editor, original_title,
    summary, column, body, first_seen (times in Asia/Shanghai).

    \b
    Examples:
      govnews export -o articles.jsonl
      govnews export --format csv --site demo --since 2024-10-01 -o october.csv
      govnews export --format warc -o archive.warc.gz     # raw responses, for WARC tools
    """
    from storage.db import make_engine

    since_d, until_d = cli_date(since, "--since"), cli_date(until, "--until")
    if fmt == "warc" and output == "-":
        raise click.UsageError("WARC output needs -o FILE")
    engine = make_engine(require_archive(resolve_db_url(db_url)))
    try:
        if fmt == "warc":
            with open(output, "wb") as raw:
                n = write_warc(engine, raw, site=site, since=since_d, until=until_d)
            click.echo(f"wrote {n} WARC records to {output}", err=True)
            return
        with _text_output(output) as out:
            n = write_records(engine, out, fmt, site=site, since=since_d, until=until_d)
    finally:
        engine.dispose()
    if output != "-":
        click.echo(f"wrote {n} articles to {output}", err=True)


def _text_output(output: str) -> contextlib.AbstractContextManager[IO[str]]:
    if output == "-":
        return contextlib.nullcontext(sys.stdout)
    return open(output, "w", encoding="utf-8", newline="")


def write_records(engine, out: IO[str], fmt: str, *, site=None, since=None, until=None) -> int:
    """The selected articles as JSON Lines or CSV (formulas defused) into ``out``; returns how many."""
    writer = csv.DictWriter(out, fieldnames=FIELDS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    n = 0
    for art, site_name in article_rows(engine, site=site, since=since, until=until):
        rec = as_record(art, site_name)
        if writer:
            writer.writerow(csv_safe(rec))
        else:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n += 1
    return n
