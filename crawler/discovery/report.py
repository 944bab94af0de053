"""What discovery skipped in a crawl: list pages that produced no article link and the most common
unclassified on-site link shapes (URL templates) with an example each. The spider fills a
:class:`SkipReport` page by page and puts it into the stats at the end
(``govnews/discovery/lists_without_articles``, ``govnews/discovery/unclassified``);
:func:`crawler.runstats.skipped_from_stats` turns those into the ``crawl_runs.skipped`` value."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_SHAPES", "STATS_LISTS", "STATS_UNCLASSIFIED", "SkipReport"]

STATS_LISTS = "govnews/discovery/lists_without_articles"
STATS_UNCLASSIFIED = "govnews/discovery/unclassified"
MAX_SHAPES = 10
MAX_TRACKED = 5000


@dataclass
class SkipReport:
    lists_without_articles: int = 0
    shapes: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def observe(self, page: Any) -> None:
        """Count one analysed list page (:class:`crawler.discovery.analyze.PageAnalysis`)."""
        if page.outcome != "data" and not page.articles:
            self.lists_without_articles += 1
        for d in page.links:
            if d.kind != "other":
                continue
            if d.template not in self.shapes and len(self.shapes) >= MAX_TRACKED:
                continue
            self.shapes[d.template] += 1
            self.examples.setdefault(d.template, d.url)

    def top(self, n: int = MAX_SHAPES) -> list[dict[str, Any]]:
        return [{"shape": t, "count": c, "example": self.examples.get(t, "")} for t, c in self.shapes.most_common(n)]

    def summary(self) -> str:
        shapes = "; ".join(f"{s['shape']} x{s['count']} (e.g. {s['example']})" for s in self.top(5)) or "none"
        return (f"discovery skipped: {self.lists_without_articles} list pages without article links; "
                f"unclassified link shapes: {shapes}")
