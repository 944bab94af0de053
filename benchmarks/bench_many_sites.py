"""Many small sites: one subprocess per site vs one batch process (govnews.batch), same run.

    .venv/bin/python benchmarks/bench_many_sites.py --sites 200 --parallel 8
    .venv/bin/python benchmarks/bench_many_sites.py --sites 20 --sequential-sites 5   # quick check

``--sites`` generated demo sites (``govnews.demosite.DemoSite(n_articles=10..30, seed=i)``) are
served on loopback by this process (one thread each); every 10th site is slow (each answer
delayed ``--slow-delay`` s), every 25th is dead (its server stopped before the crawl). Each mode
crawls every site once into a fresh SQLite archive with the same settings (``DOWNLOAD_DELAY``
``--delay``, AutoThrottle off, the profile's politeness otherwise):

* ``sequential``: one ``scrapy crawl`` subprocess per site, one after another (``govnews crawl
  --due --no-batch``); on ``--sequential-sites`` of the sites, the wall time is scaled up to all;
* ``parallel``: one subprocess per site, ``--parallel`` at a time;
* ``batch``: one batch process, ``--parallel`` sites at a time.

Reported: wall time, peak total RSS of the crawl processes (sum over the process tree, sampled
every 0.1 s from /proc), requests/s, articles stored, and whether every site's ``crawl_runs`` row
is right (dead -> failed, others -> ok, one row per site, none left running).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from storage.db import make_engine, upgrade_db  # noqa: E402


def tree_rss_mb(root: int) -> float:
    """Sum of RSS (MB) of every descendant of ``root`` (not root itself)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            ppid = int(parts[1])
            with open(f"/proc/{d}/statm") as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = pages
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 1e6


class RssSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0.0
        self.stop_flag = threading.Event()

    def run(self):
        me = os.getpid()
        while not self.stop_flag.wait(0.1):
            self.peak = max(self.peak, tree_rss_mb(me))


def serve_sites(n: int, tmp: Path, slow_delay: float):
    from crawler.profiles import load_profile
    from govnews.demosite import DemoSite
    from govnews.demosite.profile import demo_profile_toml
    from govnews.demosite.server import DemoServer

    servers, profiles, kinds = [], [], {}
    for i in range(n):
        site = DemoSite(n_articles=10 + (i * 7) % 21, seed=1000 + i)
        server = DemoServer(site).start()
        name = f"s{i:03d}"
        kind = "dead" if i % 25 == 24 else "slow" if i % 10 == 9 else "ok"
        if kind == "slow":
            server.delay_seconds = slow_delay
        path = tmp / "sites" / f"{name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(demo_profile_toml(server.url, name=name, max_pages=400), encoding="utf-8")
        profiles.append(load_profile(str(path)))
        servers.append(server)
        kinds[name] = kind
    for server, p in zip(servers, profiles, strict=True):
        if kinds[p.name] == "dead":
            server.stop()
    return servers, profiles, kinds


def crawl(mode: str, profiles, db_url: str, parallel: int, settings: list[str], time_limit: float) -> dict:
    from govnews.batch import run_batch
    from govnews.commands.crawl import extra_scrapy_args
    from govnews.runner import crawl_command
    from govnews.scheduling import run_due

    upgrade_db(db_url)
    sampler = RssSampler()
    sampler.start()
    t0 = time.perf_counter()
    if mode == "batch":
        results = run_batch(profiles, db_url=db_url, trigger="due", time_limit=time_limit, grace=10,
                            concurrency=parallel, settings=settings)
    else:
        results = run_due(profiles, db_url=db_url, last_run_by_site={}, time_limit=time_limit, grace=10,
                          max_parallel=1 if mode == "sequential" else parallel,
                          crawl_command=lambda p: crawl_command(p, extra_args=extra_scrapy_args(False, settings,
                                                                                                 None)))
    wall = time.perf_counter() - t0
    sampler.stop_flag.set()
    sampler.join()
    eng = make_engine(db_url)
    with eng.connect() as c:
        rows = c.execute(text("SELECT site, status, requests, new_articles FROM crawl_runs")).all()
        articles = c.execute(text("SELECT count(*) FROM articles")).scalar()
    eng.dispose()
    return {"mode": mode, "sites": len(profiles), "wall_s": wall, "peak_rss_mb": sampler.peak,
            "requests": sum(r.requests or 0 for r in rows), "articles": articles,
            "rows": {r.site: r.status for r in rows}, "row_count": len(rows),
            "results": {r.site: r.status for r in results}}


