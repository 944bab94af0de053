"""Regenerate the README screenshots (docs/img/browse.png, docs/img/health.png).

Builds a throw-away archive from the bundled demo site's stories (two sites: one healthy, one
that went silent and now fails), serves it with ``govnews.web`` on 127.0.0.1 and photographs the
site page, the search page and the health page with headless Chromium (Debian's ``chromium``,
driven by Playwright; ``bash .ci/browser.sh`` installs both). Deterministic: a fixed "now".

    .venv/bin/python scripts/screenshots.py [--out docs/img]
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common.clock import LOCAL_TZ  # noqa: E402
from crawler.profiles import load_profile  # noqa: E402
from govnews.demosite import DemoSite, demo_profile_toml  # noqa: E402
from govnews.web.app import make_app  # noqa: E402
from govnews.web.db import readonly_engine  # noqa: E402
from govnews.web.server import running  # noqa: E402
from storage import runs  # noqa: E402
from storage.archive import Archive  # noqa: E402
from storage.db import upgrade_db  # noqa: E402

NOW = __import__("datetime").datetime(2024, 11, 1, 10, 0, tzinfo=LOCAL_TZ)


def build(tmp: Path) -> tuple[str, list]:
    db_url = f"sqlite:///{tmp / 'archive.db'}"
    upgrade_db(db_url)
    rnd = random.Random(5)
    stories = DemoSite(n_articles=160, seed=3).expected_articles
    profiles = []
    for name, title in (("demo", "示范县人民政府（演示站点）"), ("qingxi", "清溪镇人民政府")):
        path = tmp / f"{name}.toml"
        text = demo_profile_toml("http://127.0.0.1:8765/").replace('name = "demo"', f'name = "{name}"', 1)
        path.write_text(text.replace("示范县人民政府（演示站点）", title), encoding="utf-8")
        profiles.append(load_profile(str(path)))
    with Archive(db_url) as archive:
        archive.ensure_site("demo", "示范县人民政府（演示站点）", ["127.0.0.1"])
        archive.ensure_site("qingxi", "清溪镇人民政府", ["127.0.0.1"])
        for i, s in enumerate(stories):
            site = "demo" if i % 4 else "qingxi"
            back = rnd.uniform(0, 88) if site == "demo" else rnd.uniform(35, 88)
            published = NOW - timedelta(days=back, hours=rnd.uniform(0, 8))
            archive.store_article(site, f"http://127.0.0.1:8765/{site}/{i}.html",
                                  {"title": s.title, "body": "\n".join(s.paragraphs), "published_at": published,
                                   "source": s.source, "author": s.author, "column": s.column},
                                  seen_at=published + timedelta(hours=1))
        for d in range(12, 0, -1):
            start = NOW - timedelta(days=d)
            r = runs.start_run(db_url, "demo", "schedule", started_at=start)
            runs.finish_run(db_url, r, "ok", exit_code=0, requests=60, pages=40, new_articles=2,
                            now=start + timedelta(seconds=95))
            r = runs.start_run(db_url, "qingxi", "schedule", started_at=start + timedelta(minutes=3))
            status = "ok" if d > 6 else "failed"
            runs.finish_run(db_url, r, status, exit_code=0 if status == "ok" else 1,
                            failures={} if status == "ok" else {"http_503": 7, "timeout": 2},
                            now=start + timedelta(minutes=4))
        archive.record_page("qingxi", "http://127.0.0.1:8765/qingxi/list.html", status=412, body=b"<html></html>",
                            outcome="blocked", reason="challenge: JS cookie (412)", fetched_at=NOW - timedelta(days=1))
    return db_url, profiles


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "docs" / "img"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("no chromium on PATH: run `bash .ci/browser.sh` first", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db_url, profiles = build(tmp)
        engine = readonly_engine(db_url)
        app = make_app(engine, profiles=profiles, deadletter_dir=tmp / "deadletter", clock=lambda: NOW)
        with running(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1200, "height": 820}, locale="zh-CN")
            page.goto(base + "search?q=%E6%96%B0%E5%8D%80")           # 新區: traditional query
            page.screenshot(path=str(out / "browse.png"))
            page.set_viewport_size({"width": 1200, "height": 1300})
            page.goto(base + "health")
            page.screenshot(path=str(out / "health.png"))
            browser.close()
        engine.dispose()
    print(f"wrote {out / 'browse.png'} and {out / 'health.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
