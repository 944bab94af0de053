"""DrainableDownloader: Scrapy's downloader plus drain() for time limits (crawler/downloader.py)."""
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from crawler.downloader import DOWNLOADER_PATH, DrainableDownloader, drain


def test_drain_fails_every_waiting_request_with_ignore_request():
    downloader = DrainableDownloader(get_crawler())
    try:
        failures, waiting = [], []
        for key, n in (("a.gov.cn", 3), ("b.gov.cn", 2)):
            slot = Slot(concurrency=1, delay=5.0)
            for i in range(n):
                d: Deferred = Deferred()
                d.addErrback(lambda f: failures.append(f.value))
                slot.queue.append((Request(f"http://{key}/{i}.html"), d))
                waiting.append(d)
            downloader.slots[key] = slot
        fired = Deferred()
        fired.callback(None)                              # already answered: left alone
        downloader.slots["a.gov.cn"].queue.append((Request("http://a.gov.cn/done.html"), fired))
        assert downloader.drain("time limit of 60s reached") == 6
        assert all(not s.queue for s in downloader.slots.values())
        assert len(failures) == 5 and all(isinstance(f, IgnoreRequest) for f in failures)
        assert str(failures[0]) == "not downloaded: time limit of 60s reached"
    finally:
        downloader.close()


def test_drain_of_a_crawler_without_an_engine_or_with_another_downloader_drops_nothing():
    assert drain(get_crawler(), "why") == 0              # Crawler.engine not set yet


def test_the_path_names_the_class():
    from scrapy.utils.misc import load_object
    assert load_object(DOWNLOADER_PATH) is DrainableDownloader
