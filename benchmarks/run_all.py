"""Run every benchmark (``benchmarks/bench_*.py``) in sequence and print its output: ``make bench``.

Each script runs as its own process with its quick options (below; a script not listed runs with
its defaults), so one that fails or needs a service that is not there (PostgreSQL, Redis, the
``../shared`` corpus) does not stop the others. At the end: one line per script with its exit
status and wall time; the exit status is 1 when any script failed. Not a test.

    .venv/bin/python benchmarks/run_all.py                  # quick options
    .venv/bin/python benchmarks/run_all.py --full           # every script with its own defaults
    .venv/bin/python benchmarks/run_all.py --only dedup --only search
    .venv/bin/python benchmarks/run_all.py --list           # what would run, run nothing
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: the quick options a benchmark's docstring gives (the others are quick with their defaults);
#: ``--full`` runs every script with its own defaults
QUICK = {
    "bench_dedup": ["--sizes", "1000,20000", "--backends", "sqlite"],   # full: 10k and 1M, both backends
    "bench_search": ["--n", "5000", "--reps", "1"],                     # full: 100k, 3 reps
}


def benchmarks(only: list[str] | None = None) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = {name if name.startswith("bench_") else f"bench_{name}" for name in only}
        unknown = wanted - {p.stem for p in scripts}
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))} "
                             f"(have: {', '.join(p.stem for p in scripts)})")
        scripts = [p for p in scripts if p.stem in wanted]
    return scripts


def command(script: Path, *, full: bool) -> list[str]:
    return [sys.executable, str(script), *([] if full else QUICK.get(script.stem, []))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="each benchmark's own defaults instead of the quick options")
    ap.add_argument("--only", action="append", metavar="NAME", help="only this benchmark (dedup, bench_search, ...)")
    ap.add_argument("--list", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args(argv)
    results: list[tuple[str, int, float]] = []
    for script in benchmarks(args.only):
        cmd = command(script, full=args.full)
        shown = " ".join([Path(cmd[0]).name, *(Path(c).relative_to(HERE.parent).as_posix() if c == str(script)
                                               else c for c in cmd[1:])])
        if args.list:
            print(shown)
            continue
        print(f"\n=== {script.stem}: {shown}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)      # output goes straight to this terminal
        results.append((script.stem, rc, time.perf_counter() - t0))
    if args.list:
        return 0
    print("\n=== summary")
    for name, rc, seconds in results:
        print(f"{name:<22} {'ok' if rc == 0 else f'FAILED (exit {rc})':<18} {seconds:8.1f}s")
    return 1 if any(rc for _, rc, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
