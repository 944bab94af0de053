"""HTML/XML templates of the demo site: shared chrome plus one family of pages per CMS style.

Everything returns ``str``; :mod:`govnews.demosite.site` encodes it (UTF-8 or GBK) and decides
which charset is declared where.  Markup follows real portals: TRS WCM (``TRS_Editor``,
``createPageHTML``, ``<meta name="ArticleTitle">``), Hanweb/大汉 (``col/colNNN``, ``<datastore>``,
``div#zoom`` with ``ZJEG_RSS`` markers) and a home-made table-layout portal.
"""
from __future__ import annotations

from datetime import datetime
from html import escape

SITE_NAME = "示范县人民政府"
SITE_DOMAIN = "www.sfx.gov.cn"
SITE_ID = "5107990001"
ICP = "蜀ICP备05012345号-1"
POLICE = "川公网安备 51079902000123号"
COPYRIGHT_YEAR = 2024

TRS_COLUMN = "政务要闻"
HANWEB_COLUMN = "部门动态"
PORTAL_COLUMN = "乡镇动态"
MIRROR_COLUMN = "区县新闻"
HANWEB_COLUMNID = 1234
HANWEB_UNITID = 5678


def e(text: str | None) -> str:
    return escape(text or "", quote=True)


def d(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d")


def dm(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def nav(calendar_month: str) -> str:
    items = [
        ("/", "首页"), ("/xwzx/zwyw/index.html", "政务要闻"), (f"/col/col{HANWEB_COLUMNID}/index.html", "部门动态"),
        ("/news/index.html", "乡镇动态"), ("/zt/list.html?page=1", "专题专栏"),
        (f"/calendar?month={calendar_month}", "政务日历"), ("javascript:void(0);", "政务公开"),
        ("javascript:void(0);", "政务服务"), ("javascript:void(0);", "互动交流"), ("/rss.xml", "RSS订阅"),
    ]
    links = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in items)
    return f'<div class="nav"><ul class="nav-list clearfix">{links}</ul></div>'


def topbar() -> str:
    return (
        '<div class="topbar"><div class="w1200"><span class="fl">欢迎访问示范县人民政府门户网站</span>'
        '<span class="fr"><a href="javascript:void(0);">无障碍浏览</a> | <a href="javascript:void(0);">繁體版</a> | '
        '<a href="javascript:void(0);">长者模式</a> | <a href="javascript:void(0);">微信</a> | '
        '<a href="javascript:void(0);">微博</a></span></div></div>\n'
        '<div class="header"><div class="w1200"><a class="logo" href="/">'
        '<img src="/images/logo.png" alt="示范县人民政府"></a>'
        '<form class="search" action="javascript:void(0);"><input type="text" name="q" placeholder="请输入关键词">'
        '<button type="button">搜索</button></form></div></div>\n'
    )


def footer() -> str:
    return (
        '<div class="footer"><div class="w1200">'
        '<p><a href="javascript:void(0);">网站地图</a> | <a href="javascript:void(0);">联系我们</a> | '
        '<a href="javascript:void(0);">隐私声明</a> | <a href="javascript:void(0);">使用帮助</a></p>'
        f"<p>主办：示范县人民政府办公室　承办：示范县大数据发展中心　Copyright &copy; {COPYRIGHT_YEAR} "
        f"{SITE_NAME} 版权所有</p>"
        f'<p>网站标识码：{SITE_ID}　<a href="javascript:void(0);">{ICP}</a>　'
        f'<a href="javascript:void(0);">{POLICE}</a></p>'
        "<p>联系电话：0816-1234567　建议使用1366&times;768分辨率浏览</p>"
        '<p><span id="_ideConac"><img src="/images/red.png" alt="党政机关"></span></p>'
        "</div></div>\n"
    )


def head_common(title: str, *, charset_meta: str | None, extra: str = "") -> str:
    cm = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}" />\n' if charset_meta else ""
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
        f"{cm}"
        '<meta http-equiv="X-UA-Compatible" content="IE=edge" />\n'
        f'<meta name="SiteName" content="{SITE_NAME}">\n<meta name="SiteDomain" content="{SITE_DOMAIN}">\n'
        f'<meta name="SiteIDCode" content="{SITE_ID}">\n'
        f"{extra}"
        f"<title>{e(title)}</title>\n"
        '<link href="/images/style.css" rel="stylesheet" type="text/css" />\n'
    )


