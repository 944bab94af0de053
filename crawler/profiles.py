"""Site profiles: one TOML file per site in the sites directory (:func:`common.paths.sites_dir`:
``$GOVNEWS_SITES_DIR``, else ``<govnews home>/sites``). A profile asked for by name that is not
there is looked up among the profiles bundled with the package (``crawler.bundled_sites`` in the
wheel: the checkout's ``sites/``), so ``govnews crawl demo`` works from any directory.

A profile is data, not code. A new TRS WCM or Hanweb site needs only a file like::

    name = "demo"
    title = "示范县人民政府"
    start_urls = ["http://127.0.0.1:8765/xwzx/index.html"]
    allowed_domains = ["127.0.0.1"]
    schedule = "0 */6 * * *"          # 5-field cron, Asia/Shanghai unless `timezone` says otherwise

    [hints]                            # all optional
    article_url_regex = "/t\\d{8}_\\d+\\.html$"
    body_selector = "div.TRS_Editor"
    encoding = "gbk"
    max_pages = 2000
    download_delay = 1.0
"""
from __future__ import annotations

import difflib
import importlib.resources
import importlib.util
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common import paths
from common.clock import LOCAL_TZ_NAME

SITES_DIR_ENV = paths.SITES_DIR_ENV
BUNDLED_PACKAGE = "bundled_sites"      # crawler.bundled_sites: the profiles shipped in the wheel
DEFAULT_TIMEZONE = LOCAL_TZ_NAME
DEFAULT_SCHEDULE = "0 */6 * * *"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")

