"""Enumerated values stored in the archive; each is a named CHECK constraint (migration 0003).

``StrEnum`` members compare equal to their strings, so ``outcome == "article"`` and SQL
``WHERE outcome = 'article'`` keep working; new values need a migration that widens the constraint.
"""
from __future__ import annotations

from enum import StrEnum


class PageOutcome(StrEnum):
    """What a fetched page (a ``pages`` row) turned out to be."""

    ARTICLE = "article"          # archived as a new article
    DUPLICATE = "duplicate"      # an article page whose text the archive already holds
    REVISION = "revision"        # an article page whose text is a near-duplicate (a new revision)
    LIST = "list"                # a column / list page (links followed)
    FEED = "feed"                # RSS / Atom
    SITEMAP = "sitemap"
    NOT_ARTICLE = "not_article"  # an HTML page with no article in it
    BLOCKED = "blocked"          # a WAF / JavaScript challenge
    BINARY = "binary"            # not HTML
    EMPTY = "empty"              # no body
    SOFT404 = "soft404"          # "page not found" served with 200
    FAILED = "failed"            # fetched (or tried) and failed; ``reason`` says why
    REFUSED = "refused"          # not fetched on purpose (robots.txt, trap, budget); ``reason`` says why


class RunStatus(StrEnum):
    """The status of a ``crawl_runs`` row."""

    RUNNING = "running"
    OK = "ok"                    # pages were fetched and processed
    EMPTY = "empty"              # the crawl worked but found nothing to archive
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # SIGTERM / Ctrl-C / killed
    TIMEOUT = "timeout"          # the time limit ended it
    LOCKED = "locked"            # another process was crawling the site


class Trigger(StrEnum):
    """What started a crawl."""

    SCHEDULE = "schedule"        # the daemon's cron job
    MANUAL = "manual"            # ``govnews crawl`` / ``scrapy crawl``
    DUE = "due"                  # ``govnews crawl --due``
    WORKER = "worker"            # distributed mode


FINAL_STATUSES = frozenset(RunStatus) - {RunStatus.RUNNING}


def sql_in(enum: type[StrEnum]) -> str:
    """``'a', 'b', ...``: the values of ``enum`` for a CHECK constraint."""
    return ", ".join(f"'{member.value}'" for member in enum)