def sidebar(title: str, links: list[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="{e(h)}" title="{e(t)}" target="_blank">{e(t)}</a></li>' for h, t in links)
    return f'<div class="side-box"><div class="side-tit">{e(title)}</div><ul class="side-list">{lis}</ul></div>'


def paragraphs_html(paragraphs: list[str], style: str = ' style="text-indent: 2em;"') -> str:
    return "\n".join(f"<p{style}>{e(p)}</p>" for p in paragraphs)


# ------------------------------------------------------------------------------ home page
def home_page(*, headlines: list[tuple[str, str, datetime]], town_news: list[tuple[str, str, datetime]],
              calendar_month: str) -> str:
    def ul(items):
        return "".join(
            f'<li><a href="{e(h)}" target="_blank" title="{e(t)}">{e(t)}</a><span>{d(dt)}</span></li>'
            for h, t, dt in items
        )

    return (
        head_common(f"{SITE_NAME}门户网站", charset_meta="utf-8",
                    extra='<meta name="Keywords" content="示范县,示范县人民政府,政务公开">\n')
        + "</head>\n<body>\n" + topbar() + nav(calendar_month)
        + '<div class="main w1200 clearfix">\n'
        + '<div class="banner"><img src="/images/banner.jpg" alt="奋力建设现代化示范县"></div>\n'
        + '<div class="box fl"><div class="box-tit"><a href="/xwzx/zwyw/index.html" class="more">更多&gt;&gt;</a>'
        + f'<h2>{TRS_COLUMN}</h2></div><ul class="news-list">{ul(headlines)}</ul></div>\n'
        + '<div class="box fr"><div class="box-tit"><a href="/news/index.html" class="more">更多&gt;&gt;</a>'
        + f'<h2>{PORTAL_COLUMN}</h2></div><ul class="news-list">{ul(town_news)}</ul></div>\n'
        + f'<div class="box fl"><div class="box-tit"><a href="/col/col{HANWEB_COLUMNID}/index.html" class="more">'
        + f"更多&gt;&gt;</a><h2>{HANWEB_COLUMN}</h2></div><p>各部门工作动态请进入栏目查看。</p></div>\n"
        + '<div class="box fr"><div class="box-tit"><h2>专题专栏</h2></div><ul class="zt-list">'
        + '<li><a href="/zt/list.html?page=1">学习贯彻党的二十大精神</a></li>'
        + f'<li><a href="/calendar?month={calendar_month}">政务日历</a></li>'
        + '<li><a href="/private/index.html">内部办公平台</a></li></ul></div>\n'
        + '<div class="links"><span>友情链接：</span><a href="http://www.gov.cn/" target="_blank">中国政府网</a> '
        + '<a href="/mirror/index.html">区县新闻网</a> <a href="/rss.xml">RSS订阅</a></div>\n'
        + "</div>\n" + footer() + "</body>\n</html>\n"
    )


# ------------------------------------------------------------------------------ TRS WCM
CREATE_PAGE_JS = r"""<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
	if(_nPageCount == null || _nPageCount <= 1){ return; }
	var nCurrIndex = _nCurrIndex || 0;
	if(nCurrIndex == 0){ document.write("<span>首页</span>&nbsp;<span>上一页</span>&nbsp;"); }
	else {
		document.write("<a href=\"" + _sPageName + "." + _sPageExt + "\">首页</a>&nbsp;");
		if(nCurrIndex == 1){ document.write("<a href=\"" + _sPageName + "." + _sPageExt + "\">上一页</a>&nbsp;"); }
		else { document.write("<a href=\"" + _sPageName + "_" + (nCurrIndex - 1) + "." + _sPageExt + "\">上一页</a>&nbsp;"); }
	}
	if(nCurrIndex == (_nPageCount - 1)){ document.write("<span>下一页</span>&nbsp;<span>尾页</span>"); }
	else {
		document.write("<a href=\"" + _sPageName + "_" + (nCurrIndex + 1) + "." + _sPageExt + "\">下一页</a>&nbsp;");
		document.write("<a href=\"" + _sPageName + "_" + (_nPageCount - 1) + "." + _sPageExt + "\">尾页</a>");
	}
	document.write("&nbsp;共" + _nPageCount + "页");
}
</script>
"""  # noqa: E501 - the JavaScript TRS WCM serves, verbatim


def trs_list_page(*, items: list[tuple[str, str, datetime]], page: int, total_pages: int,
                  side: list[tuple[str, str]], calendar_month: str) -> str:
    lis = "\n".join(
        f'<li><a href="{e(h)}" target="_blank" title="{e(t)}">{e(t)}</a><span class="date">{d(dt)}</span></li>'
        for h, t, dt in items
    )
    return (
        head_common(f"{TRS_COLUMN}_{SITE_NAME}", charset_meta="utf-8",
                    extra=f'<meta name="ColumnName" content="{TRS_COLUMN}">\n<meta name="ColumnType" content="新闻">\n')
        + CREATE_PAGE_JS + "</head>\n<body>\n" + topbar() + nav(calendar_month)
        + '<div class="main w1200 clearfix">\n'
        + '<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/zwyw/index.html">新闻中心</a>'
        + f" &gt; <span>{TRS_COLUMN}</span></div>\n"
        + '<div class="left fl">' + sidebar("新闻中心", side) + "</div>\n"
        + f'<div class="right fr"><div class="list-tit"><h2>{TRS_COLUMN}</h2></div>\n'
        + f'<ul class="list">\n{lis}\n</ul>\n'
        + '<div class="page">\n<script type="text/javascript">\n'
        + f'createPageHTML({total_pages}, {page}, "index", "html");\n</script>\n</div>\n'
        + "</div>\n</div>\n" + footer() + "</body>\n</html>\n"
    )


def trs_article_page(*, title: str, published: datetime, source: str | None, column: str,
                     paragraphs: list[str], url_self: str, summary: str | None, author: str | None,
                     author_post: str | None, editor: str | None, related: list[tuple[str, str]],
                     charset_meta: str | None, calendar_month: str) -> str:
    metas = (
        f'<meta name="ColumnName" content="{e(column)}">\n<meta name="ColumnType" content="新闻">\n'
        f'<meta name="ArticleTitle" content="{e(title)}">\n<meta name="PubDate" content="{dm(published)}">\n'
        f'<meta name="ContentSource" content="{e(source)}">\n<meta name="Keywords" content="">\n'
        f'<meta name="Author" content="{e(author)}">\n<meta name="Description" content="{e(summary)}">\n'
        f'<meta name="Image" content="">\n<meta name="Url" content="{e(url_self)}">\n'
    )
    byline = f"<span>作者：{e(author)}</span>" if author else ""
    tail = []
    if author and author_post:
        tail.append(f'<div class="author-post">（作者：{e(author)}，{e(author_post)}）</div>')
    if editor:
        tail.append(f'<div class="editor">【责任编辑：{e(editor)}】</div>')
    rel = "".join(f'<li><a href="{e(h)}" target="_blank">{e(t)}</a></li>' for h, t in related)
    return (
        head_common(f"{title}_{column}_{SITE_NAME}", charset_meta=charset_meta, extra=metas)
        + '<style type="text/css">.TRS_Editor P{margin-top:5px;margin-bottom:5px;line-height:2;font-family:宋体;'
        + "font-size:12pt;}.TRS_Editor DIV{line-height:2;font-family:宋体;font-size:12pt;}</style>\n"
        + "</head>\n<body>\n" + topbar() + nav(calendar_month)
        + '<div class="main w1200">\n'
        + '<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/zwyw/index.html">新闻中心</a> &gt; '
        + f'<a href="/xwzx/zwyw/index.html">{e(column)}</a></div>\n'
        + f'<div class="article">\n<h1 class="art-title">{e(title)}</h1>\n'
        + f'<div class="art-info"><span>发布时间：{dm(published)}</span><span>来源：{e(source)}</span>{byline}'
        + '<span>浏览次数：<script type="text/javascript">document.write("1024");</script></span>'
        + '<span class="font">字号：[<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> '
        + '<a href="javascript:doZoom(14)">小</a>]</span></div>\n'
        + '<div class="art-con" id="zoomcon">\n<div class="TRS_Editor"><div class="Custom_UnionStyle">\n'
        + paragraphs_html(paragraphs)
        + "\n</div></div>\n</div>\n" + "\n".join(tail)
        + '\n<div class="art-btns">【<a href="javascript:window.print();">打印本页</a>】'
        + '【<a href="javascript:window.close();">关闭窗口</a>】</div>\n'
        + f'<div class="related"><div class="related-tit">相关链接</div><ul>{rel}</ul></div>\n'
        + "</div>\n</div>\n" + footer() + "</body>\n</html>\n"
    )


# ------------------------------------------------------------------------------ Hanweb
def hanweb_record(href: str, title: str, dt: datetime) -> str:
    return (f'<record><![CDATA[<li><a href="{e(href)}" target="_blank" title="{e(title)}">{e(title)}</a>'
            f"<span>{d(dt)}</span></li>]]></record>")


def hanweb_nextgroup() -> str:
    return (
        '<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/'
        f'&columnid={HANWEB_COLUMNID}&unitid={HANWEB_UNITID}&webname=%E7%A4%BA%E8%8C%83%E5%8E%BF'
        '&permissiontype=0"></a>]]></nextgroup>'
    )


def hanweb_datastore(records: list[str], *, total: int | None = None, perpage: int | None = None) -> str:
    extra = ""
    if total is not None and perpage:
        extra = f"<totalrecord>{total}</totalrecord><totalpage>{-(-total // perpage)}</totalpage>"
    return ("<datastore>" + hanweb_nextgroup() + "<recordset>\n" + "\n".join(records)
            + "\n</recordset>" + extra + "</datastore>")


def hanweb_list_page(*, records: list[str], total: int, perpage: int, calendar_month: str) -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">\n'
        f'<meta name="SiteName" content="{SITE_NAME}">\n<meta name="SiteDomain" content="{SITE_DOMAIN}">\n'
        f'<meta name="SiteIDCode" content="{SITE_ID}">\n<meta name="ColumnName" content="{HANWEB_COLUMN}">\n'
        '<meta name="ColumnType" content="">\n'
        f"<title>{HANWEB_COLUMN} {SITE_NAME}</title>\n"
        '<link rel="stylesheet" type="text/css" href="/images/style.css">\n'
        '<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>\n'
        "</head>\n<body>\n" + topbar() + nav(calendar_month)
        + '<div class="main w1200 clearfix">\n'
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col{HANWEB_COLUMNID}/index.html">'
        + f"{HANWEB_COLUMN}</a></div>\n"
        + f'<div class="list-right"><div class="list-tit">{HANWEB_COLUMN}</div>\n'
        + f'<div id="{HANWEB_UNITID}"><script type="text/xml">'
        + hanweb_datastore(records, total=total, perpage=perpage)
        + "</script>"
        + '<script language="javascript" src="/module/jslib/jquery/jpage/jquery.page.min.js"></script>'
        + f'<script type="text/javascript">$(document).ready(function(){{ $("#{HANWEB_UNITID:d}").jpage({{dataStore: '
        + f"dataStore,dataBefore:'<ul class=\"list\">',dataAfter:'</ul>',showMode:'full',perPage:{perpage},"
        + f"totalRecord:{total},groupSize:1,barPosition:'bottom',ajaxParam:{{'style':'2','webid':'1',"
        + f"'path':'/','columnid':{HANWEB_COLUMNID},'sourceContentType':'1','unitid':'{HANWEB_UNITID}',"
        + "'webname':'示范县','permissiontype':0},proxyUrl:'/module/web/jpage/dataproxy.jsp'});});</script>"
        + "</div>\n</div>\n</div>\n" + footer() + "</body>\n</html>\n"
    )


def hanweb_article_page(*, title: str, published: datetime, source: str | None, paragraphs: list[str],
                        editor: str | None, related: list[tuple[str, str]], calendar_month: str) -> str:
    rel = "".join(f'<li><a href="{e(h)}" target="_blank">{e(t)}</a></li>' for h, t in related)
    ed = f'<div class="editor">责任编辑：{e(editor)}</div>' if editor else ""
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">\n'
        f"<title>{e(title)}</title>\n"
        f'<meta name="Maketime" content="{published.strftime("%Y-%m-%d %H:%M:%S")}">\n'
        f'<meta name="SiteName" content="{SITE_NAME}">\n<meta name="SiteDomain" content="{SITE_DOMAIN}">\n'
        f'<meta name="SiteIDCode" content="{SITE_ID}">\n<meta name="ColumnName" content="{HANWEB_COLUMN}">\n'
        f'<meta name="ColumnType" content="">\n<meta name="ArticleTitle" content="{e(title)}">\n'
        f'<meta name="PubDate" content="{dm(published)}">\n<meta name="author" content="">\n'
        f'<meta name="ContentSource" content="{e(source)}">\n<meta name="Keywords" content="">\n'
        '<link rel="stylesheet" type="text/css" href="/images/style.css">\n'
        "</head>\n<body>\n" + topbar() + nav(calendar_month)
        + '<div class="main w1200">\n'
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col{HANWEB_COLUMNID}/index.html">'
        + f"{HANWEB_COLUMN}</a> &gt; 正文</div>\n"
        + f'<div class="art-main"><p class="main-tit"><!--<$[标题]>begin-->{e(title)}<!--<$[标题]>end--></p>\n'
        + '<div class="small-title clearfix">'
        + f"<span>发布日期：{d(published)}</span><span>浏览次数：<script>document.write(356)</script></span>"
        + f"<span>信息来源：<!--<$[信息来源]>begin-->{e(source)}<!--<$[信息来源]>end--></span></div>\n"
        + '<div class="main-txt" id="zoom">\n<!--<$[信息内容]>begin--><!--ZJEG_RSS.content.begin-->'
        + '<meta name="ContentStart">\n'
        + paragraphs_html(paragraphs, style="")
        + '\n<meta name="ContentEnd"><!--ZJEG_RSS.content.end--><!--<$[信息内容]>end-->\n</div>\n'
        + ed
        + '\n<div class="main-word">【<a href="javascript:window.print()">打印本页</a>】'
        + '【<a href="javascript:window.close()">关闭窗口</a>】</div>\n'
        + f'<div class="xgxx"><div class="xgxx-tit">相关信息</div><ul>{rel}</ul></div>\n'
        + "</div>\n</div>\n" + footer() + "</body>\n</html>\n"
    )


