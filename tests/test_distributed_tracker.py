"""The lease tracker (crawler/distributed/tracker.py) and its spider middleware
(crawler/distributed/middleware.py): when a leased request may be acknowledged, told by public Scrapy
signals only; the scheduler acknowledging through it (Redis), and no private Scrapy seam anywhere."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from scrapy import Request, signals
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.distributed.middleware import LeaseMiddleware
from crawler.distributed.tracker import LEASE_META, LeaseTracker
from tests.conftest import REPO
from tests.support.crawl import write_profile

pytest_plugins = ["tests.support.redis"]


def _tracker():
    crawler = get_crawler(settings_dict={})
    return crawler, LeaseTracker(crawler)


def _response(request: Request) -> HtmlResponse:
    return HtmlResponse(request.url, body=b"<html></html>", request=request)


def _run_callback(crawler, tracker, response, outputs, *, fail: bool = False):
    """Pass ``outputs`` through the middleware the way the engine consumes a callback's output."""
    mw = LeaseMiddleware(crawler)
    mw.crawler = type("C", (), {"get_extension": staticmethod(lambda cls: tracker)})()

    async def callback():
        for out in outputs:
            yield out
        if fail:
            raise ValueError("callback bug")

    async def consume():
        got = []
        try:
            async for out in mw.process_spider_output(response, callback()):
                got.append(out)
        except ValueError:
            pass
        return got

    return asyncio.run(consume())


def test_a_lease_is_done_when_output_ended_items_left_pipelines_and_followups_were_scheduled():
    crawler, tracker = _tracker()
    leased = Request("http://127.0.0.1:9/list.html")
    token = tracker.lease(leased)
    assert leased.meta[LEASE_META] == token
    response = _response(leased)
    item, follow = {"url": leased.url}, Request("http://127.0.0.1:9/a.html")
    assert not tracker.pop_done(), "downloading"

    assert _run_callback(crawler, tracker, response, [item, follow]) == [item, follow]
    lease = tracker.get(token)
    assert lease is not None and lease.output_done and (lease.items, lease.followups) == (1, 1)
    assert not tracker.pop_done(), "its item is still in the pipelines, its follow-up not yet scheduled"

    crawler.signals.send_catch_log(signals.request_scheduled, request=follow, spider=None)
    assert not tracker.pop_done(), "the item is still in the pipelines"
    crawler.signals.send_catch_log(signals.item_scraped, item=item, response=response, spider=None)
    assert tracker.pop_done() == [token]
    assert len(tracker) == 0


@pytest.mark.parametrize("sig", [signals.item_dropped, signals.item_error])
def test_a_dropped_or_failed_item_has_left_the_pipelines_too(sig):
    crawler, tracker = _tracker()
    leased = Request("http://127.0.0.1:9/a.html")
    token = tracker.lease(leased)
    response = _response(leased)
    _run_callback(crawler, tracker, response, [{"a": 1}, {"a": 2}])
    crawler.signals.send_catch_log(sig, item={"a": 1}, response=response, spider=None, exception=None,
                                   failure=None)
    assert not tracker.pop_done(), "one of two items is still in the pipelines"
    crawler.signals.send_catch_log(sig, item={"a": 2}, response=response, spider=None, exception=None,
                                   failure=None)
    assert tracker.pop_done() == [token]


def test_a_callback_that_raises_has_ended_its_output():
    crawler, tracker = _tracker()
    leased = Request("http://127.0.0.1:9/a.html")
    token = tracker.lease(leased)
    _run_callback(crawler, tracker, _response(leased), [], fail=True)
    assert tracker.pop_done() == [token]


def test_a_spider_error_before_any_output_ends_the_lease():
    crawler, tracker = _tracker()
    leased = Request("http://127.0.0.1:9/a.html")
    token = tracker.lease(leased)
    crawler.signals.send_catch_log(signals.spider_error, failure=Failure(ValueError("x")),
                                   response=_response(leased), spider=None)
    assert tracker.pop_done() == [token]


