"""Compat re-exports: the reliability pieces now live one per module (see docs/RELIABILITY.md).

* ``RetryAfterMiddleware``, ``parse_retry_after`` -> :mod:`crawler.downloadermiddlewares.retry_after`
* ``hostile_signs`` -> :mod:`crawler.hostile`; ``challenge_reason`` -> :mod:`crawler.challenge`
* ``PasswordScrubFilter`` -> :mod:`crawler.redact` (installed by :mod:`crawler.extensions.log_redaction`)
* JOBDIR recovery, dead-letter replay, redirect recording -> :mod:`crawler.extensions.jobdir`,
  :mod:`crawler.extensions.deadletter_replay`, :mod:`crawler.extensions.redirect_failures`
"""
# compat: remove when INGEST moved (crawler/spiders/gov_news.py imports challenge_reason from here)
from crawler.challenge import challenge_reason
from crawler.hostile import hostile_signs

# compat: remove when tests/test_reliability_faults.py and the spider import the new paths
from crawler.redact import PasswordScrubFilter

__all__ = ["PasswordScrubFilter", "challenge_reason", "hostile_signs"]
