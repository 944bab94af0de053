#!/usr/bin/env python3
"""Crawl scheduler daemon: ``python scheduler.py [--sites DIR] [--db URL]``.

One job per site profile (cron ``schedule`` or ``interval_seconds``), each run a ``scrapy crawl``
subprocess recorded in ``crawl_runs``. SIGHUP re-reads profiles; SIGTERM/SIGINT stop cleanly.
The code lives in ``govnews.scheduling``; ``govnews schedule`` is the same command.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from govnews.scheduling import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