def test_a_redirect_or_retry_of_the_leased_request_finishes_it_once_scheduled():
    crawler, tracker = _tracker()
    leased = Request("http://127.0.0.1:9/a.html")
    token = tracker.lease(leased)
    redirect = leased.replace(url="http://127.0.0.1:9/b.html")     # what RedirectMiddleware returns
    assert redirect.meta[LEASE_META] == token
    assert not tracker.pop_done()
    crawler.signals.send_catch_log(signals.request_scheduled, request=redirect, spider=None)
    assert tracker.pop_done() == [token]


def test_a_failed_download_waits_for_the_idle_engine():
    """An errback's output passes no spider middleware: its lease is acknowledged only when the
    engine is idle (pop_all), never early; items with a Failure as their response change nothing."""
    crawler, tracker = _tracker()
    leased = Request("http://127.0.0.1:9/a.html")
    token = tracker.lease(leased)
    failure = Failure(ValueError("timeout"))
    failure.request = leased     # what Scrapy sets before calling the errback
    crawler.signals.send_catch_log(signals.item_scraped, item={"failed": 1}, response=failure, spider=None)
    assert not tracker.pop_done()
    assert tracker.pop_all() == [token] and len(tracker) == 0


def test_requests_leased_elsewhere_or_never_are_ignored():
    crawler, tracker = _tracker()
    stranger = Request("http://127.0.0.1:9/x.html", meta={LEASE_META: 99})
    crawler.signals.send_catch_log(signals.request_scheduled, request=stranger, spider=None)
    crawler.signals.send_catch_log(signals.item_scraped, item={}, response=_response(stranger), spider=None)
    _run_callback(crawler, tracker, _response(Request("http://127.0.0.1:9/y.html")), [{"a": 1}])
    assert len(tracker) == 0 and not tracker.pop_done()


def test_the_addon_enables_the_tracker_and_the_middleware_closest_to_the_engine(redis_url):
    from scrapy.utils.misc import load_object

    crawler = get_crawler(settings_dict={"REDIS_URL": redis_url, "ADDONS": {
        "crawler.distributed.addon.DistributedAddon": 0}})
    s = crawler.settings
    exts = {load_object(k) if isinstance(k, str) else k: v for k, v in s.getdict("EXTENSIONS").items()}
    mws = {load_object(k) if isinstance(k, str) else k: v for k, v in s.getdict("SPIDER_MIDDLEWARES").items()}
    assert LeaseTracker in exts and LeaseMiddleware in mws
    base = s.getdict("SPIDER_MIDDLEWARES_BASE")
    assert mws[LeaseMiddleware] < min(v for v in list(base.values()) + [
        v for k, v in mws.items() if k is not LeaseMiddleware] if v is not None)


# ------------------------------------------------------------------------------------ with Redis


def test_a_lease_whose_item_is_still_in_the_pipelines_is_not_acked_and_is_redelivered(
        redis_server, prefix, tmp_path):
    """A worker that dies after the download but before the store: its request comes back."""
    from crawler.distributed import DistributedScheduler, RunKeys
    from crawler.distributed.queue import publish_run
    from crawler.spiders.gov_news import GovNewsSpider

    def scheduler(worker, crawler):
        sched = DistributedScheduler(redis_server, crawler, prefix=prefix, lease_seconds=60, idle_timeout=0,
                                     max_deliveries=5, worker=worker)
        sched.spider = GovNewsSpider(site=str(write_profile(tmp_path, "http://127.0.0.1:9/")))
        sched.site = "demo"
        return sched

    keys = RunKeys(prefix, 7)
    publish_run(redis_server, keys, "demo")
    crawler = get_crawler(settings_dict={})
    victim = scheduler("victim", crawler)
    assert victim._bind()
    now = [1000.0]
    victim.queue.clock = lambda: now[0]
    assert victim.enqueue_request(victim.spider.make_request("http://127.0.0.1:9/a.html", "article"))
    leased = victim.next_request()
    assert leased is not None and LEASE_META in leased.meta
    response = _response(leased)
    item = {"url": leased.url}
    _run_callback(crawler, victim.tracker, response, [item])     # downloaded, the item in the store
    victim._ack_done()
    assert victim.queue.inflight_count() == 1, "not acknowledged while its item is in the pipelines"

    # the victim dies here; its lease expires; a survivor reaps it and gets the request again
    survivor = scheduler("survivor", get_crawler(settings_dict={}))
    assert survivor._bind()
    survivor.queue.clock = lambda: now[0] + 61
    assert survivor.queue.reap(5) == (1, 0)
    again = survivor.next_request()
    assert again is not None and again.url == leased.url and again.meta.get("govnews_redelivered") == 1