def check_rows(res: dict, kinds: dict, names: list[str]) -> str:
    bad = []
    if res["row_count"] != len(names):
        bad.append(f"{res['row_count']} rows for {len(names)} sites")
    for name in names:
        want = "failed" if kinds[name] == "dead" else "ok"
        got = res["rows"].get(name)
        if got != want:
            bad.append(f"{name} ({kinds[name]}): {got}")
    return "all correct" if not bad else "; ".join(bad[:6]) + (" ..." if len(bad) > 6 else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--sequential-sites", type=int, default=20,
                    help="sites crawled one after another (wall time scaled up to --sites); 0: skip")
    ap.add_argument("--delay", type=float, default=0.25, help="DOWNLOAD_DELAY of every crawl")
    ap.add_argument("--slow-delay", type=float, default=0.3)
    ap.add_argument("--time-limit", type=float, default=300)
    ap.add_argument("--modes", default="sequential,parallel,batch")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_many_sites_"))
    servers, profiles, kinds = serve_sites(args.sites, tmp, args.slow_delay)
    settings = [f"DOWNLOAD_DELAY={args.delay}", "AUTOTHROTTLE_ENABLED=False", "LOG_LEVEL=INFO"]
    out = []
    try:
        for mode in args.modes.split(","):
            subset = profiles
            if mode == "sequential":
                if not args.sequential_sites:
                    continue
                subset = profiles[:args.sequential_sites]
            res = crawl(mode, subset, f"sqlite:///{tmp}/{mode}.db", args.parallel, settings, args.time_limit)
            res["rows_check"] = check_rows(res, kinds, [p.name for p in subset])
            scale = len(profiles) / len(subset)
            res["wall_all_s"] = res["wall_s"] * scale
            res["req_per_s"] = res["requests"] / res["wall_s"] if res["wall_s"] else 0.0
            print(f"[{mode}] {len(subset)} sites: {res['wall_s']:.1f} s, peak RSS {res['peak_rss_mb']:.0f} MB, "
                  f"{res['req_per_s']:.1f} req/s, {res['articles']} articles; rows: {res['rows_check']}",
                  flush=True)
            out.append(res)
    finally:
        for s in servers:
            s.stop()
    print(f"\n{args.sites} sites ({sum(1 for k in kinds.values() if k == 'slow')} slow, "
          f"{sum(1 for k in kinds.values() if k == 'dead')} dead), --parallel {args.parallel}, "
          f"DOWNLOAD_DELAY {args.delay}\n")
    print("| mode | sites crawled | wall time | wall time for all sites | peak total RSS | requests/s | "
          "articles | crawl_runs rows |")
    print("|---|---|---|---|---|---|---|---|")
    for r in out:
        est = " (scaled)" if r["sites"] != args.sites else ""
        print(f"| {r['mode']} | {r['sites']} | {r['wall_s']:.1f} s | {r['wall_all_s']:.0f} s{est} | "
              f"{r['peak_rss_mb']:.0f} MB | {r['req_per_s']:.1f} | {r['articles']} | {r['rows_check']} |")
    by = {r["mode"]: r for r in out}
    if "batch" in by:
        b = by["batch"]
        if "sequential" in by:
            print(f"\nbatch vs one-after-another subprocesses: {by['sequential']['wall_all_s'] / b['wall_all_s']:.1f}× "
                  "faster (target ≥ 3×)")
        if "parallel" in by:
            p = by["parallel"]
            print(f"batch vs {args.parallel} parallel subprocesses: peak RSS {b['peak_rss_mb'] / p['peak_rss_mb']:.2f}× "
                  f"(target ≤ 0.33×), wall {p['wall_s'] / b['wall_s']:.1f}× faster, "
                  f"requests/s {b['req_per_s']:.1f} vs {p['req_per_s']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
