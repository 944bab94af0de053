"""Distributed mode: scrapy-redis queue with leases, per-run fingerprints, two worker processes on one
PostgreSQL archive, a worker SIGKILLed mid-run, and two processes storing near-duplicates at once.

Needs Redis at 127.0.0.1:6379 (every test uses its own key prefix and deletes it) and, for the
crawls, PostgreSQL; both skip with the reason when absent and fail under CI=true.
"""
from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import IN_CI, REPO
from tests.support.crawl import write_profile

REDIS_URL = os.environ.get("GOVNEWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = pytest.mark.redis


@pytest.fixture(scope="session")
def redis_server():
    try:
        from crawler.distributed import connect

        server = connect(REDIS_URL)
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        msg = f"Redis not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(msg + " (CI=true: Redis tests must run)")
        pytest.skip(msg)
    return server


@pytest.fixture
def prefix(redis_server):
    from crawler.distributed import purge_prefix

    p = f"govnews-test-{uuid.uuid4().hex[:10]}"
    yield p
    purge_prefix(redis_server, p)


# ------------------------------------------------------------------------------------ units


def _spider(tmp_path):
    from crawler.spiders.gov_news import GovNewsSpider

    return GovNewsSpider(site=str(write_profile(tmp_path, "http://127.0.0.1:9/")))


def test_single_machine_mode_is_untouched_without_redis_url():
    from scrapy.settings import Settings

    from crawler.distributed import DistributedAddon

    s = Settings()
    s.setmodule("crawler.settings", priority="project")
    s.set("REDIS_URL", None)
    DistributedAddon().update_settings(s)
    assert s["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert s.getdict("EXTENSIONS").get("crawler.extensions.CrawlRunExtension") == 500

    s.set("REDIS_URL", REDIS_URL, priority="cmdline")
    DistributedAddon().update_settings(s)
    assert s["SCHEDULER"] == "crawler.distributed.DistributedScheduler"
    assert s.getdict("EXTENSIONS").get("crawler.extensions.CrawlRunExtension") is None


def test_queue_leases_acks_requeues_and_dead_letters(redis_server, prefix, tmp_path):
    from crawler.distributed import ReliableQueue, RunDupeFilter, RunKeys

    spider = _spider(tmp_path)
    keys = RunKeys(prefix, 1)
    q, df = ReliableQueue(redis_server, spider, keys), RunDupeFilter(redis_server, keys)
    reqs = [spider.make_request(f"http://127.0.0.1:9/a{i}.html", "article") for i in range(3)]
    assert all(q.push(r, df.request_fingerprint(r)) for r in reqs)
    assert not q.push(reqs[0], df.request_fingerprint(reqs[0])), "the run's dupefilter drops a repeat"
    assert df.seen_urls(reqs[:2]) == {reqs[0].url, reqs[1].url}

    req, member, deliveries = q.lease("A", lease_seconds=60)
    assert deliveries == 1 and req.callback == spider.parse_article and len(q) == 2
    assert q.ack("B", [member]) == 0, "only the lease holder acknowledges"
    assert q.reap(max_deliveries=5) == (0, 0), "a live lease is not re-queued"
    assert q.ack("A", [member]) == 1 and q.inflight_count() == 0

    _, member, _ = q.lease("A", lease_seconds=-1)      # A "dies": its lease is already expired
    assert q.reap(max_deliveries=5) == (1, 0) and len(q) == 2
    again = [q.lease("B", lease_seconds=-1) for _ in range(2)]
    assert sorted(d for _, _, d in again) == [1, 2], "the re-queued request is a second delivery"
    assert q.reap(max_deliveries=2) == (1, 1), "a request delivered max_deliveries times is dead-lettered"
    assert redis_server.llen(keys.dead) == 1


def test_fingerprints_are_per_run_and_dropped_when_the_run_finishes(redis_server, prefix, pg_url, tmp_path):
    from crawler.distributed import RunKeys, enqueue_site, finish_distributed_run
    from crawler.profiles import load_profile
    from storage import runs
    from storage.db import make_engine

    engine = make_engine(pg_url)
    profile = load_profile(str(write_profile(tmp_path, "http://127.0.0.1:9/")))
    first = enqueue_site(profile, redis_url=REDIS_URL, engine=engine, prefix=prefix)
    assert first.status == "enqueued"
    again = enqueue_site(profile, redis_url=REDIS_URL, engine=engine, prefix=prefix)
    assert again.status == "locked", "one run of a site at a time"
    keys = RunKeys(prefix, first.run_id)
    assert redis_server.scard(keys.dupefilter) == 6 and redis_server.ttl(keys.dupefilter) > 0
    redis_server.delete(keys.queue)       # pretend the workers did everything
    redis_server.hdel(f"{prefix}:runs", profile.name)
    finish_distributed_run(redis_server, keys, engine, site=profile.name)
    assert not redis_server.exists(keys.dupefilter), "fingerprints go with their run"
    assert runs.get_run(engine, first.run_id)["status"] == "ok"
    assert runs.lock_holder(engine, profile.name) is None
    second = enqueue_site(profile, redis_url=REDIS_URL, engine=engine, prefix=prefix)
    assert second.status == "enqueued" and second.run_id != first.run_id
    engine.dispose()


# ------------------------------------------------------------------------------------ two workers


def _start_worker(name: str, prefix: str, db_url: str, log: Path, *, lease: float = 5.0,
                  idle: float = 3.0) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("GOVNEWS_RUN_ID", None)
    return subprocess.Popen(
        [sys.executable, "-m", "govnews.cli", "worker", "--redis-url", REDIS_URL, "--prefix", prefix,
         "--db", db_url, "--idle-timeout", str(idle), "--lease", str(lease), "--name", name],
        cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait(procs, logs, timeout=150):
    deadline = time.monotonic() + timeout
    for p, log in zip(procs, logs):
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for q in procs:
                if q.poll() is None:
                    os.killpg(q.pid, signal.SIGKILL)
            raise AssertionError("worker did not finish:\n" + Path(log).read_text()[-4000:])


def _stored(engine):
    from storage.models import Article, Sighting

    with engine.connect() as conn:
        sightings = dict(conn.execute(select(Sighting.url, Sighting.article_id)).all())
        n_articles = conn.scalar(select(func.count(Article.id)))
    return sightings, n_articles


def _check_every_article_once(site, server, engine):
    from storage.urls import canonical_url

    sightings, n_articles = _stored(engine)
    expected = {canonical_url(server.url.rstrip("/") + e.url_path): e for e in site.expected_articles}
    assert set(sightings) == set(expected), (
        f"missing {len(set(expected) - set(sightings))}, extra {len(set(sightings) - set(expected))}")
    groups: dict[str, set[int]] = {}
    for url, e in expected.items():
        groups.setdefault(e.canonical_group, set()).add(sightings[url])
    assert all(len(ids) == 1 for ids in groups.values()), "a story split into several articles"
    assert n_articles == len(groups), "one article per story, copies are sightings"
    return groups


def _run_row(engine, run_id):
    from storage import runs

    return runs.get_run(engine, run_id)


@pytest.fixture(scope="module")
def site_500():
    from govnews.demosite import DemoSite, serve

    site = DemoSite(n_articles=500, crossposts=True)
    with serve(site, host="127.0.0.1", port=0) as server:
        yield site, server


def _enqueue(tmp_path, server, prefix, db_url):
    from crawler.distributed import enqueue_site
    from crawler.profiles import load_profile

    profile = load_profile(str(write_profile(tmp_path, server.url)))
    result = enqueue_site(profile, redis_url=REDIS_URL, db_url=db_url, prefix=prefix)
    assert result.status == "enqueued", result.log_tail
    return result.run_id


def test_two_workers_store_every_article_exactly_once(redis_server, prefix, pg_url, tmp_path, site_500):
    from crawler.distributed import RunKeys
    from storage.db import make_engine

    site, server = site_500
    run_id = _enqueue(tmp_path, server, prefix, pg_url)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    procs = [_start_worker("w1", prefix, pg_url, logs[0]), _start_worker("w2", prefix, pg_url, logs[1])]
    _wait(procs, logs)
    assert [p.returncode for p in procs] == [0, 0]

    engine = make_engine(pg_url)
    groups = _check_every_article_once(site, server, engine)
    row = _run_row(engine, run_id)
    engine.dispose()
    assert row["status"] == "ok" and row["finished_at"] is not None
    assert row["new_articles"] == len(groups), "the workers' counters add up in the run"
    keys = RunKeys(prefix, run_id)
    pages = {k.decode(): int(v) for k, v in redis_server.hgetall(keys.worker_pages).items()}
    total = sum(pages.values())
    assert set(pages) == {"w1", "w2"} and all(n >= 0.15 * total for n in pages.values()), \
        f"both workers did a share: {pages}"
    assert "w1:" in row["log_tail"] and "w2:" in row["log_tail"]
    assert not redis_server.exists(keys.dupefilter) and not redis_server.hexists(f"{prefix}:runs", "demo")


def test_a_worker_killed_mid_run_loses_nothing(redis_server, prefix, pg_url, tmp_path, site_500):
    from crawler.distributed import RunKeys
    from storage.db import make_engine
    from storage.models import Article

    site, server = site_500
    run_id = _enqueue(tmp_path, server, prefix, pg_url)
    logs = [tmp_path / "victim.log", tmp_path / "survivor.log"]
    victim = _start_worker("victim", prefix, pg_url, logs[0])
    survivor = _start_worker("survivor", prefix, pg_url, logs[1])
    engine = make_engine(pg_url)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.scalar(select(func.count(Article.id))) >= 120:
                break
        time.sleep(0.2)
    assert victim.poll() is None, "the victim is still crawling when it is killed"
    os.killpg(victim.pid, signal.SIGKILL)           # the worker and its crawl process, no goodbye
    victim.wait()
    _wait([survivor], logs[1:])
    assert survivor.returncode == 0

    _check_every_article_once(site, server, engine)
    row = _run_row(engine, run_id)
    engine.dispose()
    assert row["status"] == "ok"
    stats = {k.decode(): int(v) for k, v in redis_server.hgetall(RunKeys(prefix, run_id).stats).items()}
    assert stats.get("requeued", 0) >= 1, f"the victim's leased requests came back: {stats}"


# ------------------------------------------------------------------------------------ concurrent stores


def _store_near_duplicates(db_url, which, barrier, rounds, out):
    from crawler.extract.article import Article
    from storage.archive import Archive

    archive = Archive(db_url)
    archive.ensure_site("race", "race", ["race.example"])
    results = []
    for i in range(rounds):
        rng = random.Random(f"story{i}")     # every round its own story, both workers the same one
        words = ["乡镇", "项目", "安排", "会议", "检查", "群众", "服务", "建设", "医疗", "教育", "交通", "农业",
                 "水利", "环境", "安全", "就业", "税收", "文化", "旅游", "社区", "产业", "审批", "住房", "养老"]
        paras = ["".join(rng.choice(words) for _ in range(20)) + "认真落实。" for _ in range(12)]
        if which == 1:     # the same story, lightly edited: a near-duplicate, not an exact copy
            paras[5] = paras[5].replace("认真落实", "切实认真落实")
        body = "\n".join(paras)
        url = f"http://race.example/w{which}/{i}.html"
        art = Article(url=url, title=f"通知{i}", body=body, body_simplified=body)
        page = archive.record_page("race", url, status=200, headers={}, body=body.encode(), outcome="article")
        barrier.wait()
        results.append(archive.store_article("race", url, art, page_id=page).outcome)
    archive.close()
    out.put((which, results))


def test_two_workers_storing_near_duplicates_at_once_keep_one_article(pg_url):
    """Database constraints and advisory locks, not timing, keep near-duplicates together."""
    from storage.db import make_engine
    from storage.models import Article, Sighting

    rounds = 15
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_store_near_duplicates, args=(pg_url, w, barrier, rounds, out))
             for w in (0, 1)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    for i in range(rounds):
        outcomes = sorted([results[0][i], results[1][i]])
        assert outcomes[0] == "new" and outcomes[1] in ("revision", "duplicate"), (i, outcomes)
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Article.id))) == rounds
        assert conn.scalar(select(func.count(Sighting.id))) == 2 * rounds
    engine.dispose()


def test_scheduler_daemon_enqueues_instead_of_crawling_in_distributed_mode(redis_server, prefix, pg_url, tmp_path):
    from crawler.distributed import RunKeys, active_runs
    from crawler.profiles import load_profile
    from govnews.scheduling import Daemon, DaemonConfig
    from storage.db import make_engine

    def no_local_crawl(*a, **kw):
        raise AssertionError("distributed mode must not start a local crawl")

    profile = load_profile(str(write_profile(tmp_path, "http://127.0.0.1:9/")))
    daemon = Daemon(DaemonConfig(db_url=pg_url, jobstore="memory", redis_url=REDIS_URL, redis_prefix=prefix),
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
