"""Structure-based discovery (issue 13) on small HTML excerpts: URL templates, list-block
detection, menu / footer / friend-link / pager rejection, template learning, short blocks."""
from __future__ import annotations

import re

import pytest

from crawler.discovery import blocks as B
from crawler.discovery.analyze import analyze_page, detect_cms
from crawler.discovery.templates import TemplateBook, has_variable, is_list_like, url_template
from crawler.extract.html import parse_html

BASE = "http://www.example.gov.cn/xwzx/index.html"


@pytest.mark.parametrize("url, template", [
    ("http://a.cn/info/1024/5678.htm", "/info/{n}/{n}.htm"),
    ("http://a.cn/a/xwzx/2021/1009/2381.html", "/a/xwzx/{n}/{n}/{n}.html"),
    ("http://a.cn/html/news/202410/8a8e4c2f9d1b4e6a8c7d5e3f1a2b3c4d.html", "/html/news/{n}/{id}.html"),
    ("http://a.cn/xwdt/c5512345/content.shtml", "/xwdt/c{n}/content.shtml"),
    ("http://a.cn/gk/202110/t20211029_123456.html", "/gk/{n}/t{n}_{n}.html"),
    ("http://a.cn/view-123.html", "/view-{n}.html"),
    ("http://a.cn/content.jsp?urltype=news.NewsContentUrl&wbtreeid=1101&wbnewsid=1234",
     "/content.jsp?urltype=news.NewsContentUrl&wbnewsid={n}&wbtreeid={n}"),
    ("http://a.cn/index.php?m=content&c=index&a=show&catid=12&id=345",
     "/index.php?a=show&c=index&catid={n}&id={n}&m=content"),
    ("http://a.cn/Item/Show.asp?m=1&d=123", "/Item/Show.asp?d={n}&m={n}"),
    ("http://a.cn/Article/ShowArticle.asp?ArticleID=55", "/Article/ShowArticle.asp?ArticleID={n}"),
    ("http://a.cn/news/show.php?id=5&PHPSESSID=abc", "/news/show.php?id={n}"),
    ("http://a.cn/x?" + "a" * 3000, "{long}"),
])
def test_url_templates(url, template):
    assert url_template(url) == template


@pytest.mark.parametrize("template, listy", [
    ("/xwzx/index_{n}.html", True), ("/a/xwzx/list_{n}_{n}.html", True), ("/list-{n}-{n}.html", True),
    ("/index.php?a=lists&c=index&catid={n}&m=content", True), ("/Item/list.asp?id={n}&page={n}", True),
    ("/xwzx/", True), ("/index.php?a=show&c=index&catid={n}&id={n}&m=content", False),
    ("/info/{n}/{n}.htm", False), ("/view-{n}.html", False), ("/news/{n}.html", False),
])
def test_list_like_templates(template, listy):
    assert is_list_like(template) is listy


def test_template_book_learns_only_id_templates_and_round_trips():
    book = TemplateBook()
    assert book.learn("/info/{n}/{n}.htm", 4, "http://a.cn/info/1/2.htm")
    assert not book.learn("/about/index.html", 3)          # no id: one fixed page
    assert not book.learn("/list-{n}.html", 3)             # a list page shape
    assert book.is_article("/info/{n}/{n}.htm") and not book.is_article("/view-{n}.html")
    again = TemplateBook.from_rows(book.learned())
    assert again.learned() == [("/info/{n}/{n}.htm", 4, "http://a.cn/info/1/2.htm")]
    assert again.seeded == {"/info/{n}/{n}.htm"}
    assert has_variable("/x/{id}.html") and not has_variable("/x/a.html")


