"""The summary ``make demo`` prints after crawling the demo site: what was archived, and how to query it."""
from __future__ import annotations

import sys

from govnews.dates import show_local

EXAMPLE_QUERY = (
    "SELECT substr(published_at_local, 1, 16) AS published, section, title, source\n"
    "  FROM article_view ORDER BY published_at DESC LIMIT 5;"
)
SAMPLE_TITLES = 8


def summary(db_url: str) -> str:
    from sqlalchemy import func, select

    from storage.db import make_engine
    from storage.models import Article, Page, Sighting

    engine = make_engine(db_url)
    lines = []
    with engine.connect() as conn:
        n_articles = conn.scalar(select(func.count(Article.id)))
        n_sightings = conn.scalar(select(func.count(Sighting.id)))
        outcomes = conn.execute(select(Page.outcome, func.count()).group_by(Page.outcome)).all()
        per_column = conn.execute(select(func.coalesce(Article.column, "(no column)"), func.count())
                                  .group_by(Article.column).order_by(func.count().desc())).all()
        sample = conn.execute(select(Article.published_at, Article.title, Article.flags)
                              .order_by(Article.published_at.desc()).limit(SAMPLE_TITLES)).all()
    lines.append(f"Archived {n_articles} articles seen at {n_sightings} URLs "
                 f"(pages fetched: {', '.join(f'{o} {n}' for o, n in sorted(outcomes))}).")
    lines.append("\nArticles per section:")
    lines += [f"  {n:>4}  {col}" for col, n in per_column]
    lines.append("\nLatest articles:")
    for when, title, flags in sample:
        day = show_local(when) if when else "(no date)"
        mark = "  [spam title replaced]" if (flags or {}).get("spam_title") else ""
        lines.append(f"  {day}  {title}{mark}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    db_url, db_path = argv[1], argv[2]
    print(summary(db_url))
    print("\nTry it yourself:")
    print(f"  sqlite3 {db_path} \"{' '.join(EXAMPLE_QUERY.split())}\"")
    print("  govnews search 科技城新区        # full-text search, simplified or traditional query")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
