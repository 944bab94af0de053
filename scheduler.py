#!/usr/bin/env python3
"""Crawl scheduler daemon: ``python scheduler.py [--sites DIR] [--db URL] ...``.

The same command as ``govnews schedule`` (``govnews.commands.schedule``), under another name: one
job per site profile (cron ``schedule`` or ``interval_seconds``), each run a ``scrapy crawl``
subprocess recorded in ``crawl_runs``. SIGHUP re-reads profiles; SIGTERM/SIGINT stop cleanly.
"""
from govnews.commands.schedule import schedule_cmd

if __name__ == "__main__":
    schedule_cmd(prog_name="scheduler.py")
