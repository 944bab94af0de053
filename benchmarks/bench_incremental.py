"""Incremental crawling: a full first crawl, 5 new articles, then a second crawl.

The demo site with N articles (default 1,000) is served on loopback; the first crawl fetches
everything; after ``site.publish(5)`` the second crawl must store exactly those 5 and make no more
than 5% of the first crawl's requests (counted by the server). Prints both side by side.

    .venv/bin/python benchmarks/bench_incremental.py [--articles 1000] [--db URL]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # the checkout, when not installed

from sqlalchemy import func, select  # noqa: E402

from crawler.profiles import load_profile  # noqa: E402
from govnews.demosite import DemoSite, demo_profile_toml, serve  # noqa: E402
from govnews.runner import crawl_command, crawl_cwd, crawl_env  # noqa: E402
from storage.db import make_engine, upgrade_db  # noqa: E402
from storage.models import Article, Sighting  # noqa: E402

NEW_ARTICLES = 5
MAX_REQUEST_RATIO = 0.05


def counts(engine):
    with engine.connect() as conn:
        return conn.scalar(select(func.count(Article.id))), conn.scalar(select(func.count(Sighting.id)))


def scrapy_crawl(profile: Path, db_url: str, timeout: float) -> None:
    """One ``scrapy crawl gov_news`` of ``profile``, launched the way ``govnews crawl`` does it."""
    cmd = crawl_command(load_profile(str(profile)))
    proc = subprocess.run(cmd, cwd=crawl_cwd(), env=crawl_env(db_url), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"crawl exited {proc.returncode}\n{proc.stderr[-5000:]}")


def measure(n_articles: int, db_url: str | None, workdir: Path) -> dict:
    db_url = db_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade_db(db_url)
    engine = make_engine(db_url)
    site = DemoSite(n_articles=n_articles)
    with serve(site, host="127.0.0.1", port=0) as server:
        profile = workdir / "demo.toml"
        profile.write_text(demo_profile_toml(server.url, hints=True, max_pages=n_articles * 3), encoding="utf-8")
        t0 = time.perf_counter()
        scrapy_crawl(profile, db_url, timeout=3600)
        first = {"requests": len(server.requests), "seconds": time.perf_counter() - t0,
                 "articles": counts(engine)[0]}
        new = site.publish(NEW_ARTICLES)
        server.requests.clear()
        t0 = time.perf_counter()
        scrapy_crawl(profile, db_url, timeout=3600)
        after = counts(engine)[0]
        second = {"requests": len(server.requests), "seconds": time.perf_counter() - t0,
                  "articles": after - first["articles"],
                  "new_paths_fetched": sum(1 for e in new if any(p == e.url_path for _, p, _ in server.requests))}
    engine.dispose()
    return {"first": first, "second": second, "ratio": second["requests"] / first["requests"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        r = measure(a.articles, a.db, Path(tmp))
    f, s = r["first"], r["second"]
    print(f"{'crawl':<8}{'requests':>10}{'new articles':>14}{'seconds':>10}")
    print(f"{'first':<8}{f['requests']:>10}{f['articles']:>14}{f['seconds']:>10.1f}")
    print(f"{'second':<8}{s['requests']:>10}{s['articles']:>14}{s['seconds']:>10.1f}")
    print(f"second/first requests = {r['ratio']:.3%} (limit {MAX_REQUEST_RATIO:.0%}); "
          f"new articles stored = {s['articles']} (expected {NEW_ARTICLES}); "
          f"new pages fetched = {s['new_paths_fetched']}")
    ok = r["ratio"] <= MAX_REQUEST_RATIO and s["articles"] == NEW_ARTICLES and f["articles"] == a.articles
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
