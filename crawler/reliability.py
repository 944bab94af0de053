"""Reliability and security pieces of the crawl (see docs/RELIABILITY.md).

* :class:`RetryAfterMiddleware` (downloader, before Scrapy's RetryMiddleware): a 429 or 503 with a
  ``Retry-After`` header is retried after that many seconds, bounded by ``GOVNEWS_RETRY_AFTER_MAX``;
  the host's download slot backs off for the same time.
* :func:`hostile_signs`: hidden spam links, cloaking and obfuscated scripts, hidden iframes and
  off-site meta refreshes in a page (a hacked government page); the extract pipeline puts them into
  the article flags (``flags["hostile"]``) and the page reason.
* :func:`challenge_reason`: a WAF / JavaScript challenge page (never archived as an article, its
  links are not followed).
* :class:`ReliabilityExtension`: hides passwords of URLs in every log line of the crawl, replays the
  site's dead letters (:mod:`crawler.deadletter`) when a crawl starts, and recovers a ``JOBDIR`` left
  behind by a crawl killed with SIGKILL (the disk queue of a killed Scrapy is unusable: the job
  directory is set aside and the crawl walks the site again, skipping archived articles).
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.deadletter import deadletter_dir, scrub

logger = logging.getLogger(__name__)

RETRY_AFTER_MAX_SETTING = "GOVNEWS_RETRY_AFTER_MAX"
DEFAULT_RETRY_AFTER_MAX = 120.0     # seconds; a longer Retry-After is cut to this
RETRY_AFTER_STATUSES = (429, 503)
JOBDIR_MARKER = "govnews.running"   # present while a crawl uses the JOBDIR; left behind by a SIGKILL
#: seconds a crawl's write waits on a locked SQLite archive in all (spread over the archive's own
#: retries) before the page goes to the dead-letter file; other SQLite users keep the 30 s default
CRAWL_BUSY_TIMEOUT_SETTING = "GOVNEWS_SQLITE_BUSY_TIMEOUT"
DEFAULT_CRAWL_BUSY_TIMEOUT = 5.0


# ------------------------------------------------------------------------------- Retry-After
def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """Honour ``Retry-After`` on 429 / 503, bounded; other statuses are left to RetryMiddleware."""

    def __init__(self, crawler, max_wait: float):
        self.crawler = crawler
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat(RETRY_AFTER_MAX_SETTING, DEFAULT_RETRY_AFTER_MAX))

    def _backoff_slot(self, request, wait: float) -> None:
        """Space the host's next requests by ``wait`` (AutoThrottle decays it again)."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        key = request.meta.get("download_slot")
        slot = downloader.slots.get(key) if downloader is not None and key else None
        if slot is not None and slot.delay < wait:
            slot.delay = wait

    async def process_response(self, request, response):
        if response.status not in RETRY_AFTER_STATUSES or request.meta.get("dont_retry"):
            return response
        wait = parse_retry_after(response.headers.get(b"Retry-After"))
        if wait is None:
            return response
        from scrapy.downloadermiddlewares.retry import get_retry_request

        bounded = min(wait, self.max_wait)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}_retry_after")
        if retry is None:
            return response             # retries used up: recorded as failed http_429 / http_503
        stats = self.crawler.stats
        stats.inc_value("govnews/retry_after/waits")
        stats.max_value("govnews/retry_after/max_seconds", bounded)
        if wait > self.max_wait:
            stats.inc_value("govnews/retry_after/bounded")
        logger.info("%s answered %s with Retry-After %s: waiting %.1fs before retrying", request.url,
                    response.status, f"{wait:.0f}s", bounded)
        self._backoff_slot(request, bounded)
        await _sleep(bounded)
        return retry


async def _sleep(seconds: float) -> None:
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


# ------------------------------------------------------------------------------- hostile pages
#: inline styles that hide an element
HIDDEN_STYLE_RE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}(?:px|em)"
    r"|font-size\s*:\s*0(?:px)?\s*(?:;|$)|(?:height|width)\s*:\s*0(?:px)?\s*;.*overflow\s*:\s*hidden",
    re.I | re.S,
)
#: CSS rules in <style> that hide a class or id
HIDING_RULE_RE = re.compile(r"([.#][\w\-]+)\s*\{([^}]*)\}")
GAMBLING_WORDS = ("博彩", "娱乐城", "百家乐", "赌场", "赌博", "澳门", "六合彩", "时时彩", "彩票", "老虎机", "真人",
                  "棋牌", "投注", "下注", "威尼斯人", "葡京", "太阳城", "皇冠", "体育平台", "开户", "bet365",
                  "casino", "poker", "viagra", "贷款", "代孕", "发票")
