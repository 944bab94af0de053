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
from datetime import UTC, datetime
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
NOW = datetime(2024, 1, 1, tzinfo=UTC)


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
    settle_sqlite(url)


def settle_sqlite(url: str) -> None:
    """Checkpoint the WAL into the main file and flush it to disk.

    The bulk load runs with ``synchronous=OFF``, so without this the first fsync of the measured
    phase (a WAL checkpoint) pays for writing back the whole freshly loaded file: 10 MB at 10k
    articles, ~2 GB at 1M. That one stall made the old 1M mean look twice the 10k mean.
    """
    import sqlite3

    path = url.split("sqlite:///", 1)[1]
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    settle_postgres(url)


def settle_postgres(url: str) -> None:
    """``CHECKPOINT`` (and flush the OS cache of it): the loaded data is on disk, nothing pending.

    Without it the first checkpoint of the measured phase writes back the whole bulk load.
    """
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CHECKPOINT")
    os.sync()


# PostgreSQL index options compared side by side in one run (``--variants``): before each measured
# (variant, size) the GIN search indexes get the variant's options and an empty pending list; the
# options the database had are put back at the end.
GIN_SEARCH_INDEXES = ("ix_articles_grams", "ix_articles_body_simplified_trgm", "ix_articles_title_simplified_trgm")
GIN_VARIANTS: dict[str, str] = {  # name -> storage parameters of every GIN search index ("" = server defaults)
    "default": "",
    "fastupdate_off": "fastupdate = off",
    "pending_1mb": "gin_pending_list_limit = 1024",
    "pending_512kb": "gin_pending_list_limit = 512",
    "pending_256kb": "gin_pending_list_limit = 256",
    "pending_16mb": "gin_pending_list_limit = 16384",
}


def gin_options(url: str) -> dict[str, list[str] | None]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as con:
        rows = con.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
                           (list(GIN_SEARCH_INDEXES),)).fetchall()
    return dict(rows)


def apply_gin_options(url: str, options: str | dict[str, list[str] | None]) -> None:
    """Reset the GIN search indexes' options, set ``options`` (one string for all, or per index as
    ``gin_options`` returns them) and flush their pending lists, so every variant starts empty."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as con:
        for ix in GIN_SEARCH_INDEXES:
            opts = options if isinstance(options, str) else ", ".join(options.get(ix) or [])
            con.execute(f"ALTER INDEX {ix} RESET (fastupdate, gin_pending_list_limit)")
            if opts:
                con.execute(f"ALTER INDEX {ix} SET ({opts})")
            con.execute("SELECT gin_clean_pending_list(%s::regclass)", (ix,))


# ------------------------------------------------------------------------------ measure (child)
def _kind(statement: str) -> str:
    s = " ".join(statement.split()).lower()
    if s.startswith("select count(pg_advisory_xact_lock"):
        return "advisory lock"
    if " union all " in s and "sightings" in s:
        return "lookup url + hash (union)"
    if " union all " in s:
        return "verify texts (union)"
    for t in ("minhash_bands", "article_revisions", "sightings", "articles", "pages", "sites"):
        if t in s:
            verb = s.split()[0] if not s.startswith("with") else "select"
            return f"{verb} {t}"
    return s.split()[0]


EXPLAIN_FIELDS = ("calls", "ms", "hit", "read", "dirtied", "written", "records", "fpi", "bytes")
_PLAN_KEYS = {"hit": "Shared Hit Blocks", "read": "Shared Read Blocks", "dirtied": "Shared Dirtied Blocks",
              "written": "Shared Written Blocks", "records": "WAL Records", "fpi": "WAL FPI", "bytes": "WAL Bytes"}


def _explain_kind(query: str) -> str:
    if query.startswith('SELECT 1 FROM ONLY "public"."articles"'):
        return "fk check (articles)"
    return _kind(query)


def _add_explain(acc: dict, message: str) -> None:
    """Fold one auto_explain message (``duration: X ms  plan:`` + the JSON plan) into ``acc``.

    The top plan node's buffer and WAL counters include its children's.
    """
    head, _, body = message.partition("\n")
    if not head.startswith("duration:") or not body.strip():
        return
    doc = json.loads(body)
    plan = doc["Plan"]
    row = acc.setdefault(_explain_kind(doc.get("Query Text", "")), dict.fromkeys(EXPLAIN_FIELDS, 0.0))
    row["calls"] += 1
    row["ms"] += float(head.split()[1])
    for k, key in _PLAN_KEYS.items():
        row[k] += plan.get(key, 0)


def _auto_explain(engine, sink: list[str], state: dict) -> None:
    """Every statement on ``engine``'s connections is explained (ANALYZE, BUFFERS, WAL) by
    auto_explain at NOTICE level and its plan appended to ``sink`` while ``state["on"]``.
    ``LOAD 'auto_explain'`` needs a superuser (the bench's PostgreSQL user)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            for setting in ("log_min_duration = 0", "log_analyze = on", "log_buffers = on", "log_wal = on",
                            "log_timing = on", "log_nested_statements = on", "log_level = notice",
                            "log_format = json"):
                cur.execute(f"SET auto_explain.{setting}")
        dbapi_conn.commit()
        dbapi_conn.add_notice_handler(lambda d: state.get("on") and sink.append(d.message_primary or ""))

    engine.dispose()  # connections made from now on load auto_explain