# ------------------------------------------------------------------------------ home-made portal
PORTAL_MENU = ["县情概况", "政务要闻", "乡镇动态", "部门动态", "通知公告", "政策解读", "招商引资", "便民服务"]
PORTAL_MENU_LINKS = {"乡镇动态": "/news/index.html", "政务要闻": "/xwzx/zwyw/index.html"}


def portal_chrome_top(title: str, charset_meta: str | None, calendar_month: str) -> str:
    cm = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">\n' if charset_meta else ""
    menu = " | ".join(
        f'<a href="{PORTAL_MENU_LINKS.get(m, "javascript:;")}">{m}</a>' for m in PORTAL_MENU
    )
    return (
        "<html>\n<head>\n" + cm + f"<title>{e(title)}</title>\n"
        '<meta name="keywords" content="示范县,乡镇动态">\n'
        '<link rel="stylesheet" href="/images/style.css" type="text/css">\n</head>\n'
        '<body topmargin="0" leftmargin="0">\n'
        '<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">'
        '<tr><td><img src="/images/top.jpg" width="1000" height="120"></td></tr>'
        f'<tr><td class="menu" align="center"><a href="/">网站首页</a> | {menu} | '
        f'<a href="/calendar?month={calendar_month}">日历</a></td></tr></table>\n'
    )