ARTICLE_UL = """<ul class="list">
<li><a href="/info/1024/5678.htm" title="县政府召开常务会议研究部署秋冬季工作">县政府召开常务会议研究部署秋冬季工作</a><span>2024-10-30</span></li>
<li><a href="/info/1024/5675.htm">全县安全生产大检查工作推进会召开</a><span>2024-10-28</span></li>
<li><a href="/info/1024/5672.htm">示范镇开展秸秆禁烧专项检查</a><span>2024-10-27</span></li>
</ul>"""
MENU = """<div class="nav"><ul><li><a href="/index.htm">首页</a></li><li><a href="/xwzx/zwyw.htm">政务要闻</a></li>
<li><a href="/xwzx/gzdt.htm">工作动态</a></li><li><a href="/zwgk.htm">政务公开</a></li><li><a href="/hdjl.htm">互动交流</a></li></ul></div>"""
FOOTER = """<div class="footer"><p><a href="/wzdt.htm">网站地图</a> | <a href="/lxwm.htm">联系我们</a> | <a href="/yssm.htm">隐私声明</a></p></div>"""
FRIENDS = """<div class="yqlj"><ul><li><a href="http://www.gov.cn/">中国政府网</a></li><li><a href="http://www.sc.gov.cn/">四川省人民政府</a></li>
<li><a href="/rmtzx.htm">县融媒体中心</a></li></ul></div>"""
PAGER = """<div class="page"><a href="/xwzx/zwyw/3.htm">1</a> <a href="/xwzx/zwyw/2.htm">2</a> <a href="/xwzx/zwyw/2.htm">下一页</a> <a href="/xwzx/zwyw/1.htm">尾页</a></div>"""


def page(*parts: str) -> str:
    return "<html><head><title>t</title></head><body>" + "".join(parts) + "</body></html>"


def kinds(analysis):
    return {d.url.replace("http://www.example.gov.cn", ""): (d.kind, d.reason) for d in analysis.links}


def test_article_block_among_menus_footer_friends_and_pager():
    a = analyze_page(page(MENU, ARTICLE_UL, PAGER, FRIENDS, FOOTER), BASE)
    k = kinds(a)
    assert sorted(u for u, (kind, _) in k.items() if kind == "article") == [
        "/info/1024/5672.htm", "/info/1024/5675.htm", "/info/1024/5678.htm"]
    assert {k[u][1] for u in ("/info/1024/5672.htm", "/info/1024/5678.htm")} == {"block"}
    assert k["/xwzx/gzdt.htm"] == ("list", "menu") and k["/wzdt.htm"] == ("list", "menu")
    assert k["/xwzx/zwyw/2.htm"] == ("list", "paging")
    assert k["http://www.gov.cn/"] == ("skip", "offsite")
    assert a.next_urls == ["http://www.example.gov.cn/xwzx/zwyw/3.htm", "http://www.example.gov.cn/xwzx/zwyw/2.htm",
                           "http://www.example.gov.cn/xwzx/zwyw/1.htm"]
    assert a.learned == [("/info/{n}/{n}.htm", 3, "http://www.example.gov.cn/info/1024/5678.htm")]


@pytest.mark.parametrize("rows", [1, 2])
def test_blocks_with_fewer_than_five_links_still_count(rows):
    """The last page of a notice column may hold one notice: a dated headline row is enough."""
    items = "".join(f'<li><a href="/tzgg/{900 + i}.html">关于做好2024年冬季征兵体检工作的通知</a><span>2024-10-0{i + 1}</span></li>'
                    for i in range(rows))
    a = analyze_page(page(MENU, f"<ul>{items}</ul>", FOOTER), BASE)
    assert len(a.articles) == rows
    assert all(d.reason == "block" for d in a.of_kind("article"))


