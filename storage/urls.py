"""Canonical URLs: one spelling per resource, used before requesting and before storing.

``canonical_url(url)`` is built on :func:`w3lib.url.canonicalize_url` (percent-encoding normalised,
``./`` and ``../`` segments resolved, query arguments sorted, fragment dropped) plus a few rules
w3lib leaves out:

* scheme and host lower-cased, a trailing dot on the host removed, default ports (``:80`` for http,
  ``:443`` for https) dropped, an empty path becomes ``/``;
* session ids in the path (``;jsessionid=...``, ``;sid=...``, ``;phpsessid=...``) removed;
* tracking and session query parameters removed: ``utm_*``, ``jsessionid``, ``phpsessid``,
  ``aspsessionid*``, ``spm``, ``from``, ``share*``/``scene``/``isappinstalled`` (WeChat / app share
  links), ``fbclid``, ``gclid``, ``_t``/``timestamp``-style cache busters are **not** removed (some
  CMSs use them as real arguments), and ``sid`` only when its value looks like a session token
  (16+ characters) — short ``sid=3`` values are often a site/section id in Chinese CMSs.

Deliberately **not** done: ``/dir/index.html`` (``index.htm``, ``default.htm(l)``) is *not* rewritten
to ``/dir/``. The canonical URL is also the URL the spider requests, and many government servers
only serve the explicit file (the directory URL answers 403/404 or a different default document),
so the rewrite is not safe in general. Two spellings of one list page cost one extra fetch at most;
articles reached through both spellings are merged by the content hash anyway.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = ["canonical_url", "TRACKING_PARAMS"]

#: query parameters dropped whatever their value (compared lower-case)
TRACKING_PARAMS = frozenset(
    {
        "jsessionid",
        "phpsessid",
        "cfid",
        "cftoken",
        "spm",
        "from",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "share_token",
        "sharesource",
        "share_from",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "wfr",
        "_hsenc",
        "_hsmi",
        "mc_cid",
        "mc_eid",
    }
)
_TRACKING_PREFIXES = ("utm_", "aspsessionid")
_SESSION_PATH_PARAM = re.compile(r";(?:jsessionid|sid|phpsessid|sessionid)=[^/?#;]*", re.I)
_SESSIONISH = re.compile(r"^[0-9A-Za-z_\-.]{16,}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _drop_param(name: str, value: str) -> bool:
    n = name.lower()
    if n in TRACKING_PARAMS or n.startswith(_TRACKING_PREFIXES):
        return True
    return bool(n == "sid" and _SESSIONISH.match(value or ""))


def canonical_url(url: str) -> str:
    """Return the canonical spelling of ``url`` (see the module docstring for the rules)."""
    url = (url or "").strip()
    if not url:
        return url
    # session ids glued to the path must go before w3lib percent-encodes the ';'
    parts = urlsplit(url)
    path = _SESSION_PATH_PARAM.sub("", parts.path)
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    url = canonicalize_url(url, keep_fragments=False)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    netloc = host
    if parts.username is not None:
        cred = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{cred}@{host}"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    query = parts.query
    if query:
        # w3lib already sorted and percent-encoded the arguments: filter the raw pieces so that
        # escapes (possibly GBK bytes) are kept byte for byte
        kept = []
        for piece in query.split("&"):
            name, _, value = piece.partition("=")
            if not _drop_param(unquote(name), unquote(value)):
                kept.append(piece)
        query = "&".join(kept)
    return urlunsplit((scheme, netloc, path, query, ""))