class ProfileError(ValueError):
    """A profile file is missing, unreadable or invalid; the message names the file and every
    problem at once (``errors`` lists them one by one)."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or [message]


@dataclass
class Hints:
    article_url_regex: str | None = None
    list_url_regex: str | None = None
    deny_url_regex: str | None = None
    body_selector: str | None = None
    title_selector: str | None = None
    encoding: str | None = None
    max_pages: int | None = None
    download_delay: float | None = None
    max_depth: int | None = None
    max_query_variants: int | None = None
    attachment_max_size: int | None = None
    attachment_revalidate_days: int | None = None


@dataclass
class SiteProfile:
    name: str
    title: str
    start_urls: list[str]
    allowed_domains: list[str]
    schedule: str = DEFAULT_SCHEDULE
    timezone: str = DEFAULT_TIMEZONE
    interval_seconds: float | None = None
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    full_walk: bool = False
    verified: bool = True
    notes: str | None = None
    allow_private_hosts: list[str] = field(default_factory=list)
    hints: Hints = field(default_factory=Hints)
    path: Path | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> SiteProfile:
        """A validated profile; :class:`ProfileError` naming the file and every problem at once."""
        where = str(path) if path else "profile"
        errors = validate(data)
        if errors:
            raise ProfileError(f"{where}: " + "; ".join(errors), [f"{where}: {e}" for e in errors])
        name = data["name"]
        start_urls = data["start_urls"]
        allowed = data.get("allowed_domains") or sorted(
            {urlsplit(u).hostname for u in start_urls if urlsplit(u).hostname}
        )
        hints_raw = data.get("hints", {}) or {}
        schedule = data.get("schedule", DEFAULT_SCHEDULE)
        interval = data.get("interval_seconds")
        return cls(
            name=name,
            title=data.get("title", name),
            start_urls=list(start_urls),
            allowed_domains=list(allowed),
            schedule=schedule,
            timezone=data.get("timezone", DEFAULT_TIMEZONE),
            interval_seconds=interval,
            feeds=list(data.get("feeds", [])),
            sitemaps=list(data.get("sitemaps", [])),
            full_walk=bool(data.get("full_walk", False)),
            verified=bool(data.get("verified", True)),
            notes=data.get("notes"),
            allow_private_hosts=list(data.get("allow_private_hosts", [])),
            hints=Hints(**hints_raw),
            path=path,
        )


#: top-level keys -> type, default and meaning; docs/PROFILES.md documents every one
#: (tests/test_profiles_doc.py fails when a key accepted here is missing there)
KEY_SPEC: dict[str, str] = {
    "name": "required; lowercase letters, digits, '-', '_'",
    "title": "string; default: the name",
    "start_urls": "required; non-empty list of http(s) URLs",
    "allowed_domains": "list of host names; default: the hosts of start_urls",
    "schedule": "5-field cron expression; default " + DEFAULT_SCHEDULE,
    "timezone": "IANA time zone of the schedule; default " + DEFAULT_TIMEZONE,
    "interval_seconds": "positive number; replaces schedule",
    "feeds": "list of http(s) URLs (RSS/Atom)",
    "sitemaps": "list of http(s) URLs",
    "hints": "table of extraction and crawl hints",
    "verified": "boolean; default true; false: listed, not scheduled",
    "notes": "string",
    "full_walk": "boolean; default false",
    "allow_private_hosts": "list of host names or addresses the host guard lets through",
}
#: [hints] keys -> (kind, minimum): kinds regex, css, encoding, int, number
HINT_SPEC: dict[str, tuple[str, float | None]] = {
    "article_url_regex": ("regex", None),
    "list_url_regex": ("regex", None),
    "deny_url_regex": ("regex", None),
    "body_selector": ("css", None),
    "title_selector": ("css", None),
    "encoding": ("encoding", None),
    "max_pages": ("int", 1),
    "download_delay": ("number", 0),
    "max_depth": ("int", 0),
    "max_query_variants": ("int", 1),
    "attachment_max_size": ("int", 1),
    "attachment_revalidate_days": ("int", 0),
}
KNOWN_KEYS = set(KEY_SPEC)
KNOWN_HINTS = set(HINT_SPEC)
URL_SCHEMES = ("http", "https")


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_url(u: Any) -> bool:
    if not isinstance(u, str) or any(c in u for c in "\r\n\t "):
        return False
    parts = urlsplit(u)
    return parts.scheme in URL_SCHEMES and bool(parts.hostname)


def _check_urls(key: str, value: Any, errors: list[str], *, required: bool = False) -> None:
    if not isinstance(value, list) or (required and not value):
        errors.append(f"{key} must be a {'non-empty ' if required else ''}list of http(s) URLs")
        return
    bad = [u for u in value if not _is_url(u)]
    if bad:
        errors.append(f"{key} must be http(s) URLs, not: {', '.join(repr(u) for u in bad[:3])}")


def _check_strings(key: str, value: Any, errors: list[str]) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{key} must be a list of host names (strings)")


def check_cron(expr: Any, timezone: str | None = None) -> str | None:
    """Why ``expr`` is not a valid 5-field cron expression (None: it is)."""
    if not isinstance(expr, str) or len(expr.split()) != 5:
        return f"schedule {expr!r} must be a 5-field cron expression (minute hour day month weekday)"
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr, timezone=timezone or DEFAULT_TIMEZONE)
    except (ValueError, KeyError, TypeError) as exc:
        return f"schedule {expr!r} is not a valid cron expression: {exc}"
    return None


def check_timezone(name: Any) -> str | None:
    """Why ``name`` is not an IANA time zone (None: it is), with a "did you mean"."""
    import zoneinfo

    if not isinstance(name, str) or not name:
        return f"timezone {name!r} must be an IANA time zone name such as {DEFAULT_TIMEZONE!r}"
    try:
        zoneinfo.ZoneInfo(name)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone {name!r}" + _did_you_mean(name, zoneinfo.available_timezones())


def _check_hint(key: str, value: Any) -> str | None:
    kind, minimum = HINT_SPEC[key]
    where = f"hints.{key}"
    if kind in ("regex", "css", "encoding") and not isinstance(value, str):
        return f"{where} must be a string, not {type(value).__name__} {value!r}"
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            return f"{where} is not a valid regex: {exc}"
    elif kind == "css":
        from cssselect import GenericTranslator, SelectorError

        try:
            GenericTranslator().css_to_xpath(value)
        except SelectorError as exc:
            return f"{where} {value!r} is not a valid CSS selector: {exc}"
    elif kind == "encoding":
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            return f"{where}: unknown encoding {value!r}"
    elif kind in ("int", "number"):
        ok_type = (isinstance(value, int) if kind == "int" else isinstance(value, (int, float))) \
            and not isinstance(value, bool)
        if not ok_type:
            want = "an integer" if kind == "int" else "a number"
            return f"{where} must be {want}, not {type(value).__name__} {value!r}"
        if minimum is not None and value < minimum:
            return f"{where} must be >= {minimum:g}, not {value!r}"
    return None


def validate(data: dict[str, Any]) -> list[str]:
    """Every problem of a profile's data (empty: valid)."""
    errors: list[str] = []
    for key in sorted(set(data) - KNOWN_KEYS):
        errors.append(f"unknown key {key!r}" + _did_you_mean(key, KNOWN_KEYS))
    for key in ("name", "start_urls"):
        if key not in data:
            errors.append(f"missing required key {key!r}")
    name = data.get("name")
    if "name" in data and (not isinstance(name, str) or not NAME_RE.match(name)):
        errors.append(f"name {name!r} must be lowercase letters, digits, '-' or '_'")
    if "title" in data and not isinstance(data["title"], str):
        errors.append("title must be a string")
    if "start_urls" in data:
        _check_urls("start_urls", data["start_urls"], errors, required=True)
    for key in ("feeds", "sitemaps"):
        if key in data:
            _check_urls(key, data[key], errors)
    for key in ("allowed_domains", "allow_private_hosts"):
        if key in data:
            _check_strings(key, data[key], errors)
    for key in ("verified", "full_walk"):
        if key in data and not isinstance(data[key], bool):
            errors.append(f"{key} must be true or false, not {data[key]!r}")
    if "notes" in data and not isinstance(data["notes"], str):
        errors.append("notes must be a string")
    tz = data.get("timezone", DEFAULT_TIMEZONE)
    tz_error = check_timezone(tz)
    if tz_error:
        errors.append(tz_error)
    cron_error = check_cron(data.get("schedule", DEFAULT_SCHEDULE), None if tz_error else tz)
    if cron_error:
        errors.append(cron_error)
    interval = data.get("interval_seconds")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float))
                                 or interval <= 0):
        errors.append(f"interval_seconds must be a positive number, not {interval!r}")
    hints = data.get("hints", {})
    if hints is None:
        hints = {}
    if not isinstance(hints, dict):
        errors.append("[hints] must be a table")
    else:
        for key in sorted(hints):
            if key not in KNOWN_HINTS:
                errors.append(f"unknown hint {key!r}" + _did_you_mean(key, KNOWN_HINTS))
            elif (err := _check_hint(key, hints[key])) is not None:
                errors.append(err)
    return errors


