"""The style zoo (issue 13): every style generates, serves on loopback, and its own paging reaches
every article; short notices, menus and friend links are present; deterministic for a seed."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from govnews.stylezoo import STYLES, NonLoopbackError, ZooServer, ZooSite, normalize, serve

REPO = Path(__file__).resolve().parents[1]
N = 30

#: a marker of each family's article template (body container / title element)
ARTICLE_MARKERS = {
    "vsb": 'class="v_news_content"', "dedecms": '<div class="content"><table', "phpcms": '<div id="Article">',
    "empirecms": 'class="newstext"', "dongyi": 'id="MyContent"', "asp_portal": 'class="main_ArticleContent"',
    "numeric": 'class="article-content"', "view_dash": 'class="news_con"', "ucap": 'class="article-content" id="zoom"',
    "trs_pagediv": "TRS_UEDITOR", "json_api": 'class="detail-content"', "jsp_ilist": 'class="content" id="zoom"',
    "hexid": 'id="zoom" class="zoom"',
}
NEXT_TEXTS = {"下一页", "下页", "末页", "尾页"}
ANCHOR_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["'][^>]*>(.*?)</a>""", re.I | re.S)
HOT_RE = re.compile(r'<div class="side-box hot">.*?</ol></div>', re.S)
CPH_RE = re.compile(r"createPageHTML\(\s*'[^']*'\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'([^']+)'\s*,\s*'([^']+)'\s*,\s*(\d+)\s*\)")
API_RE = re.compile(r"fetch\('(/api/list\?channel=)'\s*\+\s*channel\s*\+\s*'&page='")
CHANNEL_RE = re.compile(r'var channel = "([^"]+)"')


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (loopback only)
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def decode(ctype: str, data: bytes) -> str:
    m = re.search(r"charset=([\w-]+)", ctype) or re.search(rb"charset=([\w-]+)", data[:1024])
    cs = m.group(1) if m else "utf-8"
    cs = cs.decode() if isinstance(cs, bytes) else cs
    return data.decode("gb18030" if cs.lower() in ("gbk", "gb2312") else cs)


def rel_key(base: str, href: str) -> str:
    u = urlsplit(urljoin(base, href.replace("&amp;", "&")))
    return normalize(u.path + ("?" + u.query if u.query else ""))


def walk_column(root: str, first: str) -> tuple[set[str], set[str]]:
    """Follow one column's paging the way the style pages it; return (list pages, linked targets)."""
    todo, seen, found = [first], set(), set()
    while todo:
        path = todo.pop()
        key = normalize(path)
        if key in seen or len(seen) > 200:
            continue
        seen.add(key)
        status, ctype, data = fetch(root + path)
        assert status == 200, (path, status)
        base = root + path
        if ctype.startswith("application/json"):
            obj = json.loads(data)
            found |= {rel_key(base, it["url"]) for it in obj["data"]["items"]}
            page = obj["data"]["page"]
            if obj["data"]["items"]:
                todo.append(re.sub(r"page=\d+", f"page={page + 1}", path))
            continue
        html = HOT_RE.sub("", decode(ctype, data))
        for href, text in ANCHOR_RE.findall(html):
            text = re.sub(r"<[^>]+>", "", text).strip()
            if text in NEXT_TEXTS or text.isdigit():
                todo.append(rel_key(base, href))
            else:
                found.add(rel_key(base, href))
        for pages, _cur, name, ext, _total in CPH_RE.findall(html):      # TRS: URLs from the script
            todo += [rel_key(base, f"{name}_{k}.{ext}") for k in range(2, int(pages) + 1)]
        for m in re.finditer(r'"url":\s*"([^"]+)"', html):                 # UCAP inline JSON
            found.add(rel_key(base, m.group(1)))
        for m in re.finditer(r'common\\+":\s*\\+"([^\\"]+)', html):       # UCAP escaped JSON in a string
            found.add(rel_key(base, m.group(1)))
        if API_RE.search(html):                                            # page calls a JSON API
            todo.append(f"/api/list?channel={CHANNEL_RE.search(html).group(1)}&page=1")
    return seen, found


@pytest.fixture(scope="module")
def sites() -> dict[str, ZooSite]:
    return {name: ZooSite(name, N, seed=0) for name in STYLES}


def test_at_least_twelve_styles_with_distinct_shapes(sites):
    assert len(STYLES) >= 12
    shapes = {re.sub(r"\d+", "N", s.expected_articles[0]) for s in sites.values()}
    assert len(shapes) == len(STYLES)
    required = {"vsb": "/info/1024/", "dedecms": "/a/xwzx/", "phpcms": "a=show&catid=",
                "empirecms": "/e/action/ShowInfo.php?classid=", "dongyi": "/Item/Show.asp?m=1&d=",
                "asp_portal": "ShowArticle.asp?ArticleID=", "view_dash": "/view-", "ucap": "/content/post_",
                "trs_pagediv": "/content.shtml"}
    for name, frag in required.items():
        assert any(frag in p for p in sites[name].expected_articles), name
    vsb = sites["vsb"]
    assert any("content.jsp?urltype=news.NewsContentUrl&wbtreeid=" in p for p in vsb.expected_articles)
    assert any("PAGENUM=2" in p for p in vsb.list_urls["tzgg"])
    assert "list_3_2.html" in " ".join(sites["dedecms"].list_urls["xwzx"])
    assert "index_2.html" in " ".join(sites["empirecms"].list_urls["xwzx"])


