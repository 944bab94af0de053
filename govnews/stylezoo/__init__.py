"""The style zoo (issue 13): generated government sites in CMS styles that the demo site does not
have, served on loopback, to measure link discovery on sites nobody wrote a pattern for.

::

    from govnews.stylezoo import STYLES, ZooSite, serve

    site = ZooSite("vsb", n_articles=30, seed=0)
    site.home_path            # "/index.htm"
    site.expected_articles    # root-relative path+query of every article, newest first
    site.short_articles       # the briefs (~100 characters) and two-sentence notices among them
    site.article_info[path]   # ZooArticle(title, published, column, kind, attachments, ...)
    site.non_article_links    # home, column, menu, friend, footer, list and API pages (normalized)
    site.offsite_links        # friend links to other government sites (never to be fetched)
    site.list_urls            # {column key: [list page 1, 2, ...]} in the style's own paging
    site.response("/info/1024/5678.htm") -> (status, content type, bytes)
    with serve(site) as srv:  # 127.0.0.1, free port; refuses non-loopback hosts
        srv.home_url

``python -m govnews.stylezoo --list`` prints the styles; ``--style NAME --port N`` serves one.

Every style has the same content model: three columns (two news columns, one notice column),
news articles, ~100-character briefs, two-sentence 通知 with a .pdf/.docx attachment; and the same
distractors: top menu with column and landing pages (政务公开/政策文件/信息公开/政务服务/互动交流),
breadcrumbs, a left column menu, 图片新闻 carousel, 热点排行 sidebar (article links), "更多>>" links,
a friend-links box (off-site government sites and on-site pages), footer links (网站地图/联系我们/
隐私声明), 上一篇/下一篇 links, and the style's pager.  Route lookups sort query arguments, as the
crawler's canonical URLs do.  The URL shapes, paging and the research behind each style are in
:mod:`govnews.stylezoo.styles` (``Style.paging`` / ``Style.research``).
"""
from __future__ import annotations

from .server import NonLoopbackError, ZooServer, is_loopback, serve
from .site import ZooSite, normalize
from .styles import STYLES, Style, ZooArticle, ZooColumn

__all__ = ["STYLES", "NonLoopbackError", "Style", "ZooArticle", "ZooColumn", "ZooServer", "ZooSite",
           "is_loopback", "normalize", "serve"]
