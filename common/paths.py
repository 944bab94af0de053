"""Where govnews keeps its files: one rule, the same from any directory, never the install path.

The *home* directory is, in order:

1. ``$GOVNEWS_HOME``;
2. the closest directory at or above the current one that holds a ``scrapy.cfg`` (a govnews project
   checkout, found the way Scrapy finds its project, so any subdirectory of the project agrees);
3. ``$XDG_DATA_HOME/govnews`` (default ``~/.local/share/govnews``).

Under it: ``data/`` (the default SQLite archive ``data/archive.db``, dead letters, job dirs) and
``sites/`` (site profiles). ``$GOVNEWS_DATA_DIR`` and ``$GOVNEWS_SITES_DIR`` override each one. These
functions only compute paths; creating a directory is left to commands that write.
"""
from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "GOVNEWS_HOME"
DATA_DIR_ENV = "GOVNEWS_DATA_DIR"
SITES_DIR_ENV = "GOVNEWS_SITES_DIR"
PROJECT_MARKER = "scrapy.cfg"


def _closest_project(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / PROJECT_MARKER).is_file():
            return directory
    return None


def home(cwd: str | os.PathLike | None = None) -> Path:
    """The govnews home directory (see the module docstring)."""
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    project = _closest_project(Path(cwd or os.getcwd()).resolve())
    if project is not None:
        return project
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return (base / "govnews").resolve()


def data_dir(cwd: str | os.PathLike | None = None) -> Path:
    """``$GOVNEWS_DATA_DIR``, else ``<home>/data``."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env).expanduser().resolve() if env else home(cwd) / "data"


def sites_dir(cwd: str | os.PathLike | None = None) -> Path:
    """``$GOVNEWS_SITES_DIR``, else ``<home>/sites``."""
    env = os.environ.get(SITES_DIR_ENV, "").strip()
    return Path(env).expanduser().resolve() if env else home(cwd) / "sites"


def default_sqlite_path(cwd: str | os.PathLike | None = None) -> Path:
    """The default archive: ``<data dir>/archive.db``."""
    return data_dir(cwd) / "archive.db"
