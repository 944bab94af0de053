from datetime import UTC, datetime, timedelta

import pytest

from common.clock import LOCAL_TZ as TZ
from crawler.extract.dates import (
    MAX_FUTURE,
    MAX_YEAR,
    date_from_labelled,
    date_from_meta,
    date_from_url,
    find_date,
    is_dateline,
    parse_date,
)

NOW = datetime(2024, 11, 1, 12, 0, tzinfo=TZ)


@pytest.mark.parametrize("text,expected", [
    ("2021年10月29日 09:19", datetime(2021, 10, 29, 9, 19, tzinfo=TZ)),
    ("2021-10-29", datetime(2021, 10, 29, tzinfo=TZ)),
    ("2021/10/29", datetime(2021, 10, 29, tzinfo=TZ)),
    ("2021.10.29", datetime(2021, 10, 29, tzinfo=TZ)),
    ("发布时间：2021-10-29 09:19:05", datetime(2021, 10, 29, 9, 19, 5, tzinfo=TZ)),
    ("2023-05-06T00:00:00Z", datetime(2023, 5, 6, 8, 0, tzinfo=TZ)),
    ("9/17/2004 5:54:13 AM", datetime(2004, 9, 17, 5, 54, 13, tzinfo=TZ)),
])
def test_parse_date(text, expected):
    got = parse_date(text, now=NOW)
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize("text", ["2021", "2021年10月", "Copyright © 2005-2024 版权所有", "2030-01-01", "1900-01-02",
                                  "2021-13-45"])
def test_never_invented(text):
    assert parse_date(text, now=NOW) is None


def test_labelled_lines():
    lines = ["首页 > 新闻", "发稿时间:2021-10-29 09:19   来源: 綿陽日報"]
    assert date_from_labelled(lines, now=NOW) == datetime(2021, 10, 29, 9, 19, tzinfo=TZ)
    assert date_from_labelled(["日期:2021-10-09 点击:次"], now=NOW).day == 9
    assert date_from_labelled(["发布日期 2024年10月24日"], now=NOW).month == 10


def test_meta():
    assert date_from_meta({"pubdate": "2021-10-29 09:19"}, now=NOW).hour == 9
    assert date_from_meta({"keywords": "2021-10-29"}, now=NOW) is None


@pytest.mark.parametrize("url,day", [
    ("http://www.gov.cn/xw/202110/t20211029_123.html", (2021, 10, 29)),
    ("http://www.zj.gov.cn/art/2024/10/24/art_1_2.html", (2024, 10, 24)),
    ("http://www.gov.cn/xinwen/content_2024-10/24/content_1.htm", (2024, 10, 24)),
    ("http://www.news.cn/2024-10/24/c_1.htm", (2024, 10, 24)),
])
def test_url(url, day):
    got = date_from_url(url, now=NOW)
    assert (got.year, got.month, got.day) == day


def test_month_only_url_is_no_date_but_checks_candidates():
    url = "http://www.gov.cn/xw/202110/index_1.html"
    assert date_from_url(url, now=NOW) is None
    lines = ["今天是2024年11月1日", "2021年10月29日"]
    got, how = find_date({}, lines, url, now=NOW)
    assert got.date().isoformat() == "2021-10-29" and how == "dateline"


def test_find_date_order_and_datelines():
    got, how = find_date({"pubdate": "2020-01-02"}, ["发布时间：2021-10-29"], None, now=NOW)
    assert how == "meta" and got.year == 2020
    assert find_date({}, [], None, ["一段正文，没有日期。"], now=NOW) == (None, None)
    assert is_dateline("2004-12-10 11:55:08") and not is_dateline("12/01/2004 - 01/01/2005")
    got, how = find_date({}, [], None, ["12/01/2004 - 01/01/2005", "2005-06-14 03:25:55"], now=NOW)
    assert got.date().isoformat() == "2005-06-14"


def test_future_bound_only_with_now():
    """``now`` (the fetch time) rejects dates more than MAX_FUTURE after it; without ``now`` only the fixed
    year range applies, so the result never depends on when the code runs."""
    assert parse_date("2030-01-01", now=NOW) is None
    assert parse_date("2030-01-01") == datetime(2030, 1, 1, tzinfo=TZ)
    assert parse_date("2030-01-01T00:00:00Z") == datetime(2030, 1, 1, 8, tzinfo=TZ)
    assert parse_date(f"{MAX_YEAR}-12-31") is not None
    assert parse_date("9999-12-31T23:00:00-05:00") is None     # beyond MAX_YEAR (and no OverflowError)
    assert parse_date("1989-12-31") is None


def test_future_bound_is_max_future_after_now():
    edge = NOW + MAX_FUTURE
    assert parse_date(edge.strftime("%Y-%m-%d %H:%M"), now=NOW) == edge
    assert parse_date((edge + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"), now=NOW) is None


def test_naive_now_is_read_as_utc():
    naive = datetime(2024, 11, 1, 4, 0)               # 12:00 in Shanghai, as SQLite may hand back fetched_at
    assert naive.replace(tzinfo=UTC) == NOW
    text = (NOW + MAX_FUTURE).strftime("%Y-%m-%d %H:%M")
    assert parse_date(text, now=naive) == parse_date(text, now=NOW) is not None
    assert find_date({}, ["2024-11-04 09:00"], None, now=naive) == (None, None)


def test_find_date_passes_now_to_every_source():
    url = "http://www.gov.cn/xw/202501/t20250105_1.html"
    assert find_date({}, [], url, now=NOW) == (None, None)
    got, how = find_date({}, [], url)
    assert how == "url" and got.date().isoformat() == "2025-01-05"
    got, how = find_date({"pubdate": "2025-01-05"}, ["发布时间：2021-10-29"], None, now=NOW)
    assert how == "label" and got.year == 2021
