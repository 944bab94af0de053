"""Discovery on bad and hostile input (issues 13 and 17, discovery side): bounded time and memory,
a clear outcome (what was refused is counted), never an exception."""
from __future__ import annotations

import time

import pytest

from crawler.discovery import links as L
from crawler.discovery import scripts as S
from crawler.discovery.analyze import analyze_page
from crawler.discovery.blocks import MAX_ANCHORS

BASE = "http://www.example.gov.cn/xwzx/index.html"
#: generous: the suite runs on a loaded 2-core machine
SECONDS = 20.0


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    took = time.perf_counter() - t0
    assert took < SECONDS, f"{fn.__name__} took {took:.1f} s"
    return out


def page(body: str) -> str:
    return f"<html><head><title>t</title></head><body>{body}</body></html>"


def test_a_list_page_of_ten_thousand_links():
    rows = "".join(f'<li><a href="/info/1024/{i}.htm">示范县召开第{i}次重点工作推进会议</a><span>2024-10-01</span></li>'
                   for i in range(10000))
    a = timed(analyze_page, page(f"<ul>{rows}</ul>"), BASE)
    assert len(a.articles) == 10000 and a.learned[0][0] == "/info/{n}/{n}.htm"


def test_a_million_anchors_are_cut_and_counted():
    text = page('<div class="x">' + '<a href="/p/1.html">x</a>' * 1_000_000 + "</div>")
    a = timed(analyze_page, text, BASE)
    assert a.refusals["page_truncated"] == 1 and a.refusals["too_many_links"] == 1
    assert len(a.links) <= MAX_ANCHORS


def test_a_page_whose_every_link_is_a_menu():
    menu = "".join(f'<li><a href="/lm{i}/index.html">栏目{i}</a></li>' for i in range(300))
    a = timed(analyze_page, page(f"<ul>{menu}</ul><ul>{menu}</ul>"), BASE)
    assert a.articles == [] and a.learned == [] and a.outcome == "list"
    assert {d.kind for d in a.links} == {"list"} and {d.reason for d in a.links} <= {"menu", "prior"}


def test_megabytes_of_json_in_a_script():
    item = '{"title":"示范县召开重点项目建设推进会议","pubDate":"2024-10-01","url":"/xwdt/content/post_%d.html"},'
    blob = "[" + "".join(item % i for i in range(60000)) + "{}]"          # ~6 MB
    a = timed(analyze_page, page(f"<script>var pageData = {{\"datas\": {blob}}};</script>"), BASE)
    assert len(a.articles) == S.MAX_JSON_ITEMS and a.refusals["json_items_capped"] == 1


@pytest.mark.parametrize("script", [
    'var pageData = {"datas": [{"title": "示范县召开会议", "url": "/a/1.html", ',     # cut off
    'var x = {"title": "\\u793a\\u8303\\u53bf", "url": ' + '"' * 5000,               # a storm of quotes
    "var x = JSON.parse('{" + '\\"title\\":}}}}}{{{{' + "\\" * 20000 + "');",       # backslashes
    "<![CDATA[" + "{" * 100000,
])
def test_malformed_json_in_a_script(script):
    a = timed(analyze_page, page(f"<script>{script}</script>"), BASE)
    assert a.outcome == "list"


def test_create_page_html_with_a_billion_pages_is_capped_and_lazy():
    text = page("<script>createPageHTML(1000000000, 0, 'index', 'html');</script>")
    a = timed(analyze_page, text, BASE, max_pages=500)
    assert [len(s) for s in a.paging] == [500] and a.refusals["paging_capped"] == 1
    seq = a.paging[0]
    assert next(seq.urls()) == "http://www.example.gov.cn/xwzx/index_1.html"
    huge = S.PageSeq("http://a.cn/x_{}.html", 1, 10**9)
    assert len(huge) == 10**9 and sum(1 for _ in huge.urls(limit=3)) == 3      # generated lazily


def test_create_page_html_argument_layouts():
    for call, base, first, last in (
            ("createPageHTML('page_div', 10, 1, 'zwgklist', 'shtml', 200)", "http://a.cn/z/zwgklist.shtml",
             "http://a.cn/z/zwgklist_2.shtml", "http://a.cn/z/zwgklist_10.shtml"),
            ('createPageHTML(5, 0, "index", "html")', "http://a.cn/z/index.html",
             "http://a.cn/z/index_1.html", "http://a.cn/z/index_4.html"),
            ("var countPage = 3;createPageHTML(countPage, 0, 'index', 'shtml', 45)", "http://a.cn/z/",
             "http://a.cn/z/index_1.shtml", "http://a.cn/z/index_2.shtml"),
            ('createPageHTML("page_div",7,1,"list","html",99)', "http://a.cn/z/list.html",
             "http://a.cn/z/list_2.html", "http://a.cn/z/list_7.html")):
        seq, _ = S.create_page_seq(call, base)
        assert seq is not None and (seq.fmt.format(seq.first), seq.fmt.format(seq.last)) == (first, last), call
    assert S.create_page_seq("createPageHTML(1, 0, 'index', 'html')", "http://a.cn/")[0] is None
    assert S.create_page_seq("createPageHTML(" + "9," * 100000, "http://a.cn/")[0] is None


HANWEB = ("<script type='text/xml'><datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1"
          "&webid=1&columnid=2\"></a>]]></nextgroup><recordset><record><![CDATA[<li><a href='/art/2024/10/1/art_2_9.html'>"
          "示范县召开会议</a></li>]]></record></recordset></datastore></script>")


def test_hanweb_perpage_zero_is_refused_and_totalrecord_capped():
    from collections import Counter

    refused: Counter = Counter()
    links, proxies = L.hanweb_datastore(HANWEB + "<script>totalRecord: 90, perpage: 0</script>", BASE, refusals=refused)
    assert len(links) == 1 and proxies == [] and refused["dataproxy_perpage"] == 1
    links, proxies = timed(L.hanweb_datastore, HANWEB + "<script>totalRecord: 10000000, perpage: 1</script>", BASE,
                           refusals=refused)
    assert len(proxies) == L.MAX_DATAPROXY_PAGES and refused["dataproxy_capped"] == 1


def test_thirty_thousand_unclosed_datastores():
    links, proxies = timed(L.hanweb_datastore, "<datastore><record><![CDATA[x" * 30000, BASE)
    assert links == [] and proxies == []
    a = timed(analyze_page, page("<script>" + "<datastore>" * 30000 + "</script>"), BASE)
    assert a.proxies == []


def test_an_href_of_eleven_thousand_show_asp():
    href = "/" + "show.asp?" * 11000
    a = timed(analyze_page, page(f'<a href="{href}">示范县召开会议部署工作</a>'), BASE)
    assert a.articles == [] and {d.kind for d in a.links} <= {"skip"}
    assert timed(L.classify_url, "http://a.cn" + href) == "skip"


def test_api_and_pager_scripts_on_garbage():
    assert timed(S.api_urls, "fetch(" * 50000, BASE) == []
    assert timed(S.script_pager_seq, "共" * 100000 + "location='" * 10000, BASE) is None
    assert timed(S.json_items, '"url":"' * 200000, BASE) == []