def portal_list_page(*, items: list[tuple[str, str, datetime]], page: int, total_pages: int,
                     prefix: str, column: str, calendar_month: str, charset_meta: str | None) -> str:
    rows = "\n".join(
        f'<tr><td class="dot">·</td><td><a href="{e(h)}" target="_blank">{e(t)}</a></td>'
        f'<td align="right" class="date">[{d(dt)}]</td></tr>'
        for h, t, dt in items
    )
    nav_links = [f'<a href="{prefix}index.html">首页</a>']
    if page > 1:
        prev = f"{prefix}index.html" if page == 2 else f"{prefix}list_{page - 1}.html"
        nav_links.append(f'<a href="{prev}">上一页</a>')
    if page < total_pages:
        nav_links.append(f'<a href="{prefix}list_{page + 1}.html">下一页</a>')
    pager = " ".join(nav_links) + f" 第{page}/{total_pages}页"
    return (
        portal_chrome_top(f"{column}--{SITE_NAME}", charset_meta, calendar_month)
        + '<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr>\n'
        + '<td width="220" valign="top" class="left">'
        + sidebar("栏目导航", [("/news/index.html", PORTAL_COLUMN), ("/xwzx/zwyw/index.html", TRS_COLUMN)])
        + "</td>\n"
        + '<td valign="top" class="right">'
        + f'<div class="weizhi">您现在的位置：<a href="/">首页</a> &gt; {e(column)}</div>\n'
        + f'<table width="100%" class="list">\n{rows}\n</table>\n'
        + f'<div class="pages" align="center">{pager}</div>\n'
        + "</td></tr></table>\n" + footer() + "</body>\n</html>\n"
    )


