"""govnews spider middlewares, one per module (enabled in ``SPIDER_MIDDLEWARES``, crawler/settings.py):

* :mod:`~crawler.spidermiddlewares.incremental` — skip archived articles, stop paging when nothing
  is new (``IncrementalMiddleware``).
"""
