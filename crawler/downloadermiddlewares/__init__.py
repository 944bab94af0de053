"""govnews downloader middlewares, one per module (enabled in ``DOWNLOADER_MIDDLEWARES``,
crawler/settings.py; each switched off by its own setting):

* :mod:`~crawler.downloadermiddlewares.host_guard` — no private/loopback addresses (``HostGuardMiddleware``);
* :mod:`~crawler.downloadermiddlewares.retry_after` — honour ``Retry-After`` on 429/503 (``RetryAfterMiddleware``);
* :mod:`~crawler.downloadermiddlewares.conditional_get` — ETag / Last-Modified for list pages
  (``ConditionalGetMiddleware``).
"""
