from pathlib import Path

import pytest

from crawler.discovery import links as L
from tests.support.shared import require_shared

FIX = Path(__file__).parent / "fixtures" / "discovery"
BASE = "http://gov.example.cn/xwzx/gzdt/index.html"


def read(name):
    return (FIX / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("url,text,kind", [
    ("http://a.cn/xwzx/202110/t20211029_123456.html", "", "article"),
    ("http://a.cn/zwgk/202110/t20211027_1.shtml", "", "article"),
    ("http://a.cn/art/2024/10/24/art_1234_5678.html", "", "article"),
    ("http://a.cn/news/2024-10/24/content_123.htm", "新都区召开经济形势分析会", "article"),
    ("http://a.cn/news/2024-10/24/content_123.htm", "更多", "other"),
    ("http://a.cn/xwzx/index_2.html", "", "list"),
    ("http://a.cn/col/col1234/index.html", "", "list"),
    ("http://a.cn/news/list_3.html", "", "list"),
    ("http://a.cn/files/a.pdf", "附件", "skip"),
    ("http://a.cn/calendar?month=2024-10", "", "skip"),
    ("http://a.cn/rss.xml", "", "feed"),
    ("http://a.cn/about/contact.html", "联系我们", "other"),
])
def test_classify_url(url, text, kind):
    assert L.classify_url(url, text) == kind


def test_profile_regexes_override():
    import re
    assert L.classify_url("http://a.cn/x/view/99", "", article_re=re.compile(r"/view/\d+$")) == "article"
    assert L.classify_url("http://a.cn/x/202110/t20211029_1.html", "", deny_re=re.compile("/x/")) == "skip"


def test_trs_list_links_and_create_page_html():
    text = read("trs_list.html")
    found = L.extract_links(text, BASE)
    articles = [l.url for l in found if l.kind == "article"]
    assert articles == [
        "http://gov.example.cn/xwzx/gzdt/202110/t20211029_123456.html",
        "http://gov.example.cn/xwzx/gzdt/202110/t20211028_123455.html",
        "http://gov.example.cn/zwgk/202110/t20211027_123001.shtml",
    ]
    paging = L.create_page_html(text, BASE)
    assert paging.urls == ("http://gov.example.cn/xwzx/gzdt/index.html",
                           "http://gov.example.cn/xwzx/gzdt/index_1.html",
                           "http://gov.example.cn/xwzx/gzdt/index_2.html")
    assert paging.current == 0 and paging.next_url.endswith("index_1.html")


@pytest.mark.parametrize("call,expected_next", [
    ('createPageHTML(5, 2, "index", "html");', "index_3.html"),
    ('createPageHTML(5, 4, "index", "html");', None),
    ('createPageHTML(1, 0, "t20170310_9260562", "htm");', "no paging"),
    ('var _nPageCount = 4; var _nCurrIndex = 1;\ncreatePageHTML(_nPageCount, _nCurrIndex, "index", "shtml")', "index_2.shtml"),
])
def test_create_page_html_variants(call, expected_next):
    paging = L.create_page_html(f"<script>{call}</script>", BASE)
    if expected_next == "no paging":
        assert paging is None
    elif expected_next is None:
        assert paging.next_url is None
    else:
        assert paging.next_url == "http://gov.example.cn/xwzx/gzdt/" + expected_next


def test_hanweb_datastore_records_and_dataproxy():
    text = read("hanweb_column.html")
    base = "http://gov.example.cn/col/col1234/index.html"
    assert not [l for l in L.extract_links(text, base) if l.kind == "article"], "links hide in CDATA"
    found, proxies = L.hanweb_datastore(text, base)
    assert [l.url for l in found] == ["http://gov.example.cn/art/2024/10/24/art_1234_5678.html",
                                      "http://gov.example.cn/art/2024/10/23/art_1234_5677.html"]
    assert found[0].text == "新都区召开2024年第四季度经济形势分析会"
    assert proxies == [
        "http://gov.example.cn/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid=1234"
        "&unitid=5678&permissiontype=0&startrecord=3&endrecord=4&perpage=2",
        "http://gov.example.cn/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid=1234"
        "&unitid=5678&permissiontype=0&startrecord=5&endrecord=5&perpage=2",
    ]


def test_dataproxy_response_yields_records_without_more_proxies():
    xml = ("<datastore><recordset><record><![CDATA[<li><a href='/art/2024/10/20/art_1234_5001.html'>"
           "区政府召开专题会议</a></li>]]></record></recordset></datastore>")
    found, proxies = L.hanweb_datastore(xml, "http://gov.example.cn/module/web/jpage/dataproxy.jsp?x=1")
    assert [l.url for l in found] == ["http://gov.example.cn/art/2024/10/20/art_1234_5001.html"]
    assert proxies == []


def test_next_page_and_feed_links():
    text = ('<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body>'
            '<a href="list_2.html">下一页</a><a href="list_9.html">尾页</a><a href="/zwgk/">更多&gt;&gt;</a></body></html>')
    base = "http://a.cn/news/list.html"
    found = L.extract_links(text, base)
    assert [l.url for l in L.next_page_links(found)] == ["http://a.cn/news/list_2.html", "http://a.cn/zwgk/"]
    assert L.feed_links(L.parse_html(text), base) == ["http://a.cn/rss.xml"]


@pytest.mark.parametrize("text", ["", "   ", "\x00\x00"])
def test_empty_or_garbage_html_gives_no_links(text):
    assert L.extract_links(text, BASE) == []


def test_real_trs_pages_from_corpus():
    page = require_shared() / "corpus/raw/chinese_wce/original/3e1af229-5b3e-4cfc-82b2-481f37d7adf7.html"
    from crawler.extract.decode import decode_html
    text, _ = decode_html(page.read_bytes(), None)
    # an article page: its createPageHTML(1, 0, ...) announces a single page, so no paging
    assert L.create_page_html(text, "http://www.shjnet.cn/x/t20220213_552130.html") is None


def test_hanweb_total_from_jpage_javascript_when_datastore_has_none():
    text = read("hanweb_column.html").replace("<totalrecord>5</totalrecord><totalpage>3</totalpage>", "")
    _, proxies = L.hanweb_datastore(text, "http://gov.example.cn/col/col1234/index.html")
    assert [p.rsplit("startrecord=", 1)[1] for p in proxies] == ["3&endrecord=4&perpage=2", "5&endrecord=5&perpage=2"]


def test_dataproxy_answer_with_its_own_totals_adds_no_overlapping_ranges():
    xml = read("hanweb_column.html")  # a proxy answer may repeat nextgroup/totalrecord
    _, proxies = L.hanweb_datastore(xml, "http://gov.example.cn/module/web/jpage/dataproxy.jsp?startrecord=3")
    assert proxies == []
