"""Every ```sql block of docs/SQL.md runs on SQLite and PostgreSQL (``sql sqlite`` / ``sql postgresql``: one only)."""
from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import make_engine

DOC = Path(__file__).resolve().parent.parent / "docs" / "SQL.md"
_BLOCK = re.compile(r"^```sql([^\n]*)\n(.*?)^```", re.S | re.M)


def sql_blocks() -> list[tuple[str | None, str]]:
    out = []
    for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        tag = m.group(1).strip() or None
        assert tag in (None, "sqlite", "postgresql"), tag
        out.append((tag, m.group(2).strip()))
    return out


def test_doc_has_examples_and_benchmark():
    blocks = sql_blocks()
    assert len(blocks) >= 8
    assert sum(1 for tag, _ in blocks if tag is None) >= 6   # portable examples
    doc = DOC.read_text(encoding="utf-8")
    assert "## Benchmark" in doc and "bench_search.py" in doc
    for view in ("article_view", "site_daily_counts", "site_latest_crawl"):
        assert f"`{view}`" in doc


@pytest.fixture
def filled(archive, db_url):
    from datetime import datetime

    from storage import runs

    archive.ensure_site("demo", "示范县")
    for i, (title, body) in enumerate([
        ("营商环境持续优化", "绵阳市持续优化营商环境，推动高质量发展，各项指标全面提升。"),
        ("科技城新区召开会议", "科技城新区召开会议，部署乡村振兴工作，要求各部门狠抓落实。"),
    ]):
        archive.store_article("demo", f"http://127.0.0.1/a/{i}.html", {
            "title": title, "body": body, "source": "绵阳日报",
            "published_at": datetime(2024, 10, 10 + i, 2, 0, tzinfo=UTC)})
    archive.store_article("demo", "http://127.0.0.1/copy.html",
                          {"title": "营商环境持续优化", "body": "绵阳市持续优化营商环境，推动高质量发展，各项指标全面提升。"})
    # issue 16: a 信息公开 document with an attachment (docs/SQL.md queries by issuer, 文号, 有效性)
    from datetime import date

    from storage.attachments import link, record_fetch
    doc = archive.store_article("demo", "http://127.0.0.1/art/2024/3/1/art_1_1.html", {
        "title": "关于印发丽水市城市管理办法的通知", "body": "现将《丽水市城市管理办法》印发给你们，请认真贯彻执行。",
        "issuer": "示范县人民政府办公室", "doc_number": "丽政发〔2023〕30号", "written_at": date(2024, 3, 1),
        "validity": "有效", "index_no": "113325/2024-1"})
    link(archive.engine, doc.article_id, "demo", [{"url": "http://127.0.0.1/files/a.pdf", "name": "办法.pdf"}])
    record_fetch(archive.engine, "http://127.0.0.1/files/a.pdf", outcome="ok", data=b"%PDF-1.4 x",
                 content_type="application/pdf", site="demo")
    # ... which changed since (attachment_versions, migration 0009)
    record_fetch(archive.engine, "http://127.0.0.1/files/a.pdf", outcome="ok", data=b"%PDF-1.4 x, revised",
                 content_type="application/pdf", site="demo")
    rid = runs.start_run(db_url, "demo")
    runs.finish_run(db_url, rid, "failed", exit_code=2)
    return db_url


@pytest.mark.parametrize("index", range(len(sql_blocks())))
def test_sql_block_runs(filled, index):
    tag, sql = sql_blocks()[index]
    dialect = "sqlite" if filled.startswith("sqlite") else "postgresql"
    if tag and tag != dialect:
        pytest.skip(f"block for {tag}")
    eng = make_engine(filled)
    try:
        with eng.connect() as c:
            rows = c.execute(text(sql)).all()
    finally:
        eng.dispose()
    assert rows, f"no rows from:\n{sql}"
