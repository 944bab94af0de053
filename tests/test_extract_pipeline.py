"""``extract`` / ``extract_page``: pure and deterministic; ``now`` (the fetch time) only bounds dates."""
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from common.clock import LOCAL_TZ
from crawler.extract import extract, extract_page
from crawler.extract.dates import MAX_FUTURE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "extract"
NAMES = sorted(p.name.removesuffix(".html") for p in FIXTURES.glob("*.html"))
PARA = "这是一段足够长的正文内容，用来让分类器和正文抽取把它当作文章页面来处理。" * 4


def page(meta_line: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>区政府召开常务会议_某某区人民政府</title></head><body>"
            f"<h1>区政府召开常务会议</h1><p>{meta_line}</p><div id='zoom'><p>{PARA}</p><p>{PARA}</p></div>"
            f"</body></html>").encode()


def _load(name):
    exp = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return (FIXTURES / f"{name}.html").read_bytes(), exp.get("url")


@pytest.mark.parametrize("name", NAMES)
def test_two_nows_differ_only_where_the_future_bound_bites(name):
    data, url = _load(name)
    free = extract(data, url=url).to_dict()
    assert extract(data, url=url).to_dict() == free                    # no now: the bytes alone decide
    published = datetime.fromisoformat(free["published_at"])
    assert extract(data, url=url, now=published).to_dict() == free    # the bound does not bite
    early_now = published - MAX_FUTURE - timedelta(days=1)
    early = extract(data, url=url, now=early_now).to_dict()          # the bound bites
    assert {k for k in free if free[k] != early[k]} == {"published_at", "flags"}
    assert {k for k in free["flags"] if free["flags"][k] != early["flags"][k]} <= {"date_from"}
    assert early["published_at"] is None or datetime.fromisoformat(early["published_at"]) <= early_now + MAX_FUTURE
    outcome, _, art = extract_page(data, url=url, now=early_now)
    assert outcome == "article" and art.to_dict() == early


def test_fetch_time_rejects_a_labelled_date_after_it():
    data = page("发布时间：2025-06-01 10:00 来源：区政府办")
    fetched = datetime(2025, 6, 10, 8, 0, tzinfo=LOCAL_TZ)
    assert extract(data, now=fetched).published_at == datetime(2025, 6, 1, 10, 0, tzinfo=LOCAL_TZ)
    assert extract(data, now=fetched - timedelta(days=30)).published_at is None
    assert extract(data).published_at == datetime(2025, 6, 1, 10, 0, tzinfo=LOCAL_TZ)
    naive_utc = datetime(2025, 5, 30, 2, 0)                      # 10:00 Shanghai, 2 days before: within MAX_FUTURE
    assert extract(data, now=naive_utc).published_at == datetime(2025, 6, 1, 10, 0, tzinfo=LOCAL_TZ)


#: reading the wall clock in any form
CLOCK_RE = re.compile(r"datetime\.now|\.utcnow\(|\butcnow\b|date\.today|\btime\.time\(|\btime\.monotonic|"
                      r"\bimport time\b|from time import|\b_now\(")


def test_no_wall_clock_in_extraction():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for p in sorted((ROOT / "crawler" / "extract").rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if CLOCK_RE.search(line)]
    assert not hits, "\n".join(hits)


def test_one_html_parser_helper():
    """Only crawler/extract/html.py turns text into an lxml tree in extraction and discovery."""
    parse_re = re.compile(r"document_fromstring|lxml\.html\.fromstring|html\.fromstring|HTMLParser\(")
    hits = [f"{p.relative_to(ROOT)}:{i}"
            for area in ("crawler/extract", "crawler/discovery")
            for p in sorted((ROOT / area).rglob("*.py")) if p != ROOT / "crawler/extract/html.py"
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if parse_re.search(line)]
    assert not hits, hits
