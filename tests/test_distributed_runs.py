"""Distributed runs: enqueue (``govnews.distributed``), the worker's run bookkeeping and the finish
(``crawler.distributed``), the scheduler daemon in distributed mode. Needs Redis at 127.0.0.1:6379
(see tests/support/redis.py) and, where named, PostgreSQL."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.support.crawl import write_profile

pytest_plugins = ["tests.support.redis"]      # the redis_server, redis_url and prefix fixtures
pytestmark = pytest.mark.redis


def test_fingerprints_are_per_run_and_dropped_when_the_run_finishes(redis_server, redis_url, prefix, pg_url,
                                                                    tmp_path):
    from crawler.distributed import RunKeys, finish_distributed_run
    from crawler.profiles import load_profile
    from govnews.distributed import enqueue_site
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(pg_url)
    profile = load_profile(str(write_profile(tmp_path, "http://127.0.0.1:9/")))
    first = enqueue_site(profile, redis_url=redis_url, engine=engine, prefix=prefix)
    assert first.status == "enqueued"
    assert runs.lock_holder(engine, profile.name)["holder"].startswith(f"redis-run:{first.run_id}@")
    again = enqueue_site(profile, redis_url=redis_url, engine=engine, prefix=prefix)
    assert again.status == "locked", "one run of a site at a time"
    keys = RunKeys(prefix, first.run_id)
    assert redis_server.scard(keys.dupefilter) == 6 and redis_server.ttl(keys.dupefilter) > 0
    redis_server.delete(keys.queue)       # pretend the workers did everything
    redis_server.hdel(f"{prefix}:runs", profile.name)
    finish_distributed_run(redis_server, keys, engine, site=profile.name)
    assert not redis_server.exists(keys.dupefilter), "fingerprints go with their run"
    assert runs.get_run(engine, first.run_id)["status"] == "ok"
    assert runs.lock_holder(engine, profile.name) is None
    second = enqueue_site(profile, redis_url=redis_url, engine=engine, prefix=prefix)
    assert second.status == "enqueued" and second.run_id != first.run_id
    engine.dispose()


def _worker_stats(**counts):
    """A worker's Scrapy stats as the crawl components write them."""
    stats = {"downloader/request_count": 0, "item_scraped_count": 0, "govnews/articles/new": 0}
    stats.update({k.replace("__", "/"): v for k, v in counts.items()})
    return stats


def test_a_distributed_runs_failures_have_the_same_keys_as_a_local_runs(redis_server, prefix, archive):
    """Both run extensions read stats with crawler.runstats: a distributed row also has what the
    crawl refused (``refused_<why>``) and what it kept as dead letters (``deadlettered``)."""
    from scrapy.utils.test import get_crawler

    from crawler.distributed import DistributedRunExtension, RunKeys, finish_distributed_run
    from crawler.runstats import failures_from_stats
    from storage import runs

    archive.ensure_site("demo", "demo", ["127.0.0.1"])
    run_id = runs.start_run(archive.engine, "demo", trigger="manual")
    keys = RunKeys(prefix, run_id)
    redis_server.rpush(keys.dead, b"request that crashed workers")
    stats = [
        _worker_stats(downloader__request_count=10, item_scraped_count=8, govnews__articles__new=5,
                      govnews__refused__trap=2, govnews__failed__timeout=1, govnews__deadletter__written=1),
        _worker_stats(downloader__request_count=7, item_scraped_count=6, govnews__articles__new=4,
                      govnews__refused__trap=3, govnews__refused__budget=1, govnews__outcome__blocked=2),
    ]
    for name, worker_stats in zip(("w1", "w2"), stats):
        sched = SimpleNamespace(keys=keys, server=redis_server, worker=name, run_id=run_id, site="demo",
                                meta={})
        ext = DistributedRunExtension(get_crawler(settings_dict={}), archive=archive)
        ext.flush(sched, worker_stats)
        ext.flush(sched, worker_stats)           # a second flush adds nothing new

    row = runs.get_run(archive.engine, run_id)
    assert row["status"] == "running" and row["requests"] == 17 and row["new_articles"] == 9
    assert row["failures"] == {"refused_trap": 5, "refused_budget": 1, "timeout": 1, "deadlettered": 1,
                               "outcome_blocked": 2}
    assert set(failures_from_stats(stats[0])) <= set(row["failures"]), "the local extension's keys"

    finish_distributed_run(redis_server, keys, archive.engine, site="demo", archive=archive)
    row = runs.get_run(archive.engine, run_id)
    assert row["status"] == "ok" and row["pages"] == 14
    assert row["failures"]["refused_trap"] == 5 and row["failures"]["deadlettered"] == 1
    assert row["failures"]["dead_lettered"] == 1, "requests dead-lettered in Redis are counted too"
    assert "w1: 8 pages" in row["log_tail"] and "w2: 6 pages" in row["log_tail"]


def test_the_scheduler_seam_is_the_engines_public_scheduler(redis_server, prefix, tmp_path):
    from scrapy.utils.test import get_crawler

    from crawler.distributed import DistributedScheduler, RunKeys, bound_run
    from crawler.distributed.queue import publish_run
    from crawler.spiders.gov_news import GovNewsSpider

    crawler = get_crawler(settings_dict={})
    assert bound_run(crawler) is None, "before the engine exists"
    sched = DistributedScheduler(redis_server, crawler, prefix=prefix, lease_seconds=60, idle_timeout=0,
                                 max_deliveries=5, worker="w1")
    crawler.engine = SimpleNamespace(scheduler=sched)
    sched.spider = GovNewsSpider(site=str(write_profile(tmp_path, "http://127.0.0.1:9/")))
    sched.site = "demo"
    assert not sched._bind() and bound_run(crawler) is None, "no run published yet"
    publish_run(redis_server, RunKeys(prefix, 4), "demo")
    assert sched._bind() and bound_run(crawler) is sched
    req = sched.spider.make_request("http://127.0.0.1:9/a.html", "article")
    assert sched.enqueue_request(req)
    assert sched.seen_urls([req]) == {req.url}, "IncrementalMiddleware asks the run what was scheduled"
    sched.store_validators({req.url: ("etag-1", None)})
    assert redis_server.hget(RunKeys(prefix, 4).validators, req.url) == b'["etag-1", null]'
    assert not [name for name in vars(crawler) if name.startswith("govnews")], "nothing hung on the Crawler"


def test_scheduler_daemon_enqueues_instead_of_crawling_in_distributed_mode(redis_server, redis_url, prefix,
                                                                           pg_url, tmp_path):
    from crawler.distributed import RunKeys, active_runs
    from crawler.profiles import load_profile
    from govnews.scheduling import Daemon, DaemonConfig
    from storage.db import make_engine

    def no_local_crawl(*a, **kw):
        raise AssertionError("distributed mode must not start a local crawl")

    profile = load_profile(str(write_profile(tmp_path, "http://127.0.0.1:9/")))
    daemon = Daemon(DaemonConfig(db_url=pg_url, jobstore="memory", redis_url=redis_url, redis_prefix=prefix),
                    run_crawl=no_local_crawl)
    daemon.profiles = {profile.name: profile}
    daemon._engine = make_engine(pg_url)
    try:
        result = daemon.run_site(profile.name)
        assert result.status == "enqueued"
        assert active_runs(redis_server, prefix) == {profile.name: result.run_id}
        assert redis_server.zcard(RunKeys(prefix, result.run_id).queue) == 6
        assert daemon.run_site(profile.name).status == "locked", "the next fire finds the run still going"
    finally:
        daemon._engine.dispose()
