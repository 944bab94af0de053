"""Pages/s of govnews extraction vs bare ``trafilatura.bare_extraction`` on the same corpus pages.

Both get the raw bytes (as a crawler has them). Passes are interleaved (govnews, trafilatura, govnews, ...);
the median wall time of ``--passes`` passes is reported, after one warm-up call each, and beside it the
median CPU time of the process (``time.process_time``) over the same passes: on a shared, loaded machine
the wall time also counts the time other jobs held the cores, the CPU time much less so. ``--min-ratio``
applies to the wall-time ratio.

    .venv/bin/python benchmarks/bench_extract.py [--passes 5] [--shared ../shared] [--min-ratio 0.8]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--shared", default=os.environ.get("GOVNEWS_SHARED") or str(ROOT.parent / "shared"))
    ap.add_argument("--min-ratio", type=float, default=0.8, help="exit 1 when govnews/trafilatura is below this")
    args = ap.parse_args(argv)

    import trafilatura

    from crawler.extract import extract

    shared = Path(args.shared)
    truth = [json.loads(line) for line in (shared / "corpus" / "truth.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    pages = [((shared / "corpus" / "raw" / t["page"]).read_bytes(), t.get("url")) for t in truth]

    def run_govnews():
        for data, url in pages:
            extract(data, url=url)

    def run_trafilatura():
        for data, url in pages:
            trafilatura.bare_extraction(data, url=url, with_metadata=True)

    extract(*pages[0])
    trafilatura.bare_extraction(pages[0][0], with_metadata=True)
    times: dict[str, list[float]] = {"govnews": [], "trafilatura": []}
    cpu: dict[str, list[float]] = {"govnews": [], "trafilatura": []}
    for _ in range(args.passes):
        for name, fn in (("govnews", run_govnews), ("trafilatura", run_trafilatura)):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    rate = {k: len(pages) / statistics.median(v) for k, v in times.items()}
    cpu_rate = {k: len(pages) / statistics.median(v) for k, v in cpu.items()}
    ratio = rate["govnews"] / rate["trafilatura"]
    cpu_ratio = cpu_rate["govnews"] / cpu_rate["trafilatura"]
    print(f"pages: {len(pages)}  passes: {args.passes} (interleaved, median)")
    for k in ("govnews", "trafilatura"):
        print(f"{k:12s} {rate[k]:6.1f} pages/s wall, {cpu_rate[k]:6.1f} pages/s CPU   "
              f"(pass wall times: {', '.join(f'{t:.2f}s' for t in times[k])})")
    print(f"ratio govnews/trafilatura: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU")
    return 0 if ratio >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
