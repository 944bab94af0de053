"""Compat re-exports: the middlewares now live one per module.

* ``HostGuardMiddleware`` -> :mod:`crawler.downloadermiddlewares.host_guard`
* ``ConditionalGetMiddleware`` -> :mod:`crawler.downloadermiddlewares.conditional_get`
* ``IncrementalMiddleware`` -> :mod:`crawler.spidermiddlewares.incremental`
"""
# compat: remove when the spider's docstring and other areas' code name the new paths
from crawler.downloadermiddlewares.conditional_get import ConditionalGetMiddleware
from crawler.downloadermiddlewares.host_guard import HostGuardMiddleware
from crawler.spidermiddlewares.incremental import IncrementalMiddleware

__all__ = ["ConditionalGetMiddleware", "HostGuardMiddleware", "IncrementalMiddleware"]
