"""Distributed mode, the Scrapy side: the add-on, the leasing queue and the per-run duplicate filter
(``crawler.distributed``). Needs Redis at 127.0.0.1:6379 (see tests/support/redis.py)."""
from __future__ import annotations

import pytest

from tests.support.crawl import write_profile

pytest_plugins = ["tests.support.redis"]      # the redis_server and prefix fixtures
pytestmark = pytest.mark.redis


def _spider(tmp_path):
    from crawler.spiders.gov_news import GovNewsSpider

    return GovNewsSpider(site=str(write_profile(tmp_path, "http://127.0.0.1:9/")))


def test_single_machine_mode_is_untouched_without_redis_url(redis_url):
    from scrapy.settings import Settings

    from crawler.distributed import DistributedAddon

    s = Settings()
    s.setmodule("crawler.settings", priority="project")
    s.set("REDIS_URL", None)
    DistributedAddon().update_settings(s)
    assert s["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert s.getdict("EXTENSIONS").get("crawler.extensions.CrawlRunExtension") == 500

    s.set("REDIS_URL", redis_url, priority="cmdline")
    DistributedAddon().update_settings(s)
    assert s["SCHEDULER"] == "crawler.distributed.scheduler.DistributedScheduler"
    assert s.getdict("EXTENSIONS").get("crawler.extensions.CrawlRunExtension") is None


def test_the_settings_module_path_of_the_addon_stays_valid():
    from scrapy.utils.misc import load_object

    from crawler import settings
    from crawler.distributed.addon import SCHEDULER_PATH
    from crawler.distributed.scheduler import DistributedScheduler

    (path,) = settings.ADDONS
    assert load_object(path).__name__ == "DistributedAddon"
    assert load_object(SCHEDULER_PATH) is DistributedScheduler


def test_redis_urls_are_masked_by_the_common_masker():
    from common.secrets import mask_secrets
    from crawler.distributed import mask_redis_url

    url = "redis://:s3cret@queue-host:6379/0"
    assert mask_redis_url(url) == mask_secrets(url) == "redis://:***@queue-host:6379/0"
    assert mask_redis_url(None) == ""


def test_queue_leases_acks_requeues_and_dead_letters(redis_server, prefix, tmp_path):
    from crawler.distributed import ReliableQueue, RunDupeFilter, RunKeys

    now = [1_000_000.0]
    spider = _spider(tmp_path)
    keys = RunKeys(prefix, 1)
    q, df = ReliableQueue(redis_server, spider, keys, clock=lambda: now[0]), RunDupeFilter(redis_server, keys)
    reqs = [spider.make_request(f"http://127.0.0.1:9/a{i}.html", "article") for i in range(3)]
    assert all(q.push(r, df.request_fingerprint(r)) for r in reqs)
    assert not q.push(reqs[0], df.request_fingerprint(reqs[0])), "the run's dupefilter drops a repeat"
    assert df.seen_urls(reqs[:2]) == {reqs[0].url, reqs[1].url}

    req, member, deliveries = q.lease("A", lease_seconds=60)
    assert deliveries == 1 and req.callback == spider.parse_article and len(q) == 2
    assert q.ack("B", [member]) == 0, "only the lease holder acknowledges"
    assert q.reap(max_deliveries=5) == (0, 0), "a live lease is not re-queued"
    assert q.ack("A", [member]) == 1 and q.inflight_count() == 0

    _, member, _ = q.lease("A", lease_seconds=60)      # A "dies" holding it
    now[0] += 30
    assert q.renew("A", [member], lease_seconds=60) == 1, "a live worker renews its lease"
    now[0] += 61
    assert q.reap(max_deliveries=5) == (1, 0) and len(q) == 2, "the expired lease is back in the queue"
    again = [q.lease("B", lease_seconds=10) for _ in range(2)]
    assert sorted(d for _, _, d in again) == [1, 2], "the re-queued request is a second delivery"
    now[0] += 11
    assert q.reap(max_deliveries=2) == (1, 1), "a request delivered max_deliveries times is dead-lettered"
    assert redis_server.llen(keys.dead) == 1


def test_claim_completion_is_won_by_one_caller(redis_server, prefix, tmp_path):
    from crawler.distributed import ReliableQueue, RunKeys
    from crawler.distributed.queue import active_runs, claim_completion, publish_run

    spider = _spider(tmp_path)
    keys = RunKeys(prefix, 3)
    q = ReliableQueue(redis_server, spider, keys)
    publish_run(redis_server, keys, "demo")
    assert active_runs(redis_server, prefix) == {"demo": 3}
    q.push(spider.make_request("http://127.0.0.1:9/x.html", "article"))
    assert claim_completion(redis_server, keys, "demo") == 0, "queued work: not complete"
    _, member, _ = q.lease("A", 60)
    assert claim_completion(redis_server, keys, "demo") == 0, "leased work: not complete"
    q.ack("A", [member])
    assert claim_completion(redis_server, keys, "demo") == 1, "the first caller finishes the run"
    assert claim_completion(redis_server, keys, "demo") == -1, "the second one does not"
    assert active_runs(redis_server, prefix) == {}
