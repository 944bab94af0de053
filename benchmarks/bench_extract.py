"""Pages/s of govnews extraction vs bare ``trafilatura.bare_extraction`` on the same corpus pages.

Both get the raw bytes (as a crawler has them). Passes are interleaved (govnews, trafilatura, govnews, ...);
the median wall time of ``--passes`` passes is reported, after one warm-up call each, and beside it the
median CPU time of the process (``time.process_time``) over the same passes: on a shared, loaded machine
the wall time also counts the time other jobs held the cores, the CPU time much less so. ``--min-ratio``
applies to the wall-time ratio.

    .venv/bin/python benchmarks/bench_extract.py [--passes 5] [--shared ../shared] [--min-ratio 0.8]
    .venv/bin/python benchmarks/bench_extract.py --profile   # cProfile (CPU-time timer) of one govnews pass
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
    ap.add_argument("--profile", action="store_true",
                    help="profile one govnews pass (cProfile, process CPU time) and print the stages; no timing")
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
    if args.profile:
        return profile(run_govnews, len(pages))
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
    # each pass's ratio against the trafilatura pass right after it: on a machine whose load drifts during
    # the run, adjacent passes share the load that the medians of all passes do not
    paired = statistics.median(t / g for g, t in zip(times["govnews"], times["trafilatura"]))
    print(f"ratio govnews/trafilatura: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU, "
          f"{paired:.2f}x median of adjacent pass pairs (wall)")
    return 0 if ratio >= args.min_ratio else 1


#: the functions the profile reports (docs/EXTRACTION.md, Benchmark)
PROFILE_STAGES = ("_extract", "decode_html", "parse_html_checked", "page_walk", "find_attachments",
                  "parse_disclosure", "find_container", "extract_body_lines", "run_trafilatura",
                  "compare_extraction", "density_choice", "_prefer_block", "text_lines", "_headline",
                  "navigation_texts", "headline_candidates", "drop_noise_lines", "split_metadata_lines",
                  "collapse_repeats", "find_date", "to_simplified")


def profile(run, n: int) -> int:
    import cProfile
    import pstats

    prof = cProfile.Profile(time.process_time)
    prof.runcall(run)
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"profile of one pass over {n} pages (CPU, profiler overhead included): {1000 * total / n:.1f} ms/page")
    rows = [(ct, nc, f"{Path(func[0]).stem}.{func[2]}") for func, (cc, nc, tt, ct, callers) in stats.stats.items()  # type: ignore[attr-defined]
            if func[2] in PROFILE_STAGES]
    for ct, nc, name in sorted(rows, reverse=True):
        print(f"  {name:34s} {1000 * ct / n:6.1f} ms/page {100 * ct / total:5.1f} %  ({nc} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
