"""``govnews extract FILE... [--url URL] [--encoding ENC] [--profile NAME] [--status N] [--article-link]``:
one JSON object per line per file.

The output is the predictions format ``shared/eval/score.py`` reads, plus ``outcome`` and ``reason``: what
the crawl would record for the page (``article``, ``blocked``, ``not_article``, ``soft404``, ``list``,
``failed`` with ``empty_body``, ...), so a user can see why a page would be dropped.
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
@click.option("--profile", "profile_name", default=None, metavar="NAME",
              help="Apply this site profile's extraction hints (body_selector, title_selector, encoding).")
@click.option("--sites", "sites_dir", default=None, type=click.Path(file_okay=False),
              help="Directory of site profiles for --profile (default: the govnews home's sites/).")
@click.option("--status", default=200, show_default=True, type=click.IntRange(100, 599),
              help="HTTP status the page came with (412/521 challenges, 404 pages).")
@click.option("--article-link", "expect_article", is_flag=True,
              help="The page was reached through an article link (an article whatever its length).")
def extract_cmd(files, url, encoding, profile_name, sites_dir, status, expect_article):
    """Extract articles from saved HTML FILES; print one JSON line per file, with the ``outcome`` and
    ``reason`` the crawl would record for it.

    \b
    Examples:
      govnews extract page.html
      govnews extract page.html --url http://www.example.gov.cn/xwzx/202110/t20211029_693200.html
      govnews extract page.html --profile demo --status 412
      govnews extract mirror/*.html --encoding gbk > predictions.jsonl
    """
    from common.clock import utcnow
    from crawler.extract import extract, extract_page
    from crawler.ingest import extraction_options, profile_hints
    from crawler.profiles import ProfileError, load_profile

    hints: dict = {}
    if profile_name:
        try:
            hints = profile_hints(load_profile(profile_name, sites_dir))
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from None
    enc, hints = extraction_options(hints, encoding)
    now = utcnow()   # extraction reads no clock: the CLI says when the files are read (the future bound)
    for path in files:
        data = Path(path).read_bytes()
        outcome, reason, art = extract_page(data, url, status=status, encoding=enc, hints=hints, now=now,
                                            expect_article=expect_article)
        if art is None:     # not an article for the crawl: show what extraction would still find
            art = extract(data, url=url, encoding=enc, hints=hints, now=now, expect_article=expect_article)
        elif not (art.body or "").strip():
            outcome, reason = "failed", "empty_body"      # as the ingest service records it
        d = art.to_dict()
        row = {"page": path, "outcome": outcome, "reason": reason,
               **{k: d.get(k, [] if k in EMPTY_LIST_FIELDS else None) for k in OUTPUT_FIELDS}}
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
