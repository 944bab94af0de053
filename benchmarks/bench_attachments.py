"""Crawl of a loopback site whose notices carry attachments (issue 16): how fast attachment text is
extracted and what share of the crawl it takes, and the memory peak.

The site is ``tests/support/attachsite.py`` with ``--notices`` notices, each with a fresh 5-page PDF,
a DOCX and an XLSX (generated), plus the fixture notices (shared PDF, failures, bad input). One crawl
(``scrapy crawl gov_news`` as a subprocess, SQLite archive, text extracted during the crawl in the
contained worker), then from the crawl's stats and the archive:

* attachment text extraction: files/s and PDF pages/s, seconds, share of the crawl's wall time;
* crawl wall time; peak resident memory of the crawl process and of the text worker (ru_maxrss of
  the children: the largest child);
* ``govnews attachments --extract --all`` over the same files afterwards (files/s, no crawl around it).

    .venv/bin/python benchmarks/bench_attachments.py [--notices 60] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notices", type=int, default=60)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from sqlalchemy import text

    from crawler.attachments.batch import extract_texts
    from storage.db import make_engine, upgrade_db
    from tests.support.attachsite import AttachmentSite, profile_toml, serve_attachment_site

    site = AttachmentSite(scale=args.notices + 1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-attach-"))
    db = f"sqlite:///{tmp / 'archive.db'}"
    upgrade_db(db)
    with serve_attachment_site(site) as server:
        profile = tmp / "attach.toml"
        profile.write_text(profile_toml(server.url), encoding="utf-8")
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
             "-s", "GOVNEWS_ATTACHMENT_MAX_SIZE=2000000", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"],
            cwd=REPO, env=dict(os.environ, GOVNEWS_DB_URL=db), capture_output=True, text=True)
        wall = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"crawl failed:\n{proc.stderr[-3000:]}")
    children_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    def stat(name: str) -> float:
        m = re.search(rf"'govnews/attachments/{re.escape(name)}': ([0-9.e-]+)", proc.stderr)
        return float(m.group(1)) if m else 0.0

    text_seconds, text_pages = stat("text_seconds"), stat("text_pages")
    engine = make_engine(db)
    with engine.connect() as conn:
        files = conn.execute(text("SELECT count(*) FROM attachment_contents WHERE text_status <> 'unsupported'")).scalar()
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar()
        urls = conn.execute(text("SELECT count(*) FROM attachments")).scalar()
    started = time.perf_counter()
    done = extract_texts(engine, all_=True)
    batch = time.perf_counter() - started
    engine.dispose()
    out = {
        "notices": articles, "attachment_urls": urls, "files_with_text": files,
        "crawl_seconds": round(wall, 2),
        "text_seconds_in_crawl": round(text_seconds, 2), "text_share_of_crawl": round(text_seconds / wall, 3),
        "text_files_per_second": round(files / text_seconds, 1) if text_seconds else None,
        "text_pdf_pages_per_second": round(text_pages / text_seconds, 1) if text_seconds else None,
        "batch_extract_seconds": round(batch, 2), "batch_files_per_second": round(sum(done.values()) / batch, 1),
        "peak_rss_mb_largest_child": round(children_peak_mb, 1),
        "batch_statuses": dict(done),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for k, v in out.items():
            print(f"{k:<28} {v}")


if __name__ == "__main__":
    main()