def measure(url: str, n: int, seed: int, warmup: int, profile: bool, explain: bool = False) -> dict:
    from sqlalchemy import event

    from storage import dedup as dedup_mod
    from storage.archive import Archive

    rng = random.Random(seed)
    texts = [synthetic_text(rng) for _ in range(n + warmup)]
    a = Archive(url)
    prof = {"sql_s": 0.0, "sig_s": 0.0, "statements": 0, "by_kind": {}}
    plans: list[str] = []
    if explain:
        _auto_explain(a.engine, plans, prof)
    t_exec: list[float] = []
    if profile:
        @event.listens_for(a.engine, "before_cursor_execute")
        def _before(conn, cursor, statement, params, context, executemany):
            t_exec.append(time.perf_counter())

        @event.listens_for(a.engine, "after_cursor_execute")
        def _after(conn, cursor, statement, params, context, executemany):
            dt = time.perf_counter() - t_exec.pop()
            if prof.get("on"):
                prof["sql_s"] += dt
                prof["statements"] += 1
                k = prof["by_kind"].setdefault(_kind(statement), [0, 0.0])
                k[0] += 1
                k[1] += dt

        real_sig = dedup_mod.signature  # storage.articles calls dedup.signature through the module

        def timed_sig(t):
            t0 = time.perf_counter()
            try:
                return real_sig(t)
            finally:
                if prof.get("on"):
                    prof["sig_s"] += time.perf_counter() - t0

        dedup_mod.signature = timed_sig

    stored: list[str] = []

    def one(i: int, body_pool: list[str], tag: str) -> tuple[float, str]:
        if i % 10 == 9 and stored:
            body = rng.choice(stored)  # exact repost on another URL
        elif i % 5 == 4 and stored:
            body = rng.choice(stored) + "\n（责任编辑：王小明）"  # near duplicate
        else:
            body = body_pool[i]
        t0 = time.perf_counter()
        r = a.store_article("bench", f"http://bench.gov.cn/{tag}/{seed}/{i}.html", {"title": "t", "body": body})
        dt = time.perf_counter() - t0
        if r.outcome == "new":
            stored.append(body)
        return dt, r.outcome

    # warm-up: the same mix, not timed (imports, OpenCC, connection pool, cache of the hot pages)
    for i in range(warmup):
        one(i, texts[n:], "warm")
    rss0 = rss_mb()
    times, outcomes = [], {}
    prof["on"] = True
    for i in range(n):
        dt, outcome = one(i, texts, "new")
        times.append(dt)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    prof["on"] = False
    a.close()
    out = dict(times_ms=[1000 * t for t in times], rss_start_mb=rss0, rss_end_mb=rss_mb(), outcomes=outcomes)
    if explain:
        acc: dict[str, dict] = {}
        for m in plans:
            _add_explain(acc, m)
        out["explain"] = acc
    if profile:
        prof.pop("on")
        out["profile"] = prof
    return out


