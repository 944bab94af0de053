"""The one password masker, for log lines, CLI output, ``crawl_runs`` and child command lines."""
from __future__ import annotations

import re

#: ``scheme://user:password@`` and ``user:password@host`` (no scheme); the user may be empty
#: (``redis://:secret@host``). Bounded classes, so a hostile line cannot make it backtrack.
URL_PASSWORD_RE = re.compile(r"((?:\b[a-z][a-z0-9+.\-]{0,30}://)?[^:/@\s]{0,256}:)[^@\s/]{1,1024}@(?=[\w\[])", re.I)
MASK = "***"


def mask_secrets(text: str) -> str:
    """``text`` with the password of every ``user:password@host`` hidden (``user:***@host``)."""
    if "@" not in text:
        return text
    return URL_PASSWORD_RE.sub(r"\1" + MASK + "@", text)
