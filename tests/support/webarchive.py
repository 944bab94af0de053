"""A small archive for the web view and feed tests: two sites, columns, a traditional-character
article, a hostile page (script in title and body), a revision, a second sighting, crawl runs."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import runs

SEEN = datetime(2024, 10, 25, 3, 0, tzinfo=UTC)
HOSTILE_TITLE = "<script>window.__pwned=1</script>恶意标题测试"
HOSTILE_HTML = ("<html><head><meta charset='utf-8'><title><script>window.parent.__pwned=1</script>恶意</title>"
                "</head><body onload=\"window.parent.document.title='PWNED'\">"
                "<script>window.parent.document.title='PWNED'; fetch('http://127.0.0.1:9/x')</script>"
                "<img src=x onerror=\"window.parent.document.title='PWNED'\"><p>正文内容</p></body></html>")
TRAD_TITLE = "科技城新區召開鄉村振興會議"
BODY_A = ("近日，记者来到经开区连接器产业园项目，看到现场塔吊耸立，营商环境持续优化。\n"
          "项目负责人介绍，园区今年新增企业二十余家，带动就业三千余人。\n"
          "下一步，经开区将继续深化改革，推动项目建设跑出加速度。")
BODY_A2 = BODY_A.replace("二十余家", "三十余家").replace("三千余人", "四千余人")


def fill(archive, db_url: str) -> dict:
    """Fill ``archive``; returns ids and facts the tests check."""
    archive.ensure_site("demo", "示范县人民政府", ["127.0.0.1"])
    archive.ensure_site("other", "另一个县")
    out: dict = {"articles": {}}

    def store(site, url, seen=SEEN, page_body=None, **fields):
        page_id = None
        if page_body is not None:
            page_id = archive.record_page(site, url, status=200,
                                          headers={"Content-Type": "text/html; charset=utf-8"},
                                          body=page_body.encode("utf-8"), outcome="article", fetched_at=seen)
        r = archive.store_article(site, url, fields, page_id=page_id, seen_at=seen)
        return r

    r = store("demo", "http://127.0.0.1/a/1.html", title="经开区推动项目建设“加速跑”", body=BODY_A,
              published_at=datetime(2024, 10, 24, 1, 3, tzinfo=UTC), source="绵阳日报", author="张三",
              column="政务要闻", page_body="<html><body><p>经开区</p></body></html>")
    out["articles"]["main"] = r.article_id
    r2 = store("demo", "http://127.0.0.1/a/1.html", seen=SEEN + timedelta(hours=5), title="经开区推动项目建设“加速跑”",
               body=BODY_A2, published_at=datetime(2024, 10, 24, 1, 3, tzinfo=UTC), column="政务要闻")
    out["revision_outcome"] = r2.outcome
    store("other", "http://other.gov.cn/copy.html", title="经开区推动项目建设“加速跑”", body=BODY_A)
    r = store("demo", "http://127.0.0.1/mirror/2.html", title=TRAD_TITLE,
              body="科技城新區召開會議，部署鄉村振興工作，要求各部門狠抓落實，確保見到實效。",
              published_at=datetime(2024, 10, 23, 20, 0, tzinfo=UTC), column="部门动态")
    out["articles"]["trad"] = r.article_id
    r = store("demo", "http://127.0.0.1/a/3.html", title=HOSTILE_TITLE,
              body="第一段<script>alert('body')</script>正文\n第二段 <img src=x onerror=alert(2)>",
              published_at=datetime(2024, 10, 22, 2, 0, tzinfo=UTC), column="政务要闻", page_body=HOSTILE_HTML)
    out["articles"]["hostile"] = r.article_id
    r = store("demo", "http://127.0.0.1/a/4.html", title="没有日期的通知", body="这是一篇没有发布日期的通知，按首次发现的日期计数。")
    out["articles"]["undated"] = r.article_id
    r = store("other", "http://other.gov.cn/4.html", title="另一个县的营商环境新闻",
              body="另一个县的营商环境新闻，内容与上面的文章完全不同。", source="新华社",
              published_at=datetime(2024, 9, 30, 16, 30, tzinfo=UTC), column="要闻")
    out["articles"]["other"] = r.article_id
    archive.record_page("demo", "http://127.0.0.1/blocked.html", status=403, body=b"<html>verify</html>",
                        outcome="blocked", reason="challenge: waf", fetched_at=SEEN)
    archive.record_page("demo", "http://127.0.0.1/gone.html", status=404, outcome="failed", reason="http_404",
                        fetched_at=SEEN)
    t0 = SEEN - timedelta(hours=2)
    r1 = runs.start_run(db_url, "demo", "schedule", started_at=t0)
    runs.finish_run(db_url, r1, "failed", exit_code=1, failures={"http_404": 3}, now=t0 + timedelta(minutes=5))
    r2 = runs.start_run(db_url, "demo", "manual", started_at=t0 + timedelta(hours=1))
    runs.finish_run(db_url, r2, "ok", exit_code=0, pages=12, new_articles=5,
                    now=t0 + timedelta(hours=1, seconds=90))
    return out
