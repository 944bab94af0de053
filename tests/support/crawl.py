"""Running ``scrapy crawl gov_news`` as a subprocess against a loopback fixture site."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def write_profile(tmp_path: Path, base_url: str, name: str = "demo", extra: str = "", **kw) -> Path:
    from govnews.demosite import demo_profile_toml

    text = demo_profile_toml(base_url, **kw)
    if extra:
        text = text.replace("[hints]", f"{extra}\n\n[hints]", 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def scrapy_crawl(profile: Path, db_url: str, *args: str, timeout: float = 180,
                 env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the spider; fail with its log when it exits non-zero."""
    full_env = dict(os.environ, GOVNEWS_DB_URL=db_url, **(env or {}))
    full_env.pop("GOVNEWS_RUN_ID", None)
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "gov_news", "-a", f"site={profile}", *args],
        cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"crawl exited {proc.returncode}\n{proc.stderr[-5000:]}")
    return proc
