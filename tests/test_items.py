"""FetchedPage: the one page item (built from a response or a failure) and its dead-letter record."""
import json
from datetime import UTC, datetime

import pytest
from itemadapter import is_item
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.deadletter import decode_item, encode_item
from crawler.extract.article import Article
from crawler.items import FetchedPage

NOW = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)


def test_from_response_takes_everything_the_archive_keeps():
    req = Request("http://gov.example.cn/a.html")
    resp = HtmlResponse("http://gov.example.cn/b.html", status=200, request=req, body="正文".encode("gbk"),
                        headers={"Content-Type": "text/html; charset=gbk", "ETag": '"x"'})
    page = FetchedPage.from_response(resp, "article", site="t", now=NOW, link_text="标题")
    assert (page.kind, page.site, page.url, page.request_url) == ("article", "t", resp.url, req.url)
    assert (page.status, page.charset, page.fetched_at, page.link_text) == (200, "gbk", NOW, "标题")
    assert page.headers == {"Content-Type": "text/html; charset=gbk", "Etag": '"x"'}
    assert page.body == "正文".encode("gbk") and page.outcome is None
    assert "body" not in repr(page)          # Scrapy logs items: no raw bytes in the log
    assert is_item(page)                     # Scrapy accepts it as an item (itemadapter)


def test_from_response_defaults_to_the_current_time():
    resp = HtmlResponse("http://gov.example.cn/", body=b"")
    page = FetchedPage.from_response(resp, "list", site="t")
    assert page.fetched_at.tzinfo is not None and page.request_url == resp.url


def test_failure_factory():
    page = FetchedPage.failure("t", "http://a/1", "redirect_loop", headers={"Location": "http://a/2"},
                               request_kind="article", now=NOW)
    assert (page.kind, page.url, page.request_url, page.reason, page.request_kind) == \
        ("failed", "http://a/1", "http://a/1", "redirect_loop", "article")
    assert (page.status, page.body, page.headers, page.fetched_at) == (None, b"", {"Location": "http://a/2"}, NOW)
    refused = FetchedPage.failure("t", "http://a/3", "robots_disallowed", kind="refused", now=NOW)
    assert refused.kind == "refused"
    with pytest.raises(ValueError, match="kind"):
        FetchedPage.failure("t", "http://a/4", "x", kind="article")


def test_record_round_trip_leaves_out_derived_fields():
    page = FetchedPage(kind="article", site="t", url="http://a/1", request_url="http://a/0", status=200,
                       headers={"Content-Type": "text/html"}, body=b"<html>\xff</html>", charset="utf-8",
                       fetched_at=NOW, link_text="标题", list_url="http://a/", outcome="article",
                       article=Article(title="x"), page_id=7, store_outcome="new", article_id=3,
                       deadletter="/tmp/x.jsonl")
    record = page.to_record()
    assert json.loads(json.dumps(record)) == record
    assert not {"article", "body", "store_outcome", "article_id", "deadletter"} & set(record)
    assert record["fetched_at"] == NOW.isoformat() and record["page_id"] == 7
    back = FetchedPage.from_record(record, body=page.body)
    assert back == FetchedPage(**{**page.__dict__, "article": None, "store_outcome": None, "article_id": None,
                                  "deadletter": None})


def test_letters_written_as_plain_dicts_still_read():
    """A letter from before FetchedPage: the spider's item dict, with its ``hints`` and bytes as b64."""
    old = {"item": {"kind": "article", "site": "demo", "url": "http://a/1", "request_url": "http://a/1",
                    "status": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "charset": "utf-8",
                    "fetched_at": "2024-05-01T08:30:00+00:00", "link_text": "x", "list_url": None,
                    "hints": {"body_selector": "div.x"}, "outcome": "article", "page_id": None,
                    "extra_bytes": {"b64": "AAE="}},
           "body_b64": "PGh0bWw+PC9odG1sPg=="}
    page = decode_item(old)
    assert isinstance(page, FetchedPage) and page.body == b"<html></html>" and page.fetched_at == NOW
    assert (page.kind, page.site, page.charset, page.link_text) == ("article", "demo", "utf-8", "x")
    assert not hasattr(page, "hints")
    assert encode_item(page)["url"] == "http://a/1"


def test_a_record_without_its_url_is_refused():
    with pytest.raises(TypeError):
        FetchedPage.from_record({"kind": "list", "site": "t"})