def test_table_rows_dl_rows_and_div_rows():
    table = "".join(f'<tr><td><img src="/d.gif"></td><td><a href="/info/iInfo.jsp?cat_id=10012&info_id={i}">示范县召开第{i}次全体会议部署重点工作</a></td>'
                    f"<td>2024-10-{10 + i}</td></tr>" for i in range(3))
    dl = "".join(f'<dl><dt><a href="/news/{2381 + i}.html">示范县第{i}届农民丰收节活动举行</a></dt><dd>摘要……</dd><dd class="date">2024-09-1{i}</dd></dl>'
                 for i in range(3))
    divs = "".join(f'<div class="item"><a href="/view-{123 + i}.html"><div class="tit">县领导调研第{i}批重点项目建设情况</div>'
                   f'<div class="time">2024-08-0{i + 1}</div></a></div>' for i in range(3))
    for body, template in ((f"<table>{table}</table>", "/info/iInfo.jsp?cat_id={n}&info_id={n}"),
                           (f'<div class="news-list">{dl}</div>', "/news/{n}.html"),
                           (f'<div class="news_list">{divs}</div>', "/view-{n}.html")):
        a = analyze_page(page(MENU, body, FOOTER), BASE)
        assert len(a.articles) == 3, body[:60]
        assert [t for t, _, _ in a.learned] == [template]


def test_a_page_whose_every_link_is_a_menu_has_no_article():
    a = analyze_page(page(MENU, FOOTER, FRIENDS, PAGER), BASE)
    assert a.articles == [] and a.learned == []
    assert {d.kind for d in a.links} <= {"list", "skip"}


def test_long_undated_friend_links_with_assorted_urls_are_not_articles():
    links = "".join(f'<li><a href="/{w}/index.html">{t}</a></li>' for w, t in (
        ("ztzl", "学习贯彻党的二十届三中全会精神专题"), ("yhyshj", "优化营商环境专项行动专题专栏"),
        ("ccwm", "创建全国文明城市工作专题网页")))
    a = analyze_page(page(f"<ul>{links}</ul>"), BASE)
    assert a.articles == []


def test_learned_template_classifies_links_outside_blocks_and_profile_regex_wins():
    book = TemplateBook()
    book.learn("/info/{n}/{n}.htm", 5)
    a = analyze_page(page('<p><a href="/info/1/2.htm">简讯</a></p>', '<p><a href="/go/7">县政府召开常务会议研究工作</a></p>'),
                     BASE, book=book, article_re=re.compile(r"/go/\d+$"))
    k = kinds(a)
    assert k["/info/1/2.htm"] == ("article", "template") and k["/go/7"] == ("article", "hint")


def test_deny_regex_traps_and_attachments_are_skipped():
    body = ('<ul><li><a href="/a/1.pdf">关于做好防汛工作的通知附件下载</a><span>2024-10-01</span></li>'
            '<li><a href="/search.jsp?q=1">站内搜索示范县人民政府新闻</a><span>2024-10-01</span></li>'
            '<li><a href="/info/3/4.htm">示范县召开防汛工作会议部署工作</a><span>2024-10-01</span></li></ul>')
    k = kinds(analyze_page(page(body), BASE, deny_re=re.compile(r"/info/3/")))
    assert k["/a/1.pdf"][0] == k["/search.jsp?q=1"][0] == k["/info/3/4.htm"][0] == "skip"


def test_headline_texts():
    assert B.headline_like("县政府召开常务会议研究部署工作")
    assert B.headline_like("示范镇开展秸秆禁烧…")
    assert not B.headline_like("政务公开") and not B.headline_like("下一页") and not B.headline_like("更多>>")
    assert not B.headline_like("Home About Contact Us")


def test_cms_detection():
    assert detect_cms('<div id="vsb_content"><script>_showDynClicks("wbnews", 1, 2)</script>') == "博达 VSB"
    assert detect_cms("<a href='/e/action/ShowInfo.php?classid=2&id=7'>x</a>") == "帝国 EmpireCMS"
    assert detect_cms("<p>plain</p>") is None


def test_find_blocks_on_nothing():
    assert B.find_blocks(None, BASE) == []
    assert B.find_blocks(parse_html("<p>no links</p>"), BASE) == []