SPIKE_MS = 250.0  # a store this slow is a stall (on PostgreSQL: a GIN pending-list flush), not a lookup


def summarize(times_ms: list[float]) -> dict:
    t = sorted(times_ms)
    spikes = [x for x in t if x > SPIKE_MS]
    return dict(n=len(t), mean_ms=statistics.mean(t), p50_ms=t[len(t) // 2],
                p95_ms=t[int(len(t) * 0.95)], p99_ms=t[int(len(t) * 0.99)], max_ms=t[-1],
                spikes=len(spikes), spike_share=sum(spikes) / sum(t) if t else 0.0)


def print_explain(explain: dict, n: int) -> None:
    print(f"{'':10s} {'':9s} auto_explain, {n} stores (not timed), per store:")
    print(f"{'':22s} {'statement':28s} {'calls':>5s} {'ms':>6s} {'hit':>6s} {'read':>5s} "
          f"{'dirtied':>7s} {'written':>7s} {'WAL rec':>7s} {'FPI':>5s} {'WAL kB':>7s}")
    for k, row in sorted(explain.items(), key=lambda kv: -kv[1]["ms"]):
        print(f"{'':22s} {k:28s} {row['calls'] / n:5.2f} {row['ms'] / n:6.3f} {row['hit'] / n:6.1f} "
              f"{row['read'] / n:5.1f} {row['dirtied'] / n:7.1f} {row['written'] / n:7.1f} "
              f"{row['records'] / n:7.1f} {row['fpi'] / n:5.1f} {row['bytes'] / n / 1024:7.1f}")


# ------------------------------------------------------------------------------ driver
def _admin():
    return dict(host="127.0.0.1", port=5432, user=os.environ.get("PGUSER", "postgres"), dbname="postgres")


def make_db(backend: str, tmpdir: Path, size: int, keep: bool):
    """(url, drop, exists): a new database, or with ``keep`` a named one that may already be built."""
    from storage.db import upgrade_db

    tag = f"{size}" if keep else uuid.uuid4().hex[:8]
    if backend == "sqlite":
        path = tmpdir / f"bench_{tag}.db"
        url = f"sqlite:///{path}"
        exists = keep and path.exists()
        upgrade_db(url)  # a kept database is brought to head too (a no-op when it is there)

        def drop():
            if not keep:
                for f in tmpdir.glob(f"bench_{tag}.db*"):
                    f.unlink()

        return url, drop, exists
    import psycopg

    name = f"govnews_bench_{tag}"
    url = f"postgresql+psycopg://{_admin()['user']}@127.0.0.1:5432/{name}"
    with psycopg.connect(**_admin(), autocommit=True) as c:
        exists = keep and c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if not exists:
            c.execute(f'CREATE DATABASE "{name}"')
    upgrade_db(url)  # a kept database is brought to head too (a no-op when it is there)

    def drop():
        if not keep:
            with psycopg.connect(**_admin(), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop, exists


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,1000000", help="archive sizes (comma-separated)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--measure", type=int, default=500, help="timed stores per size and round")
    ap.add_argument("--warmup", type=int, default=300, help="untimed stores before each timed run")
    ap.add_argument("--rounds", type=int, default=2,
                    help="measurement rounds; the sizes are interleaved, alternating order per round")
    ap.add_argument("--profile", action="store_true", help="per-store statement count and time split")
    ap.add_argument("--explain", type=int, default=0, metavar="N",
                    help="PostgreSQL: after the timed rounds, N more stores per size with every statement "
                         "explained by auto_explain (ANALYZE, BUFFERS, WAL): pages hit/read/dirtied/written "
                         "and WAL records/full-page images/bytes per store, by statement (not timed)")
    ap.add_argument("--tmpdir", default=None, help="where SQLite files go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the databases (bench_<size>.db in --tmpdir, govnews_bench_<size>) and reuse "
                         "them when they exist (for iterating; the final numbers come from fresh ones)")
    ap.add_argument("--variants", default=None,
                    help="PostgreSQL: comma-separated GIN option variants of the search indexes ("
                         + ", ".join(GIN_VARIANTS) + "), measured side by side: each round runs every "
                         "variant on every size, orders alternating; the indexes' own options are restored")
    ap.add_argument("--json", dest="json_out", default=None, help="also write results as JSON here")
    ap.add_argument("--child", nargs=4, metavar=("URL", "N", "SEED", "WARMUP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        url, n, seed, warm = args.child
        print(json.dumps(measure(url, int(n), int(seed), int(warm), args.profile, args.explain > 0)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    if args.keep and not args.tmpdir:
        ap.error("--keep needs --tmpdir")
    tmp_ctx = None if args.keep else tempfile.TemporaryDirectory(dir=args.tmpdir)
    tmpdir = Path(args.tmpdir) if args.keep else Path(tmp_ctx.name)
    tmpdir.mkdir(parents=True, exist_ok=True)
    variants: list[str | None] = args.variants.split(",") if args.variants else [None]
    for v in variants:
        if v is not None and v not in GIN_VARIANTS:
            ap.error(f"unknown variant {v!r} (known: {', '.join(GIN_VARIANTS)})")
    if args.variants and backends != ["postgresql"]:
        ap.error("--variants needs --backends postgresql")
    results: dict[str, dict[int, dict]] = {}
    for backend in backends:
        dbs = {}
        saved: dict[int, dict] = {}
        labels = {v: backend if v is None else f"{backend}[{v}]" for v in variants}
        try:
            for size in sizes:
                url, drop, exists = make_db(backend, tmpdir, size, args.keep)
                dbs[size] = (url, drop)
                t0 = time.time()
                if not exists:
                    (fill_sqlite if backend == "sqlite" else fill_postgres)(url, size)
                else:
                    (settle_sqlite if backend == "sqlite" else settle_postgres)(url)
                print(f"{backend:10s} size={size:>9,d} {'reused' if exists else 'built'} in "
                      f"{time.time() - t0:7.1f}s", flush=True)
                if args.variants:
                    saved[size] = gin_options(url)
                for label in labels.values():
                    results.setdefault(label, {})[size] = dict(build_s=time.time() - t0, times_ms=[],
                                                              rss_growth_mb=[], outcomes={}, profile=[])
            # every size is measured the same way: settle (checkpoint, flush), then warm-up + timed
            # stores in a fresh process; the sizes alternate so drift of the machine hits all alike
            nonce = random.SystemRandom().randrange(1, 10**6) * 100  # new URLs/texts on reused databases
            runs = []
            for rnd in range(args.rounds):
                order = sizes if rnd % 2 == 0 else sizes[::-1]
                vorder = variants if rnd % 2 == 0 else variants[::-1]
                runs += [(rnd, v, size) for v in vorder for size in order]
            for rnd, variant, size in runs:
                url = dbs[size][0]
                if variant is not None:
                    apply_gin_options(url, GIN_VARIANTS[variant])
                (settle_sqlite if backend == "sqlite" else settle_postgres)(url)
                seed = nonce + rnd * len(variants) + variants.index(variant)  # new URLs and texts per run
                cmd = [sys.executable, __file__, "--child", url, str(args.measure), str(seed),
                       str(args.warmup)] + (["--profile"] if args.profile else [])
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                acc = results[labels[variant]][size]
                acc["times_ms"] += r["times_ms"]
                acc["rss_growth_mb"].append(r["rss_end_mb"] - r["rss_start_mb"])
                for k, v in r["outcomes"].items():
                    acc["outcomes"][k] = acc["outcomes"].get(k, 0) + v
                if "profile" in r:
                    acc["profile"].append(r["profile"])
                s = summarize(r["times_ms"])
                print(f"{labels[variant]:10s} size={size:>9,d} round {rnd + 1}: mean={s['mean_ms']:6.2f}ms "
                      f"p50={s['p50_ms']:6.2f}ms p95={s['p95_ms']:6.2f}ms max={s['max_ms']:7.2f}ms "
                      f"{r['outcomes']}", flush=True)
            if args.explain and backend == "postgresql":
                for size in sizes:
                    url = dbs[size][0]
                    settle_postgres(url)
                    cmd = [sys.executable, __file__, "--child", url, str(args.explain), str(nonce + 99),
                           str(args.warmup), "--explain", "1"]
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                    results[backend][size]["explain"] = json.loads(out.stdout.strip().splitlines()[-1])["explain"]
        finally:
            for size, opts in saved.items():
                apply_gin_options(dbs[size][0], opts)
            for _url, drop in dbs.values():
                drop()
    if args.rounds == 0:  # --keep --rounds 0: build only (and --explain)
        for backend, by in results.items():
            for size in sizes:
                if by[size].get("explain"):
                    print(f"{backend:10s} {size:>9,d}")
                    print_explain(by[size]["explain"], args.explain)
        return 0
    small, large = min(sizes), max(sizes)
    print(f"\nper-article dedup + insert cost, {args.rounds} x {args.measure} timed stores per size "
          f"after {args.warmup} untimed ones each (limit: mean at {large:,d} <= 1.5x mean at {small:,d}; "
          f"RSS growth must not scale with size)")
    print(f"{'backend':10s} {'size':>9s} {'mean':>7s} {'p50':>7s} {'p95':>7s} {'p99':>7s} {'max':>8s} {'RSS+MB':>7s}")
    ok = True
    for backend, by in results.items():
        for size in sizes:
            r = by[size]
            r.update(summarize(r["times_ms"]))
            print(f"{backend:10s} {size:>9,d} {r['mean_ms']:7.2f} {r['p50_ms']:7.2f} {r['p95_ms']:7.2f} "
                  f"{r['p99_ms']:7.2f} {r['max_ms']:8.2f} {max(r['rss_growth_mb']):7.1f}   "
                  f"{r['spikes']} stores > {SPIKE_MS:.0f} ms = {100 * r['spike_share']:.0f} % of the time")
            if r["profile"]:
                n = len(r["times_ms"])
                sql = sum(p["sql_s"] for p in r["profile"]) * 1000 / n
                sig = sum(p["sig_s"] for p in r["profile"]) * 1000 / n
                stm = sum(p["statements"] for p in r["profile"]) / n
                kinds: dict[str, list] = {}
                for p in r["profile"]:
                    for k, (c, t) in p["by_kind"].items():
                        kinds.setdefault(k, [0, 0.0])
                        kinds[k][0] += c
                        kinds[k][1] += t
                print(f"{'':10s} {'':9s} per store: {stm:.2f} statements, SQL {sql:.2f} ms, signature {sig:.2f} ms, "
                      f"commit + rest {r['mean_ms'] - sql - sig:.2f} ms")
                for k, (c, t) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
                    print(f"{'':22s} {k:28s} {c / n:5.2f}/store {1000 * t / n:6.3f} ms/store")
            if r.get("explain"):
                print_explain(r["explain"], args.explain)
        s, big = by[small], by[large]
        ratio, p95_ratio = big["mean_ms"] / s["mean_ms"], big["p95_ms"] / s["p95_ms"]
        gs, gl = max(s["rss_growth_mb"]), max(big["rss_growth_mb"])
        passed = ratio <= 1.5 and gl <= gs + 20
        ok &= passed
        print(f"{backend:10s} ratio {large:,d}/{small:,d}: mean {ratio:.2f}  p50 {big['p50_ms'] / s['p50_ms']:.2f}  "
              f"p95 {p95_ratio:.2f}  RSS growth {gs:.1f} -> {gl:.1f} MB  {'PASS' if passed else 'FAIL'}")
    if args.json_out:
        slim = {b: {sz: {k: v for k, v in r.items() if k != "times_ms"} for sz, r in by.items()}
                for b, by in results.items()}
        Path(args.json_out).write_text(json.dumps(slim, indent=2))
    print("PASS" if ok else "FAIL")
    if tmp_ctx is not None:
        tmp_ctx.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
