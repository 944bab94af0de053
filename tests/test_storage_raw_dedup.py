"""Issue 14: a page whose raw bytes equal a stored copy of the same URL adds a fetch record, not
another blob; migration 0005 moves the duplicates an older archive holds."""
from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import select, text

from alembic import command
from storage.db import alembic_config, make_engine, upgrade_db
from storage.models import Page
from tests.test_migrations import _fresh, backends

URL = "http://a.gov.cn/list.html"


def _pages(engine):
    with engine.connect() as conn:
        return conn.execute(select(Page.id, Page.url, Page.raw.is_not(None).label("blob"), Page.raw_page_id,
                                   Page.sha256).order_by(Page.id)).all()


def test_four_identical_fetches_store_one_blob(archive):
    """The reproduction: a non-article page fetched by 4 crawls was stored 4 times."""
    ids = [archive.record_page("demo", URL, status=200, body=b"<html>same</html>", outcome="not_article")
           for _ in range(4)]
    rows = _pages(archive.engine)
    assert [r.id for r in rows] == ids, "every fetch is still a record"
    assert [r.blob for r in rows] == [True, False, False, False]
    assert [r.raw_page_id for r in rows] == [None, ids[0], ids[0], ids[0]]
    assert all(archive.page_body(i) == b"<html>same</html>" for i in ids)
    assert archive.raw_page(ids[3]).body == b"<html>same</html>"


def test_changed_bytes_and_other_urls_get_their_own_blob(archive):
    a = archive.record_page("demo", URL, status=200, body=b"v1", outcome="list")
    b = archive.record_page("demo", URL, status=200, body=b"v2", outcome="list")
    c = archive.record_page("demo", URL + "?x", status=200, body=b"v1", outcome="list")
    d = archive.record_page("demo", URL, status=200, body=b"v1", outcome="list")   # back to v1
    e = archive.record_page("demo", URL, status=None, body=None, outcome="failed", reason="timeout")
    rows = {r.id: r for r in _pages(archive.engine)}
    assert rows[a].blob and rows[b].blob and rows[c].blob
    assert not rows[d].blob and rows[d].raw_page_id == a
    assert not rows[e].blob and rows[e].raw_page_id is None and archive.page_body(e) is None
    assert archive.page_body(d) == b"v1" and archive.page_body(b) == b"v2"


@backends
def test_0005_moves_existing_duplicates_and_downgrade_restores_them(request, backend, tmp_path):
    import hashlib

    url, _ = _fresh(request, backend, tmp_path)
    upgrade_db(url, "0004")
    eng = make_engine(url)
    same, other = zlib.compress(b"same"), zlib.compress(b"other")
    rows = [(1, URL, same, "s"), (2, URL, same, "s"), (3, URL, other, "o"), (4, URL, same, "s"),
            (5, URL + "?b", same, "s")]
    try:
        with eng.begin() as c:
            c.execute(text("INSERT INTO sites (id, name, title, allowed_domains, created_at) "
                           "VALUES (1, 'old', 'Old', '[]', :ts)"), {"ts": datetime(2024, 5, 1)})
            for pid, u, raw, tag in rows:
                c.execute(text("INSERT INTO pages (id, url, site_id, status, headers, fetched_at, codec, raw, "
                               "length, sha256, outcome) VALUES (:id, :u, 1, 200, '{}', :ts, 'zlib', :raw, 4, "
                               ":sha, 'list')"),
                          {"id": pid, "u": u, "raw": raw, "ts": datetime(2024, 5, 1),
                           "sha": hashlib.sha256(tag.encode()).hexdigest()})
    finally:
        eng.dispose()
    upgrade_db(url, "0005")
    eng = make_engine(url)
    try:
        got = {r.id: (r.blob, r.raw_page_id) for r in _pages(eng)}
        assert got == {1: (True, None), 2: (False, 1), 3: (True, None), 4: (False, 1), 5: (True, None)}
        from storage.pages import page_body
        with eng.connect() as c:
            assert page_body(c, 4) == b"same" and page_body(c, 3) == b"other"
    finally:
        eng.dispose()
    command.downgrade(alembic_config(url), "0004")
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM pages WHERE raw IS NULL")) == 0
            assert zlib.decompress(c.scalar(text("SELECT raw FROM pages WHERE id = 4"))) == b"same"
    finally:
        eng.dispose()
    upgrade_db(url)


