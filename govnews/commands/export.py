"""``govnews export``: archived articles as JSON Lines, CSV or WARC, streamed in constant memory."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit

import click

from govnews.commands import db_option, require_archive, resolve_db_url, site_filter_option
from govnews.dates import cli_date, local_iso

FIELDS = ("url", "site", "title", "published_at", "source", "author", "editor", "original_title",
          "summary", "column", "body", "first_seen", "images")
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
        stmt = stmt.where(Site.name.in_([site] if isinstance(site, str) else list(site)))
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
            "body": art.body, "first_seen": local_iso(art.first_seen), "images": list(art.images or []),
            # issue 16: 信息公开 fields (JSONL; CSV keeps FIELDS)
            **{k: getattr(art, k) for k in DISCLOSURE_FIELDS},
            "written_at": art.written_at.isoformat() if art.written_at else None}


def image_urls(images: Any) -> str:
    """The images of an article as one CSV cell: their URLs, space-separated."""
    urls = []
    for img in images or []:
        url = (img.get("src") or img.get("url")) if isinstance(img, dict) else img
        if url:
            urls.append(str(url))
    return " ".join(urls)


#: characters a WARC-Target-URI keeps as they are (printable ASCII that is legal in a URI)
_URI_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"<>\\^`{|}')


def warc_target_uri(url: str) -> str:
    """``url`` safe for a WARC header line: CR, LF, other controls, spaces and non-ASCII are
    percent-encoded, so an archived URL can never end the header and inject another (issue 17)."""
    return quote(url, safe=_URI_SAFE)


#: 信息公开 columns exported in JSONL (migration 0006, issue 16)
DISCLOSURE_FIELDS = ("index_no", "doc_number", "issuer", "written_at", "topic", "validity", "subject_words")


def write_warc(engine, out, *, site=None, since=None, until=None) -> int:
    """A ``warcinfo`` record, then per selected article its archived request and response records."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version
    from io import BytesIO

    from sqlalchemy import select
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    try:
        version = package_version("govnews")
    except PackageNotFoundError:  # pragma: no cover - a bare checkout
        version = "unknown"
    from storage.models import Page
    from storage.pages import stored_body

    writer = WARCWriter(out, gzip=True)
    info = {"software": f"govnews {version}", "format": "WARC File Format 1.1",
            "description": "govnews export: archived responses of the selected articles"}
    writer.write_record(writer.create_warcinfo_record("govnews-export.warc.gz", info))
    n = 0
    art_ids: list[int] = []
    for art, _site in article_rows(engine, site=site, since=since, until=until):
        if art.page_id is None:
            continue
        with engine.connect() as conn:
            page = conn.execute(select(Page).where(Page.id == art.page_id)).first()
            raw = (stored_body(conn, page) if page is not None else None) or b""
        if page is None:
            continue
        target = warc_target_uri(page.url)
        headers = [(k, v) for k, v in (page.headers or {}).items()
                   if k.lower() != "content-length" and "\r" not in v and "\n" not in v]
        http = StatusAndHeaders(f"{page.status or 200} OK", headers, protocol="HTTP/1.1")
        warc_date = page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        record = writer.create_warc_record(target, "response", payload=BytesIO(raw), http_headers=http,
                                           warc_headers_dict={"WARC-Date": warc_date})


        parts = urlsplit(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_http = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True)
        request = writer.create_warc_record(target, "request", payload=BytesIO(b""), http_headers=req_http,
                                            warc_headers_dict={"WARC-Date": warc_date})
        writer.write_request_response_pair(request, record)
        n += 1
        art_ids.append(art.id)
    from govnews.commands.attachments import write_attachment_records  # issue 16: attachment responses
    return n + write_attachment_records(engine, writer, art_ids, warc_target_uri)


@click.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "warc"]), default="jsonl", show_default=True)
@click.option("-o", "--output", metavar="FILE", default="-", help="Output file ('-' = stdout; not for warc).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option("--excel", is_flag=True, help="CSV for Excel: UTF-8 with a byte-order mark.")
@site_filter_option
@click.option("--since", metavar="DATE",
              help="Published on or after DATE (ISO; Asia/Shanghai unless an offset is given).")
@click.option("--until", metavar="DATE", help="Published before DATE (same format).")
def export_cmd(db_url, fmt, output, force, excel, site_names, since, until):
    """Export archived articles, one per line (JSON Lines), row (CSV) or WARC record.

    --since/--until select by publication date (published_at). The file is written to a temporary
    file next to FILE and renamed into place when complete, so an error never leaves a truncated
    FILE behind; an existing FILE is kept unless --force.

    \b
    Fields: url, site, title, published_at, source, author, editor, original_title,
    summary, column, body, first_seen (times in Asia/Shanghai), images (JSONL: a list;
    CSV: the image URLs, space-separated). WARC: a warcinfo record, then a request and a
    response record per article with an archived page.

    \b
    Examples:
      govnews export -o articles.jsonl
      govnews export --format csv --excel --site demo --since 2024-10-01 -o october.csv
      govnews export --format warc -o archive.warc.gz     # raw responses, for WARC tools
    """
    from storage.db import make_engine

    if excel and fmt != "csv":
        raise click.UsageError("--excel is for --format csv")
    since_d, until_d = cli_date(since, "--since"), cli_date(until, "--until")
    if fmt == "warc" and output == "-":
        raise click.UsageError("WARC output needs -o FILE")
    target = None if output == "-" else check_output_path(output, force)
    engine = make_engine(require_archive(resolve_db_url(db_url)))
    sites = list(site_names) or None
    try:
        if fmt == "warc":
            assert target is not None
            with atomic_output(target, binary=True) as raw:
                n = write_warc(engine, raw, site=sites, since=since_d, until=until_d)
            click.echo(f"wrote {n} articles ({2 * n + 1} WARC records) to {output}", err=True)
            return
        if target is None:
            if excel:
                sys.stdout.write("\ufeff")
            n = write_records(engine, sys.stdout, fmt, site=sites, since=since_d, until=until_d)
        else:
            with atomic_output(target, encoding="utf-8-sig" if excel else "utf-8") as out:
                n = write_records(engine, out, fmt, site=sites, since=since_d, until=until_d)
    finally:
        engine.dispose()
    if output != "-":
        click.echo(f"wrote {n} articles to {output}", err=True)


def check_output_path(output: str, force: bool) -> Path:
    """``output`` as a path it is safe to write, or a one-line error: a directory, a missing
    directory, an existing file without ``--force``."""
    path = Path(output)
    if path.is_dir():
        raise click.ClickException(f"{path} is a directory: give a file name, e.g. {path / 'articles.jsonl'}")
    if not path.parent.is_dir():
        raise click.ClickException(f"no such directory: {path.parent} (create it first)")
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists: pass --force to overwrite it")
    if not os.access(path.parent, os.W_OK):
        raise click.ClickException(f"cannot write to {path.parent}: permission denied")
    return path


@contextlib.contextmanager
def atomic_output(path: Path, *, binary: bool = False, encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """A temporary file next to ``path``, renamed to ``path`` when the block ends without error
    (removed otherwise: the previous ``path`` is untouched)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline="")
        with fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_records(engine, out: IO[str], fmt: str, *, site: Sequence[str] | str | None = None, since=None,
                  until=None) -> int:
    """The selected articles as JSON Lines or CSV (formulas defused) into ``out``; returns how many."""
    writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore") if fmt == "csv" else None
    if writer:
        writer.writeheader()
    n = 0
    for art, site_name in article_rows(engine, site=site, since=since, until=until):
        rec = as_record(art, site_name)
        if writer:
            rec["images"] = image_urls(rec["images"])
            writer.writerow(csv_safe(rec))
        else:
            from govnews.commands.attachments import export_attachments  # issue 16
            rec["attachments"] = export_attachments(engine, art.id)
            out.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        n += 1
    return n
