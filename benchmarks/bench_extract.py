"""Pages/s of govnews extraction vs bare ``trafilatura.bare_extraction`` on the same corpus pages.

Both get the raw bytes (as a crawler has them). Passes are interleaved (govnews, trafilatura, govnews, ...);
the median wall time of ``--passes`` passes is reported, after one warm-up call each.

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
    times = {"govnews": [], "trafilatura": []}
    for _ in range(args.passes):
        for name, fn in (("govnews", run_govnews), ("trafilatura", run_trafilatura)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    rate = {k: len(pages) / statistics.median(v) for k, v in times.items()}
    ratio = rate["govnews"] / rate["trafilatura"]
    print(f"pages: {len(pages)}  passes: {args.passes} (interleaved, median)")
    for k in ("govnews", "trafilatura"):
        print(f"{k:12s} {rate[k]:6.1f} pages/s   (pass times: {', '.join(f'{t:.2f}s' for t in times[k])})")
    print(f"ratio govnews/trafilatura: {ratio:.2f}x")
    return 0 if ratio >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