SPIDER_UA_RE = re.compile(r"baidu|sogou|so\.com|360spider|sm\.cn|google|bing|yisou|spider|bot|crawler", re.I)
SNIFF_RE = re.compile(r"navigator\.userAgent|document\.referrer", re.I)
REDIRECT_JS_RE = re.compile(r"location(?:\.href)?\s*=|location\.replace|document\.write|window\.open|"
                            r"createElement\(\s*['\"](?:script|iframe)", re.I)
OBFUSCATED_JS_RE = re.compile(r"eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k|eval\s*\(\s*(?:unescape|atob)\s*\(|"
                              r"(?:\\x[0-9a-f]{2}){40,}|(?:%[0-9a-f]{2}){60,}|String\.fromCharCode\((?:\s*\d+\s*,){40,}",
                              re.I)
META_REFRESH_URL_RE = re.compile(r"url\s*=\s*['\"]?([^'\" >;]+)", re.I)
MIN_HIDDEN_OFFSITE_LINKS = 3


def site_domain(host: str) -> str:
    """``www.xindu.gov.cn`` -> ``xindu.gov.cn``; ``news.example.com`` -> ``example.com``."""
    labels = [x for x in (host or "").lower().split(".") if x]
    if len(labels) >= 3 and labels[-2] in ("gov", "com", "org", "net", "edu", "ac") and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _offsite(href: str, base: str) -> bool:
    target = urlsplit(urljoin(base, href))
    if target.scheme not in ("http", "https") or not target.hostname:
        return False
    host, home = target.hostname.lower(), site_domain(urlsplit(base).hostname or "")
    return bool(home) and not (host == home or host.endswith("." + home))


def _spammy(text: str) -> bool:
    from crawler.extract.clean import SPAM_WORDS

    low = text.lower()
    return any(w in low for w in GAMBLING_WORDS) or any(w in text for w in SPAM_WORDS)


def hostile_signs(data: bytes | str, url: str, charset: str | None = None) -> list[str]:
    """What in this page looks injected by an attacker (empty list: nothing).

    ``hidden_links:N`` (N off-site or spammy links inside hidden elements), ``cloaking_script``
    (scripts that sniff the search-engine user agent / referrer and redirect or write content),
    ``obfuscated_script`` (packed / escaped JavaScript), ``hidden_iframe``, ``meta_refresh_offsite``.
    """
    import lxml.html

    if isinstance(data, bytes):
        from crawler.extract.decode import decode_html
        data, _ = decode_html(data, charset)
    if not data or not data.strip():
        return []
    try:
        tree = lxml.html.document_fromstring(data)
    except (ValueError, lxml.etree.ParserError):
        return []
    signs: list[str] = []
    hiding_selectors = set()
    for style in tree.iter("style"):
        for selector, rules in HIDING_RULE_RE.findall(style.text or ""):
            if HIDDEN_STYLE_RE.search(rules):
                hiding_selectors.add(selector)

    def hidden(el) -> bool:
        if el.get("hidden") is not None or HIDDEN_STYLE_RE.search(el.get("style") or ""):
            return True
        classes = {"." + c for c in (el.get("class") or "").split()}
        return bool(hiding_selectors & (classes | ({"#" + el.get("id")} if el.get("id") else set())))

    bad_links: set[Any] = set()
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body", "head", "script", "style") or not hidden(el):
            continue
        links = [a for a in el.iter("a") if a.get("href")]
        offsite = [a for a in links if _offsite(a.get("href"), url)]
        spammy = [a for a in offsite if _spammy(a.text_content() + " " + a.get("href"))]
        if spammy or len(offsite) >= MIN_HIDDEN_OFFSITE_LINKS:
            bad_links.update(offsite)
    if bad_links:
        signs.append(f"hidden_links:{len(bad_links)}")

    scripts = " ".join(s.text or "" for s in tree.iter("script"))
    if SNIFF_RE.search(scripts) and SPIDER_UA_RE.search(scripts) and REDIRECT_JS_RE.search(scripts):
        signs.append("cloaking_script")
    if OBFUSCATED_JS_RE.search(scripts):
        signs.append("obfuscated_script")
    for frame in tree.iter("iframe"):
        tiny = (frame.get("width") in ("0", "1") or frame.get("height") in ("0", "1"))
        if (tiny or hidden(frame)) and _offsite(frame.get("src") or "", url):
            signs.append("hidden_iframe")
            break
    for meta in tree.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "refresh":
            m = META_REFRESH_URL_RE.search(meta.get("content") or "")
            if m and _offsite(m.group(1), url):
                signs.append("meta_refresh_offsite")
                break
    return signs


