"""Canonical URLs (storage.urls.canonical_url)."""
import pytest

from storage.urls import canonical_url

CASES = [
    ("HTTP://WWW.Example.GOV.cn:80/a/b.html", "http://www.example.gov.cn/a/b.html"),
    ("https://x.gov.cn:443/", "https://x.gov.cn/"),
    ("http://x.gov.cn:8080/a", "http://x.gov.cn:8080/a"),
    ("http://x.gov.cn", "http://x.gov.cn/"),
    ("http://x.gov.cn./a", "http://x.gov.cn/a"),
    ("http://x.gov.cn/a/./b/../c.html", "http://x.gov.cn/a/c.html"),
    ("http://x.gov.cn/a.html#section2", "http://x.gov.cn/a.html"),
    ("http://x.gov.cn/a?b=2&a=1", "http://x.gov.cn/a?a=1&b=2"),
    ("http://x.gov.cn/a?utm_source=wx&utm_medium=s&id=5", "http://x.gov.cn/a?id=5"),
    ("http://x.gov.cn/art/1.html;jsessionid=0A1B2C3D4E5F", "http://x.gov.cn/art/1.html"),
    ("http://x.gov.cn/a.jsp;JSESSIONID=abc?id=1", "http://x.gov.cn/a.jsp?id=1"),
    ("http://x.gov.cn/a?PHPSESSID=r2t5uvjq435r4q7ib3vtdjq120&id=1", "http://x.gov.cn/a?id=1"),
    ("http://x.gov.cn/a?jsessionid=X&spm=a2c4g.11186623&from=timeline&isappinstalled=0", "http://x.gov.cn/a"),
    ("http://x.gov.cn/a?sid=3", "http://x.gov.cn/a?sid=3"),  # short sid: a site/section id
    ("http://x.gov.cn/a?sid=9f8e7d6c5b4a39281706&p=2", "http://x.gov.cn/a?p=2"),  # session token
    ("http://x.gov.cn/a?", "http://x.gov.cn/a"),
    ("http://x.gov.cn/col/index.html", "http://x.gov.cn/col/index.html"),  # kept: see docstring
    ("http://x.gov.cn/中文/路径.html?q=中文", "http://x.gov.cn/%E4%B8%AD%E6%96%87/%E8%B7%AF%E5%BE%84.html?q=%E4%B8%AD%E6%96%87"),
    ("http://x.gov.cn/s?q=%D6%D0%CE%C4", "http://x.gov.cn/s?q=%D6%D0%CE%C4"),  # GBK escapes kept
    ("http://x.gov.cn/a%2fb", "http://x.gov.cn/a%2Fb"),
    ("  http://x.gov.cn/a  ", "http://x.gov.cn/a"),
]


@pytest.mark.parametrize("url,expected", CASES)
def test_canonical(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url,_", CASES)
def test_idempotent(url, _):
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_empty():
    assert canonical_url("") == ""