@pytest.mark.parametrize("style", list(STYLES))
def test_style_serves_and_paging_reaches_every_article(style, sites):
    site = sites[style]
    with serve(site) as srv:
        root = srv.url.rstrip("/")
        status, ctype, data = fetch(srv.home_url)
        assert status == 200
        home = decode(ctype, data)
        for word in ("通知公告", "政务公开", "政策文件", "信息公开", "图片新闻", "热点排行", "更多", "友情链接",
                     "网站地图", "联系我们", "首页"):
            assert word in home, (style, word)
        assert "http://www.gov.cn/" in home and site.offsite_links
        # every list page answers, and the style's own paging reaches every list page and article
        reached, linked = set(), set()
        for col in site.columns:
            pages, found = walk_column(root, site.list_urls[col.key][0])
            reached |= pages
            linked |= found
            want = {normalize(a.path) for a in site.column_articles(col)}
            assert want <= found, (style, col.key, sorted(want - found)[:3])
        assert {normalize(p) for urls in site.list_urls.values() for p in urls} <= reached
        # every article answers 200 with the family's template, title and date line
        for path in site.expected_articles:
            art = site.article_info[path]
            status, ctype, data = fetch(root + path)
            assert status == 200, path
            html = decode(ctype, data)
            assert ARTICLE_MARKERS[style] in html, path
            assert art.title.replace("“", "&ldquo;") in html or art.title in html.replace("&quot;", '"'), path
            assert art.paragraphs[0][:20] in html
            if site.style.gov_meta:
                assert '<meta name="ArticleTitle"' in html and '<meta name="PubDate"' in html
            for att in art.attachments:
                s2, c2, _ = fetch(root + att.path)
                assert s2 == 200 and c2.startswith("application/")
        # non-article links all answer (menus, footers, friend pages, list and API pages)
        for path in site.non_article_links:
            assert fetch(root + path)[0] == 200, path
        assert fetch(root + "/no/such/page.html")[0] == 404


@pytest.mark.parametrize("style", list(STYLES))
def test_short_notices_briefs_menus_and_friend_links(style, sites):
    site = sites[style]
    notices = [a for a in site.articles if a.kind == "notice"]
    briefs = [a for a in site.articles if a.kind == "brief"]
    assert notices and briefs
    assert all(len(a.paragraphs) == 2 and a.attachments for a in notices)
    assert all(a.attachments[0].path.endswith((".pdf", ".docx")) for a in notices)
    assert all(80 <= a.text_length <= 130 for a in briefs), [a.text_length for a in briefs]
    assert site.short_articles == {a.path for a in notices + briefs}
    assert set(site.expected_articles).isdisjoint(site.non_article_links)
    assert len(site.non_article_links) >= 15
    assert any("gov.cn" in u for u in site.offsite_links)
    assert all(normalize(p) in site.linked_article_keys for p in site.expected_articles)


def test_encodings_realistic(sites):
    meta_only = [s for s in sites.values() if s.style.encoding == "gbk" and not s.style.header_charset]
    assert len(meta_only) >= 3
    for s in meta_only:
        status, ctype, data = s.response(s.home_path)
        assert ctype == "text/html" and b"charset=gb2312" in data[:300]
        title = s.articles[0].title
        assert title.encode("gbk") in s.response(s.expected_articles[0])[2]
    assert any(s.style.encoding == "gbk" and s.style.header_charset for s in sites.values())


def test_deterministic_for_a_seed():
    a, b, c = ZooSite("dedecms", N, seed=0), ZooSite("dedecms", N, seed=0), ZooSite("dedecms", N, seed=1)
    assert a.routes == b.routes and a.expected_articles == b.expected_articles
    assert a.routes != c.routes
    assert len(ZooSite("vsb", 90).expected_articles) == 90


def test_query_order_does_not_matter_and_bad_api_input():
    site = ZooSite("phpcms", N)
    path = site.expected_articles[0]
    shuffled = "/index.php?" + "&".join(reversed(path.split("?", 1)[1].split("&")))
    assert site.response(shuffled)[2] == site.response(path)[2]
    api = ZooSite("json_api", N)
    assert api.response("/api/list?channel=xwzx&page=abc")[0] == 400
    past = json.loads(api.response("/api/list?channel=xwzx&page=99")[2])
    assert past["data"]["items"] == []


def test_refuses_non_loopback():
    with pytest.raises(NonLoopbackError):
        ZooServer(ZooSite("numeric", 6), host="0.0.0.0")
    with pytest.raises(KeyError):
        ZooSite("no-such-style")


def test_main_lists_styles():
    out = subprocess.run([sys.executable, "-m", "govnews.stylezoo", "--list"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert all(name in out.stdout for name in STYLES)
