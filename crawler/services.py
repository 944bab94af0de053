"""Shared per-crawl services (the archive connection), created once per crawler from settings."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from storage.archive import Archive

DB_URL_SETTING = "GOVNEWS_DB_URL"
_ATTR = "_govnews_archive"


def db_url_from_settings(settings) -> str:
    from storage.db import default_db_url
    return settings.get(DB_URL_SETTING) or os.environ.get(DB_URL_SETTING) or default_db_url()


def get_archive(crawler: Crawler) -> Archive:
    """The crawl's one :class:`storage.archive.Archive`, shared by pipelines and middlewares."""
    archive = getattr(crawler, _ATTR, None)
    if archive is None:
        from storage.archive import Archive
        archive = Archive(db_url_from_settings(crawler.settings))
        setattr(crawler, _ATTR, archive)
    return archive
