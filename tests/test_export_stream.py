"""`govnews export` streams: memory does not grow with the number of articles (both backends)."""
from __future__ import annotations

import gc
import hashlib
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from govnews.commands.export import article_rows, as_record
from storage.db import make_engine

BODY = "绵阳市持续优化营商环境，推动高质量发展，各项指标全面提升。" * 40  # ~1.2k characters


def _fill(url: str, n: int) -> None:
    eng = make_engine(url)
    pg = eng.dialect.name == "postgresql"
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with eng.begin() as c:
        c.execute(text("INSERT INTO sites (id, name, title, allowed_domains, created_at) "
                       "VALUES (1, 'demo', '示范', '[]', :t)"), {"t": t0 if pg else t0.replace(tzinfo=None)})
        rows = []
        for i in range(1, n + 1):
            ts = t0 + timedelta(minutes=i)
            rows.append({"id": i, "url": f"http://x.gov.cn/{i}.html", "title": f"第{i}篇", "body": f"{i}{BODY}",
                         "h": hashlib.sha256(str(i).encode()).hexdigest(),
                         "ts": ts if pg else ts.replace(tzinfo=None)})
        c.execute(text("INSERT INTO articles (id, site_id, url, title, title_simplified, body, body_simplified, "
                       "content_hash, flags, images, published_at, first_seen, updated_at) VALUES "
                       "(:id, 1, :url, :title, :title, :body, :body, :h, '{}', '[]', :ts, :ts, :ts)"), rows)
    eng.dispose()


def _peak_export(url: str, limit: int) -> tuple[int, int]:
    """(articles written, peak traced bytes) exporting the first ``limit`` articles as JSONL."""
    eng = make_engine(url)
    out = io.StringIO()
    gc.collect()
    tracemalloc.start()
    n = 0
    try:
        for art, site in article_rows(eng):
            out.write(json.dumps(as_record(art, site), ensure_ascii=False) + "\n")
            out.seek(0)
            out.truncate()  # the sink keeps nothing: only the exporter's memory is measured
            n += 1
            if n >= limit:
                break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        eng.dispose()
    return n, peak


def test_export_memory_stays_flat(db_url):
    _fill(db_url, 4000)
    n_small, peak_small = _peak_export(db_url, 1000)
    n_big, peak_big = _peak_export(db_url, 4000)
    assert (n_small, n_big) == (1000, 4000)
    # 4x the articles (~20 MB of text) must not mean 4x the memory: one batch is held at a time
    assert peak_big < peak_small * 1.5 + 2_000_000, (peak_small, peak_big)
