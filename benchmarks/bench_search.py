"""Search and export benchmark on a large synthetic archive, SQLite and PostgreSQL side by side.

    .venv/bin/python benchmarks/bench_search.py --n 100000            # both backends
    .venv/bin/python benchmarks/bench_search.py --n 5000 --reps 1     # quick check

For each backend: a fresh database built by ``alembic upgrade head``, bulk-filled with N articles of
synthetic Chinese text (clauses of the seed pages in ``govnews/demosite/seeds/`` recombined, plus
injected rare place names and rare two-character words so that rare queries exist), inserted
directly with executemany (the SQLite triggers fill the FTS index as rows arrive; on PostgreSQL the
pg_trgm indexes are dropped during the load and re-created, as a bulk load would do). Then:

* search latency of ``storage.search.search(limit=20)`` for six query classes (rare / common x 1, 2,
  3+ characters), p50 / p95 against the issue-18 targets (p95 <= 20 ms rare, <= 50 ms common), and
  in the same run the same queries as a plain ``LIKE '%q%'`` scan (``... ORDER BY id DESC LIMIT
  20``; on PostgreSQL with bitmap scans off so that the trigram index is not used) — the ratio
  plain / search. The backends are measured in ONE run, interleaved: each query runs on SQLite,
  then on PostgreSQL, then the next query, so that both see the same machine load;
* export throughput: ``govnews export`` JSONL of the whole archive to /dev/null (articles/s, RSS;
  ``--no-export`` skips it).

    .venv/bin/python benchmarks/bench_search.py --n 100000 --keep /tmp/search_dbs.json   # build once, reuse

Prints a Markdown table (pasted into docs/SQL.md).
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from storage.db import make_engine, upgrade_db  # noqa: E402
from storage.dedup import strip_glosses, to_simplified  # noqa: E402
from storage.search import like_pattern, search  # noqa: E402

RARE_CHARS = "鳌鲲鹏鹳麒麟貔貅饕餮魑魅魍魉犇骉蠡鼋鼍夔夒"
NAME_CHARS = "东西南北金银铜铁石松柏桃李杏梅兰竹菊青黄白红龙凤虎马牛羊云山河湖海泉溪岭峰坪坝沟塘"
NAME_SUFFIX = ["镇", "村", "乡", "街道", "社区", "园区"]


def clauses() -> list[str]:
    out = []
    for f in sorted(glob.glob(str(REPO / "govnews" / "demosite" / "seeds" / "*.txt"))):
        t = to_simplified(strip_glosses(Path(f).read_text(encoding="utf-8")))
        out += [c.strip() for c in re.split(r"[，。；！？：,\n]", t) if 4 <= len(c.strip()) <= 60]
    return sorted(set(out))


def corpus(n: int, seed: int = 7):
    rnd = random.Random(seed)
    cl = clauses()
    names = sorted({rnd.choice(NAME_CHARS) + rnd.choice(NAME_CHARS) + rnd.choice(NAME_SUFFIX)
                    for _ in range(4000)})[:1500]
    rare_words = sorted({a + b for a in RARE_CHARS for b in RARE_CHARS if a != b})[:300]
    t0 = datetime(2020, 1, 1, tzinfo=UTC)

    def gen():
        for i in range(1, n + 1):
            parts = rnd.choices(cl, k=rnd.randint(15, 45))
            for _ in range(rnd.randint(1, 2)):
                parts.insert(rnd.randrange(len(parts)), f"{rnd.choice(names)}召开会议")
            if rnd.random() < 0.004:
                parts.insert(rnd.randrange(len(parts)), f"{rnd.choice(rare_words)}项目")
            body = "".join(p + ("。" if rnd.random() < 0.3 else "，") for p in parts)
            title = rnd.choice(cl)[:30]
            yield dict(id=i, site_id=1 + i % 5, url=f"http://site{i % 5}.gov.cn/art/{i}.html", title=title,
                       title_simplified=title, body=body, body_simplified=body,
                       content_hash=hashlib.sha256(f"{i}:{body}".encode()).hexdigest(),
                       published_at=t0 + timedelta(minutes=37 * i), first_seen=t0 + timedelta(minutes=37 * i + 5),
                       source="绵阳日报" if i % 3 else None)
    return gen(), names, rare_words, cl


def queries(names, rare_words, cl, rnd) -> dict[str, list[str]]:
    common_long = ["高质量发展", "科技城新区", "乡村振兴", "营商环境", "基础设施建设"]
    for c in rnd.sample(cl, 10):
        if len(c) >= 6:
            k = rnd.randint(3, 6)
            s = rnd.randrange(0, len(c) - k + 1)
            common_long.append(c[s:s + k])
    return {
        "3+ chars, common": common_long[:12],
        "3+ chars, rare": rnd.sample(names, 12),
        "2 chars, common": ["发展", "新区", "绵阳", "项目", "会议", "建设", "工作", "推进"],
        "2 chars, rare": rnd.sample(rare_words, 8),
        "1 char, common": ["区", "的", "发", "会", "市", "建", "工", "镇"],
        "1 char, rare": list(RARE_CHARS[:8]),
    }


#: issue 18: p95 targets in seconds, per query class (rare / common, any length)
TARGET_P95 = {"rare": 0.020, "common": 0.050}


def target_of(cls: str) -> float:
    return TARGET_P95["rare" if cls.endswith("rare") else "common"]


def build(url: str, n: int) -> tuple[float, int]:
    gen, *_ = corpus(n)
    upgrade_db(url)
    eng = make_engine(url)
    t = time.perf_counter()
    pg = eng.dialect.name == "postgresql"
    with eng.begin() as c:
        now = datetime.now(UTC)
        for s in range(5):
            c.execute(text("INSERT INTO sites (id, name, title, allowed_domains, created_at) "
                           "VALUES (:i, :n, :t, '[]', :c)"), {"i": s + 1, "n": f"site{s}", "t": f"站点{s}",
                                                             "c": now.replace(tzinfo=None) if not pg else now})
        if pg:
            c.execute(text("DROP INDEX ix_articles_body_simplified_trgm"))
            c.execute(text("DROP INDEX ix_articles_title_simplified_trgm"))
            c.execute(text("DROP INDEX IF EXISTS ix_articles_grams"))
    cols = ("id, site_id, url, title, title_simplified, body, body_simplified, content_hash, flags, images, "
            "published_at, first_seen, updated_at, source")
    ins = text(f"INSERT INTO articles ({cols}) VALUES (:id, :site_id, :url, :title, :title_simplified, :body, "
               ":body_simplified, :content_hash, '{}', '[]', :published_at, :first_seen, :first_seen, :source)")
    batch = []

    def flush():
        with eng.begin() as c:
            c.execute(ins, batch)
        batch.clear()

    for row in gen:
        if not pg:  # naive UTC text, as UTCDateTime stores it on SQLite
            row["published_at"] = row["published_at"].replace(tzinfo=None)
            row["first_seen"] = row["first_seen"].replace(tzinfo=None)
        batch.append(row)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    with eng.begin() as c:
        if pg:
            c.execute(text("CREATE INDEX ix_articles_body_simplified_trgm ON articles "
                           "USING gin (body_simplified gin_trgm_ops)"))
            c.execute(text("CREATE INDEX ix_articles_title_simplified_trgm ON articles "
                           "USING gin ((coalesce(title_simplified, title, '')) gin_trgm_ops)"))
            c.execute(text("SET maintenance_work_mem = '256MB'"))
            c.execute(text("CREATE INDEX ix_articles_grams ON articles USING gin ((govnews_grams("
                           "coalesce(title_simplified, title, '') || ' ' || coalesce(body_simplified, ''))))"))
            c.execute(text("ALTER INDEX ix_articles_grams ALTER COLUMN 1 SET STATISTICS 1000"))
            c.execute(text("SELECT setval('articles_id_seq', (SELECT max(id) FROM articles))"))
    if pg:
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE articles"))
    else:
        with eng.connect() as c:
            c.exec_driver_sql("ANALYZE")
    elapsed = time.perf_counter() - t
    size = db_size(eng)
    eng.dispose()
    return elapsed, size


def db_size(eng) -> int:
    with eng.connect() as c:
        if eng.dialect.name == "postgresql":
            return c.execute(text("SELECT pg_database_size(current_database())")).scalar()
        return c.exec_driver_sql("PRAGMA page_count").scalar() * c.exec_driver_sql("PRAGMA page_size").scalar()


def plain_like(eng, q: str):
    terms = to_simplified(q).split()
    where = " AND ".join(f"(title_simplified LIKE :p{i} ESCAPE '\\' OR body_simplified LIKE :p{i} ESCAPE '\\')"
                         for i in range(len(terms)))
    params = {f"p{i}": like_pattern(t) for i, t in enumerate(terms)}
    with eng.begin() as c:
        if eng.dialect.name == "postgresql":
            c.execute(text("SET LOCAL enable_bitmapscan = off"))  # no pg_trgm: a plain scan
        return c.execute(text(f"SELECT id FROM articles WHERE {where} ORDER BY id DESC LIMIT 20"), params).all()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def load_baseline(path: str):
    """Another version of ``storage/search.py`` (e.g. ``git show REV:storage/search.py > FILE``),
    loaded as a module beside the current one (it imports the current helpers)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("baseline_search", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["baseline_search"] = mod          # dataclasses look their module up
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def measure(urls: dict[str, str], n: int, reps: int, baseline=None) -> dict[str, dict]:
    """Every backend in one run, interleaved: for each query class, repetition and query, each
    backend in turn runs ``search()``, the baseline's ``search()`` (``--baseline``) and then the
    plain LIKE of the same query."""
    _, names, rare_words, cl = corpus(n)
    qs = queries(names, rare_words, cl, random.Random(11))
    engines = {b: make_engine(u) for b, u in urls.items()}
    out: dict[str, dict] = {b: {} for b in urls}
    for eng in engines.values():
        for q in [x for v in qs.values() for x in v][:5]:  # warm caches and pools
            search(eng, q)
            if baseline:
                baseline.search(eng, q)
            plain_like(eng, q)
    for cls, items in qs.items():
        t_s = {b: [] for b in urls}
        t_l = {b: [] for b in urls}
        t_b = {b: [] for b in urls}
        same = {b: [] for b in urls}
        hits = {b: [] for b in urls}
        for rep in range(reps):
            for k, q in enumerate(items):
                for b, eng in engines.items():
                    # the baseline and the current code take turns running a query first (the
                    # second finds the pages the first read in the caches)
                    order = [(search, t_s), (baseline.search, t_b)] if baseline else [(search, t_s)]
                    if (rep + k) % 2:
                        order.reverse()
                    got = {}
                    for fn, store in order:
                        t = time.perf_counter()
                        got[fn] = fn(eng, q, limit=20)
                        store[b].append(time.perf_counter() - t)
                    r = got[search]
                    if baseline:
                        rb = got[baseline.search]
                        same[b].append((sorted(h.id for h in r) == sorted(h.id for h in rb),
                                        [h.id for h in r] == [h.id for h in rb]))
                    t = time.perf_counter()
                    plain_like(eng, q)
                    t_l[b].append(time.perf_counter() - t)
                    hits[b].append(len(r))
        for b in urls:
            out[b][cls] = dict(search_p50=pct(t_s[b], 50), search_p95=pct(t_s[b], 95), like_p50=pct(t_l[b], 50),
                               like_p95=pct(t_l[b], 95), mean_hits=statistics.mean(hits[b]), n=len(t_s[b]),
                               target=target_of(cls))
            if baseline:
                out[b][cls].update(base_p50=pct(t_b[b], 50), base_p95=pct(t_b[b], 95),
                                   same_set=sum(x for x, _ in same[b]), same_order=sum(y for _, y in same[b]))
            v = out[b][cls]
            print(f"  [{b}] {cls:<18} search p50 {v['search_p50'] * 1e3:6.1f} p95 {v['search_p95'] * 1e3:6.1f} ms "
                  f"(target {v['target'] * 1e3:.0f})  LIKE p50 {v['like_p50'] * 1e3:6.1f} p95 "
                  f"{v['like_p95'] * 1e3:6.1f} ms" + (f"  baseline p50 {v['base_p50'] * 1e3:6.1f} p95 "
                                                      f"{v['base_p95'] * 1e3:6.1f} ms, same hits "
                                                      f"{v['same_set']}/{v['n']} (order {v['same_order']})"
                                                      if baseline else ""), flush=True)
    for eng in engines.values():
        eng.dispose()
    return out


def export_throughput(url: str) -> tuple[float, float, float]:
    from govnews.commands.export import article_rows, as_record

    eng = make_engine(url)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    n = 0
    with open(os.devnull, "w", encoding="utf-8") as out:
        for art, site in article_rows(eng):
            out.write(json.dumps(as_record(art, site), ensure_ascii=False) + "\n")
            n += 1
    dt = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    eng.dispose()
    return n / dt, dt, rss1 - rss0


def pg_database():
    import psycopg

    for user in ("postgres", "root"):
        try:
            psycopg.connect(host="127.0.0.1", user=user, dbname="postgres", connect_timeout=3).close()
            break
        except Exception:
            continue
    name = f"govnews_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(host="127.0.0.1", user=user, dbname="postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(host="127.0.0.1", user=user, dbname="postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"postgresql+psycopg://{user}@127.0.0.1:5432/{name}", drop


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--keep", metavar="FILE",
                    help="keep the databases and write their URLs to FILE (JSON); with FILE existing, "
                         "reuse them instead of building (same --n)")
    ap.add_argument("--no-export", action="store_true", help="search latency only (skip the export run)")
    ap.add_argument("--baseline", metavar="FILE", help="another storage/search.py to time side by side "
                                                       "(git show REV:storage/search.py > FILE)")
    args = ap.parse_args()
    results: dict[str, dict] = {}
    urls: dict[str, str] = {}
    drops = []
    tmp = tempfile.mkdtemp(prefix="bench_search_")
    kept = json.loads(Path(args.keep).read_text()) if args.keep and Path(args.keep).exists() else {}
    try:
        for backend in args.backends.split(","):
            drop = None
            reuse = kept.get(backend, {}).get("url") if kept.get(backend, {}).get("n") == args.n else None
            if reuse:
                url = reuse
            elif backend == "sqlite":
                url = f"sqlite:///{tmp}/archive.db"
            else:
                url, drop = pg_database()
            if drop and not args.keep:
                drops.append(drop)
            if reuse:
                upgrade_db(url)
                eng = make_engine(url)
                build_s, size = kept[backend].get("build_s", 0.0), db_size(eng)
                eng.dispose()
                print(f"[{backend}] reusing {args.n} articles at {url}", flush=True)
            else:
                build_s, size = build(url, args.n)
                print(f"[{backend}] built {args.n} articles in {build_s:.0f} s, database {size / 1e6:.0f} MB",
                      flush=True)
                if args.keep:
                    kept[backend] = {"url": url, "n": args.n, "build_s": build_s}
                    Path(args.keep).write_text(json.dumps(kept, indent=1))
            urls[backend] = url
            results[backend] = dict(build_s=build_s, size=size)
        print(f"load before measuring: {os.getloadavg()}", flush=True)
        baseline = load_baseline(args.baseline) if args.baseline else None
        for backend, m in measure(urls, args.n, args.reps, baseline).items():
            results[backend]["search"] = m
        print(f"load after measuring: {os.getloadavg()}", flush=True)
        if not args.no_export:
            for backend, url in urls.items():
                rate, secs, rss = export_throughput(url)
                print(f"[{backend}] export: {rate:.0f} articles/s ({secs:.1f} s), RSS growth {rss:.1f} MB",
                      flush=True)
                results[backend].update(export_rate=rate, export_s=secs, export_rss=rss)
    finally:
        for drop in drops:
            drop()
    print(f"\n{args.n} articles, {args.reps} repetitions per query, limit 20, backends interleaved in one run; "
          "times in ms\n")
    print("| backend | query class | search p50 | search p95 | target p95 | plain LIKE p50 | plain LIKE p95 | "
          "p50 ratio (LIKE / search) | hits |")
    print("|---|---|---|---|---|---|---|---|---|")
    for backend, r in results.items():
        for cls, v in r["search"].items():
            ok = "✓" if v["search_p95"] <= v["target"] else "✗"
            print(f"| {backend} | {cls} | {v['search_p50'] * 1e3:.1f} | {v['search_p95'] * 1e3:.1f} | "
                  f"≤ {v['target'] * 1e3:.0f} {ok} | {v['like_p50'] * 1e3:.1f} | {v['like_p95'] * 1e3:.1f} | "
                  f"{v['like_p50'] / v['search_p50']:.1f}× | {v['mean_hits']:.1f} |")
    if args.baseline:
        print(f"\nbaseline {args.baseline} in the same run (same queries, interleaved)\n")
        print("| backend | query class | before p50 / p95 | after p50 / p95 | same hits (set / order) |")
        print("|---|---|---|---|---|")
        for backend, r in results.items():
            for cls, v in r["search"].items():
                print(f"| {backend} | {cls} | {v['base_p50'] * 1e3:.1f} / {v['base_p95'] * 1e3:.1f} | "
                      f"{v['search_p50'] * 1e3:.1f} / {v['search_p95'] * 1e3:.1f} | "
                      f"{v['same_set']} / {v['same_order']} of {v['n']} |")
    if not args.no_export:
        print("\n| backend | build | database size | export JSONL | export time | RSS growth |")
        print("|---|---|---|---|---|---|")
        for backend, r in results.items():
            print(f"| {backend} | {r['build_s']:.0f} s | {r['size'] / 1e6:.0f} MB | {r['export_rate']:.0f} "
                  f"articles/s | {r['export_s']:.1f} s | {r['export_rss']:.1f} MB |")

if __name__ == "__main__":
    main()
