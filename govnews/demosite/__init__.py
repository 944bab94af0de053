"""Demo / fixture government site: generator + loopback server.

``make demo`` serves it and every end-to-end test crawls it.  Everything lives in the repo (the
five seed texts are bundled in ``govnews/demosite/seeds/``), nothing is fetched from outside and
the server refuses non-loopback addresses.

API
---
::

    from govnews.demosite import DemoSite, serve, write_site, demo_profile_toml

    site = DemoSite()                      # bundled demo: 5 seed stories + 12 synthetic, mirror, cross-posts
    site = DemoSite(n_articles=200, seed=1)  # 200 stories (5 seeds + synthetic) spread over the 3 CMS
                                           #   sections; no mirror/cross-posts unless mirror=True /
                                           #   crossposts=True, so len(expected_articles) == 200
    site.pages            # {path: (bytes, content_type, extra_headers)} static pages (ETag, Last-Modified)
    site.get("/calendar?month=2024-10")   # any target incl. dynamic ones -> page tuple or None (404)
    site.expected_articles  # [ExpectedArticle(url_path, title, published_at, section, cms, source,
                            #   canonical_group, title_simplified, column, author, editor,
                            #   original_title, summary, paragraphs, variant, encoding, declared_charset)]
    site.publish(k)       # k new newest articles at the top of the lists (round robin trs/hanweb/portal);
                          #   returns their ExpectedArticles; list ETags/Last-Modified change
    with serve(site, host="127.0.0.1", port=0) as server:   # threaded http.server, background thread
        server.url, server.port
        server.requests   # [(method, path_with_query, headers)] for counting requests
        server.faults["/news/index.html"] = 503   # fault injection (path with or without query)
        server.delay_seconds = 0.5                # slow server
    write_site(site, "out/")                  # static files (dynamic URLs need the server)
    demo_profile_toml("http://127.0.0.1:9999/")  # sites/demo.toml text for another port

``python -m govnews.demosite --port 8765 [--articles N]`` and ``govnews serve-demo`` run it.

ExpectedArticle notes: ``title`` is the headline as the page shows it without pinyin glosses
(traditional characters on mirror pages); ``title_simplified`` and ``paragraphs`` (clean simplified
body) are the same for all copies of a story; ``canonical_group`` is the story key ("seed000",
"syn00007").  Seed 004 has no date in the dump, seed 001 says "昨(5)日": their dates are assigned.

URL layout (host 127.0.0.1)
---------------------------
``/``, ``/index.html``   home page (UTF-8): nav, first-page headlines of TRS and portal, links to every
                         section, the calendar, the topic chain, the mirror, RSS and ``/private/``.
``/robots.txt``          ``Disallow: /private/`` (``/private/index.html`` + one article exist: never crawl).
``/rss.xml``             RSS 2.0 with the first-page articles of the TRS and portal sections (links use the
                         request's Host header).
TRS WCM ("政务要闻")    lists ``/xwzx/zwyw/index.html``, ``index_1.html``, ... -- later pages only through
                         ``createPageHTML(total, current, "index", "html")``; articles
                         ``/xwzx/zwyw/YYYYMM/tYYYYMMDD_NNNNNN.html`` (linked as ``./YYYYMM/...``), metas
                         ArticleTitle/PubDate/ContentSource/ColumnName/SiteName, body ``div.TRS_Editor``.
                         UTF-8; every 4th article (2nd, 6th, ...) is UTF-8 that declares gb2312 in
                         ``<meta>`` with no charset in the header.
Hanweb ("部门动态")     ``/col/col1234/index.html``: records in ``<script type="text/xml"><datastore>``,
                         first ``per_page`` only; the rest from ``/module/web/jpage/dataproxy.jsp?
                         startrecord=N&endrecord=M&perpage=K&columnid=1234&...`` (GET or POST; same
                         ``<datastore>`` XML plus ``<totalrecord>``); articles
                         ``/art/YYYY/M/D/art_1234_NNNN.html``, body ``div#zoom`` with ZJEG_RSS markers. UTF-8.
home-made ("乡镇动态")  ``/news/index.html``, ``/news/list_2.html``, ... joined by plain 上一页/下一页
                         links; articles ``/news/YYYY-MM/DD/content_NNNN.htm``; breadcrumb 您现在的位置,
                         来源/日期/点击 line, 热点排行 sidebar, 相关新闻 footer; seed 001 printed twice,
                         seed 003 with its site menu, seed 004 with the author line first.  GBK: lists
                         declare it in the Content-Type header only, articles in ``<meta>`` only.
mirror                  ``/mirror/index.html``, ``/mirror/list_N.html``; articles
                         ``/mirror/html/YYYYMMDD/NNNNN.html``: same stories converted to traditional
                         with pinyin glosses (seed pages verbatim, incl. broken ``日?qǐng)?bào)``), porn-spam
                         ``<title>``.  GBK with no charset anywhere (header or meta).
traps                   ``/calendar?month=YYYY-MM`` (prev/next month forever) and
                         ``/zt/list.html?page=N`` (下一页 to N+1 forever, same articles rotated).
cross-posts             seed 004 in TRS and portal; the first synthetic story in a second CMS section.

Conditional GET: every page has a content-hash ETag and a Last-Modified (article: its publication
time; lists: build time, bumped to at least "now" when a publish changes them); the server answers
304 to If-None-Match (checked first) or If-Modified-Since, 404 for unknown paths, HEAD and POST too.
"""
from __future__ import annotations

from .profile import ARTICLE_URL_REGEX, demo_profile_toml
from .server import DemoServer, NonLoopbackError, is_loopback, serve, write_site
from .site import DATAPROXY, LIST_START, DemoSite, ExpectedArticle

__all__ = [
    "ARTICLE_URL_REGEX", "DATAPROXY", "LIST_START", "DemoServer", "DemoSite", "ExpectedArticle",
    "NonLoopbackError", "demo_profile_toml", "is_loopback", "serve", "write_site",
]
