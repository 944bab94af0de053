"""Discovery on the style zoo (issue 13): crawl each style from its home page alone, no hints.

For every style of :mod:`govnews.stylezoo`, the site (N articles) is served on loopback, a temporary
profile is written (``name``, ``start_urls = [home]``, ``allowed_domains``/``allow_private_hosts`` =
127.0.0.1, ``[hints] download_delay = 0``, nothing else), ``python -m scrapy crawl gov_news`` runs
into a fresh SQLite archive, and the archive's ``articles``/``sightings`` URLs are compared with the
site's article URLs. Prints per style: articles found / present, recall, short ones found, precision
(non-articles archived as articles), requests (``crawl_runs.requests``; the server's count beside it)
and requests per archived article. Not a test.

    .venv/bin/python benchmarks/bench_discovery.py [--articles 30] [--style vsb ...] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from govnews.stylezoo import STYLES, ZooSite, serve  # noqa: E402

try:
    from storage.urls import canonical_url  # noqa: E402
except ImportError:  # the storage layer is being refactored: the same rules' core
    from w3lib.url import canonicalize_url as canonical_url  # type: ignore[no-redef]  # noqa: E402


def profile_toml(name: str, home: str) -> str:
    return (f'name = "{name}"\nstart_urls = ["{home}"]\nallowed_domains = ["127.0.0.1"]\n'
            'allow_private_hosts = ["127.0.0.1"]\n\n[hints]\ndownload_delay = 0\n')


def init_db(db_url: str) -> None:
    try:
        from storage.db import upgrade_db
    except ImportError:
        return  # let the crawl build it
    upgrade_db(db_url)


def archived_urls(db_path: Path) -> tuple[set[str], int | None, str | None]:
    if not db_path.exists():
        return set(), None, None
    con = sqlite3.connect(db_path)
    try:
        urls = {r[0] for r in con.execute("SELECT url FROM sightings")}
        urls |= {r[0] for r in con.execute("SELECT url FROM articles")}
        row = con.execute("SELECT requests, status FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return urls, (row[0] if row else None), (row[1] if row else None)


def measure(style: str, n_articles: int, workdir: Path, timeout: float) -> dict:
    site = ZooSite(style, n_articles)
    wd = workdir / style
    wd.mkdir(parents=True, exist_ok=True)
    db_path = wd / "zoo.db"
    db_url = f"sqlite:///{db_path}"
    init_db(db_url)
    with serve(site) as srv:
        base = srv.url.rstrip("/")
        profile = wd / f"zoo_{style}.toml"
        profile.write_text(profile_toml(f"zoo_{style}", srv.home_url), encoding="utf-8")
        env = dict(os.environ, GOVNEWS_DB_URL=db_url)
        env.pop("GOVNEWS_RUN_ID", None)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
                 "-s", f"GOVNEWS_DB_URL={db_url}"],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
            rc, tail = proc.returncode, proc.stderr[-1500:]
        except subprocess.TimeoutExpired:
            rc, tail = None, "timeout"
        seconds = time.perf_counter() - t0
        served = len(srv.requests)
    expected = {canonical_url(base + p): p for p in site.expected_articles}
    short = {canonical_url(base + p) for p in site.short_articles}
    got, requests, status = archived_urls(db_path)
    found = got & expected.keys()
    wrong = got - expected.keys()
    return {
        "style": style, "family": site.style.family, "present": len(expected), "found": len(found),
        "recall": len(found) / len(expected), "short_present": len(short), "short_found": len(found & short),
        "archived": len(got), "non_articles_taken": len(wrong),
        "precision": (len(found) / len(got)) if got else None,
        "requests": requests, "server_requests": served,
        "requests_per_article": (requests or served) / len(got) if got else None,
        "exit_code": rc, "run_status": status, "seconds": round(seconds, 1),
        "examples_missed": sorted(expected[u] for u in expected.keys() - found)[:2],
        "examples_wrong": sorted(wrong)[:2], "log_tail": tail if rc not in (0,) else "",
    }


def fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=30)
    ap.add_argument("--style", action="append", help="only these styles (repeatable)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    a = ap.parse_args(argv)
    styles = a.style or list(STYLES)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for style in styles:
            rows.append(measure(style, a.articles, Path(tmp), a.timeout))
            if not a.json:
                print(f"  crawled {style} in {rows[-1]['seconds']} s", file=sys.stderr, flush=True)
    tot_p = sum(r["present"] for r in rows)
    tot_f = sum(r["found"] for r in rows)
    summary = {"articles_per_style": a.articles, "styles": len(rows), "present": tot_p, "found": tot_f,
               "recall": tot_f / tot_p if tot_p else 0.0,
               "non_articles_taken": sum(r["non_articles_taken"] for r in rows)}
    if a.json:
        print(json.dumps({"summary": summary, "styles": rows}, ensure_ascii=False, indent=2))
        return 0
    head = (f"{'style':<12}{'found/present':>14}{'recall':>8}{'short':>8}{'non-art':>8}{'precision':>10}"
            f"{'requests':>9}{'req/art':>8}{'exit':>6}")
    print(head)
    for r in rows:
        print(f"{r['style']:<12}{r['found']:>7}/{r['present']:<6}{r['recall']:>8.2f}"
              f"{r['short_found']:>4}/{r['short_present']:<3}{r['non_articles_taken']:>8}"
              f"{fmt(r['precision'], '.2f'):>10}{fmt(r['requests'], 'd'):>9}{fmt(r['requests_per_article'], '.1f'):>8}"
              f"{fmt(r['exit_code'], 'd'):>6}")
    print(f"all: {tot_f}/{tot_p} articles found (recall {summary['recall']:.2f}), "
          f"{summary['non_articles_taken']} non-articles archived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