def test_a_lease_is_acked_once_done_and_everything_when_idle(redis_server, prefix, tmp_path):
    from crawler.distributed import DistributedScheduler, RunKeys
    from crawler.distributed.queue import publish_run
    from crawler.spiders.gov_news import GovNewsSpider

    publish_run(redis_server, RunKeys(prefix, 8), "demo")
    crawler = get_crawler(settings_dict={})
    sched = DistributedScheduler(redis_server, crawler, prefix=prefix, lease_seconds=60, idle_timeout=0,
                                 max_deliveries=5, worker="w1")
    sched.spider = GovNewsSpider(site=str(write_profile(tmp_path, "http://127.0.0.1:9/")))
    sched.site = "demo"
    assert sched._bind()
    for name in ("a", "b"):
        assert sched.enqueue_request(sched.spider.make_request(f"http://127.0.0.1:9/{name}.html", "article"))
    first, second = sched.next_request(), sched.next_request()
    follow = sched.spider.make_request("http://127.0.0.1:9/c.html", "article")
    _run_callback(crawler, sched.tracker, _response(first), [follow])
    crawler.signals.send_catch_log(signals.request_scheduled, request=follow, spider=None)
    assert sched.enqueue_request(follow)
    sched._ack_done()
    assert sched.queue.inflight_count() == 1, "the first is acked, the second (downloading) is not"
    sched._ack_done(everything=True)
    assert sched.queue.inflight_count() == 0 and len(sched.tracker) == 0
    assert second is not None and len(sched.queue) == 1, "the follow-up is queued"
    assert LEASE_META not in sched.queue.lease("w1", 60)[0].meta, "lease tokens stay in this worker"


# ------------------------------------------------------------------------------------ public seams


#: Scrapy internals, written as attributes or as getattr() strings, and attributes hung on the Crawler
PRIVATE_SEAMS = re.compile(r"\._slot\b|downloader\.slots\b|_schedule_coro\b|crawler\._(engine|stats)\b"
                           r"|getattr\([^)]*[\"'](_engine|_stats|_slot|slots)[\"']|crawler\.govnews_")


def test_no_private_scrapy_seam_is_used_in_the_sources():
    offenders = []
    for top in ("crawler", "govnews"):
        for path in sorted(Path(REPO, top).rglob("*.py")):
            for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE_SEAMS.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{no}: {line.strip()}")
    assert not offenders, "private Scrapy seams:\n" + "\n".join(offenders)


def test_the_seam_check_finds_what_it_looks_for():
    assert PRIVATE_SEAMS.search("slot = self.crawler.engine._slot")
    assert PRIVATE_SEAMS.search("for s in engine.downloader.slots.values():")
    assert PRIVATE_SEAMS.search("from scrapy.utils.defer import _schedule_coro")
    assert PRIVATE_SEAMS.search('engine = getattr(crawler, "_engine", None)')
    assert PRIVATE_SEAMS.search("for slot in getattr(downloader, 'slots', {}).values():")
    assert PRIVATE_SEAMS.search("crawler.govnews_archive = archive")
    assert not PRIVATE_SEAMS.search("self.slots = {}; engine.scheduler")
