"""What a crawl's Scrapy stats say for its ``crawl_runs`` row: one function for the local run
extension and the distributed one, so their counters and failure keys never diverge."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: ``crawl_runs`` column -> the Scrapy stats key it is read from
COUNTER_STATS = {
    "requests": "downloader/request_count",
    "pages": "item_scraped_count",
    "new_articles": "govnews/articles/new",
    "duplicates": "govnews/articles/duplicate",
    "revisions": "govnews/articles/revision",
    "bytes": "govnews/bytes",
}
#: page outcomes that count as failures of the crawl
FAILED_OUTCOMES = ("failed", "blocked", "binary", "empty", "soft404")


def counters_from_stats(stats: Mapping[str, Any]) -> dict[str, int]:
    """``{"requests": .., "pages": .., "new_articles": .., ...}`` from a stats dict."""
    return {name: int(stats.get(key, 0) or 0) for name, key in COUNTER_STATS.items()}


def failures_from_stats(stats: Mapping[str, Any]) -> dict[str, int]:
    """``crawl_runs.failures``: failed requests by reason (``govnews/failed/<reason>``), failed page
    outcomes (``outcome_<outcome>``), what the crawl refused (``refused_<why>``: traps, budget,
    private hosts) and pages kept aside as dead letters (``deadlettered``)."""
    failures: dict[str, int] = {}
    for key, value in stats.items():
        if key.startswith("govnews/failed/"):
            failures[key.split("/", 2)[2]] = int(value)
        elif key.startswith("govnews/outcome/") and key.rsplit("/", 1)[1] in FAILED_OUTCOMES:
            failures["outcome_" + key.rsplit("/", 1)[1]] = int(value)
        elif key.startswith("govnews/refused/"):
            failures["refused_" + key.split("/", 2)[2]] = int(value)
        elif key == "govnews/deadletter/written":
            failures["deadlettered"] = int(value)
    return failures


def skipped_from_stats(stats: Mapping[str, Any]) -> dict[str, Any]:
    """``crawl_runs.skipped``: list pages that produced no article link and the most common
    unclassified link shapes with an example each (set by the spider at its close, issue 13)."""
    shapes = stats.get("govnews/discovery/unclassified") or []
    return {"lists_without_articles": int(stats.get("govnews/discovery/lists_without_articles", 0) or 0),
            "unclassified": [dict(s) for s in shapes if isinstance(s, Mapping)][:10],
            "templates": int(stats.get("govnews/discovery/templates", 0) or 0)}
