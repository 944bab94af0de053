"""Redis fixtures for the distributed-mode tests: the server at 127.0.0.1:6379 (skip with the reason
when it is absent, fail under CI=true) and a key prefix of its own per test, deleted afterwards."""
from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import IN_CI

REDIS_URL = os.environ.get("GOVNEWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_server():
    from crawler.distributed import connect

    try:
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


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL
