# ruff: noqa: E501  (HTML templates: long literal lines are the markup)
"""The styles of the zoo: one small class per CMS family, each publishing the same content model
(columns of articles, short notices, briefs) with its own URL shapes, list markup, paging and article
template.  :class:`govnews.stylezoo.site.ZooSite` builds the pages; a style only answers "what is the
URL of X" and "what does page X look like".

What each style imitates (and what it was modelled on) is in its docstring and in
``govnews/stylezoo/__init__.py``.
"""
from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # pragma: no cover
    from .site import ZooSite


def e(text: object) -> str:
    return escape(str(text or ""), quote=True)


def d(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d")


def dm(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def rel(from_path: str, to_path: str) -> str:
    """Relative href from the page at ``from_path`` to ``to_path`` (both root-relative, to may carry a query)."""
    to, _, query = to_path.partition("?")
    base = posixpath.dirname(from_path.split("?", 1)[0]) or "/"
    r = posixpath.relpath(to, base)
    if to.endswith("/") and not r.endswith("/"):
        r += "/"
    if r == ".":
        r = "./"
    return r + ("?" + query if query else "")


# ---------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class ZooColumn:
    key: str          # "zwyw"
    name: str         # "政务要闻"
    kind: str         # "news" | "notice"
    cid: int          # the CMS's numeric id of the column (tree id, typeid, catid, classid ...)


@dataclass
class Attachment:
    path: str
    name: str
    ctype: str


@dataclass
class ZooArticle:
    """One article page of a zoo site."""

    serial: int                      # 0 = newest
    id: int                          # the CMS's numeric id
    column: ZooColumn
    title: str
    published: datetime
    paragraphs: list[str]
    source: str
    kind: str                        # "news" | "brief" (about 100 characters) | "notice" (two sentences + attachment)
    hexid: str = ""
    path: str = ""                   # root-relative path + query as linked
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return self.kind in ("brief", "notice")

    @property
    def text_length(self) -> int:
        return sum(len(p) for p in self.paragraphs)


MENU_STATICS = [  # key, menu text: column menus that are not article lists (landing pages)
    ("zwgk", "政务公开"), ("zcwj", "政策文件"), ("xxgk", "信息公开"), ("zwfw", "政务服务"),
    ("hdjl", "互动交流"), ("zjxq", "走进示范"),
]
FOOTER_STATICS = [("wzdt", "网站地图"), ("lxwm", "联系我们"), ("yssm", "隐私声明")]
FRIEND_STATICS = [("rmtzx", "县融媒体中心"), ("zwfwzx", "县政务服务中心")]
FRIEND_OFFSITE = [
    ("http://www.gov.cn/", "中国政府网"), ("http://www.sc.gov.cn/", "四川省人民政府"),
    ("http://www.my.gov.cn/", "绵阳市人民政府"), ("http://www.ah.gov.cn/", "安徽省人民政府"),
    ("http://www.zjzwfw.gov.cn/", "浙江政务服务网"),
]
STATIC_TEXT = {
    "zwgk": "政务公开栏目集中发布本县政府信息公开指南、政府信息公开制度和年度报告。",
    "zcwj": "政策文件栏目汇集县政府及办公室印发的规范性文件和政策解读材料。",
    "xxgk": "信息公开目录按照机构职能、规划计划、财政资金等类别组织。",
    "zwfw": "政务服务事项可通过政务服务网在线办理，也可前往县政务服务中心现场办理。",
    "hdjl": "县长信箱、在线访谈和意见征集请通过互动交流平台提交。",
    "zjxq": "示范县位于盆地西北部，辖12个镇、3个街道，幅员面积1200平方公里。",
    "wzdt": "网站地图",
    "lxwm": "主办单位：示范县人民政府办公室　地址：示范县政府路1号　邮编：621000　电话：0816-1234567",
    "yssm": "本网站尊重并保护所有使用服务用户的个人隐私权。",
    "rmtzx": "示范县融媒体中心负责全县新闻宣传和融媒体内容生产。",
    "zwfwzx": "县政务服务中心设有综合受理窗口48个，实行一窗受理、集成服务。",
}


# ---------------------------------------------------------------------------------------------- base
class Style:
    """Defaults shared by the styles; a subclass overrides what its CMS does differently."""

    name = "base"
    family = ""
    title = "示范县人民政府"
    encoding = "utf-8"            # bytes on the wire
    header_charset = True         # charset in the Content-Type header (else only in the <meta>)
    meta_charset: str | None = "utf-8"
    gov_meta = False              # <meta name="ArticleTitle"> / PubDate / ContentSource on articles
    columns: tuple[ZooColumn, ...] = (
        ZooColumn("zwyw", "政务要闻", "news", 101),
        ZooColumn("gzdt", "工作动态", "news", 102),
        ZooColumn("tzgg", "通知公告", "notice", 103),
    )
    id_base = 1000
    id_step = 3
    npages: dict[str, int]        # pages per column key, filled by ZooSite before rendering
    paging = ""                   # one line for the docs: how list pages are paged
    research = ""                 # what the style was modelled on

    # ------------------------------------------------------------------ URLs
    def home_path(self) -> str:
        return "/"

    def list_path(self, col: ZooColumn, page: int) -> str:
        return f"/{col.key}/index.html" if page == 1 else f"/{col.key}/index_{page}.html"

    def article_path(self, art: ZooArticle) -> str:
        return f"/{art.column.key}/{art.id}.html"

    def static_path(self, key: str) -> str:
        return f"/{key}/index.html"

    def attachment_path(self, art: ZooArticle, k: int, ext: str) -> str:
        p = art.published
        return f"/uploadfile/{p:%Y}/{p:%m%d}/{art.id}{k}.{ext}"

    def list_aliases(self, col: ZooColumn, page: int) -> list[str]:
        """Other URLs the CMS publishes the same list page at."""
        return []

    def link(self, from_path: str, to_path: str) -> str:
        """How this CMS writes an on-site href (default: root-relative)."""
        return to_path

    # ------------------------------------------------------------------ extras
    def extra_routes(self, site: ZooSite) -> dict[str, tuple[str, bytes]]:
        return {}

    def dynamic(self, site: ZooSite, path: str, params: list[tuple[str, str]]) -> tuple[int, str, bytes] | None:
        return None

    def list_pages_count(self, site: ZooSite, col: ZooColumn) -> int:
        return max(1, -(-len(site.column_articles(col)) // site.per_page))

    # ------------------------------------------------------------------ list pages
    def list_items(self, site: ZooSite, here: str, arts: list[ZooArticle]) -> str:
        rows = "".join(
            f'<li><a href="{e(self.link(here, a.path))}" target="_blank" title="{e(a.title)}">{e(a.title)}</a>'
            f"<span>{d(a.published)}</span></li>\n" for a in arts)
        return f'<ul class="list">\n{rows}</ul>\n'

    def pager(self, site: ZooSite, col: ZooColumn, here: str, page: int, npages: int, total: int) -> str:
        def u(n: int) -> str:
            return e(self.link(here, self.list_path(col, n)))
        parts = [f"<span>共{total}条</span>"]
        parts.append(f'<a href="{u(1)}">首页</a>')
        parts.append(f'<a href="{u(page - 1)}">上一页</a>' if page > 1 else "<span>上一页</span>")
        for n in range(1, npages + 1):
            parts.append(f"<b>{n}</b>" if n == page else f'<a href="{u(n)}">{n}</a>')
        parts.append(f'<a href="{u(page + 1)}">下一页</a>' if page < npages else "<span>下一页</span>")
        parts.append(f'<a href="{u(npages)}">尾页</a>')
        return '<div class="page">' + " ".join(parts) + "</div>\n"

    def list_body(self, site: ZooSite, col: ZooColumn, page: int) -> str:
        here = self.list_path(col, page)
        arts = site.page_articles(col, page)
        npages = self.list_pages_count(site, col)
        return (self.list_items(site, here, arts)
                + self.pager(site, col, here, page, npages, len(site.column_articles(col))))

    def list_page(self, site: ZooSite, col: ZooColumn, page: int) -> str:
        here = self.list_path(col, page)
        body = (f'<div class="main-left">{site.column_menu(self, here, col)}</div>'
                f'<div class="main-right"><div class="lm-title"><h3>{e(col.name)}</h3></div>'
                f'<div class="lm-list">{self.list_body(site, col, page)}</div></div>'
                + site.hot_box(self, here))
        return site.chrome(self, here, f"{col.name}-{self.title}", body, col)

    # ------------------------------------------------------------------ articles
    def head_meta(self, site: ZooSite, art: ZooArticle) -> str:
        if not self.gov_meta:
            return ""
        return (f'<meta name="SiteName" content="{e(self.title)}">\n'
                f'<meta name="ColumnName" content="{e(art.column.name)}">\n'
                f'<meta name="ArticleTitle" content="{e(art.title)}">\n'
                f'<meta name="PubDate" content="{dm(art.published)}">\n'
                f'<meta name="ContentSource" content="{e(art.source)}">\n')

    def body_html(self, site: ZooSite, here: str, art: ZooArticle) -> str:
        paras = "".join(f"<p>{e(p)}</p>\n" for p in art.paragraphs)
        for att in art.attachments:
            paras += (f'<p>附件：<a href="{e(self.link(here, att.path))}" target="_blank">{e(att.name)}</a></p>\n')
        if art.kind == "notice":
            paras += (f'<p style="text-align:right">示范县人民政府办公室</p>'
                      f'<p style="text-align:right">{art.published.year}年{art.published.month}月'
                      f"{art.published.day}日</p>\n")
        return paras

    def article_main(self, site: ZooSite, here: str, art: ZooArticle) -> str:
        return (f'<div class="article"><h1>{e(art.title)}</h1>'
                f'<div class="article-info">发布时间：{dm(art.published)}　来源：{e(art.source)}</div>'
                f'<div class="article-content">{self.body_html(site, here, art)}</div></div>')

    def article_page(self, site: ZooSite, art: ZooArticle) -> str:
        here = art.path
        body = (self.article_main(site, here, art) + site.prev_next(self, here, art))
        return site.chrome(self, here, f"{art.title}-{self.title}", body, art.column,
                           extra_head=self.head_meta(site, art), article=art)


# ---------------------------------------------------------------------------------------------- styles
class VSB(Style):
    """博达 VSB (站群): static ``/info/{treeid}/{newsid}.htm`` articles linked relatively
    (``../info/1024/5678.htm``) from ``/xwzx/zwyw.htm`` lists whose later pages count *down*
    (``zwyw/4.htm`` … ``zwyw/1.htm`` = last), ``span.p_pages`` pager with 下页/尾页; the notice column
    is the dynamic JSP form ``list.jsp?…&PAGENUM=2&urltype=tree.TreeTempUrl&wbtreeid=1103`` with
    ``content.jsp?urltype=news.NewsContentUrl&wbtreeid=1103&wbnewsid=N`` articles."""

    name = "vsb"
    family = "博达 VSB"
    gov_meta = True
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 1024),
        ZooColumn("gzdt", "工作动态", "news", 1025),
        ZooColumn("tzgg", "通知公告", "notice", 1103),
    )
    id_base = 5678
    paging = "zwyw.htm, zwyw/{N-1}.htm … zwyw/1.htm (reverse numbering); notices list.jsp?PAGENUM=k"
    research = ("code search: VSB list pagers `<span class=\"p_next p_fun\"><a href=\"zbgg/10.htm\">下页</a>` "
                "counting down to `zbgg/1.htm` 尾页, `_showDynClickBatch`, article `div.v_news_content` in "
                "`#vsb_content`, ArticleTitle/PubDate/ContentSource metas, `content.jsp?urltype=news."
                "NewsContentUrl&wbtreeid=&wbnewsid=` links")

    def home_path(self) -> str:
        return "/index.htm"

    def list_path(self, col, page):
        if col.kind == "notice":
            q = f"/list.jsp?urltype=tree.TreeTempUrl&wbtreeid={col.cid}"
            return q if page == 1 else f"/list.jsp?a2t={self.npages[col.key]}&PAGENUM={page}&urltype=tree.TreeTempUrl&wbtreeid={col.cid}"
        if page == 1:
            return f"/xwzx/{col.key}.htm"
        return f"/xwzx/{col.key}/{self.npages[col.key] - page + 1}.htm"

    def article_path(self, art):
        if art.column.kind == "notice":
            return f"/content.jsp?urltype=news.NewsContentUrl&wbtreeid={art.column.cid}&wbnewsid={art.id}"
        return f"/info/{art.column.cid}/{art.id}.htm"

    def static_path(self, key):
        return f"/{key}.htm"

    def attachment_path(self, art, k, ext):
        return f"/__local/{art.hexid[:1].upper()}/{art.hexid[1:3].upper()}/{art.hexid[3:5].upper()}/{art.hexid[5:37].upper()}_{k}.{ext}"

    def link(self, from_path, to_path):
        return rel(from_path, to_path)

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<li id="line_u5_{i}"><a href="{e(self.link(here, a.path))}" target="_blank" title="{e(a.title)}">'
            f"{e(a.title)}</a><span>{d(a.published)}</span></li>\n" for i, a in enumerate(arts))
        ids = ",".join(str(a.id) for a in arts)
        return (f'<div class="list fr"><ul>\n{rows}</ul></div>\n'
                f'<script>_showDynClickBatch([{",".join(repr(f"dynclicks_u5_{a.id}") for a in arts)}],'
                f'[{ids}],"wbnews", 1632666717)</script>\n')

    def pager(self, site, col, here, page, npages, total):
        def a(n, text):
            return f'<a href="{e(self.link(here, self.list_path(col, n)))}">{text}</a>'
        out = [f'<span class="p_t">共{total}条</span> <span class="p_pages">']
        out.append('<span class="p_first_d p_fun_d">首页</span><span class="p_prev_d p_fun_d">上页</span>' if page == 1
                   else f'<span class="p_first p_fun">{a(1, "首页")}</span><span class="p_prev p_fun">{a(page - 1, "上页")}</span>')
        for n in range(1, npages + 1):
            out.append(f'<span class="p_no_d">{n}</span>' if n == page else f'<span class="p_no">{a(n, n)}</span>')
        if page < npages:
            out.append(f'<span class="p_next p_fun">{a(page + 1, "下页")}</span><span class="p_last p_fun">{a(npages, "尾页")}</span>')
        else:
            out.append('<span class="p_next_d p_fun_d">下页</span><span class="p_last_d p_fun_d">尾页</span>')
        out.append(f'</span> <span class="p_t">{page}/{npages}</span>')
        return ('<div class="pb_sys_common pb_sys_normal pb_sys_style1" style="margin-top:10px;text-align:center;">'
                + "".join(out) + "</div>\n")

    def article_main(self, site, here, art):
        atts = "".join(
            f'<li>附件【<a href="{e(self.link(here, t.path))}" target="_blank">{e(t.name)}</a>】已下载'
            f'<span id="nattach{art.id}{k}"><script>getClickTimes({art.id}{k},{art.id},"wbnewsfile","attach")</script></span>次</li>'
            for k, t in enumerate(art.attachments))
        paras = "".join(f'<p class="vsbcontent_start">{e(p)}</p>' for p in art.paragraphs)
        return (f'<form name="_newscontent_fromname"><div class="content-title"><h3>{e(art.title)}</h3>'
                f'<p><span>发布时间：{d(art.published)}</span><span>来源：{e(art.source)}</span>'
                f'<span>点击数：<script>_showDynClicks("wbnews", 1632666717, {art.id})</script></span></p></div>'
                f'<div id="vsb_content"><div class="v_news_content">{paras}</div></div>'
                + (f'<ul style="list-style-type:none;">{atts}</ul>' if atts else "") + "</form>")


class DedeCMS(Style):
    """织梦 DedeCMS: ``/a/xwzx/`` column (index.html), later pages ``list_{typeid}_{N}.html`` from
    ``{dede:pagelist listitem='index pre pageno next end info'}``; articles
    ``/a/xwzx/{Y}/{MMDD}/{aid}.html``; GBK with the charset in the ``<meta>`` only."""

    name = "dedecms"
    family = "织梦 DedeCMS"
    encoding = "gbk"
    header_charset = False
    meta_charset = "gb2312"
    columns = (
        ZooColumn("xwzx", "新闻中心", "news", 3),
        ZooColumn("gzdt", "工作动态", "news", 4),
        ZooColumn("tzgg", "通知公告", "notice", 7),
    )
    id_base = 2381
    paging = "/a/xwzx/ then /a/xwzx/list_3_2.html … (下一页/末页, 共 N页M条)"
    research = ("code search: DedeCMS GetPageListST: `<li><a href='list_3_2.html'>下一页</a></li>`, 末页, "
                "`<span class=\"pageinfo\">共 <strong>5</strong>页<strong>48</strong>条</span>`, "
                "`<li class=\"thisclass\">`; pages corpus: `{dede:list}` `[field:arcurl/]` `[field:pubdate]`, "
                "`{dede:pagelist listsize='3' listitem='index pre pageno next end'/}`")

    def list_path(self, col, page):
        return f"/a/{col.key}/" if page == 1 else f"/a/{col.key}/list_{col.cid}_{page}.html"

    def article_path(self, art):
        p = art.published
        return f"/a/{art.column.key}/{p:%Y}/{p:%m%d}/{art.id}.html"

    def static_path(self, key):
        return f"/a/{key}/"

    def list_aliases(self, col, page):
        return [f"/a/{col.key}/index.html", f"/a/{col.key}/list_{col.cid}_1.html"] if page == 1 else []

    def attachment_path(self, art, k, ext):
        return f"/uploads/soft/{art.published:%y%m%d}/1-{art.published:%y%m%d}{art.id % 10000:04d}{k}.{ext}"

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<li><a href="{e(a.path)}" class="title">{e(a.title)}</a><span class="info"><small>日期：</small>'
            f"{d(a.published)}<small>点击：</small>{(a.id * 7) % 500}<small>好评：</small>0</span>"
            f'<p class="intro">{e(a.paragraphs[0][:40])}...</p></li>\n' for a in arts)
        return f'<div class="listbox"><ul class="e2">\n{rows}</ul></div>\n'

    def pager(self, site, col, here, page, npages, total):
        def href(n):
            return f"list_{col.cid}_{n}.html"
        out = []
        if page > 1:
            out += [f"<li><a href='{href(1)}'>首页</a></li>", f"<li><a href='{href(page - 1)}'>上一页</a></li>"]
        else:
            out += ["<li><a>首页</a></li>"]
        for n in range(1, npages + 1):
            out.append(f'<li class="thisclass"><a>{n}</a></li>' if n == page else f"<li><a href='{href(n)}'>{n}</a></li>")
        if page < npages:
            out += [f"<li><a href='{href(page + 1)}'>下一页</a></li>", f"<li><a href='{href(npages)}'>末页</a></li>"]
        else:
            out += ["<li><a>末页</a></li>"]
        out.append(f'<span class="pageinfo">共 <strong>{npages}</strong>页<strong>{total}</strong>条</span>')
        return '<div class="dede_pages"><ul class="pagelist">\n' + "\r\n".join(out) + "\n</ul></div>\n"

    def article_main(self, site, here, art):
        return (f'<div class="viewbox"><div class="title"><h2>{e(art.title)}</h2></div>'
                f'<div class="info"><small>时间:</small>{dm(art.published)}<small>来源:</small>{e(art.source)}'
                f'<small>作者:</small>admin<small>点击:</small><script src="/plus/count.php?view=yes&aid={art.id}&mid=1" '
                f'type="text/javascript" language="javascript"></script>次</div>'
                f'<div class="content"><table width="100%"><tr><td>{self.body_html(site, here, art)}</td></tr></table></div></div>')


class PHPCMS(Style):
    """PHPCMS v9 dynamic URLs: lists ``index.php?m=content&c=index&a=lists&catid=12`` (+ ``&page=N``),
    articles ``index.php?m=content&c=index&a=show&catid=12&id=345``, ``pages()`` pager
    (``<a class="a1">48条</a>`` … ``class="a1">下一页</a>``)."""

    name = "phpcms"
    family = "PHPCMS v9"
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 12),
        ZooColumn("bmdt", "部门动态", "news", 13),
        ZooColumn("tzgg", "通知公告", "notice", 15),
    )
    id_base = 345
    paging = "index.php?m=content&c=index&a=lists&catid=12&page=N (pages(): 上一页/N/下一页)"
    research = ("code search: PHPCMS `pages()` in global.func.php: `<a class=\"a1\">{total}条</a>`, "
                "`<span>{cur}</span>`, `class=\"a1\">下一页</a>`; templates `content_tag->lists(catid…)`, "
                "`$r['url']`; public links `index.php?m=content&c=index&a=show&catid=282&id=611`")

    def list_path(self, col, page):
        base = f"/index.php?m=content&c=index&a=lists&catid={col.cid}"
        return base if page == 1 else f"{base}&page={page}"

    def article_path(self, art):
        return f"/index.php?m=content&c=index&a=show&catid={art.column.cid}&id={art.id}"

    def static_path(self, key):
        n = 20 + [k for k, _ in MENU_STATICS + FOOTER_STATICS + FRIEND_STATICS].index(key)
        return f"/index.php?m=content&c=index&a=lists&catid={n}"

    def attachment_path(self, art, k, ext):
        return f"/uploadfile/{art.published:%Y}/{art.published:%m%d}/{art.published:%Y%m%d}{art.id}{k}.{ext}"

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<li><span class="rt">{d(a.published)}</span>·<a href="{e(a.path)}" target="_blank">{e(a.title)}</a></li>\n'
            for a in arts)
        return f'<ul class="list lh24 f14">\n{rows}</ul>\n'

    def pager(self, site, col, here, page, npages, total):
        def u(n):
            return e(self.list_path(col, n))
        s = f'<a class="a1">{total}条</a> <a href="{u(max(1, page - 1))}" class="a1">上一页</a>'
        for n in range(1, npages + 1):
            s += f" <span>{n}</span>" if n == page else f' <a href="{u(n)}">{n}</a>'
        s += f' <a href="{u(min(npages, page + 1))}" class="a1">下一页</a>'
        return f'<div id="pages" class="text-c">{s}</div>\n'

    def article_main(self, site, here, art):
        return (f'<div id="Article"><h1>{e(art.title)}<br /><span>{art.published:%Y-%m-%d %H:%M:%S}&nbsp;&nbsp;&nbsp;'
                f'来源：{e(art.source)}&nbsp;&nbsp;&nbsp;评论：<a href="#comment_iframe" id="comment">0</a> 点击：'
                f'<span id="hits"></span>次</span></h1><div class="content">{self.body_html(site, here, art)}</div></div>')


class EmpireCMS(Style):
    """帝国 EmpireCMS with static lists and dynamic article pages: ``/xwzx/index.html``,
    ``index_2.html`` … (``<a title="Total record">`` pager with 下一页/尾页), articles
    ``/e/action/ShowInfo.php?classid=2&id=77``; gb2312 in the ``<meta>`` only."""

    name = "empirecms"
    family = "帝国 EmpireCMS"
    encoding = "gbk"
    header_charset = False
    meta_charset = "gb2312"
    columns = (
        ZooColumn("xwzx", "新闻中心", "news", 2),
        ZooColumn("xzdt", "乡镇动态", "news", 5),
        ZooColumn("tzgg", "通知公告", "notice", 9),
    )
    id_base = 77
    paging = "/xwzx/index.html, /xwzx/index_2.html … (Total record / 下一页 / 尾页)"
    research = ("code search: EmpireCMS list pager `<div class=\"pagelist\"><a title=\"Total record\">&nbsp;<b>160</b> "
                "</a>… <a href=\"/jstt/index_2.html\">下一页</a>&nbsp;<a href=\"/jstt/index_14.html\">尾页</a>`; "
                "e/action ShowInfo.php?classid=&id= dynamic pages; `/e/public/ViewClick/` click counter")

    def article_path(self, art):
        return f"/e/action/ShowInfo.php?classid={art.column.cid}&id={art.id}"

    def static_path(self, key):
        return f"/{key}/"

    def attachment_path(self, art, k, ext):
        return f"/d/file/{art.column.key}/{art.published:%Y-%m-%d}/{art.hexid[:32]}{k}.{ext}"

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<tr><td class="list_title"><img src="/skin/default/images/dot.gif" /> <a href="{e(a.path)}" '
            f'target="_blank" title="{e(a.title)}">{e(a.title)}</a></td><td class="list_date" width="90">[{a.published:%m-%d}]</td></tr>\n'
            for a in arts)
        return f'<table width="100%" border="0" cellspacing="0" cellpadding="0" class="box">\n{rows}</table>\n'

    def pager(self, site, col, here, page, npages, total):
        out = f'<a title="Total record">&nbsp;<b>{total}</b> </a>&nbsp;&nbsp;&nbsp;'
        if page > 1:
            out += f'<a href="{self.list_path(col, 1)}">首页</a>&nbsp;<a href="{self.list_path(col, page - 1)}">上一页</a>&nbsp;'
        for n in range(1, npages + 1):
            out += f"<b>{n}</b>&nbsp;" if n == page else f'<a href="{self.list_path(col, n)}">{n}</a>&nbsp;'
        if page < npages:
            out += f'<a href="{self.list_path(col, page + 1)}">下一页</a>&nbsp;<a href="{self.list_path(col, npages)}">尾页</a>'
        return f'<div class="pagelist">{out}</div>\n'

    def article_main(self, site, here, art):
        return (f'<h1 class="title">{e(art.title)}</h1><div class="info">发布时间：{art.published:%Y-%m-%d %H:%M:%S}　'
                f'来源：{e(art.source)}　点击：<script src=/e/public/ViewClick/?classid={art.column.cid}&id={art.id}&addclick=1></script></div>'
                f'<div class="newstext" id="text">{self.body_html(site, here, art)}</div>')


class Kesion(Style):
    """动易 / 科汛 (KesionCMS, ASP): ``/Item/list.asp?id=1662`` + ``&page=N``, articles
    ``/Item/Show.asp?m=1&d=123``; ``div.fenye`` pager with 首页/上一页/下一页/末页; gb2312 meta only."""

    name = "dongyi"
    family = "动易/科汛 ASP"
    encoding = "gbk"
    header_charset = False
    meta_charset = "gb2312"
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 1662),
        ZooColumn("bmdt", "部门动态", "news", 1663),
        ZooColumn("tzgg", "通知公告", "notice", 1670),
    )
    id_base = 123
    paging = "/Item/list.asp?id=1662&page=N (首页/上一页/下一页/末页)"
    research = ("code search: `/Item/Show.asp?m=1&d=2983` carousel links and `/Item/list.asp?id=1662` 返回 links "
                "next to `/ks_inc/myFocus` scripts (KesionCMS), gb2312 pages")

    def list_path(self, col, page):
        return f"/Item/list.asp?id={col.cid}" if page == 1 else f"/Item/list.asp?id={col.cid}&page={page}"

    def article_path(self, art):
        return f"/Item/Show.asp?m=1&d={art.id}"

    def static_path(self, key):
        n = 1700 + [k for k, _ in MENU_STATICS + FOOTER_STATICS + FRIEND_STATICS].index(key)
        return f"/Item/list.asp?id={n}"

    def attachment_path(self, art, k, ext):
        return f"/UploadFiles/{art.published:%Y-%m}/{art.published:%Y%m%d}{art.id:06d}{k}.{ext}"

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<li><span class="date">{d(a.published)}</span><a href="{e(a.path)}" target="_blank" title="{e(a.title)}">{e(a.title)}</a></li>\n'
            for a in arts)
        return f'<div class="listbox"><ul class="list_ul">\n{rows}</ul></div>\n'

    def pager(self, site, col, here, page, npages, total):
        def u(n):
            return e(self.list_path(col, n))
        s = f'<span class="total">共 {total} 条记录 页次：{page}/{npages}页</span> '
        s += f'<a href="{u(1)}" class="prev">首页</a> '
        s += f'<a href="{u(page - 1)}" class="prev">上一页</a> ' if page > 1 else '<span class="disabled">上一页</span> '
        for n in range(1, npages + 1):
            s += f'<a class="curr">{n}</a> ' if n == page else f'<a href="{u(n)}" class="num">{n}</a> '
        s += f'<a href="{u(page + 1)}" class="next">下一页</a> ' if page < npages else '<span class="disabled">下一页</span> '
        s += f'<a href="{u(npages)}" class="next">末页</a>'
        return f'<div id="fenye" class="fenye">{s}</div>\n'

    def article_main(self, site, here, art):
        return (f'<div id="printContent"><h1 class="title">{e(art.title)}</h1><div class="tips">作者：admin　来源：'
                f'{e(art.source)}　发布时间：{art.published.year}-{art.published.month}-{art.published.day} '
                f'{art.published:%H:%M:%S}　浏览次数：<script src="/Item/GetHits.asp?m=1&d={art.id}"></script></div>'
                f'<div class="content" id="MyContent">{self.body_html(site, here, art)}</div></div>')


class PowerEasy(Style):
    """An ASP portal on 动易 PowerEasy 2006: ``/Article/ShowClass.asp?ClassID=42`` (+ ``&page=N``),
    articles ``/Article/ShowArticle.asp?ArticleID=55`` linked relatively, table layout,
    ``div.showpage`` with 共 N 篇文章 / 下一页 / 尾页 / 页次; gb2312 meta only."""

    name = "asp_portal"
    family = "ASP portal (PowerEasy)"
    encoding = "gbk"
    header_charset = False
    meta_charset = "gb2312"
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 42),
        ZooColumn("xzdt", "乡镇动态", "news", 43),
        ZooColumn("tzgg", "通知公告", "notice", 13),
    )
    id_base = 55
    paging = "/Article/ShowClass.asp?ClassID=42&page=N (下一页/尾页/页次)"
    research = ("code search: scrapers of gov sites `http://www.yxlr.gov.cn/Article/ShowClass.asp?ClassID=42&page=`, "
                "`div.showpage > a` page counts, `a.listA` list links, gb2312; PowerEasy ASP "
                "`ChannelDir & \"/ShowClass.asp?ClassID=\"`")

    def list_path(self, col, page):
        return f"/Article/ShowClass.asp?ClassID={col.cid}" + (f"&page={page}" if page > 1 else "")

    def article_path(self, art):
        return f"/Article/ShowArticle.asp?ArticleID={art.id}"

    def static_path(self, key):
        return f"/{key}.asp"

    def attachment_path(self, art, k, ext):
        return f"/Article/UploadFiles/{art.published:%Y%m}/{art.published:%Y%m%d}{art.id}{k}.{ext}"

    def link(self, from_path, to_path):
        return rel(from_path, to_path)

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<tr><td width="10"><img src="/Images/arrow.gif"></td><td><a class="listA" href="{e(self.link(here, a.path))}" '
            f'title="文章标题：{e(a.title)}&#13;&#10;作　　者：佚名&#13;&#10;更新时间：{a.published:%Y-%m-%d %H:%M:%S}" '
            f'target="_blank">{e(a.title)}</a></td><td width="80" align="right"><font color="#999999">[{a.published.month}-{a.published.day}]</font></td></tr>\n'
            for a in arts)
        return f'<table width="100%" cellpadding="0" cellspacing="0" border="0">\n{rows}</table>\n'

    def pager(self, site, col, here, page, npages, total):
        def u(n):
            return e(self.link(here, self.list_path(col, n)))
        s = f"共 <b>{total}</b> 篇文章&nbsp;&nbsp;"
        s += f'<a href="{u(1)}">首页</a> <a href="{u(page - 1)}">上一页</a>&nbsp;' if page > 1 else "首页 上一页&nbsp;"
        s += f'<a href="{u(page + 1)}">下一页</a> <a href="{u(npages)}">尾页</a>' if page < npages else "下一页 尾页"
        s += (f"&nbsp;页次：<strong><font color=red>{page}</font>/{npages}</strong>页 &nbsp;<b>{site.per_page}</b>篇文章/页"
              f"&nbsp;转到：<select name='page' size='1' onchange=\"javascript:window.location='ShowClass.asp?ClassID={col.cid}&page="
              "'+this.options[this.selectedIndex].value;\">"
              + "".join(f"<option value='{n}'{' selected' if n == page else ''}>第{n}页</option>" for n in range(1, npages + 1))
              + "</select>")
        return f'<div class="showpage">{s}</div>\n'

    def article_main(self, site, here, art):
        return (f'<table width="100%"><tr><td class="main_title_760" align="center"><font class="title">{e(art.title)}</font></td></tr>'
                f'<tr><td align="center">作者：佚名&nbsp;&nbsp;&nbsp;&nbsp;文章来源：{e(art.source)}&nbsp;&nbsp;&nbsp;&nbsp;点击数：'
                f'<script language="javascript" src="/Article/GetHits.asp?ArticleID={art.id}"></script>&nbsp;&nbsp;&nbsp;&nbsp;'
                f'更新时间：{art.published.year}-{art.published.month}-{art.published.day}</td></tr>'
                f'<tr><td id="fontzoom" class="main_ArticleContent">{self.body_html(site, here, art)}</td></tr></table>')


class NumericHtml(Style):
    """Plain numeric static pages of a home-made PHP portal: articles ``/news/2381.html`` next to
    ``/news/index.html``, ``/news/index_2.html`` lists in the same directory; ``dl/dt/dd`` rows."""

    name = "numeric"
    family = "home-made (plain numeric)"
    columns = (
        ZooColumn("news", "要闻动态", "news", 1),
        ZooColumn("work", "工作动态", "news", 2),
        ZooColumn("notice", "通知公告", "notice", 3),
    )
    id_base = 2381
    paging = "/news/index.html, /news/index_2.html … (下一页/尾页)"
    research = "issue 13 shapes `/news/2381.html`; common PHP site generators with dl/dt rows and index_N pages"

    def list_path(self, col, page):
        return f"/{col.key}/" if page == 1 else f"/{col.key}/index_{page}.html"

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<dl><dt><a href="{e(a.path)}" target="_blank">{e(a.title)}</a></dt><dd class="desc">{e(a.paragraphs[0][:50])}…</dd>'
            f'<dd class="date">{d(a.published)}</dd></dl>\n' for a in arts)
        return f'<div class="news-list">\n{rows}</div>\n'

    def article_main(self, site, here, art):
        return (f'<div class="article"><h1>{e(art.title)}</h1><div class="article-info">发布日期：{d(art.published)}　'
                f'信息来源：{e(art.source)}　浏览次数：{(art.id * 13) % 900}</div>'
                f'<div class="article-content">{self.body_html(site, here, art)}</div></div>')


class ViewDash(Style):
    """A ThinkPHP-style site with dashed routes: articles ``/view-123.html``, lists ``/list-3.html``,
    ``/list-3-2.html`` …, ``div`` rows wrapping the whole item in one anchor."""

    name = "view_dash"
    family = "home-made (ThinkPHP routes)"
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 3),
        ZooColumn("bmdt", "部门动态", "news", 4),
        ZooColumn("tzgg", "通知公告", "notice", 6),
    )
    id_base = 123
    paging = "/list-3.html, /list-3-2.html … (下一页/末页)"
    research = "issue 13 shape `/view-123.html`; ThinkPHP route rules `list-<id>-<page>` / `view-<id>`"

    def list_path(self, col, page):
        return f"/list-{col.cid}.html" if page == 1 else f"/list-{col.cid}-{page}.html"

    def article_path(self, art):
        return f"/view-{art.id}.html"

    def static_path(self, key):
        return f"/page-{key}.html"

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<div class="item"><a href="{e(a.path)}"><div class="tit">{e(a.title)}</div>'
            f'<div class="time">{d(a.published)}</div></a></div>\n' for a in arts)
        return f'<div class="news_list">\n{rows}</div>\n'

    def pager(self, site, col, here, page, npages, total):
        s = f'<a href="{self.list_path(col, 1)}">首页</a>'
        for n in range(1, npages + 1):
            s += f'<a class="active">{n}</a>' if n == page else f'<a href="{self.list_path(col, n)}">{n}</a>'
        if page < npages:
            s += f'<a href="{self.list_path(col, page + 1)}">下一页</a>'
        s += f'<a href="{self.list_path(col, npages)}">末页</a>'
        return f'<div class="pages">{s}</div>\n'

    def article_main(self, site, here, art):
        return (f'<div class="news_detail"><h2 class="news_title">{e(art.title)}</h2><p class="news_meta">来源：'
                f'{e(art.source)}　时间：{dm(art.published)}</p><div class="news_con">{self.body_html(site, here, art)}</div></div>')


class UCAP(Style):
    """开普云 UCAP: the list page carries the whole column as inline JSON objects (``title``,
    ``pubDate``, ``url``) rendered by script; the notice column carries it as escaped JSON inside a
    string with ``urls`` = ``"{\\"common\\":\\"…\\"}"``; articles ``/{col}/content/post_{id}.html`` with
    ArticleTitle/PubDate metas.  The home page shows a few headlines as plain HTML."""

    name = "ucap"
    family = "开普云 UCAP"
    gov_meta = True
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 3101),
        ZooColumn("bmdt", "部门动态", "news", 3102),
        ZooColumn("tzgg", "通知公告", "notice", 3105),
    )
    id_base = 3912345
    id_step = 17
    paging = "none: one list page per column holds every item as inline JSON (JS paging)"
    research = ("issue 13 description of UCAP pages (`title`, `pubDate`, `url`/`urls`, escaped JSON in a string); "
                "code search for public samples of the escaped `urls` form found none, so the form follows the issue")

    def list_path(self, col, page):
        return f"/xwdt/{col.key}/index.html"

    def article_path(self, art):
        return f"/xwdt/{art.column.key}/content/post_{art.id}.html"

    def list_pages_count(self, site, col):
        return 1

    def list_body(self, site, col, page):
        arts = site.column_articles(col)
        if col.kind == "notice":
            objs = [{"id": str(a.id), "title": a.title, "pubDate": dm(a.published), "source": a.source,
                     "urls": json.dumps({"common": a.path, "pc": a.path}, ensure_ascii=False, separators=(",", ":"))} for a in arts]
            blob = json.dumps(json.dumps({"total": len(objs), "articles": objs}, ensure_ascii=False, separators=(",", ":")), ensure_ascii=False)
            data = f"var listJson = {blob};\nvar pageData = JSON.parse(listJson);\n"
            render = "pageData.articles.forEach(function(o){var u=JSON.parse(o.urls).common;html+='<li><a href=\"'+u+'\">'+o.title+'</a><span>'+o.pubDate+'</span></li>';});"
        else:
            objs = [{"title": a.title, "pubDate": dm(a.published), "url": a.path, "source": a.source,
                     "columnName": col.name} for a in arts]
            data = ("var pageData = {\"pageSize\": 15, \"total\": " + str(len(objs)) + ", \"datas\": "
                    + json.dumps(objs, ensure_ascii=False) + "};\n")
            render = "pageData.datas.slice(s,s+pageData.pageSize).forEach(function(o){html+='<li><a href=\"'+o.url+'\">'+o.title+'</a><span>'+o.pubDate+'</span></li>';});"
        return (f'<ul class="list-ul" id="list-ul"></ul><div id="pageBox" class="pagination"></div>\n'
                f'<script type="text/javascript">\n{data}var s=0, html="";\n{render}\n'
                f'document.getElementById("list-ul").innerHTML=html;\nucapPager("pageBox", pageData);\n</script>\n')

    def article_main(self, site, here, art):
        return (f'<div class="article"><h1 class="article-title">{e(art.title)}</h1><div class="article-sub">'
                f'<span>发布时间：{dm(art.published)}</span><span>来源：{e(art.source)}</span>'
                f'<span>字体：[<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(14)">小</a>]</span></div>'
                f'<div class="article-content" id="zoom">{self.body_html(site, here, art)}</div></div>')


class TRSPageDiv(Style):
    """TRS WCM / 海云 list paged by ``createPageHTML('page_div', 5, 1, 'zwgklist', 'shtml', 48)``
    (element id, page count, current page, file name, extension, record count): only the
    script knows the later pages ``zwgklist_2.shtml`` …; articles ``./c5512345/content.shtml``
    with ArticleTitle/PubDate/ContentSource metas and a ``TRS_UEDITOR`` body."""

    name = "trs_pagediv"
    family = "TRS WCM (page_div)"
    gov_meta = True
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 106256),
        ZooColumn("zcwj", "政策文件", "news", 106257),
        ZooColumn("tzgg", "通知公告", "notice", 106260),
    )
    id_base = 5512345
    id_step = 11
    paging = "zwgklist.shtml then zwgklist_2.shtml … only via createPageHTML('page_div', pages, cur, 'zwgklist', 'shtml', total)"
    research = ("code search: `createPageHTML('page_div',10, 1,'xlist','shtml',189)` → 10 pages / 189 records with "
                "`xlist_N.shtml` pages and no anchors; csrc.gov.cn `createPageHTML('page_div', 5, 1, 'fg', 'shtml', 89)` "
                "with `/csrc/c106256/c<id>/content.shtml` articles; kunshan `common_list_${page}.shtml`")

    def list_path(self, col, page):
        return f"/zwgk/{col.key}/zwgklist.shtml" if page == 1 else f"/zwgk/{col.key}/zwgklist_{page}.shtml"

    def article_path(self, art):
        return f"/zwgk/{art.column.key}/c{art.id}/content.shtml"

    def static_path(self, key):
        return f"/{key}/index.shtml"

    def attachment_path(self, art, k, ext):
        return f"/zwgk/{art.column.key}/c{art.id}/P0{art.published:%Y%m%d}{art.id}{k}.{ext}"

    def link(self, from_path, to_path):
        return rel(from_path, to_path) if "/zwgk/" in to_path else to_path

    def pager(self, site, col, here, page, npages, total):
        return (f'<div id="page_div" class="page"></div>\n<script type="text/javascript">'
                f"createPageHTML('page_div', {npages}, {page}, 'zwgklist', 'shtml', {total});</script>\n")

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<li><a href="{e(self.link(here, a.path))}" target="_blank" title="{e(a.title)}">{e(a.title)}</a>'
            f"<span>{d(a.published)}</span></li>\n" for a in arts)
        return f'<ul class="zwgk_list">\n{rows}</ul>\n'

    def article_main(self, site, here, art):
        return (f'<div class="xl_title">{e(art.title)}</div><div class="xl_info"><span>日期：{d(art.published)}</span>'
                f'<span>来源：{e(art.source)}</span></div><div class="xl_content"><div class="TRS_UEDITOR TRS_WEB">'
                f"{self.body_html(site, here, art)}</div></div>")


class JsonApi(Style):
    """A front-end rendered portal: ``/xwzx/index.html`` holds an empty list and a script that
    calls ``/api/list?channel=xwzx&page=N`` (JSON ``{"code":0,"data":{"total","pages","items":[…]}}``);
    articles ``/xwzx/detail/{id}.html`` are server-rendered."""

    name = "json_api"
    family = "JSON list API"
    columns = (
        ZooColumn("xwzx", "新闻中心", "news", 1),
        ZooColumn("gzdt", "工作动态", "news", 2),
        ZooColumn("tzgg", "通知公告", "notice", 3),
    )
    id_base = 81234
    paging = "/api/list?channel=xwzx&page=N (JSON; an empty page past the end)"
    research = "issue 13 ('JSON list APIs that the page itself calls'); typical Vue/jQuery portal fetch('/api/list?...')"

    def list_path(self, col, page):
        return f"/{col.key}/index.html"

    def api_path(self, col, page):
        return f"/api/list?channel={col.key}&page={page}"

    def article_path(self, art):
        return f"/{art.column.key}/detail/{art.id}.html"

    def list_pages_count(self, site, col):
        return 1

    def list_body(self, site, col, page):
        return (f'<ul class="news-list" id="newsList"></ul><div class="pager" id="pager"></div>\n'
                f'<script type="text/javascript">\nvar channel = "{col.key}";\nfunction loadPage(page) {{\n'
                "  fetch('/api/list?channel=' + channel + '&page=' + page).then(function (r) { return r.json(); })\n"
                "    .then(function (res) { var html = '';\n"
                "      res.data.items.forEach(function (it) { html += '<li><a href=\"' + it.url + '\">' + it.title + '</a><span>' + it.date + '</span></li>'; });\n"
                "      document.getElementById('newsList').innerHTML = html; renderPager(res.data.page, res.data.pages); });\n"
                "}\nloadPage(1);\n</script>\n")

    def api_json(self, site, col, page) -> bytes:
        arts = site.column_articles(col)
        size = site.per_page
        pages = max(1, -(-len(arts) // size))
        chunk = arts[(page - 1) * size: page * size] if page >= 1 else []
        items = [{"id": a.id, "title": a.title, "date": d(a.published), "source": a.source, "url": a.path,
                  "summary": a.paragraphs[0][:40]} for a in chunk]
        return json.dumps({"code": 0, "msg": "success", "data": {"total": len(arts), "pages": pages, "page": page,
                                                                  "size": size, "items": items}},
                          ensure_ascii=False).encode("utf-8")

    def dynamic(self, site, path, params):
        if path != "/api/list":
            return None
        q = dict(params)
        col = next((c for c in self.columns if c.key == q.get("channel")), None)
        try:
            page = int(q.get("page", "1"))
        except ValueError:
            page = 0
        if col is None or page < 1 or page > 1000:
            return 400, "application/json; charset=utf-8", b'{"code":400,"msg":"bad request","data":null}'
        return 200, "application/json; charset=utf-8", self.api_json(site, col, page)

    def article_main(self, site, here, art):
        return (f'<div class="detail"><h1 class="detail-title">{e(art.title)}</h1><div class="detail-meta">'
                f'<span>发布时间：{dm(art.published)}</span><span>来源：{e(art.source)}</span></div>'
                f'<div class="detail-content">{self.body_html(site, here, art)}</div></div>')


class JspIList(Style):
    """A JSP portal with query-string lists and articles: ``/info/iList.jsp?cat_id=10012``
    (+ ``&cur_page=N``) and ``/info/iInfo.jsp?cat_id=10012&info_id=1234`` linked relatively,
    table rows; GBK declared in the Content-Type header."""

    name = "jsp_ilist"
    family = "JSP portal (iList.jsp)"
    encoding = "gbk"
    header_charset = True
    meta_charset = "gbk"
    columns = (
        ZooColumn("zwyw", "政务要闻", "news", 10012),
        ZooColumn("bmdt", "部门动态", "news", 10013),
        ZooColumn("tzgg", "通知公告", "notice", 10020),
    )
    id_base = 1234
    paging = "/info/iList.jsp?cat_id=10012&cur_page=N (共N条 第k/n页, 下一页/尾页)"
    research = "issue 13 shape `/info/iList.jsp?cat_id=`; JSP portals with cur_page paging and GO form"

    def list_path(self, col, page):
        return f"/info/iList.jsp?cat_id={col.cid}" + (f"&cur_page={page}" if page > 1 else "")

    def article_path(self, art):
        return f"/info/iInfo.jsp?cat_id={art.column.cid}&info_id={art.id}"

    def static_path(self, key):
        return f"/info/iPage.jsp?page_id={key}"

    def attachment_path(self, art, k, ext):
        return f"/upload/info/{art.published:%Y%m}/{art.id}_{k}.{ext}"

    def link(self, from_path, to_path):
        return rel(from_path, to_path)

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<tr><td width="12"><img src="/images/dot.gif"></td><td><a href="{e(self.link(here, a.path))}" title="{e(a.title)}" '
            f'target="_blank">{e(a.title)}</a></td><td width="90" align="right">{d(a.published)}</td></tr>\n' for a in arts)
        return f'<table class="list" width="100%">\n{rows}</table>\n'

    def pager(self, site, col, here, page, npages, total):
        def u(n):
            return e(self.link(here, self.list_path(col, n)).replace(f"cat_id={col.cid}&cur_page={n}", f"cur_page={n}&cat_id={col.cid}"))
        s = f"共 {total} 条 第 {page}/{npages} 页 "
        s += f'<a href="{u(1)}">首页</a> ' + (f'<a href="{u(page - 1)}">上一页</a> ' if page > 1 else "上一页 ")
        s += (f'<a href="{u(page + 1)}">下一页</a> ' if page < npages else "下一页 ") + f'<a href="{u(npages)}">尾页</a>'
        s += (f' 转到<input type="text" size="2" id="go_page">页 <input type="button" value="GO" '
              f"onclick=\"location.href='iList.jsp?cat_id={col.cid}&cur_page='+document.getElementById('go_page').value\">")
        return f'<div class="page">{s}</div>\n'

    def article_main(self, site, here, art):
        return (f'<table width="100%" class="info_table"><tr><td class="title" align="center">{e(art.title)}</td></tr>'
                f'<tr><td class="info" align="center">发布时间：{dm(art.published)}&nbsp;&nbsp;信息来源：{e(art.source)}</td></tr>'
                f'<tr><td class="content" id="zoom">{self.body_html(site, here, art)}</td></tr></table>')


class HexId(Style):
    """A Java portal with hexadecimal ids: articles ``/html/{col}/{YYYYMM}/{32 hex}.html`` linked
    relatively (``./202410/8a8e….html``), lists ``/html/{col}/index.html``, ``list_2.html`` …;
    Hanweb-like ArticleTitle/PubDate metas and ``div#zoom``."""

    name = "hexid"
    family = "Java portal (hex ids)"
    gov_meta = True
    columns = (
        ZooColumn("xwdt", "新闻动态", "news", 1),
        ZooColumn("gzdt", "工作动态", "news", 2),
        ZooColumn("tzgg", "通知公告", "notice", 3),
    )
    paging = "/html/xwdt/index.html, /html/xwdt/list_2.html … (下一页/末页)"
    research = "issue 13 ('long hex or base-36 ids → id'); UUID-keyed Java CMS (8a8e…-style 32-hex ids)"

    def list_path(self, col, page):
        return f"/html/{col.key}/index.html" if page == 1 else f"/html/{col.key}/list_{page}.html"

    def article_path(self, art):
        return f"/html/{art.column.key}/{art.published:%Y%m}/{art.hexid[:32]}.html"

    def static_path(self, key):
        return f"/html/{key}/index.html"

    def link(self, from_path, to_path):
        return rel(from_path, to_path)

    def list_items(self, site, here, arts):
        rows = "".join(
            f'<li><i></i><a href="{e(self.link(here, a.path))}" target="_blank">{e(a.title)}</a><em>{d(a.published)}</em></li>\n'
            for a in arts)
        return f'<div class="list-box"><ul>\n{rows}</ul></div>\n'

    def pager(self, site, col, here, page, npages, total):
        def u(n):
            return e(self.link(here, self.list_path(col, n)))
        s = f'<span class="count">共{npages}页 {total}条</span>'
        s += f'<a href="{u(1)}">首页</a>' + (f'<a href="{u(page - 1)}">上一页</a>' if page > 1 else "")
        s += (f'<a href="{u(page + 1)}">下一页</a>' if page < npages else "") + f'<a href="{u(npages)}">末页</a>'
        return f'<div class="fy">{s}</div>\n'

    def article_main(self, site, here, art):
        return (f'<div class="main-article"><h1>{e(art.title)}</h1><div class="laiyuan"><span>发布日期：{d(art.published)}</span>'
                f'<span>信息来源：{e(art.source)}</span></div><div id="zoom" class="zoom">{self.body_html(site, here, art)}</div></div>')


STYLE_CLASSES: tuple[type[Style], ...] = (
    VSB, DedeCMS, PHPCMS, EmpireCMS, Kesion, PowerEasy, NumericHtml, ViewDash, UCAP, TRSPageDiv,
    JsonApi, JspIList, HexId,
)
STYLES: dict[str, type[Style]] = {cls.name: cls for cls in STYLE_CLASSES}


def quote_path(path: str) -> str:
    return quote(path, safe="/?&=%:;,.-_~")
