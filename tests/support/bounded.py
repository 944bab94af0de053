"""Run one call in a forked child under a wall-clock bound and measure its memory (issue 17 tests).

``bounded(fn, *args)`` forks, runs ``fn`` in the child and returns :class:`Run` (the result's
``describe`` string, seconds, resident-memory growth in MB). A call still running after ``hang``
seconds is killed and reported as a hang, so a regression to a super-linear path fails the test
instead of stalling the suite. The child's memory is its peak resident size (``VmHWM``) minus its
resident size when it started (what it inherited from the test process).
"""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024


@dataclass
class Run:
    outcome: str
    seconds: float
    memory_mb: float


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _child(conn: Any, fn: Callable[..., Any], args: tuple, describe: Callable[[Any], str]) -> None:
    start_rss = _status_kb("VmRSS")
    t = time.perf_counter()
    try:
        out = describe(fn(*args))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as the outcome
        out = f"raised {type(exc).__name__}: {str(exc)[:200]}"
    elapsed = time.perf_counter() - t
    conn.send((out, elapsed, (_status_kb("VmHWM") - start_rss) / 1024))
    conn.close()


def bounded(fn: Callable[..., Any], *args: Any, describe: Callable[[Any], str] = repr, hang: float = 120.0) -> Run:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, describe), daemon=True)
    t = time.perf_counter()
    proc.start()
    child.close()
    if parent.poll(hang):
        outcome, seconds, memory = parent.recv()
        proc.join(10)
        return Run(outcome, seconds, memory)
    proc.kill()
    proc.join()
    return Run(f"hang: killed after {time.perf_counter() - t:.0f} s", float("inf"), float("nan"))


def limits(size_bytes: int) -> tuple[float, float]:
    """(seconds, MB) allowed for an input of ``size_bytes``: 5 s and 500 MB per MB of input, at least
    5 s / 500 MB (generous: they catch a hang or a blow-up, they do not benchmark)."""
    mb = max(1.0, size_bytes / MB)
    return 5.0 * mb, 500.0 * mb