def portal_article_page(*, title: str, published: datetime, source: str | None, paragraphs: list[str],
                        author: str | None, author_post: str | None, editor: str | None,
                        hot: list[tuple[str, str]], related: list[tuple[str, str]], printed_twice: bool,
                        menu: list[str], calendar_month: str, charset_meta: str | None) -> str:
    body = paragraphs_html(paragraphs, style="")
    if author:
        body = f'<p class="author">{e(author)}</p>\n' + body
        if author_post:
            body += f'\n<p class="author-post">作者</p>\n<p>{e(author_post)}</p>'
    twice = ""
    if printed_twice:
        twice = (f'\n<div class="print-area"><h2>{e(title)}</h2>\n{paragraphs_html(paragraphs, style="")}\n</div>')
    left = [sidebar("热点排行", hot)]
    if menu:
        left.insert(0, sidebar("栏目导航", [("javascript:;", m) for m in menu]))
    rel = "".join(f'<li><a href="{e(h)}" target="_blank">{e(t)}</a></li>' for h, t in related)
    ed = f'<p class="editor">编辑：{e(editor)}</p>' if editor else ""
    return (
        portal_chrome_top(f"{title}--{SITE_NAME}", charset_meta, calendar_month)
        + '<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr>\n'
        + f'<td width="220" valign="top" class="left">{"".join(left)}</td>\n'
        + '<td valign="top" class="right">'
        + f'<div class="weizhi">您现在的位置：<a href="/">首页</a> &gt; <a href="/news/index.html">{PORTAL_COLUMN}</a>'
        + " &gt; 正文</div>\n"
        + f'<h1 class="title" align="center">{e(title)}</h1>\n'
        + f'<div class="info" align="center">来源：{e(source)}　日期：{dm(published)}　'
        + '点击：<span id="hits"></span>次</div>\n'
        + f'<div id="article_content" class="content">\n{body}\n</div>{twice}\n{ed}\n'
        + '<div class="print">[<a href="javascript:window.print()">打印</a>] '
        + '[<a href="javascript:window.close()">关闭</a>]</div>\n'
        + f'<div class="xgxw"><b>相关新闻：</b><ul>{rel}</ul></div>\n'
        + "</td></tr></table>\n" + footer() + "</body>\n</html>\n"
    )


# ------------------------------------------------------------------------------ mirror
def mirror_list_page(*, spam: str, items: list[tuple[str, str, datetime]], page: int, total_pages: int) -> str:
    rows = "\n".join(f'<li><a href="{e(h)}">{e(t)}</a> <span>{d(dt)}</span></li>' for h, t, dt in items)
    nav_links = ['<a href="/mirror/index.html">首頁</a>']
    if page > 1:
        prev = "/mirror/index.html" if page == 2 else f"/mirror/list_{page - 1}.html"
        nav_links.append(f'<a href="{prev}">上一页</a>')
    if page < total_pages:
        nav_links.append(f'<a href="/mirror/list_{page + 1}.html">下一页</a>')
    return (
        f"<html>\n<head>\n<title>{e(spam)}</title>\n<meta name=\"keywords\" content=\"{e(spam)}\">\n</head>\n<body>\n"
        '<div class="top"><a href="/mirror/index.html">首頁</a> <a href="/mirror/index.html">區(qū)縣新聞</a></div>\n'
        '<div class="weizhi">您现在的位置: <a href="/mirror/index.html">首頁</a> &gt; 區(qū)縣新聞</div>\n'
        f'<ul class="list">\n{rows}\n</ul>\n<div class="page">{" ".join(nav_links)}</div>\n'
        '<div class="foot">Copyright &copy; 2021 All Rights Reserved</div>\n</body>\n</html>\n'
    )