def challenge_reason(data: bytes, url: str | None, status: int | None, content_type: str | None) -> str | None:
    """The reason when ``data`` is a WAF / JS challenge, an empty or a binary body, else None."""
    from crawler.extract.classify import classify_page

    outcome, reason = classify_page(data, url, status, content_type)
    return f"{outcome}: {reason}" if outcome in ("blocked", "empty", "binary") else None


# ------------------------------------------------------------------------------- log scrubbing
class PasswordScrubFilter(logging.Filter):
    """Hide ``scheme://user:password@`` passwords in every record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - leave broken records to the logging module
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def install_password_filter() -> PasswordScrubFilter:
    """Put the filter on every handler of the root logger (Scrapy's own included)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, PasswordScrubFilter) for f in handler.filters):
            handler.addFilter(PasswordScrubFilter())
    return PasswordScrubFilter()


# ------------------------------------------------------------------------------- extension
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReliabilityExtension:
    """Log scrubbing, dead-letter replay at crawl start, JOBDIR recovery after SIGKILL."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.jobdir = crawler.settings.get("JOBDIR")
        self.recovered_jobdir: Path | None = None
        self.dead_holder: str | None = None
        install_password_filter()
        self._short_sqlite_wait()
        if self.jobdir:
            self._check_jobdir(Path(self.jobdir))
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GOVNEWS_RELIABILITY_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    # --- locked SQLite archive -------------------------------------------------------------------
    def _short_sqlite_wait(self) -> None:
        """Give the crawl's archive a short SQLite busy timeout, so that a write blocked by another
        process's lock reaches the dead-letter file within seconds instead of 12 x 30 s (the archive
        retries a locked write ``storage.archive.MAX_ATTEMPTS`` times; each waits the busy timeout).
        Runs before the engine (and so before any pipeline or middleware opens the archive)."""
        from crawler.services import _ATTR, db_url_from_settings
        from storage.db import is_sqlite, make_engine

        settings = self.crawler.settings
        if getattr(self.crawler, _ATTR, None) is not None:
            return
        url = db_url_from_settings(settings)
        if not is_sqlite(url):
            return
        from storage import archive as archive_mod

        total = settings.getfloat(CRAWL_BUSY_TIMEOUT_SETTING, DEFAULT_CRAWL_BUSY_TIMEOUT)
        per_attempt = max(0.05, total / max(1, getattr(archive_mod, "MAX_ATTEMPTS", 1)))
        setattr(self.crawler, _ATTR, archive_mod.Archive(engine=make_engine(url, busy_timeout=per_attempt)))

    # --- JOBDIR ---------------------------------------------------------------------------------
    def _check_jobdir(self, jobdir: Path) -> None:
        marker = jobdir / JOBDIR_MARKER
        if not marker.exists():
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = jobdir.with_name(f"{jobdir.name}.crashed-{stamp}")
        try:
            info = marker.read_text(encoding="utf-8").strip()
        except OSError:
            info = "?"
        shutil.move(str(jobdir), str(aside))
        self.recovered_jobdir = aside
        self._release_dead_lease(info)
        logger.warning("JOBDIR %s was left by a crawl that did not close (%s): its disk queue cannot be "
                       "trusted; moved to %s, walking the site again (archived articles are skipped)",
                       jobdir, info, aside)

    def _release_dead_lease(self, info: str) -> None:
        """The killed crawl still holds the site's lease (``site_locks``, TTL ``GOVNEWS_LOCK_TTL``):
        release it when the marker shows its holder was a process on this host that is gone, so the
        restart is not refused as "being crawled by another process" until the lease expires."""
        try:
            marker = json.loads(info)
            host, pid = marker["host"], int(marker["pid"])
        except (ValueError, KeyError, TypeError):
            return
        if host != socket.gethostname() or pid == os.getpid() or _alive(pid):
            return
        site = getattr(self.crawler.spider, "site", None)
        if not site:
            return
        from crawler.services import get_archive
        from storage import runs

        holder = f"{host}:{pid}"
        try:
            engine = get_archive(self.crawler).engine
            if runs.release_lock(engine, site, holder):
                self.dead_holder = holder
                logger.warning("released the lease on %s held by the killed crawl %s", site, holder)
            from sqlalchemy import update

            from storage.models import CrawlRun, utcnow
            with engine.begin() as conn:     # its crawl_runs row said "running" forever
                conn.execute(update(CrawlRun).where(CrawlRun.site == site, CrawlRun.status == "running",
                                                    CrawlRun.host == host, CrawlRun.pid == pid)
                             .values(status="interrupted", finished_at=utcnow(),
                                     log_tail="killed (found by the next crawl with the same JOBDIR)"))
        except Exception as exc:  # noqa: BLE001 - the lease then expires on its own
            logger.warning("could not release the lease of the killed crawl %s: %s", holder, exc)

    def _mark_jobdir(self) -> None:
        if self.jobdir:
            path = Path(self.jobdir)
            path.mkdir(parents=True, exist_ok=True)
            (path / JOBDIR_MARKER).write_text(
                json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                            "started": datetime.now(UTC).isoformat()}), encoding="utf-8")

    # --- signals -------------------------------------------------------------------------------
    def spider_opened(self, spider):
        stats = self.crawler.stats
        if self.recovered_jobdir is not None:
            stats.set_value("govnews/jobdir_recovered", str(self.recovered_jobdir))
            spider.full_walk = True      # an incremental stop would skip what the killed crawl never reached
        self._mark_jobdir()
        if stats.get_value("govnews/locked"):
            return
        if self.crawler.settings.getbool("GOVNEWS_DEADLETTER_REPLAY", True):
            self._replay(spider)

    def _replay(self, spider) -> None:
        from crawler.deadletter import letter_files, replay
        from crawler.services import get_archive

        directory = deadletter_dir(self.crawler.settings)
        if not letter_files(directory, spider.site):
            return
        try:
            report = replay(get_archive(self.crawler), directory, site=spider.site)
        except Exception:  # noqa: BLE001 - the letters stay for the next attempt
            logger.exception("dead-letter replay at crawl start failed; letters kept")
            return
        stats = self.crawler.stats
        stats.set_value("govnews/deadletter/replayed", report.stored)
        if report.failed:
            stats.set_value("govnews/deadletter/replay_failed", report.failed)
        logger.info("replayed dead letters of %s: %s", spider.site, report.summary())

    def request_scheduled(self, request, spider=None):
        """Scrapy's OffsiteMiddleware drops an off-site redirect at scheduling time, without any
        errback: record the URL that redirected there as failed (``redirect_offsite``)."""
        spider = self.crawler.spider
        same_site = getattr(spider, "_same_site", None)
        if request.meta.get("redirect_urls") and same_site is not None and not same_site(request.url):
            self._record_redirect_failure(request, "redirect_offsite")

    def request_dropped(self, request, spider=None):
        """A redirect to a URL this crawl already requested (a redirect loop A -> B -> A, or onto a
        page fetched before) is dropped by the duplicate filter without any errback: record the URL
        that was asked for as failed, so it is not lost silently."""
        chain = request.meta.get("redirect_urls")
        if chain:
            self._record_redirect_failure(request, "redirect_loop" if request.url in chain else "redirect_to_seen")

    def _record_redirect_failure(self, request, reason: str) -> None:
        chain = request.meta["redirect_urls"]
        spider = self.crawler.spider
        self.crawler.stats.inc_value(f"govnews/failed/{reason}")
        item = {
            "kind": "failed", "site": getattr(spider, "site", None), "url": chain[0],
            "request_url": chain[0], "status": None, "headers": {"Location": request.url}, "body": b"",
            "charset": None, "fetched_at": datetime.now(UTC), "reason": reason,
            "request_kind": request.meta.get("govnews_kind"),
        }
        from scrapy.utils.defer import _schedule_coro
        _schedule_coro(self.crawler.engine.scraper.start_itemproc_async(item, response=None))

    def spider_closed(self, spider, reason):
        # Scrapy has persisted its queue by now (the scheduler closes before this signal)
        if self.jobdir:
            try:
                (Path(self.jobdir) / JOBDIR_MARKER).unlink()
            except FileNotFoundError:
                pass
