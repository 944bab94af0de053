"""Hide the passwords of URLs in every log line of the crawl (:mod:`crawler.redact`).

:class:`LogRedactionExtension` puts :class:`crawler.redact.PasswordScrubFilter` on the root logger's
handlers when it is built and again at ``engine_started`` (Scrapy replaces its root handler after the
extensions are built), and masks every record when it is created
(:func:`crawler.redact.install_record_factory`), so a handler added later cannot miss it.
Settings: ``GOVNEWS_LOG_REDACTION`` (default True).
"""
from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.redact import install_password_filter, install_record_factory

__all__ = ["ENABLED_SETTING", "LogRedactionExtension"]

ENABLED_SETTING = "GOVNEWS_LOG_REDACTION"


class LogRedactionExtension:
    @classmethod
    def from_crawler(cls, crawler: Any) -> LogRedactionExtension:
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            raise NotConfigured
        ext = cls()
        install_record_factory()        # every record, whatever handler writes it
        install_password_filter()
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        crawler.signals.connect(ext.engine_started, signal=signals.spider_opened)
        return ext

    def engine_started(self, spider: Any = None) -> None:
        install_password_filter()