def mirror_article_page(*, spam: str, breadcrumb: str, title: str, meta_line: str, summary: str | None,
                        menu: list[str], lines: list[str], tail: list[str],
                        printed_twice: bool, related: list[tuple[str, str]]) -> str:
    m = ""
    if menu:
        m = '<ul class="menu">' + "".join(f'<li><a href="javascript:;">{e(x)}</a></li>' for x in menu) + "</ul>\n"
    body = "\n".join(f"<p>{e(x)}</p>" for x in lines)
    if printed_twice:
        body += f"\n<p>{e(title)}</p>\n" + body
    zy = f'<div class="zy">{e(summary)}</div>\n' if summary else ""
    rel = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for h, t in related)
    tl = "\n".join(f"<p>{e(x)}</p>" for x in tail if not x.startswith("相关新闻") and x != "图片推荐")
    return (
        f"<html>\n<head>\n<title>{e(spam)}</title>\n<meta name=\"keywords\" content=\"{e(spam)}\">\n"
        f'<meta name="description" content="{e(spam)}">\n</head>\n<body>\n{m}'
        f'<div class="weizhi">{e(breadcrumb)}</div>\n'
        f'<div class="arc"><h1>{e(title)}</h1>\n<div class="info">{e(meta_line)}</div>\n{zy}'
        f'<div class="text">\n{body}\n{tl}\n</div>\n</div>\n'
        f'<div class="xg">相关新闻:<ul>{rel}</ul></div>\n<div class="tj">图片推荐</div>\n'
        '<div class="foot">Copyright &copy; 2021 All Rights Reserved</div>\n</body>\n</html>\n'
    )


