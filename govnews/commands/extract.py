"""``govnews extract FILE... [--url URL] [--encoding ENC]``: one JSON object per line per file.

The output is the predictions format ``shared/eval/score.py`` reads.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

OUTPUT_FIELDS = ("title", "body", "published_at", "source", "author", "editor", "column", "original_title",
                 "summary", "flags",
                 # issue 16: attachments [{"url", "name"}] and the 信息公开 fields (always printed)
                 "attachments", "index_no", "doc_number", "issuer", "written_at", "topic", "validity",
                 "subject_words")
EMPTY_LIST_FIELDS = ("attachments",)


@click.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", default=None, help="URL the page was fetched from (absolute links, URL dates).")
@click.option("--encoding", default=None, help="Charset from the HTTP header, if known.")
def extract_cmd(files, url, encoding):
    """Extract articles from saved HTML FILES; print one JSON line per file.

    \b
    Examples:
      govnews extract page.html
      govnews extract page.html --url http://www.example.gov.cn/xwzx/202110/t20211029_693200.html
      govnews extract mirror/*.html --encoding gbk > predictions.jsonl
    """
    from common.clock import utcnow
    from crawler.extract import extract

    now = utcnow()   # extraction reads no clock: the CLI says when the files are read (the future bound)
    for path in files:
        art = extract(Path(path).read_bytes(), url=url, encoding=encoding, now=now)
        d = art.to_dict()
        row = {"page": path, **{k: d.get(k, [] if k in EMPTY_LIST_FIELDS else None) for k in OUTPUT_FIELDS}}
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
