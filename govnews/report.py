"""``govnews report``: the crawl-health page (``/health`` of the web view) as one static HTML file
(stylesheet and SVG charts inline, no links that need the server, nothing loaded from outside)."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from govnews.feeds import write_atomic
from govnews.web.app import render_health

__all__ = ["build_report", "write_report"]


def build_report(engine: Engine, *, profiles: list | None = None, now: datetime | None = None,
                 deadletter_dir: Any = None) -> str:
    return render_health(engine, profiles=profiles, now=now, deadletter_dir=deadletter_dir, static=True)


def write_report(engine: Engine, path: str | os.PathLike, **kwargs: Any) -> None:
    """Write the report to ``path`` atomically (temporary file + rename)."""
    write_atomic(path, build_report(engine, **kwargs).encode("utf-8"))