# ------------------------------------------------------------------------------ traps, feeds, misc
def calendar_page(year: int, month: int, days: dict[int, list[tuple[str, str]]]) -> str:
    import calendar as cal

    py, pm = (year - 1, 12) if month == 1 else (year, month - 1)
    ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
    rows = []
    for week in cal.Calendar(firstweekday=0).monthdayscalendar(year, month):
        cells = []
        for day in week:
            if not day:
                cells.append("<td></td>")
            elif day in days:
                links = "<br>".join(f'<a href="{e(h)}" title="{e(t)}">{e(t[:8])}…</a>' for h, t in days[day])
                cells.append(f'<td class="has">{day}<br>{links}</td>')
            else:
                cells.append(f"<td>{day}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        head_common(f"政务日历 {year}年{month}月_{SITE_NAME}", charset_meta="utf-8") + "</head>\n<body>\n"
        + topbar() + f'<div class="main w1200"><h2>政务日历 {year}年{month}月</h2>\n'
        + f'<div class="cal-nav"><a href="/calendar?month={py:04d}-{pm:02d}">&lt; 上一月</a> '
        + f'<a href="/calendar?month={ny:04d}-{nm:02d}">下一月 &gt;</a></div>\n'
        + '<table class="calendar"><tr>' + "".join(f"<th>{d}</th>" for d in "一二三四五六日") + "</tr>"
        + "".join(rows) + "</table></div>\n" + footer() + "</body>\n</html>\n"
    )


def topic_page(page: int, links: list[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for h, t in links)
    prev = f'<a href="/zt/list.html?page={page - 1}">上一页</a> ' if page > 1 else ""
    return (
        head_common(f"专题专栏 第{page}页_{SITE_NAME}", charset_meta="utf-8") + "</head>\n<body>\n" + topbar()
        + f'<div class="main w1200"><h2>学习贯彻党的二十大精神</h2><ul class="list">{lis}</ul>\n'
        + f'<div class="page">{prev}<a href="/zt/list.html?page={page + 1}">下一页</a> 第{page}页</div></div>\n'
        + footer() + "</body>\n</html>\n"
    )


def private_index(links: list[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for h, t in links)
    return (head_common(f"内部办公平台_{SITE_NAME}", charset_meta="utf-8") + "</head>\n<body>\n"
            + f'<div class="main"><h2>内部办公平台（仅限内部使用）</h2><ul>{lis}</ul></div>\n</body>\n</html>\n')


def rss(items: list[tuple[str, str, datetime, str]], base_url: str, build_date: str) -> str:
    from email.utils import format_datetime

    entries = "\n".join(
        f"<item><title>{e(t)}</title><link>{e(base_url.rstrip('/') + h)}</link>"
        f"<guid isPermaLink=\"true\">{e(base_url.rstrip('/') + h)}</guid>"
        f"<pubDate>{format_datetime(dt)}</pubDate><description>{e(desc)}</description></item>"
        for h, t, dt, desc in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        f"<title>{SITE_NAME}</title>\n<link>{e(base_url)}</link>\n<description>{SITE_NAME}最新信息</description>\n"
        f"<language>zh-cn</language>\n<lastBuildDate>{build_date}</lastBuildDate>\n{entries}\n</channel>\n</rss>\n"
    )


ROBOTS = "User-agent: *\nDisallow: /private/\nAllow: /\n"
STYLE_CSS = "body{font:14px/1.8 'Microsoft YaHei',SimSun;margin:0}.w1200{width:1200px;margin:0 auto}\n"
JPAGE_JS = "/* jpage stub: the real Hanweb widget fetches /module/web/jpage/dataproxy.jsp */\n"
NOT_FOUND = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 页面不存在</title></head>'
    '<body><h1>404</h1><p>您访问的页面不存在或已被删除。</p><p><a href="/">返回首页</a></p></body></html>\n'
)
GIF_1X1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
           b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
