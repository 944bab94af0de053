"""datasette/metadata.json publishes the articles, not the crawler's internals: no arbitrary SQL;
pages (raw HTML), crawl_runs (hosts, pids, log tails), site_locks, http_validators and the
site_latest_crawl view are hidden and refused; the canned queries still answer."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
METADATA = json.loads((REPO / "datasette" / "metadata.json").read_text(encoding="utf-8"))
PRIVATE = ("pages", "crawl_runs", "site_locks", "http_validators", "site_latest_crawl")


@pytest.fixture
def ds(sqlite_url, tmp_path):
    datasette_app = pytest.importorskip("datasette.app")
    from storage.archive import Archive
    from tests.support.webarchive import fill

    with Archive(sqlite_url) as archive:
        fill(archive, sqlite_url)
    path = tmp_path / "pub" / "archive.db"
    path.parent.mkdir()
    src = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(path)
    src.backup(dst)                      # the WAL included
    dst.close()
    src.close()
    return datasette_app.Datasette(files=[str(path)], metadata=METADATA)


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_arbitrary_sql_is_off(ds):
    r = get(ds, "/archive.json?sql=select+raw+from+pages")
    assert r.status_code == 403
    r = get(ds, "/archive?sql=select+1")
    assert r.status_code == 403


@pytest.mark.parametrize("table", PRIVATE)
def test_crawler_internals_are_hidden_and_refused(ds, table):
    assert METADATA["databases"]["archive"]["tables"][table]["hidden"] is True
    assert get(ds, f"/archive/{table}.json").status_code == 403
    listing = get(ds, "/archive.json").json()
    assert table not in {t["name"] for t in listing.get("tables", []) if not t.get("hidden")}


def test_articles_and_canned_queries_still_answer(ds):
    r = get(ds, "/archive/article_view.json?_shape=array")
    assert r.status_code == 200 and len(r.json()) == 5
    r = get(ds, "/archive/crawl_health.json?_shape=array")
    assert r.status_code == 200 and {row["site"] for row in r.json()} == {"demo"}
    r = get(ds, "/archive/search.json?_shape=array&q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83")
    assert r.status_code == 200 and len(r.json()) == 2
