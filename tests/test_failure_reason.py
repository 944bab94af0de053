"""failure_reason (crawler/spiders/gov_news.py) with Scrapy's and Twisted's real exception classes,
and with what the crawl's own components raise."""
import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.resolver import PrivateAddressRefused
from crawler.spiders.gov_news import failure_reason


def reason(exc):
    return failure_reason(Failure(exc))


@pytest.mark.parametrize("exc,expected", [
    (DownloadTimeoutError("took longer than 30 seconds"), "timeout"),
    (ResponseDataLossError("Got data loss"), "truncated"),
    (DownloadConnectionRefusedError("refused"), "connection_refused"),
    (CannotResolveHostError("no results for hostname lookup: nx.gov.cn"), "dns"),
    (DownloadFailedError("connection lost"), "connection_lost"),
    (DownloadCancelledError("Cancelling download: size (25000000) larger than download max size"), "too_large"),
    (tx.TimeoutError(), "timeout"),
    (tx.TCPTimedOutError(), "timeout"),
    (tx.DNSLookupError("nx"), "dns"),
    (tx.ConnectionRefusedError(), "connection_refused"),
    (tx.ConnectionLost(), "connection_lost"),
    (tx.ConnectionDone(), "connection_lost"),
    (ResponseNeverReceived([Failure(tx.ConnectionLost())]), "connection_lost"),
    (PrivateAddressRefused("intranet.gov.cn resolves to 10.0.0.8"), "private_address"),
])
def test_download_errors(exc, expected):
    assert reason(exc) == expected


def test_http_errors_and_refusals():
    assert reason(HttpError(Response("http://a.cn/x", status=404), "Ignoring non-200 response")) == "http_404"
    assert reason(IgnoreRequest("Forbidden by robots.txt")) == "robots_disallowed"
    assert reason(IgnoreRequest("refused private/loopback address for host 'localhost' (loopback name): "
                                "http://localhost/")) == "private_address"
    assert reason(IgnoreRequest("something else")) == "ignored"
