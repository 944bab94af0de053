"""Scrapy settings for govnews. Everything here can be overridden with ``-s NAME=VALUE``.

Polite by default: robots.txt obeyed, one second between requests to a site, AutoThrottle on.
"""
import os

from scrapy.settings import default_settings as _scrapy_defaults

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

# One component per module (docs/RELIABILITY.md, docs/CONTRACTS.md "Scrapy components")
DOWNLOADER_MIDDLEWARES = {
    "crawler.downloadermiddlewares.retry_after.RetryAfterMiddleware": 555,     # before RetryMiddleware (550)
    "crawler.downloadermiddlewares.conditional_get.ConditionalGetMiddleware": 560,
    # after RetryMiddleware's process_request, before its process_exception: a lookup the resolver
    # refused becomes IgnoreRequest("private") instead of a retried DNS error
    "crawler.downloadermiddlewares.host_guard.HostGuardMiddleware": 580,
    # redirect targets pass URLLENGTH_LIMIT and the spider's CrawlBudget like links (issue 17)
    "crawler.downloadermiddlewares.redirect_budget.RedirectBudgetMiddleware": 590,
    # meta refresh: bodies always kept, never to non-http(s), off-site -> redirect_offsite with body
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.downloadermiddlewares.meta_refresh.SafeMetaRefreshMiddleware": 579,
}
SPIDER_MIDDLEWARES = {
    "crawler.spidermiddlewares.incremental.IncrementalMiddleware": 950,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.StorePipeline": 400,
    "crawler.attachments.pipeline.AttachmentPipeline": 500,     # after the store: needs the article id (issue 16)
}
# Attachments (crawler/attachments/pipeline.py, docs/ATTACHMENTS.md)
GOVNEWS_ATTACHMENTS_ENABLED = True
GOVNEWS_ATTACHMENT_MAX_SIZE = 50 * 1024 * 1024      # bytes per file (download_maxsize of its request)
GOVNEWS_ATTACHMENTS_PER_ARTICLE = 20
GOVNEWS_ATTACHMENT_MAX_ATTEMPTS = 3                 # a failed download is retried by later crawls until then
GOVNEWS_ATTACHMENT_REVALIDATE = False               # True: every stored file is re-checked now (conditional GET)
GOVNEWS_ATTACHMENT_REVALIDATE_DAYS = 30             # a stored file last checked longer ago is re-checked; 0: never
GOVNEWS_ATTACHMENT_TEXT = "crawl"                   # "later": leave text to `govnews attachments --extract`
GOVNEWS_ATTACHMENT_TEXT_TIMEOUT = 30.0              # seconds per file, in a worker process
GOVNEWS_ATTACHMENT_TEXT_MAX_MEMORY_MB = 1536        # RLIMIT_AS of that worker
GOVNEWS_ATTACHMENT_TEXT_MAX_RSS_MB = 768
GOVNEWS_ATTACHMENT_TEXT_MAX_PAGES = 300             # PDF pages read per file (a 2,000-page scan: the first 300)
EXTENSIONS = {
    "crawler.services.ArchiveExtension": 0,                      # the crawl's archive (get_archive)
    "crawler.extensions.log_redaction.LogRedactionExtension": 10,
    "crawler.extensions.jobdir.JobdirRecoveryExtension": 490,    # sets a killed crawl's JOBDIR aside
    "crawler.extensions.CrawlRunExtension": 500,                 # site lock + crawl_runs row (path kept: the
                                                                 # distributed add-on switches it off by it)
    "crawler.extensions.deadletter_replay.DeadLetterReplayExtension": 510,   # at engine_started: after the lock
    "crawler.extensions.redirect_failures.RedirectFailureExtension": 520,
    "crawler.containment.ContainmentExtension": 530,             # extraction in a worker, time/memory limits
}
# Containment (crawler/containment.py): each article page extracted in a worker process with a
# per-page deadline and memory caps; a page past them is failed / extract_timeout (raw bytes kept).
GOVNEWS_EXTRACT_CONTAINMENT = os.environ.get("GOVNEWS_EXTRACT_CONTAINMENT", "1") not in ("0", "false", "no")
GOVNEWS_EXTRACT_TIMEOUT = 60.0             # seconds per page
GOVNEWS_EXTRACT_MAX_MEMORY_MB = 3072       # RLIMIT_AS of the worker
GOVNEWS_EXTRACT_MAX_RSS_MB = 1024          # resident size of the worker
# Names are checked where they are resolved (crawler/resolver.py): private, loopback, link-local and
# reserved addresses are refused unless the profile's allow_private_hosts (or this list) names the host.
TWISTED_DNS_RESOLVER = "crawler.resolver.PrivateAddressResolver"
if not hasattr(_scrapy_defaults, "TWISTED_DNS_RESOLVER"):      # Scrapy < 2.19 reads DNS_RESOLVER
    DNS_RESOLVER = TWISTED_DNS_RESOLVER
GOVNEWS_ALLOW_PRIVATE_HOSTS: list[str] = []

# Reliability (docs/RELIABILITY.md): pages the archive cannot take go to dead-letter files
GOVNEWS_DEADLETTER_DIR = os.environ.get("GOVNEWS_DEADLETTER_DIR")   # default <data dir>/deadletter
GOVNEWS_RETRY_AFTER_MAX = 120              # seconds: longest Retry-After honoured
GOVNEWS_DB_RETRY_SECONDS = 30              # after a failed archive write, dead-letter directly this long
GOVNEWS_DB_WRITE_WAIT = 5                  # seconds a crawl's write waits on a locked SQLite archive in all
                                           # (over the archive's retries), then the page is a dead letter;
                                           # not $GOVNEWS_SQLITE_BUSY_TIMEOUT (per connection, storage)

# Distributed mode (docs/DISTRIBUTED.md): off unless REDIS_URL is set (-s REDIS_URL=redis://... or
# GOVNEWS_REDIS_URL); the add-on then swaps in the scrapy-redis based scheduler and run bookkeeping.
REDIS_URL = os.environ.get("GOVNEWS_REDIS_URL") or None
ADDONS = {"crawler.distributed.DistributedAddon": 0}
