"""Retry-After: header parsing with an injected clock, and the per-slot hold kept by the middleware
itself (no downloader slots), with an injected clock and sleep."""
import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.downloadermiddlewares.retry_after import RetryAfterMiddleware, parse_retry_after, slot_key

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_parse_retry_after_delta_seconds():
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("0") == 0.0


def test_parse_retry_after_http_date_with_injected_now():
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)       # "Wed, 01 May 2024 12:01:30 GMT"
    assert parse_retry_after(later, now=NOW.timestamp()) == 90.0
    assert parse_retry_after(later.encode(), now=NOW.timestamp()) == 90.0
    earlier = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier, now=NOW.timestamp()) == 0.0        # in the past: no wait
    naive = "Wed, 01 May 2024 12:00:30"                                      # no zone: read as UTC
    assert parse_retry_after(naive, now=NOW.timestamp()) == 30.0


def test_parse_retry_after_garbage():
    for value in (None, b"", "   ", "soon", "-5", "1e3", "Wed, 32 Foo 2024", b"\xff\xfe"):
        assert parse_retry_after(value, now=NOW.timestamp()) is None, value


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def middleware(clock, **settings):
    crawler = get_crawler(settings_dict={"RETRY_TIMES": 2, **settings})
    crawler.spider = Spider.from_crawler(crawler, name="t")
    return RetryAfterMiddleware(crawler, 120.0, clock=clock, sleep=clock.sleep)


def test_retry_after_holds_back_the_slot_not_the_other_hosts():
    clock = Clock()
    mw = middleware(clock)
    request = Request("http://a.gov.cn/t1.html")
    retry = mw.process_response(request, Response(request.url, status=429, headers={"Retry-After": "30"}))
    assert isinstance(retry, Request) and retry.url == request.url and retry.meta["retry_times"] == 1
    assert mw.crawler.stats.get_value("govnews/retry_after/waits") == 1
    asyncio.run(mw.process_request(Request("http://b.gov.cn/x.html")))      # another slot: no wait
    assert clock.slept == []
    clock.now += 10
    asyncio.run(mw.process_request(retry))                                 # the retry waits the rest
    assert clock.slept == [20.0]
    asyncio.run(mw.process_request(Request("http://a.gov.cn/t2.html")))     # the hold is over
    assert clock.slept == [20.0] and "a.gov.cn" not in mw.not_before


def test_retry_after_is_bounded_and_uses_the_download_slot_meta():
    clock = Clock()
    mw = middleware(clock)
    request = Request("http://a.gov.cn/t1.html", meta={"download_slot": "gov-slot"})
    assert slot_key(request) == "gov-slot"
    mw.process_response(request, Response(request.url, status=503, headers={"Retry-After": "3600"}))
    assert mw.not_before["gov-slot"] == clock.now + 120.0
    assert mw.crawler.stats.get_value("govnews/retry_after/bounded") == 1
    asyncio.run(mw.process_request(Request("http://c.gov.cn/", meta={"download_slot": "gov-slot"})))
    assert clock.slept == [120.0]


def test_other_statuses_missing_header_and_used_up_retries_are_left_alone():
    clock = Clock()
    mw = middleware(clock)
    request = Request("http://a.gov.cn/t1.html")
    plain_503 = Response(request.url, status=503)
    assert mw.process_response(request, plain_503) is plain_503
    ok = Response(request.url, status=200, headers={"Retry-After": "5"})
    assert mw.process_response(request, ok) is ok
    spent = Request(request.url, meta={"retry_times": 2})
    last = Response(request.url, status=429, headers={"Retry-After": "5"})
    assert mw.process_response(spent, last) is last
    assert mw.not_before == {}
