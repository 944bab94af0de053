"""Dedup + insert cost per article against a small and a large archive, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_dedup.py                       # 10k and 1M, both backends
    .venv/bin/python benchmarks/bench_dedup.py --sizes 1000,20000 --backends sqlite   # quick

For every (backend, size): a fresh database is migrated (alembic upgrade head) and filled with
``size`` archived articles by bulk inserts of precomputed rows (article, sighting and 32 LSH band
rows per article; band hashes of unrelated texts are uniformly random 64-bit values, so they are
drawn directly, in sorted order, which keeps the bulk load fast). Then a *separate process* opens
the archive and stores ``--measure`` new articles through ``Archive.store_article`` (synthetic
~1,500-character texts; one in five a near-duplicate of an earlier one, one in ten an exact repost),
reporting the mean/median/p95 time per article and its RSS before and after.

Pass criteria printed at the end: cost at the largest size <= 1.5x the cost at the smallest, and
RSS growth of the measuring process not growing with the archive.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
PUNCT = "，。；、"


def synthetic_text(rng: random.Random, n: int = 1500) -> str:
    out = []
    for i in range(n):
        out.append(rng.choice(CJK))
        if i % 23 == 22:
            out.append(rng.choice(PUNCT))
        if i % 300 == 299:
            out.append("\n")
    return "".join(out)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------ bulk fill
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _band_chunks(size: int, seed: int, chunk: int = 2_000_000):
    """(band_hash, band_idx, article_id) rows in ascending band_hash order, 32 per article on average.

    The signed 64-bit range is cut into equal slices, one per chunk; each slice gets uniformly
    random sorted hashes, so the whole stream is sorted and uniform.
    """
    import numpy as np

    total = size * 32
    rng = np.random.default_rng(seed)
    n_chunks = max(1, -(-total // chunk))
    lo_all, span = -(2**63), 2**64
    for k in range(n_chunks):
        n = total // n_chunks + (1 if k < total % n_chunks else 0)
        lo = lo_all + span * k // n_chunks
        hi = lo_all + span * (k + 1) // n_chunks
        hashes = np.sort(rng.integers(lo, hi, n, dtype=np.int64, endpoint=False))
        idx = rng.integers(0, 32, n)
        aid = rng.integers(1, size + 1, n)
        yield list(zip(hashes.tolist(), idx.tolist(), aid.tolist()))


def _dedupe_sorted(rows, last):
    out = []
    for r in rows:
        if r[0] == last:
            continue
        out.append(r)
        last = r[0]
    return out, last


def fill_sqlite(url: str, size: int) -> None:
    import sqlite3

    path = url.split("sqlite:///", 1)[1]
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    ts = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    con.execute("INSERT INTO sites (id, name, title, allowed_domains, created_at) VALUES (1,'bench','bench','[]',?)", (ts,))
    con.execute("BEGIN")
    B = 50_000
    for start in range(1, size + 1, B):
        ids = range(start, min(size + 1, start + B))
        con.executemany(
            "INSERT INTO articles (id, site_id, url, title, body, body_simplified, content_hash, flags,"
            " images, first_seen, updated_at) VALUES (?,1,?,?,?,?,?,'{}','[]',?,?)",
            [(i, f"http://bench.gov.cn/old/{i}.html", f"旧文章{i}", f"正文{i}", f"正文{i}",
              hashlib.sha256(b"old%d" % i).hexdigest(), ts, ts) for i in ids])
        con.executemany(
            "INSERT INTO sightings (article_id, url, site_id, first_seen, last_seen, status) VALUES (?,?,1,?,?,200)",
            [(i, f"http://bench.gov.cn/old/{i}.html", ts, ts) for i in ids])
    last = None
    for rows in _band_chunks(size, seed=size):
        rows, last = _dedupe_sorted(rows, last)
        con.executemany("INSERT INTO minhash_bands (band_hash, band_idx, article_id) VALUES (?,?,?)", rows)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def fill_postgres(url: str, size: int) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as con:
        con.execute("INSERT INTO sites (id, name, title, allowed_domains, created_at) VALUES (1,'bench','bench','[]',%s)", (NOW,))
        with con.cursor() as cur:
            with cur.copy("COPY articles (id, site_id, url, title, body, body_simplified, content_hash, flags, images,"
                          " first_seen, updated_at) FROM STDIN") as cp:
                for i in range(1, size + 1):
                    cp.write_row((i, 1, f"http://bench.gov.cn/old/{i}.html", f"旧文章{i}", f"正文{i}", f"正文{i}",
                                  hashlib.sha256(b"old%d" % i).hexdigest(), "{}", "[]", NOW, NOW))
            with cur.copy("COPY sightings (article_id, url, site_id, first_seen, last_seen, status) FROM STDIN") as cp:
                for i in range(1, size + 1):
                    cp.write_row((i, f"http://bench.gov.cn/old/{i}.html", 1, NOW, NOW, 200))
            last = None
            with cur.copy("COPY minhash_bands (band_hash, band_idx, article_id) FROM STDIN") as cp:
                for rows in _band_chunks(size, seed=size):
                    rows, last = _dedupe_sorted(rows, last)
                    for r in rows:
                        cp.write_row(r)
            cur.execute("SELECT setval('articles_id_seq', %s)", (size,))
            cur.execute("SELECT setval('sightings_id_seq', %s)", (size,))
            cur.execute("SELECT setval('sites_id_seq', 1)")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("VACUUM ANALYZE")


# ------------------------------------------------------------------------------ measure (child)
def measure(url: str, n: int, seed: int) -> dict:
    from storage.archive import Archive

    rng = random.Random(seed)
    texts = [synthetic_text(rng) for _ in range(n + 20)]
    a = Archive(url)
    # warm-up (imports, OpenCC, connection pool) not timed
    for i in range(20):
        a.store_article("bench", f"http://bench.gov.cn/warm/{i}.html", {"title": "w", "body": texts[n + i]})
    rss0 = rss_mb()
    times, outcomes = [], {}
    stored: list[str] = []
    for i in range(n):
        if i % 10 == 9 and stored:
            body = rng.choice(stored)  # exact repost on another URL
        elif i % 5 == 4 and stored:
            body = rng.choice(stored) + "\n（责任编辑：王小明）"  # near duplicate
        else:
            body = texts[i]
        t0 = time.perf_counter()
        r = a.store_article("bench", f"http://bench.gov.cn/new/{seed}/{i}.html", {"title": "t", "body": body})
        times.append(time.perf_counter() - t0)
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        if r.outcome == "new":
            stored.append(body)
    a.close()
    times.sort()
    return dict(mean_ms=1000 * statistics.mean(times), p50_ms=1000 * times[len(times) // 2],
                p95_ms=1000 * times[int(len(times) * 0.95)], rss_start_mb=rss0, rss_end_mb=rss_mb(),
                outcomes=outcomes)


# ------------------------------------------------------------------------------ driver
def make_db(backend: str, tmpdir: Path):
    from storage.db import upgrade_db

    if backend == "sqlite":
        url = f"sqlite:///{tmpdir / f'bench_{uuid.uuid4().hex[:8]}.db'}"
        upgrade_db(url)
        return url, lambda: None
    import psycopg

    name = f"govnews_bench_{uuid.uuid4().hex[:8]}"
    admin = dict(host="127.0.0.1", port=5432, user=os.environ.get("PGUSER", "postgres"), dbname="postgres")
    with psycopg.connect(**admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://{admin['user']}@127.0.0.1:5432/{name}"
    upgrade_db(url)

    def drop():
        with psycopg.connect(**admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,1000000", help="archive sizes (comma-separated)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--measure", type=int, default=300, help="articles stored per measurement")
    ap.add_argument("--tmpdir", default=None, help="where SQLite files go (default: a temp dir)")
    ap.add_argument("--json", dest="json_out", default=None, help="also write results as JSON here")
    ap.add_argument("--child", nargs=3, metavar=("URL", "N", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]), int(args.child[2]))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    tmp_ctx = tempfile.TemporaryDirectory(dir=args.tmpdir)
    tmpdir = Path(tmp_ctx.name)
    results: dict[str, dict[int, dict]] = {}
    for backend in backends:
        for size in sizes:
            url, drop = make_db(backend, tmpdir)
            try:
                t0 = time.time()
                (fill_sqlite if backend == "sqlite" else fill_postgres)(url, size)
                build = time.time() - t0
                out = subprocess.run([sys.executable, __file__, "--child", url, str(args.measure), "7"],
                                     capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                r["build_s"] = build
                results.setdefault(backend, {})[size] = r
                print(f"{backend:10s} size={size:>9,d} build={build:7.1f}s  mean={r['mean_ms']:6.2f}ms "
                      f"p50={r['p50_ms']:6.2f}ms p95={r['p95_ms']:6.2f}ms  rss {r['rss_start_mb']:.0f}->"
                      f"{r['rss_end_mb']:.0f}MB  {r['outcomes']}", flush=True)
            finally:
                drop()
                if backend == "sqlite":
                    for f in tmpdir.glob("*.db*"):
                        f.unlink()
    small, large = min(sizes), max(sizes)
    print(f"\nratio {large:,d} vs {small:,d} (limit 1.5x cost; RSS growth must not scale with size)")
    print(f"{'backend':10s} {'mean ms':>18s} {'ratio':>6s} {'p95 ms':>18s} {'RSS growth MB':>18s}")
    ok = True
    for backend, by in results.items():
        s, l = by[small], by[large]
        ratio = l["mean_ms"] / s["mean_ms"]
        gs, gl = s["rss_end_mb"] - s["rss_start_mb"], l["rss_end_mb"] - l["rss_start_mb"]
        ok &= ratio <= 1.5 and gl <= gs + 20
        print(f"{backend:10s} {s['mean_ms']:8.2f} -> {l['mean_ms']:7.2f} {ratio:6.2f} "
              f"{s['p95_ms']:8.2f} -> {l['p95_ms']:7.2f} {gs:8.1f} -> {gl:7.1f}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    print("PASS" if ok else "FAIL")
    tmp_ctx.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
