"""govnews Scrapy extensions, one per module (enabled in ``EXTENSIONS``, crawler/settings.py):

* :class:`crawler.services.ArchiveExtension` — the crawl's one archive (``get_archive``);
* :mod:`~crawler.extensions.crawl_runs` — the site lock and the ``crawl_runs`` row (``CrawlRunExtension``);
* :mod:`~crawler.extensions.jobdir` — recover a JOBDIR left by a killed crawl (``JobdirRecoveryExtension``);
* :mod:`~crawler.extensions.deadletter_replay` — replay dead letters at crawl start (``DeadLetterReplayExtension``);
* :mod:`~crawler.extensions.redirect_failures` — record redirects Scrapy drops silently (``RedirectFailureExtension``);
* :mod:`~crawler.extensions.log_redaction` — no passwords in log lines (``LogRedactionExtension``).

``crawler.extensions.CrawlRunExtension`` stays importable from here: the distributed add-on switches
it off by that path.
"""
from crawler.extensions.crawl_runs import COUNTER_STATS, CrawlRunExtension

__all__ = ["COUNTER_STATS", "CrawlRunExtension"]
