"""Settings of the distributed mode, the Redis connection and the names workers go by."""
from __future__ import annotations

import os
from typing import Any

import redis

from common.hosts import holder_id
from common.secrets import mask_secrets

REDIS_URL_SETTING = "REDIS_URL"                 # the scrapy-redis setting; switches the mode on
REDIS_URL_ENV = "GOVNEWS_REDIS_URL"             # read by crawler/settings.py into REDIS_URL
PREFIX_SETTING = "GOVNEWS_REDIS_PREFIX"
DEFAULT_PREFIX = "govnews"
LEASE_SETTING = "GOVNEWS_LEASE_SECONDS"
DEFAULT_LEASE = 60.0              # a dead worker's requests are back in the queue after this
IDLE_SETTING = "GOVNEWS_IDLE_TIMEOUT"
DEFAULT_IDLE = 60.0               # a worker with no run for its site exits after this (0: never)
MAX_DELIVERIES_SETTING = "GOVNEWS_MAX_DELIVERIES"
DEFAULT_MAX_DELIVERIES = 5
WORKER_NAME_ENV = "GOVNEWS_WORKER_NAME"


def redis_url_from_settings(settings: Any) -> str | None:
    """The Redis URL of the distributed mode, or None in single-machine mode."""
    return settings.get(REDIS_URL_SETTING) or None


def mask_redis_url(url: str | None) -> str:
    """``url`` with its password hidden, for logs and ``crawl_runs.log_tail``."""
    return mask_secrets(url or "")


def default_worker_name() -> str:
    """``$GOVNEWS_WORKER_NAME``, else ``host:pid``."""
    return os.environ.get(WORKER_NAME_ENV) or holder_id()


def connect(redis_url: str) -> redis.Redis:
    """A checked Redis client (``PING`` answered) for ``redis_url``."""
    server = redis.Redis.from_url(redis_url, socket_timeout=30, socket_connect_timeout=10,
                                  retry_on_timeout=True)
    server.ping()
    return server
