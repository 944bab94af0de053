"""``govnews attachments``: the archived attachments and their status; ``--extract`` their text."""
from __future__ import annotations

import json

import click

from govnews.commands import db_option, require_archive, resolve_db_url
from govnews.dates import cli_date, local_iso, show_local


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    n = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return str(n)


@click.command("attachments")
@db_option
@click.option("--site", metavar="NAME", help="Only this site's attachments.")
@click.option("--since", metavar="DATE", help="Only attachments first seen on or after DATE (ISO, Asia/Shanghai).")
@click.option("--failed", is_flag=True, help="Only failed downloads and files whose text could not be extracted.")
@click.option("--pending", is_flag=True,
              help="Only attachments found but not fetched yet (the site's next crawl requests them).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N rows.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per attachment.")
@click.option("--extract", "do_extract", is_flag=True,
              help="Extract the text of stored files still pending (with --all: of every file), then exit.")
@click.option("--all", "all_", is_flag=True, help="With --extract: every stored file, not only pending ones.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="With --extract: seconds per file (a worker process is killed past it).")
def attachments_cmd(db_url, site, since, failed, pending, limit, as_json, do_extract, all_, timeout):
    """List archived attachments with their status (outcome, reason, type, size, text).

    Attachments are the documents notices link as 附件 (PDF, DOC(X), XLS(X), WPS, OFD, ZIP, ...),
    fetched during the crawl, stored once per content hash and linked to every article that
    attaches them. A failed download is retried by later crawls (3 attempts); a pending one (found
    by a crawl that stopped early or by `govnews reextract`) is fetched by the site's next crawl;
    a stored one is checked again by conditional GET after GOVNEWS_ATTACHMENT_REVALIDATE_DAYS (30).

    \b
    Examples:
      govnews attachments --site demo
      govnews attachments --failed --since 2024-10-01
      govnews attachments --pending --site demo
      govnews attachments --extract          # text of files crawled with GOVNEWS_ATTACHMENT_TEXT=later
      govnews attachments --json > attachments.jsonl
    """
    from storage.db import make_engine

    since_d = cli_date(since, "--since")
    if all_ and not do_extract:
        raise click.UsageError("--all goes with --extract")
    engine = make_engine(require_archive(resolve_db_url(db_url)))
    try:
        if do_extract:
            from crawler.attachments.batch import extract_texts
            done = extract_texts(engine, all_=all_, site=site, timeout=timeout)
            click.echo(f"extracted the text of {sum(done.values())} files: "
                       + (", ".join(f"{k} {v}" for k, v in sorted(done.items())) or "nothing pending"))
            return
        from storage.attachments import list_attachments
        n = 0
        for row in list_attachments(engine, site=site, since=since_d, failed=failed, pending=pending, limit=limit):
            n += 1
            if as_json:
                row = dict(row)
                for k in ("first_seen", "fetched_at"):
                    row[k] = local_iso(row[k])
                click.echo(json.dumps(row, ensure_ascii=False, default=str))
                continue
            status = row["outcome"] if row["outcome"] != "ok" else f"ok/{row['text_status'] or '-'}"
            why = row["reason"] or row["text_reason"] or ""
            ctype = row["content_type"] or row["declared_type"] or "-"
            click.echo(f"{row['id']:>6}  {status:<16}{_size(row['size']):>9}  {ctype:<28.28}"
                       f" {row['articles']:>3} art  {show_local(row['fetched_at'])}  {row['name'] or '-'}")
            click.echo(f"        {row['url']}" + (f"  [{why}]" if why else ""))
        if not n and not as_json:
            click.echo("no attachments", err=True)
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------ export hooks
#: per attachment in the JSONL ``attachments`` array of ``govnews export``
EXPORT_FIELDS = ("name", "url", "sha256", "size", "content_type", "text_length", "outcome", "reason")


def export_attachments(engine, article_id: int) -> list[dict]:
    """The JSONL ``attachments`` array of one exported article (``govnews export``)."""
    from storage.attachments import for_articles

    return [{k: a[k] for k in EXPORT_FIELDS} for a in for_articles(engine, [article_id])[article_id]]


def write_attachment_records(engine, writer, article_ids, target_uri=lambda u: u) -> int:
    """One WARC response record per stored attachment of the exported articles (its bytes, the
    served Content-Type and status, the fetch time), each attachment once; returns how many."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders

    from storage.attachments import content_bytes, for_articles

    n = 0
    done: set[int] = set()
    ids = list(article_ids)
    for i in range(0, len(ids), 500):
        for atts in for_articles(engine, ids[i:i + 500]).values():
            for a in atts:
                if a["content_id"] is None or a["outcome"] != "ok" or a["attachment_id"] in done:
                    continue
                done.add(a["attachment_id"])
                data = content_bytes(engine, a["content_id"]) or b""
                http = StatusAndHeaders(f"{a['status'] or 200} OK",
                                        [("Content-Type", a["content_type"] or "application/octet-stream"),
                                         ("Content-Length", str(len(data)))], protocol="HTTP/1.1")
                warc_headers = {"WARC-Date": a["fetched_at"].strftime("%Y-%m-%dT%H:%M:%SZ")} if a["fetched_at"] else {}
                record = writer.create_warc_record(target_uri(a["url"]), "response", payload=BytesIO(data),
                                                   http_headers=http, warc_headers_dict=warc_headers)
                writer.write_record(record)
                n += 1
    return n
