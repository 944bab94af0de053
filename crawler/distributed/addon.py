"""The Scrapy add-on that switches the distributed mode on (``ADDONS`` in crawler/settings.py)."""
from __future__ import annotations

from crawler.distributed.connection import REDIS_URL_SETTING
from crawler.distributed.extension import DistributedRunExtension, DistributedStartMiddleware
from crawler.distributed.middleware import LEASE_MIDDLEWARE_ORDER, LeaseMiddleware
from crawler.distributed.scheduler import DistributedScheduler
from crawler.distributed.tracker import LeaseTracker

SCHEDULER_PATH = f"{DistributedScheduler.__module__}.{DistributedScheduler.__qualname__}"

#: the single-machine run extension this mode replaces (a path: the add-on must not import it)
LOCAL_RUN_EXTENSION = "crawler.extensions.CrawlRunExtension"


class DistributedAddon:
    """Switches the distributed mode on when the ``REDIS_URL`` setting is set, and changes nothing
    otherwise: the scheduler leasing from Redis, the distributed run extension instead of the local
    one, no start requests from the spider (``govnews enqueue`` pushed them), and the lease tracker
    (extension + spider middleware) that tells the scheduler when to acknowledge a request."""

    def update_settings(self, settings):
        if not settings.get(REDIS_URL_SETTING):
            return
        settings.set("SCHEDULER", SCHEDULER_PATH, priority="addon")
        settings.set_in_component_priority_dict("EXTENSIONS", LOCAL_RUN_EXTENSION, None)
        settings.set_in_component_priority_dict("EXTENSIONS", DistributedRunExtension, 500)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", DistributedStartMiddleware, 10)
        settings.set_in_component_priority_dict("EXTENSIONS", LeaseTracker, 0)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", LeaseMiddleware, LEASE_MIDDLEWARE_ORDER)
