"""Scrapy settings for govnews. Everything here can be overridden with ``-s NAME=VALUE``.

Polite by default: robots.txt obeyed, one second between requests to a site, AutoThrottle on.
"""
import os

BOT_NAME = "govnews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "govnews/0.1 (archiver of public government news; +https://pypi.org/project/govnews/)"
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5                # ±50 % random variation of the delay
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024        # a government page is never 20 MB; refuse bigger bodies
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False              # no listening port in an unattended crawler
DEPTH_LIMIT = 0                            # depth is bounded by crawler.discovery.traps.CrawlBudget
URLLENGTH_LIMIT = 1024
LOG_LEVEL = os.environ.get("GOVNEWS_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"

GOVNEWS_DB_URL = os.environ.get("GOVNEWS_DB_URL")

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.HostGuardMiddleware": 90,
    "crawler.middlewares.ConditionalGetMiddleware": 560,
    "crawler.reliability.RetryAfterMiddleware": 555,   # before RetryMiddleware (550) sees a 429/503
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.IncrementalMiddleware": 950,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.StorePipeline": 400,
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunExtension": 500,
    "crawler.reliability.ReliabilityExtension": 510,   # after the site lock: replays dead letters
}
# Reliability (docs/RELIABILITY.md): pages the archive cannot take go to dead-letter files
GOVNEWS_DEADLETTER_DIR = os.environ.get("GOVNEWS_DEADLETTER_DIR")   # default data/deadletter
GOVNEWS_RETRY_AFTER_MAX = 120              # seconds: longest Retry-After honoured
GOVNEWS_DB_RETRY_SECONDS = 30              # after a failed archive write, dead-letter directly this long
GOVNEWS_SQLITE_BUSY_TIMEOUT = 5            # seconds a write waits on a locked SQLite archive, then dead letter

# Distributed mode (docs/DISTRIBUTED.md): off unless REDIS_URL is set (-s REDIS_URL=redis://... or
# GOVNEWS_REDIS_URL); the add-on then swaps in the scrapy-redis based scheduler and run bookkeeping.
REDIS_URL = os.environ.get("GOVNEWS_REDIS_URL") or None
ADDONS = {"crawler.distributed.DistributedAddon": 0}
