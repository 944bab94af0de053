"""Distributed crawling: the same crawl with one and with two ``govnews worker`` processes.

The demo site with N articles (default 500) is served on loopback; for each worker count a fresh
PostgreSQL database is migrated, ``enqueue_site`` creates the run and pushes the start URLs into
Redis (own key prefix, deleted afterwards), the workers crawl, and the clock stops when the run row
turns ``ok`` (the workers' idle exit is not counted). Throughput is stored articles per second;
the crawl is extraction-bound (the server answers from memory), so on a 2-core machine the ratio
shows how well two worker processes use the second core. Prints both side by side.

    .venv/bin/python benchmarks/bench_distributed.py [--articles 500] [--repeat 1]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/0]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from crawler.distributed import RunKeys, connect, purge_prefix  # noqa: E402
from crawler.profiles import load_profile  # noqa: E402
from govnews.demosite import DemoSite, serve  # noqa: E402
from govnews.distributed import enqueue_site  # noqa: E402
from storage import runs  # noqa: E402
from storage.db import make_engine, upgrade_db  # noqa: E402
from storage.models import Article, Sighting  # noqa: E402
from tests.support.crawl import write_profile  # noqa: E402


def _admin(pg: str, sql: str) -> None:
    eng = create_engine(pg, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(sql))
    eng.dispose()


def one_crawl(n_workers: int, site, server, pg: str, redis_url: str, workdir: Path) -> dict:
    name = f"govnews_bench_{uuid.uuid4().hex[:10]}"
    _admin(pg, f'CREATE DATABASE "{name}"')
    db_url = pg.rsplit("/", 1)[0] + "/" + name
    prefix = f"govnews-bench-{uuid.uuid4().hex[:8]}"
    server_r = connect(redis_url)
    procs: list[subprocess.Popen] = []
    try:
        upgrade_db(db_url)
        engine = make_engine(db_url)
        profile = load_profile(str(write_profile(workdir, server.url)))
        result = enqueue_site(profile, redis_url=redis_url, engine=engine, prefix=prefix)
        t0 = time.monotonic()
        for i in range(n_workers):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "govnews.cli", "worker", "--redis-url", redis_url, "--prefix", prefix,
                 "--db", db_url, "--idle-timeout", "3", "--name", f"w{i + 1}"],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(workdir / f"w{n_workers}-{i + 1}.log", "w"),  # noqa: SIM115 - open while the worker runs
                start_new_session=True))
        while True:
            row = runs.get_run(engine, result.run_id)
            if row["status"] != "running":
                break
            if time.monotonic() - t0 > 900:
                raise RuntimeError("crawl did not finish in 15 minutes")
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        for p in procs:
            p.wait(timeout=120)
        with engine.connect() as conn:
            articles = conn.scalar(select(func.count(Article.id)))
            sightings = conn.scalar(select(func.count(Sighting.id)))
        pages = {k.decode(): int(v) for k, v in
                 server_r.hgetall(RunKeys(prefix, result.run_id).worker_pages).items()}
        engine.dispose()
        return dict(workers=n_workers, status=row["status"], seconds=elapsed, articles=articles,
                    sightings=sightings, rate=sightings / elapsed, pages=pages)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        purge_prefix(server_r, prefix)
        _admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1, help="runs per worker count (best is reported)")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                    help="maintenance database URL (a fresh database is created next to it)")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args(argv)
    site = DemoSite(n_articles=args.articles)
    results = {}
    with serve(site, host="127.0.0.1", port=0) as server, tempfile.TemporaryDirectory() as tmp:
        for n in (1, 2):
            best = None
            for _ in range(args.repeat):
                r = one_crawl(n, site, server, args.pg, args.redis, Path(tmp))
                assert r["status"] == "ok" and r["sightings"] == len(site.expected_articles), r
                best = r if best is None or r["seconds"] < best["seconds"] else best
            results[n] = best
    one, two = results[1], results[2]
    print(f"distributed crawl of the demo site, {args.articles} articles, loopback, {os.cpu_count()} cores")
    print(f"{'':28}{'1 worker':>14}{'2 workers':>14}")
    print(f"{'crawl time (enqueue->ok)':28}{one['seconds']:>13.1f}s{two['seconds']:>13.1f}s")
    print(f"{'articles stored':28}{one['sightings']:>14}{two['sightings']:>14}")
    print(f"{'articles / second':28}{one['rate']:>14.1f}{two['rate']:>14.1f}")
    print(f"{'pages per worker':28}{'/'.join(map(str, one['pages'].values())):>14}"
          f"{'/'.join(map(str, two['pages'].values())):>14}")
    print(f"throughput ratio 2 workers / 1 worker: {two['rate'] / one['rate']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
