"""``govnews export``: archived articles as JSON Lines, CSV or WARC, streamed in constant memory."""
from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from govnews.commands import db_option, resolve_db_url

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIELDS = ("url", "site", "title", "published_at", "source", "author", "editor", "original_title",
          "summary", "column", "body", "first_seen")
STREAM_BATCH = 500
#: a CSV cell starting with one of these is a formula to spreadsheet programs (CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(record: dict) -> dict:
    """Archived pages are untrusted: defuse cells a spreadsheet would evaluate as formulas."""
    return {k: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            for k, v in record.items()}


def _date(value: str | None, name: str):
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date like 2024-10-24", param_hint=name)
    return d if d.tzinfo else d.replace(tzinfo=SHANGHAI)


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
    def show(t):
        return t.astimezone(SHANGHAI).isoformat() if t else None
    return {"url": art.url, "site": site_name, "title": art.title, "published_at": show(art.published_at),
            "source": art.source, "author": art.author, "editor": art.editor,
            "original_title": art.original_title, "summary": art.summary, "column": art.column,
            "body": art.body, "first_seen": show(art.first_seen)}


def write_warc(engine, out, *, site=None, since=None, until=None) -> int:
    """The archived raw responses of the selected articles as WARC response records."""
    from io import BytesIO

    from sqlalchemy import select
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from storage.archive import decompress
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
        record = writer.create_warc_record(page.url, "response", payload=BytesIO(raw), http_headers=http,
                                           warc_headers_dict={"WARC-Date": page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
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

    since_d, until_d = _date(since, "--since"), _date(until, "--until")
    engine = make_engine(resolve_db_url(db_url))
    if fmt == "warc":
        if output == "-":
            raise click.UsageError("WARC output needs -o FILE")
        with open(output, "wb") as out:
            n = write_warc(engine, out, site=site, since=since_d, until=until_d)
        click.echo(f"wrote {n} WARC records to {output}", err=True)
        return
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")
    n = 0
    try:
        writer = csv.DictWriter(out, fieldnames=FIELDS) if fmt == "csv" else None
        if writer:
            writer.writeheader()
        for art, site_name in article_rows(engine, site=site, since=since_d, until=until_d):
            rec = as_record(art, site_name)
            if writer:
                writer.writerow(csv_safe(rec))
            else:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    finally:
        if out is not sys.stdout:
            out.close()
    if output != "-":
        click.echo(f"wrote {n} articles to {output}", err=True)