def sites_dir(directory: str | os.PathLike | None = None) -> Path:
    """``directory``, else :func:`common.paths.sites_dir`."""
    return Path(directory) if directory else paths.sites_dir()


def bundled_sites_dir() -> Path | None:
    """The profiles shipped with the package (``crawler/bundled_sites``), or None (a checkout)."""
    try:
        candidate = importlib.resources.files("crawler") / BUNDLED_PACKAGE
        if candidate.is_dir():
            return Path(str(candidate))
        spec = importlib.util.find_spec(f"crawler.{BUNDLED_PACKAGE}")   # a package-dir mapping (editable)
    except (ModuleNotFoundError, ValueError, TypeError):
        return None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if Path(location).is_dir():
            return Path(location)
    checkout = Path(__file__).resolve().parents[1] / "sites"    # a checkout (editable install)
    if (checkout / "demo.toml").is_file():
        return checkout
    return None


def _find(name: str, directory: str | os.PathLike | None) -> Path:
    candidate = sites_dir(directory) / f"{name}.toml"
    if candidate.is_file() or directory:
        return candidate
    bundled = bundled_sites_dir()
    if bundled is not None and (bundled / f"{name}.toml").is_file():
        return bundled / f"{name}.toml"
    return candidate


def load_profile(name_or_path: str, directory: str | os.PathLike | None = None) -> SiteProfile:
    """Load a profile by name (``<sites dir>/NAME.toml``, else the bundled one when no ``directory``
    is given) or by path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = _find(name_or_path, directory)
    if not candidate.is_file():
        names = {p.name for p in scan_profiles(directory)[0]}
        bundled = bundled_sites_dir() if directory is None else None
        if bundled is not None:
            names |= {p.stem for p in bundled.glob("*.toml")}
        known = ", ".join(sorted(names)) or "none"
        raise ProfileError(f"no site profile {name_or_path!r} (looked for {candidate}; known: {known})")
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{candidate}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ProfileError(f"{candidate}: cannot read: {exc.strerror or exc}") from None
    return SiteProfile.from_dict(data, path=candidate)


def list_profiles(directory: str | os.PathLike | None = None) -> list[SiteProfile]:
    """Every valid profile in the directory, sorted by name (invalid files raise ProfileError)."""
    d = sites_dir(directory)
    if not d.is_dir():
        return []
    return [load_profile(str(p)) for p in sorted(d.glob("*.toml"))]


def scan_profiles(directory: str | os.PathLike | None = None
                  ) -> tuple[list[SiteProfile], dict[str, ProfileError]]:
    """``(valid profiles, {file: error})`` of the directory: one broken file does not hide the others."""
    d = sites_dir(directory)
    good: list[SiteProfile] = []
    broken: dict[str, ProfileError] = {}
    if directory is None and not (d.is_dir() and any(d.glob("*.toml"))):
        d = bundled_sites_dir() or d          # no profiles of one's own yet: the bundled ones
    if not d.is_dir():
        return good, broken
    for path in sorted(d.glob("*.toml")):
        try:
            good.append(load_profile(str(path)))
        except ProfileError as exc:
            broken[str(path)] = exc
    return good, broken
