"""Publication dates: parse Chinese/ISO date strings and find the date of a page.

A date is never invented: a string without a day gives nothing (no ``-01-01`` defaults), copyright
years never match (a day is required), and dates before :data:`MIN_YEAR` or after :data:`MAX_YEAR` are
rejected. All results are timezone-aware in :data:`common.clock.LOCAL_TZ` (Asia/Shanghai).

No wall clock: every function that judges dates takes ``now`` (keyword, aware; a naive value is read
as UTC), the time the page was fetched. With ``now`` a date more than :data:`MAX_FUTURE` after it is
rejected (a deadline in the text is not the publication date). With ``now=None`` there is no "future"
— only the fixed :data:`MAX_YEAR` bound applies — so the same bytes always give the same dates.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from common.clock import LOCAL_TZ

MIN_YEAR = 1990
#: the fixed upper bound (inclusive), with or without ``now``; the date regexes read years 19xx/20xx only
MAX_YEAR = 2099
#: how far after ``now`` (the fetch time) a date may lie: a page's clock and time zone may be a little off
MAX_FUTURE = timedelta(days=2)

#: ``2021年10月29日 09:19``, ``2021-10-29``, ``2021/10/29``, ``2021.10.29`` (+ optional time)
DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?")
#: ``17/5/2005 9:23:57 PM``: day first (as most sites outside the US print it) unless the second number > 12
DATE_US_RE = re.compile(
    r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})(?![\d/])"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?")
#: a "dateline" is a line that is mostly a date: at most this many other characters
DATELINE_MAX_REST = 24
SENTENCE_PUNCT_RE = re.compile(r"[，。！？；,]")
#: ISO 8601 with an offset, as in ``article:published_time``
ISO_OFFSET_RE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})\s*$")
#: labels that introduce the publication date on a line
DATE_LABEL_RE = re.compile(
    r"(?:发布时间|發佈時間|發布時間|发稿时间|發稿時間|发布日期|發佈日期|发表时间|发表日期|发表于|发布于|更新时间|日期|时间|時間|日\s*期|时\s*间)"
    r"\s*[:：]?\s*(?=(?:19|20)\d{2})")
#: a line holding only a date label, the date being on the next line
BARE_DATE_LABEL_RE = re.compile(
    r"^\s*(?:发布时间|發佈時間|發布時間|发稿时间|發稿時間|发布日期|發佈日期|发表时间|发表日期|更新时间|日\s*期|时\s*间|時間)"
    r"\s*[:：]\s*$")
#: meta names/properties (lower case) holding the publication date, best first
DATE_META_KEYS = (
    "pubdate", "publishdate", "article:published_time", "og:article:published_time", "published_time",
    "og:release_date", "publish_time", "publishtime", "firstpublishedtime", "ptime", "releasedate",
    "dc.date", "dc.date.issued", "date", "weibo:article:create_at", "datepublished",
)
#: dates in URLs: (regex, year group, month group, day group)
URL_DATE_RES = (
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+"),
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"content_((?:19|20)\d{2})-(\d{2})/(\d{2})"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"[/_-]((?:19|20)\d{2})(\d{2})(\d{2})[_\-.]\w"),
)
#: month-only URL path segment such as ``/202110/``: never a date, only a check on candidates
URL_MONTH_RE = re.compile(r"/((?:19|20)\d{2})(\d{2})/")


def in_bounds(dt: datetime, now: datetime | None = None) -> bool:
    """``dt`` (aware) is a plausible publication date: MIN_YEAR..MAX_YEAR and, when ``now`` is given,
    at most MAX_FUTURE after it."""
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        return False
    if now is None:
        return True
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return dt <= now + MAX_FUTURE


def make_date(y, mo, d, h=None, mi=None, s=None, *, now: datetime | None = None) -> datetime | None:
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=LOCAL_TZ)
    except (ValueError, TypeError):
        return None
    return dt if in_bounds(dt, now) else None


def parse_date(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """First full date (with a day) in ``text``; None if there is none."""
    if not text:
        return None
    if ISO_OFFSET_RE.match(text):
        iso: datetime | None
        try:
            iso = datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(LOCAL_TZ)
        except (ValueError, OverflowError):
            iso = None
        if iso and in_bounds(iso, now):
            return iso
    for m in DATE_RE.finditer(text):
        dt = make_date(*m.groups(), now=now)
        if dt:
            return dt
    for m in DATE_US_RE.finditer(text):
        d, mo, y, h, mi, sec, ampm = m.groups()
        if int(mo) > 12:
            mo, d = d, mo
        if h and ampm:
            h = int(h) % 12 + (12 if ampm.lower() == "pm" else 0)
        dt = make_date(y, mo, d, h, mi, sec, now=now)
        if dt:
            return dt
    return None


def count_dates(text: str) -> int:
    return len(DATE_RE.findall(text)) + len(DATE_US_RE.findall(text))


def is_dateline(line: str) -> bool:
    """A line that is essentially one date (``2004-12-10 11:55:08``, ``2004-12-10 阅读10544次``)."""
    if count_dates(line) != 1 or SENTENCE_PUNCT_RE.search(line):
        return False
    rest = DATE_US_RE.sub("", DATE_RE.sub("", line))
    return len("".join(rest.split())) <= DATELINE_MAX_REST


def date_from_meta(meta: dict[str, str], *, now: datetime | None = None) -> datetime | None:
    for key in DATE_META_KEYS:
        if key in meta:
            dt = parse_date(meta[key], now=now)
            if dt:
                return dt
    return None


def date_from_labelled(lines: Iterable[str], *, now: datetime | None = None) -> datetime | None:
    """Date after a label such as 发布时间/发稿时间/日期 in any of ``lines``; a line holding only the label
    (``发布日期：``) takes its date from the next line."""
    lines = list(lines)
    for i, line in enumerate(lines):
        for m in DATE_LABEL_RE.finditer(line):
            dt = parse_date(line[m.end():m.end() + 40], now=now)
            if dt:
                return dt
        if i + 1 < len(lines) and BARE_DATE_LABEL_RE.match(line):
            dt = parse_date(lines[i + 1][:40], now=now)
            if dt:
                return dt
    return None


def date_from_url(url: str | None, *, now: datetime | None = None) -> datetime | None:
    if not url:
        return None
    for rx in URL_DATE_RES:
        m = rx.search(url)
        if m:
            dt = make_date(*m.groups(), now=now)
            if dt:
                return dt
    return None


def url_month(url: str | None) -> tuple[int, int] | None:
    m = URL_MONTH_RE.search(url or "")
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    return None


TIME_RE = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}")


def first_date(lines: Iterable[str], month: tuple[int, int] | None = None, *, datelines_only: bool = False,
               with_time: bool = False, now: datetime | None = None) -> datetime | None:
    """First date in ``lines`` (only from datelines / with a time of day if asked), skipping ranges
    and lists of dates."""
    for line in lines:
        if datelines_only and not is_dateline(line):
            continue
        if with_time and not TIME_RE.search(line):
            continue
        if count_dates(line) != 1:
            continue
        found = parse_date(line, now=now)
        if found and (month is None or (found.year, found.month) == month):
            return found
    return None


def find_date(meta: dict[str, str], header_lines: Sequence[str], url: str | None, page_lines: Sequence[str] = (),
              *, now: datetime | None = None) -> tuple[datetime | None, str | None]:
    """(date, how): meta tags, labelled header lines, the URL, a dateline near the headline, labelled
    page lines, then the first date in the header lines, a dateline in the page, the first date in the
    page (in the URL's month when the URL has one; lines holding several dates are skipped).

    ``header_lines`` are the page's text lines around the headline; ``page_lines`` all text lines.
    """
    month = url_month(url)
    for how, find in (("meta", lambda: date_from_meta(meta, now=now)),
                      ("label", lambda: date_from_labelled(header_lines, now=now)),
                      ("url", lambda: date_from_url(url, now=now)),
                      ("dateline", lambda: first_date(header_lines, month, datelines_only=True, now=now)),
                      ("page-label", lambda: date_from_labelled(page_lines, now=now)),
                      ("text", lambda: first_date(header_lines, month, now=now)),
                      ("page-timestamp", lambda: first_date(page_lines, month, datelines_only=True,
                                                            with_time=True, now=now)),
                      ("page-dateline", lambda: first_date(page_lines, month, datelines_only=True, now=now)),
                      ("page-text", lambda: first_date(page_lines, month, now=now))):
        found = find()
        if found:
            return found, how
    return None, None
