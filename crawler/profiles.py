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

KNOWN_KEYS = {
    "name", "title", "start_urls", "allowed_domains", "schedule", "timezone", "interval_seconds",
    "feeds", "sitemaps", "hints", "verified", "notes", "full_walk", "allow_private_hosts",
}
KNOWN_HINTS = {
    "article_url_regex", "list_url_regex", "body_selector", "title_selector", "encoding",
    "max_pages", "download_delay", "max_depth", "max_query_variants", "deny_url_regex",
}


class ProfileError(ValueError):
    """A profile file is missing, unreadable or invalid; the message says which and why."""


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
        where = str(path) if path else "profile"
        unknown = set(data) - KNOWN_KEYS
        if unknown:
            raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "start_urls"):
            if key not in data:
                raise ProfileError(f"{where}: missing required key {key!r}")
        name = data["name"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ProfileError(f"{where}: name {name!r} must be lowercase letters, digits, '-' or '_'")
        start_urls = data["start_urls"]
        if not isinstance(start_urls, list) or not start_urls or not all(
            isinstance(u, str) and urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname
            for u in start_urls
        ):
            raise ProfileError(f"{where}: start_urls must be a non-empty list of http(s) URLs")
        allowed = data.get("allowed_domains") or sorted(
            {urlsplit(u).hostname for u in start_urls if urlsplit(u).hostname}
        )
        hints_raw = data.get("hints", {}) or {}
        if not isinstance(hints_raw, dict):
            raise ProfileError(f"{where}: [hints] must be a table")
        bad_hints = set(hints_raw) - KNOWN_HINTS
        if bad_hints:
            raise ProfileError(f"{where}: unknown hints {sorted(bad_hints)}")
        for key in ("article_url_regex", "list_url_regex", "deny_url_regex"):
            if hints_raw.get(key):
                try:
                    re.compile(hints_raw[key])
                except re.error as exc:
                    raise ProfileError(f"{where}: hints.{key} is not a valid regex: {exc}") from None
        schedule = data.get("schedule", DEFAULT_SCHEDULE)
        if not isinstance(schedule, str) or len(schedule.split()) != 5:
            raise ProfileError(f"{where}: schedule {schedule!r} must be a 5-field cron expression")
        interval = data.get("interval_seconds")
        if interval is not None and (not isinstance(interval, (int, float)) or interval <= 0):
            raise ProfileError(f"{where}: interval_seconds must be a positive number")
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
        known = ", ".join(p.name for p in list_profiles(directory)) or "none"
        raise ProfileError(f"no site profile {name_or_path!r} (looked for {candidate}; known: {known})")
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{candidate}: not valid TOML: {exc}") from None
    return SiteProfile.from_dict(data, path=candidate)


def list_profiles(directory: str | os.PathLike | None = None) -> list[SiteProfile]:
    """Every valid profile in the directory, sorted by name (invalid files raise ProfileError)."""
    d = sites_dir(directory)
    if not d.is_dir():
        return []
    return [load_profile(str(p)) for p in sorted(d.glob("*.toml"))]
