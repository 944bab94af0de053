"""A real browser over the web view: the demo site is crawled on loopback into a fresh archive,
``govnews.web`` serves it on loopback, headless Chromium (Debian's ``chromium``, driven by
Playwright) loads the pages. Skipped with the reason when Chromium or Playwright is missing,
except under ``CI=true`` (``.ci/browser.sh`` installs them), where it fails instead.

Artefacts: ``build/test-artefacts/health.png`` (the health page) and ``health-chart.png``.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govnews.demosite import DemoSite, serve
from govnews.web.app import make_app
from govnews.web.charts import CHART_HEIGHT, CHART_WIDTH
from govnews.web.db import readonly_engine
from govnews.web.server import running
from storage.archive import Archive
from storage.models import Article, Site
from tests.support.crawl import scrapy_crawl, write_profile
from tests.support.png import distinct_colours, read_png

REPO = Path(__file__).resolve().parent.parent
ARTEFACTS = Path(os.environ.get("GOVNEWS_TEST_ARTEFACTS", REPO / "build" / "test-artefacts"))
IN_CI = os.environ.get("CI", "").lower() == "true"
HOSTILE_PAGE = ("<html><head><meta charset='utf-8'><title>恶意<script>document.title='PWNED'</script></title></head>"
                "<body><script>document.body.setAttribute('data-pwned', '1'); parent.document.title = 'PWNED';"
                "fetch('/feeds/all.atom?pwned=1')</script><img src='/static/style.css?pwned=img' "
                "onerror=\"document.body.setAttribute('data-pwned', '2')\"><p id='p'>正文内容</p></body></html>")
HOSTILE_TITLE = "<script>window.__pwned=1</script>恶意标题<img src=x onerror=window.__pwned=2>"
TRAD_TITLE = "科技城新區召開鄉村振興會議"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def need_browser():
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and chromium_path() is None:
        reason = "no chromium on PATH (bash .ci/browser.sh installs Debian's chromium)"
    if reason:
        if IN_CI:
            pytest.fail(reason + " (CI=true: the browser test must run)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory):
    need_browser()
    from storage.db import upgrade_db

    tmp = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{tmp / 'archive.db'}"
    upgrade_db(db_url)
    site = DemoSite()
    with serve(site, host="127.0.0.1", port=0) as server:
        scrapy_crawl(write_profile(tmp, server.url), db_url)
    with Archive(db_url) as archive:
        archive.ensure_site("extra", "测试站点")
        pid = archive.record_page("extra", "http://127.0.0.1/hostile.html", status=200,
                                  headers={"Content-Type": "text/html; charset=utf-8"},
                                  body=HOSTILE_PAGE.encode("utf-8"), outcome="article")
        hostile = archive.store_article("extra", "http://127.0.0.1/hostile.html",
                                        {"title": HOSTILE_TITLE, "body": "第一段<script>window.__pwned=3</script>\n第二段"},
                                        page_id=pid).article_id
        trad = archive.store_article("extra", "http://127.0.0.1/trad.html",
                                     {"title": TRAD_TITLE,
                                      "body": "科技城新區召開會議，部署鄉村振興工作，要求各部門狠抓落實，確保見到實效。"}).article_id
    return {"db_url": db_url, "hostile": hostile, "hostile_page": pid, "trad": trad, "site": site}


@pytest.fixture(scope="module")
def browser_session(demo_archive, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    engine = readonly_engine(demo_archive["db_url"])
    app = make_app(engine, deadletter_dir=tmp_path_factory.mktemp("deadletter"))
    served: list[str] = []

    def recording(environ, start_response):          # what reached the server
        served.append(environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        return app(environ, start_response)

    with running(recording) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        yield base.rstrip("/"), browser, engine, served
        browser.close()
    engine.dispose()


class Visit:
    """A page with its console errors, page errors, dialogs and requests recorded."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def go(self, url):
        resp = self.page.goto(url, wait_until="load")
        assert resp is not None and resp.status == 200, (url, resp and resp.status)
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser_session):
    v = Visit(browser_session[1])
    yield v
    v.close()


def counts(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(Site.name, func.count(Article.id)).join(Article).group_by(Site.name)).all())


