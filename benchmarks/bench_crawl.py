"""Crawl speed before and after a change, side by side in one run: pages/s of a demo-site crawl.

A git worktree of ``--before`` (default: the commit before the layer refactor of issue 12, whose
pipelines and middlewares wrote to the database on the reactor thread) and the working tree crawl the
same demo site (``--articles`` stories, no download delay) into fresh SQLite archives, alternating
``--rounds`` times so that machine noise hits both alike. Prints each round and the median ratio.

    .venv/bin/python benchmarks/bench_crawl.py [--before REV] [--articles 300] [--rounds 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from govnews.demosite import DemoSite, demo_profile_toml, serve  # noqa: E402

BEFORE_REFACTOR = "62113f4"


def worktree(rev: str, root: Path) -> Path:
    path = root / f"tree-{rev}"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), rev], check=True,
                   capture_output=True)
    return path


def crawl(tree: Path, profile: Path, db: Path) -> dict:
    """Build the schema with that tree's code, crawl with it; pages/s from the archive it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVNEWS_")}
    env.update(GOVNEWS_DB_URL=f"sqlite:///{db}", GOVNEWS_HOME=str(db.parent), PYTHONPATH=str(tree),
               SCRAPY_SETTINGS_MODULE="crawler.settings", GOVNEWS_LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "-m", "govnews.cli", "init-db", "--db", f"sqlite:///{db}"], cwd=tree, env=env,
                   check=True, capture_output=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}",
                           "-s", "LOG_LEVEL=WARNING"], cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"crawl in {tree} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    with sqlite3.connect(db) as conn:
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    return {"seconds": seconds, "pages": pages, "articles": articles, "pages_per_s": pages / seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE_REFACTOR, help="git revision to compare with")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="govnews-bench-crawl-") as tmp:
        root = Path(tmp)
        before = worktree(args.before, root)
        try:
            site = DemoSite(n_articles=args.articles)
            with serve(site, port=0) as server:
                profile = root / "demo.toml"
                profile.write_text(demo_profile_toml(server.url), encoding="utf-8")
                for rnd in range(args.rounds):
                    order = [("before", before), ("after", REPO)] if rnd % 2 == 0 else [("after", REPO),
                                                                                         ("before", before)]
                    for label, tree in order:
                        db = root / f"{label}-{rnd}" / "archive.db"
                        db.parent.mkdir()
                        r = crawl(tree, profile, db)
                        results[label].append(r)
                        if not args.json:
                            print(f"round {rnd + 1} {label:6s}: {r['pages']:5d} pages {r['articles']:5d} articles "
                                  f"in {r['seconds']:6.1f}s = {r['pages_per_s']:6.1f} pages/s", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)],
                           capture_output=True)
    med = {k: statistics.median(r["pages_per_s"] for r in v) for k, v in results.items()}
    summary = {"before_rev": args.before, "articles": args.articles, "rounds": args.rounds,
               "before_pages_per_s": round(med["before"], 2), "after_pages_per_s": round(med["after"], 2),
               "ratio": round(med["after"] / med["before"], 3), "runs": results}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"median pages/s: before {med['before']:.1f}, after {med['after']:.1f}; "
              f"after/before = {summary['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
