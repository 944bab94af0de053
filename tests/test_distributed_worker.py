"""``govnews worker`` (``govnews.distributed.Worker``): what a crawl child is started with. The Redis
and database passwords travel in the child's environment, never on its command line (``ps``)."""
from __future__ import annotations

import pytest

pytest_plugins = ["tests.support.redis"]      # the redis_server and prefix fixtures
pytestmark = pytest.mark.redis

REDIS_WITH_PASSWORD = "redis://:redis-SECRET-pw@127.0.0.1:6379/0"
DB_WITH_PASSWORD = "postgresql+psycopg://govnews:db-SECRET-pw@127.0.0.1:5432/govnews"


class FakePopen:
    started: list[FakePopen] = []

    def __init__(self, args, **kwargs):
        self.args, self.kwargs, self.pid = args, kwargs, 4242
        FakePopen.started.append(self)

    def poll(self):
        return 0


def test_crawl_children_get_secrets_in_their_environment_not_their_argv(redis_server, prefix, monkeypatch):
    import govnews.distributed as distributed
    from crawler.distributed import RunKeys
    from crawler.distributed.queue import publish_run

    keys = RunKeys(prefix, 9)
    redis_server.hset(keys.meta, mapping={"profile": 'name = "demo"\n', "full_walk": 1})
    publish_run(redis_server, keys, "demo")
    monkeypatch.setattr(distributed.subprocess, "Popen", FakePopen)
    FakePopen.started.clear()
    worker = distributed.Worker(redis_url=REDIS_WITH_PASSWORD, db_url=DB_WITH_PASSWORD, prefix=prefix,
                                idle_timeout=0, name="w1", settings=("DOWNLOAD_DELAY=0",), server=redis_server)
    try:
        assert worker.step(), "a published run is work"
        (child,) = FakePopen.started
        argv = " ".join(child.args)
        assert "SECRET" not in argv and "REDIS_URL" not in argv and "GOVNEWS_DB_URL" not in argv, argv
        assert "full_walk=1" in argv and "DOWNLOAD_DELAY=0" in argv and f"GOVNEWS_REDIS_PREFIX={prefix}" in argv
        env = child.kwargs["env"]
        assert env["GOVNEWS_REDIS_URL"] == REDIS_WITH_PASSWORD and env["GOVNEWS_DB_URL"] == DB_WITH_PASSWORD
        assert env["GOVNEWS_WORKER_NAME"] == "w1" and "GOVNEWS_RUN_ID" not in env
        assert env["SCRAPY_SETTINGS_MODULE"] == "crawler.settings", "the child needs no particular cwd"
        worker.step()
        assert worker.children == {}, "the exited child is reaped"
    finally:
        worker.close()
    assert not worker.tmp.exists()


def test_the_child_reads_the_redis_and_db_urls_from_its_environment(tmp_path):
    """What the crawl child does with the environment the worker gives it: Scrapy settings."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = dict(os.environ, GOVNEWS_REDIS_URL=REDIS_WITH_PASSWORD, GOVNEWS_DB_URL=DB_WITH_PASSWORD,
               SCRAPY_SETTINGS_MODULE="crawler.settings", PYTHONPATH=str(REPO))
    code = ("from scrapy.utils.project import get_project_settings as g; s = g(); "
            "print(s['REDIS_URL']); print(s['GOVNEWS_DB_URL'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == [REDIS_WITH_PASSWORD, DB_WITH_PASSWORD]
