"""Passwords never reach a log line: a logging filter over :func:`common.secrets.mask_secrets`.

:class:`PasswordScrubFilter` rewrites every record that passes a handler (message, arguments and the
formatted traceback) with ``user:***@host`` in place of ``user:password@host``;
:func:`install_password_filter` puts it on every handler of the root logger (Scrapy's own included).
The crawl installs it through :class:`crawler.extensions.log_redaction.LogRedactionExtension`, with
:func:`install_record_factory`: every record is masked when it is created, so no handler installed
later (Scrapy replaces its root handler after the extensions are built; ``LOG_FILE``) can miss it.
"""
from __future__ import annotations

import logging

from common.secrets import mask_secrets

__all__ = ["PasswordScrubFilter", "install_password_filter", "install_record_factory"]


class PasswordScrubFilter(logging.Filter):
    """Hide ``user:password@`` passwords in every record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - leave broken records to the logging module
            return True
        clean = mask_secrets(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def install_password_filter(logger: logging.Logger | None = None) -> int:
    """Put a :class:`PasswordScrubFilter` on every handler of ``logger`` (default: the root logger)
    that has none yet; returns how many handlers got one."""
    added = 0
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, PasswordScrubFilter) for f in handler.filters):
            handler.addFilter(PasswordScrubFilter())
            added += 1
    return added


_FACTORY_INSTALLED = False


def install_record_factory() -> bool:
    """Mask every log record of the process when it is created (message, arguments and traceback),
    whatever handler later writes it; idempotent. Returns whether it was installed now."""
    global _FACTORY_INSTALLED
    if _FACTORY_INSTALLED:
        return False
    previous = logging.getLogRecordFactory()
    scrub = PasswordScrubFilter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _FACTORY_INSTALLED = True
    return True
