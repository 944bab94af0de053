"""Distributed mode end to end: two ``govnews worker`` processes on one PostgreSQL archive, a worker
SIGKILLed mid-run, and two processes storing near-duplicates at once. The components have their own
modules: tests/test_distributed_queue.py (add-on, queue, dupefilter), tests/test_distributed_runs.py
(enqueue, run bookkeeping and finish, daemon), tests/test_distributed_worker.py (crawl children).

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
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import REPO
from tests.support.crawl import write_profile

pytest_plugins = ["tests.support.redis"]      # the redis_server, redis_url and prefix fixtures
pytestmark = pytest.mark.redis


# ------------------------------------------------------------------------------------ two workers


def _start_worker(name: str, redis_url: str, prefix: str, db_url: str, log: Path, *, lease: float = 5.0,
                  idle: float = 3.0) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("GOVNEWS_RUN_ID", None)
    return subprocess.Popen(
        [sys.executable, "-m", "govnews.cli", "worker", "--redis-url", redis_url, "--prefix", prefix,
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
            raise AssertionError("worker did not finish:\n" + Path(log).read_text()[-4000:]) from None


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


def _enqueue(tmp_path, server, redis_url, prefix, db_url):
    from crawler.profiles import load_profile
    from govnews.distributed import enqueue_site

    profile = load_profile(str(write_profile(tmp_path, server.url)))
    result = enqueue_site(profile, redis_url=redis_url, db_url=db_url, prefix=prefix)
    assert result.status == "enqueued", result.log_tail
    return result.run_id


def test_two_workers_store_every_article_exactly_once(redis_server, redis_url, prefix, pg_url, tmp_path, site_500):
    from crawler.distributed import RunKeys
    from storage.db import make_engine

    site, server = site_500
    run_id = _enqueue(tmp_path, server, redis_url, prefix, pg_url)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    procs = [_start_worker("w1", redis_url, prefix, pg_url, logs[0]), _start_worker("w2", redis_url, prefix, pg_url, logs[1])]
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
    stats = {k.decode(): int(v) for k, v in redis_server.hgetall(keys.stats).items()}
    assert stats["acked"] > 0 and stats.get("acked_at_idle", 0) < stats["acked"] / 4, \
        f"leases are acknowledged while the crawl runs (LeaseTracker), not only when a worker is idle: {stats}"
    assert not redis_server.exists(keys.dupefilter) and not redis_server.hexists(f"{prefix}:runs", "demo")


def test_a_worker_killed_mid_run_loses_nothing(redis_server, redis_url, prefix, pg_url, tmp_path, site_500):
    from crawler.distributed import RunKeys
    from storage.db import make_engine
    from storage.models import Article

    site, server = site_500
    run_id = _enqueue(tmp_path, server, redis_url, prefix, pg_url)
    logs = [tmp_path / "victim.log", tmp_path / "survivor.log"]
    victim = _start_worker("victim", redis_url, prefix, pg_url, logs[0])
    survivor = _start_worker("survivor", redis_url, prefix, pg_url, logs[1])
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