def test_home_site_article_pages_load_clean_with_counts_and_titles(browser_session, visit, demo_archive):
    base, _, engine, _ = browser_session
    per_site = counts(engine)
    page = visit.go(base + "/")
    assert page.inner_text("#total-articles") == str(sum(per_site.values()))
    for name, n in per_site.items():
        assert page.inner_text(f'tr[data-site="{name}"] td.articles') == str(n)
    page = visit.go(base + "/site/demo")
    assert page.inner_text("#site-total") == str(per_site["demo"])
    expected = {e.title_simplified for e in demo_archive["site"].expected_articles}
    shown = page.locator("#articles a.title").all_inner_texts()
    assert shown and len(shown) == min(50, per_site["demo"])
    import opencc
    t2s = opencc.OpenCC("t2s")
    assert {t2s.convert(t) for t in shown} <= expected, "titles are the demo's stories"
    page.locator("#articles a.title").first.click()
    page.wait_for_load_state("load")
    assert page.inner_text("#title") == shown[0]
    assert page.locator("#body p").count() >= 1 and page.locator("#sightings tbody tr").count() >= 1
    font_ok = page.evaluate("document.fonts.check('16px sans-serif', '政务要闻')")
    assert font_ok is not False
    assert visit.errors == [], visit.errors


def test_search_finds_traditional_article_from_simplified_query(browser_session, visit, demo_archive):
    base, _, _, _ = browser_session
    page = visit.go(base + "/")
    page.fill('header input[name="q"]', "新区 乡村振兴")
    page.press('header input[name="q"]', "Enter")
    page.wait_for_load_state("load")
    titles = page.locator("#hits a.title").all_inner_texts()
    assert TRAD_TITLE in titles
    hit = page.locator("#hits li", has_text=TRAD_TITLE)
    assert hit.locator("mark").count() >= 2, "terms highlighted"
    assert visit.errors == [], visit.errors


def test_hostile_archived_page_runs_no_script(browser_session, visit, demo_archive):
    base, _, _, _ = browser_session
    page = visit.go(f"{base}/article/{demo_archive['hostile']}")
    assert page.inner_text("#title") == HOSTILE_TITLE, "the title is shown as text"
    assert page.evaluate("window.__pwned") is None
    page = visit.go(f"{base}/raw/{demo_archive['hostile_page']}")
    assert "document.body.setAttribute" in page.inner_text("#raw")
    assert visit.errors == [], visit.errors
    page = visit.go(f"{base}/raw/{demo_archive['hostile_page']}/render")
    frame_el = page.wait_for_selector("#raw-frame")
    frame = frame_el.content_frame()
    frame.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert frame.inner_text("#p") == "正文内容", "the archived page is rendered"
    assert frame.get_attribute("body", "data-pwned") is None, "no script, no event handler ran"
    assert page.title().endswith("govnews") and "PWNED" not in page.title()
    assert page.evaluate("window.__pwned") is None
    assert not [u for u in browser_session[3] if "pwned" in u], "the archived page loaded nothing"
    blocked = [e for e in visit.errors if not re.search(r"[Bb]locked script execution|Content Security Policy|"
                                                           r"sandboxed|Failed to load resource", e)]
    assert blocked == [], blocked


def test_health_page_has_charts_and_screenshot(browser_session, visit):
    base, _, engine, _ = browser_session
    page = visit.go(base + "/health")
    charts = page.locator("svg.chart")
    assert charts.count() == len(counts(engine))
    demo_chart = page.locator('section[data-site="demo"] svg.chart')
    box = demo_chart.bounding_box()
    assert box and round(box["width"]) == CHART_WIDTH and round(box["height"]) == CHART_HEIGHT
    assert demo_chart.locator("rect.bar").count() >= 1, "today's archived articles are drawn"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "health.png"), full_page=True)
    png = demo_chart.screenshot(path=str(ARTEFACTS / "health-chart.png"))
    width, height, _ = read_png(png)
    assert abs(width - CHART_WIDTH) <= 1 and abs(height - CHART_HEIGHT) <= 1, (width, height)  # sub-pixel offset
    assert distinct_colours(png) >= 4, "the chart is not blank (background, grid, bars, labels)"
    assert read_png((ARTEFACTS / "health.png").read_bytes())[0] == 1200
    assert visit.errors == [], visit.errors
