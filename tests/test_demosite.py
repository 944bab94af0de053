"""The demo / fixture government site: generator, page structure, encodings, server, publish."""
from __future__ import annotations

import http.client
import re
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from govnews.demosite import (
    DATAPROXY,
    LIST_START,
    DemoServer,
    DemoSite,
    NonLoopbackError,
    demo_profile_toml,
    serve,
    write_site,
)
from govnews.demosite.texts import strip_glosses

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite()


def hrefs(data: bytes, base_path: str, encoding: str = "utf-8") -> list[str]:
    """Plain <a href> targets of a page as absolute paths (+query); script contents are not parsed."""
    doc = lxml.html.fromstring(data.decode(encoding, errors="replace"))
    out = []
    for a in doc.iter("a"):
        href = a.get("href")
        if not href or href.startswith(("javascript:", "#")):
            continue
        u = urlsplit(urljoin("http://h" + base_path, href))
        out.append(u.path + (f"?{u.query}" if u.query else ""))
    return out


def page_encoding(site: DemoSite, path: str) -> str:
    art = {a.url_path: a for a in site.expected_articles}.get(path)
    if art:
        return art.encoding
    return "gbk" if path.startswith(("/news/", "/mirror/")) else "utf-8"


def all_plain_links(site: DemoSite) -> set[str]:
    links = set()
    for path, (data, ctype, _) in site.pages.items():
        if ctype.startswith("text/html"):
            links.update(hrefs(data, path, page_encoding(site, path)))
    return links


def trs_list_paths(site: DemoSite) -> list[str]:
    first = site.pages[LIST_START["trs"]][0].decode("utf-8")
    m = re.search(r'createPageHTML\((\d+),\s*(\d+),\s*"(\w+)",\s*"(\w+)"\)', first)
    assert m, "TRS list page must call createPageHTML"
    total, cur, name, ext = int(m[1]), int(m[2]), m[3], m[4]
    assert cur == 0
    return [f"/xwzx/zwyw/{name if i == 0 else f'{name}_{i}'}.{ext}" for i in range(total)]


def hanweb_records(xml_text: str) -> list[str]:
    return re.findall(r'<record><!\[CDATA\[<li><a href="([^"]+)"', xml_text)


def follow_next(site: DemoSite, start: str) -> list[str]:
    seen, path = [], start
    while path and path not in seen:
        seen.append(path)
        text = site.pages[path][0].decode("gbk")
        doc = lxml.html.fromstring(text)
        nxt = [a.get("href") for a in doc.iter("a") if (a.text or "").strip() == "下一页"]
        path = urlsplit(urljoin("http://h" + path, nxt[0])).path if nxt else None
    return seen


def section_links(site: DemoSite, list_paths: list[str], enc: str) -> set[str]:
    out = set()
    for p in list_paths:
        out.update(h for h in hrefs(site.pages[p][0], p, enc) if re.search(r"(\.html?)$", h))
    return out


# ------------------------------------------------------------------ generator
def test_generator_is_deterministic():
    a, b = DemoSite(), DemoSite()
    assert a.pages.keys() == b.pages.keys()
    for path in a.pages:
        assert a.pages[path] == b.pages[path], path
    assert a.expected_articles == b.expected_articles
    c, d = DemoSite(40, seed=3), DemoSite(40, seed=3)
    assert {p: v[0] for p, v in c.pages.items()} == {p: v[0] for p, v in d.pages.items()}
    e = DemoSite(40, seed=4)
    assert [x.title for x in e.expected_articles] != [x.title for x in c.expected_articles]


def test_default_demo_layout(site):
    arts = site.expected_articles
    counts = Counter(a.section for a in arts)
    assert counts == {"trs": 6, "hanweb": 7, "portal": 6, "mirror": 6}
    assert {a.cms for a in arts} == {"trs", "hanweb", "homemade", "mirror"}
    groups = Counter(a.canonical_group for a in arts)
    assert len(groups) == 17  # 5 seeds + 12 synthetic stories
    assert {g for g in groups if g.startswith("seed")} == {f"seed00{i}" for i in range(5)}
    by_group: dict[str, list] = {}
    for a in arts:
        by_group.setdefault(a.canonical_group, []).append(a)
    # copies of one story share the simplified title, date and body, but not the URL
    for copies in by_group.values():
        assert len({c.url_path for c in copies}) == len(copies)
        assert len({(c.title_simplified, c.published_at, c.paragraphs) for c in copies}) == 1
    assert {a.section for a in by_group["seed004"]} == {"trs", "portal"}
    assert {a.section for a in by_group["seed002"]} == {"hanweb", "mirror"}
    assert sum(1 for a in arts if a.variant == "crosspost") == 2
    for a in arts:
        assert a.url_path in site.pages
        assert a.published_at.tzinfo is not None and a.published_at.utcoffset().total_seconds() == 8 * 3600
        assert a.paragraphs and a.title
    assert len({a.url_path for a in arts}) == len(arts)


def test_seed_stories_cleaned(site):
    arts = {a.canonical_group + ":" + a.section: a for a in site.expected_articles}
    s0 = arts["seed000:trs"]
    assert s0.title == "【科技城新区】直管区:“五大活动”激发干事创业强大动力"
    assert s0.source == "绵阳日报" and s0.editor == "谭鹏"
    assert s0.original_title.startswith("工作大走访")
    assert s0.published_at.strftime("%Y-%m-%d %H:%M") == "2021-10-29 09:19"
    s2m = arts["seed002:mirror"]
    assert s2m.title == "【經開區】推動項目建設“加速跑”" and s2m.title_simplified == "【经开区】推动项目建设“加速跑”"
    assert s2m.source == "綿陽日報"
    assert not any("(" in p and re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔù]+\)", p) for a in arts.values()
                   for p in a.paragraphs)
    assert arts["seed004:trs"].author == "许兴国"


def test_page_structures(site):
    arts = site.expected_articles
    trs = next(a for a in arts if a.section == "trs" and a.declared_charset == "utf-8")
    html = site.pages[trs.url_path][0].decode("utf-8")
    doc = lxml.html.fromstring(html)
    meta = {m.get("name"): m.get("content") for m in doc.iter("meta") if m.get("name")}
    assert meta["ArticleTitle"] == trs.title
    assert meta["PubDate"] == trs.published_at.strftime("%Y-%m-%d %H:%M")
    assert meta["ContentSource"] == trs.source and meta["ColumnName"] == "政务要闻"
    assert meta["SiteName"] == "示范县人民政府"
    body = doc.cssselect("div.TRS_Editor")[0].text_content()
    assert all(p in body for p in trs.paragraphs)
    assert re.fullmatch(r"/xwzx/zwyw/\d{6}/t\d{8}_\d+\.html", trs.url_path)

    hw = next(a for a in arts if a.section == "hanweb")
    html = site.pages[hw.url_path][0].decode("utf-8")
    assert re.fullmatch(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_1234_\d+\.html", hw.url_path)
    zoom = lxml.html.fromstring(html).get_element_by_id("zoom")
    assert all(p in zoom.text_content() for p in hw.paragraphs)
    assert "<!--ZJEG_RSS.content.begin-->" in html and "<!--ZJEG_RSS.content.end-->" in html

    pt = next(a for a in arts if a.section == "portal" and a.canonical_group == "seed001")
    html = site.pages[pt.url_path][0].decode("gbk")
    assert re.fullmatch(r"/news/\d{4}-\d{2}/\d{2}/content_\d+\.htm", pt.url_path)
    assert "您现在的位置" in html and "相关新闻" in html and "点击：" in html and "来源：中国绵阳新闻网" in html
    assert html.count(pt.paragraphs[2]) == 2  # the body is printed twice

    mi = next(a for a in arts if a.section == "mirror" and a.canonical_group == "seed000")
    html = site.pages[mi.url_path][0].decode("gbk")
    doc = lxml.html.fromstring(html)
    assert "亚洲成av人" in doc.findtext(".//title")
    assert "區(qū)" in doc.findtext(".//h1") and "您现在的位置" in html and "发稿时间:2021-10-29 09:19" in html
    for path in (trs.url_path, hw.url_path, "/"):
        text = site.pages[path][0].decode("utf-8")
        assert "版权所有" in text and "ICP备" in text and "网站标识码" in text and "Copyright &copy; 2024" in text


# ------------------------------------------------------------------ reachability
def test_trs_later_pages_only_through_createpagehtml(site):
    lists = trs_list_paths(site)
    assert len(lists) >= 3
    for i, p in enumerate(lists):
        assert f'createPageHTML({len(lists)}, {i}, "index", "html")' in site.pages[p][0].decode("utf-8")
    plain = all_plain_links(site)
    assert not any(re.search(r"/index_\d+\.html$", h) for h in plain)
    expected = {a.url_path for a in site.expected_articles if a.section == "trs"}
    assert section_links(site, lists, "utf-8") & {a.url_path for a in site.expected_articles} == expected
    later = expected - site.first_page_paths("trs")
    assert later
    # articles on later list pages are linked from nowhere else
    elsewhere = set()
    for path, (data, ctype, _) in site.pages.items():
        if ctype.startswith("text/html") and path not in lists[1:]:
            elsewhere.update(hrefs(data, path, page_encoding(site, path)))
    assert not (later & elsewhere)


def test_hanweb_records_and_dataproxy(site):
    col = site.pages[LIST_START["hanweb"]][0].decode("utf-8")
    block = re.search(r'<script type="text/xml">(.*?)</script>', col, re.S).group(1)
    assert block.startswith("<datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1")
    first = hanweb_records(block)
    assert len(first) == site.per_page
    total = int(re.search(r"totalRecord:(\d+)", col).group(1))
    assert f"<totalrecord>{total}</totalrecord>" in block
    expected = [a.url_path for a in site.section_placements("hanweb")]
    assert total == len(expected) == 7
    # the column page has no plain <a> to articles: they are only inside the text/xml script
    assert not any(h.startswith("/art/") for h in hrefs(site.pages[LIST_START["hanweb"]][0], LIST_START["hanweb"]))
    got = list(first)
    start = len(first) + 1
    while start <= total:
        q = f"{DATAPROXY}?startrecord={start}&endrecord={start + 2}&perpage=3&columnid=1234&unitid=5678"
        xml = site.get(q)[0].decode("utf-8")
        assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<datastore>')
        assert f"<totalrecord>{total}</totalrecord>" in xml
        got += hanweb_records(xml)
        start += 3
    assert got == expected
    later = set(expected) - set(first)
    assert later and not (later & all_plain_links(site))
    # other columns answer an empty datastore
    assert hanweb_records(site.get(f"{DATAPROXY}?startrecord=1&endrecord=9&columnid=999")[0].decode()) == []


def test_portal_and_mirror_next_links(site):
    lists = follow_next(site, LIST_START["portal"])
    assert lists == ["/news/index.html", "/news/list_2.html", "/news/list_3.html"]
    expected = {a.url_path for a in site.expected_articles if a.section == "portal"}
    arts = {a.url_path for a in site.expected_articles}
    assert section_links(site, lists, "gbk") & arts == expected
    mlists = follow_next(site, LIST_START["mirror"])
    assert len(mlists) == 2
    assert section_links(site, mlists, "gbk") & arts == {a.url_path for a in site.expected_articles
                                                         if a.section == "mirror"}


def test_home_robots_rss(site):
    home = set(hrefs(site.pages["/"][0], "/"))
    assert set(LIST_START.values()) <= home
    assert "/private/index.html" in home and "/rss.xml" in home
    assert any(h.startswith("/calendar?month=") for h in home) and "/zt/list.html?page=1" in home
    robots = site.pages["/robots.txt"][0].decode()
    assert "Disallow: /private/" in robots
    assert site.get("/private/index.html") is not None
    rss = site.get("/rss.xml", host="127.0.0.1:4321")[0].decode("utf-8")
    links = re.findall(r"<link>(http://[^<]+)</link>", rss)
    assert links and all(u.startswith("http://127.0.0.1:4321/") for u in links)
    arts = {a.url_path for a in site.expected_articles}
    assert all(urlsplit(u).path in arts for u in links[1:]) and "<rss version=\"2.0\">" in rss


def test_traps_are_endless(site):
    page = site.get("/calendar?month=1999-01")[0]
    links = hrefs(page, "/calendar")
    assert "/calendar?month=1998-12" in links and "/calendar?month=1999-02" in links
    oct_links = hrefs(site.get("/calendar?month=2024-10")[0], "/calendar")
    assert any(h.startswith("/news/2024-10/") for h in oct_links)
    chain = hrefs(site.get("/zt/list.html?page=12345")[0], "/zt/list.html")
    assert "/zt/list.html?page=12346" in chain
    assert site.get("/no/such/page.html") is None


# ------------------------------------------------------------------ encodings
def test_encodings(site):
    arts = site.expected_articles
    mirror = [a for a in arts if a.section == "mirror"]
    for a in mirror:
        data, ctype, _ = site.pages[a.url_path]
        assert a.encoding == "gbk" and a.declared_charset is None
        assert "charset" not in ctype.lower() and b"charset" not in data.lower()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("gbk")
        assert re.search(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔù]+\)", text), "mirror pages carry pinyin glosses"
        assert a.title in strip_glosses(text)
    portal = [a for a in arts if a.section == "portal"]
    for a in portal:
        data, ctype, _ = site.pages[a.url_path]
        assert b'charset=gbk' in data and "charset" not in ctype
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert a.title in data.decode("gbk")
    data, ctype, _ = site.pages["/news/index.html"]
    assert ctype == "text/html; charset=GBK" and b"charset" not in data.lower()
    wrong = [a for a in arts if a.declared_charset == "gb2312"]
    assert wrong
    for a in wrong:
        data, ctype, _ = site.pages[a.url_path]
        assert ctype == "text/html" and b"charset=gb2312" in data
        text = data.decode("utf-8")  # really UTF-8
        assert a.title in text
        assert a.title not in data.decode("gb18030", errors="replace")
    ok = [a for a in arts if a.section in ("trs", "hanweb") and a.declared_charset == "utf-8"]
    assert ok and all(site.pages[a.url_path][1] == "text/html; charset=utf-8" for a in ok)


# ------------------------------------------------------------------ N articles, publish
def test_n_articles_site():
    big = DemoSite(120, seed=7)
    arts = big.expected_articles
    assert len(arts) == 120 and len({a.canonical_group for a in arts}) == 120
    assert len({a.title for a in arts}) == 120
    assert set(Counter(a.section for a in arts)) == {"trs", "hanweb", "portal"}
    syn = [set(a.paragraphs[1:-1]) for a in arts if a.canonical_group.startswith("syn")]
    worst = max(len(x & y) for i, x in enumerate(syn) for y in syn[i + 1:])
    assert worst <= 2, "synthetic stories must not be near-duplicates"
    lists = trs_list_paths(big)
    assert section_links(big, lists, "utf-8") >= {a.url_path for a in arts if a.section == "trs"}
    small = DemoSite(3)
    assert [a.canonical_group for a in small.expected_articles] == ["seed000", "seed001", "seed002"]


def test_publish_adds_newest_first():
    s = DemoSite()
    before = {p: v[2]["ETag"] for p, v in s.pages.items()}
    lm_before = s.pages[LIST_START["trs"]][2]["Last-Modified"]
    newest = max(a.published_at for a in s.expected_articles)
    added = s.publish(3)
    assert len(added) == 3 and {a.section for a in added} == {"trs", "hanweb", "portal"}
    assert all(a.published_at > newest for a in added)
    assert len(s.expected_articles) == 28
    for a in added:
        assert a.url_path in s.pages
        assert s.section_placements(a.section)[0].url_path == a.url_path
    trs_new = next(a for a in added if a.section == "trs")
    first_link = re.search(r'<ul class="list">\s*<li><a href="\./([^"]+)"',
                           s.pages[LIST_START["trs"]][0].decode("utf-8")).group(1)
    assert "/xwzx/zwyw/" + first_link == trs_new.url_path
    hw_new = next(a for a in added if a.section == "hanweb")
    assert hanweb_records(s.pages[LIST_START["hanweb"]][0].decode("utf-8"))[0] == hw_new.url_path
    pt_new = next(a for a in added if a.section == "portal")
    assert hrefs(s.pages["/news/index.html"][0], "/news/index.html", "gbk").index(pt_new.url_path) < \
        min(i for i, h in enumerate(hrefs(s.pages["/news/index.html"][0], "/news/index.html", "gbk"))
            if "/content_" in h and h != pt_new.url_path)
    for path in (LIST_START["trs"], LIST_START["hanweb"], LIST_START["portal"], "/", "/rss.xml"):
        assert s.pages[path][2]["ETag"] != before[path], path
    assert s.pages[LIST_START["trs"]][2]["Last-Modified"] != lm_before
    assert s.pages["/robots.txt"][2]["ETag"] == before["/robots.txt"]
    assert s.pages["/robots.txt"][2]["Last-Modified"] == DemoSite().pages["/robots.txt"][2]["Last-Modified"]


# ------------------------------------------------------------------ server
def fetch(url: str, headers: dict | None = None, method: str = "GET", data: bytes | None = None):
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_server_status_codes(capfd):
    s = DemoSite()
    with serve(s, port=0) as srv:
        assert srv.url == f"http://127.0.0.1:{srv.port}/"
        st, h, body = fetch(srv.url)
        assert st == 200 and body == s.pages["/"][0] and h["Content-Type"] == "text/html; charset=utf-8"
        path = LIST_START["trs"]
        st, h, _ = fetch(srv.url.rstrip("/") + path)
        etag, lm = h["ETag"], h["Last-Modified"]
        assert st == 200 and etag and lm
        assert fetch(srv.url.rstrip("/") + path, {"If-None-Match": etag})[0] == 304
        assert fetch(srv.url.rstrip("/") + path, {"If-Modified-Since": lm})[0] == 304
        assert fetch(srv.url.rstrip("/") + path, {"If-None-Match": '"stale"', "If-Modified-Since": lm})[0] == 200
        assert fetch(srv.url.rstrip("/") + path, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
        st, _, body = fetch(srv.url + "nope/missing.html")
        assert st == 404 and "404" in body.decode("utf-8")
        st, h, body = fetch(srv.url + "robots.txt")
        assert st == 200 and b"Disallow: /private/" in body
        st, h, body = fetch(srv.url + "xwzx/zwyw/", method="HEAD")
        assert st == 200 and body == b"" and int(h["Content-Length"]) == len(s.pages[path][0])
        st, h, body = fetch(srv.url + DATAPROXY.lstrip("/") + "?startrecord=3&endrecord=4&perpage=2",
                            method="POST", data=b"columnid=1234&unitid=5678")
        assert st == 200 and h["Content-Type"].startswith("text/xml") and len(hanweb_records(body.decode())) == 2
        st, _, body = fetch(srv.url + "rss.xml")
        assert f"http://127.0.0.1:{srv.port}/".encode() in body
        # the ETag changes when the list changes
        s.publish(2)
        st, h2, _ = fetch(srv.url.rstrip("/") + path, {"If-None-Match": etag})
        assert st == 200 and h2["ETag"] != etag
        assert fetch(srv.url.rstrip("/") + path, {"If-Modified-Since": lm})[0] == 200
        # a client that hangs up must not make noise
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.connect()
        conn.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        conn.close()
        methods_paths = [(m, p) for m, p, _ in srv.requests]
        assert ("GET", "/") in methods_paths and ("HEAD", "/xwzx/zwyw/") in methods_paths
        assert any(p.startswith(DATAPROXY) for _, p in methods_paths)
        assert all(isinstance(h, dict) for _, _, h in srv.requests)
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def test_server_faults_and_stop():
    with serve(DemoSite(3)) as srv:
        srv.faults["/news/index.html"] = 503
        assert fetch(srv.url + "news/index.html")[0] == 503
        assert fetch(srv.url + "news/index.html?x=1")[0] == 503
        assert fetch(srv.url + "robots.txt")[0] == 200
        del srv.faults["/news/index.html"]
        assert fetch(srv.url + "news/index.html")[0] == 200
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read()
        port = srv.port
    # a kept-alive connection gets no answer after stop()
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("GET", "/")
        conn.getresponse().read()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_server_refuses_non_loopback():
    with pytest.raises(NonLoopbackError):
        DemoServer(DemoSite(3), host="0.0.0.0")
    with pytest.raises(NonLoopbackError):
        DemoServer(DemoSite(3), host="192.168.1.10")


def test_write_site(tmp_path, site):
    written = write_site(site, tmp_path)
    assert (tmp_path / "index.html").read_bytes() == site.pages["/"][0]
    art = site.expected_articles[0]
    assert (tmp_path / art.url_path.lstrip("/")).read_bytes() == site.pages[art.url_path][0]
    assert len(written) == len(site.pages) - 1  # "/" and "/index.html" are one file


# ------------------------------------------------------------------ profile and command
def test_profiles():
    from crawler.profiles import SiteProfile, load_profile

    text = demo_profile_toml("http://127.0.0.1:9999/")
    prof = SiteProfile.from_dict(tomllib.loads(text))
    assert prof.name == "demo" and prof.allowed_domains == ["127.0.0.1"]
    assert prof.allow_private_hosts == ["127.0.0.1"] and prof.hints.download_delay == 0
    assert all(u.startswith("http://127.0.0.1:9999/") for u in prof.start_urls)
    assert prof.feeds == ["http://127.0.0.1:9999/rss.xml"]
    regex = re.compile(prof.hints.article_url_regex)
    s = DemoSite()
    assert all(regex.search(a.url_path) for a in s.expected_articles)
    assert not any(regex.search(p) for p in s.pages if p.endswith("index.html") or "list_" in p)
    shipped = load_profile(str(REPO / "sites" / "demo.toml"))
    assert shipped.start_urls[0] == "http://127.0.0.1:8765/"
    assert (REPO / "sites" / "demo.toml").read_text(encoding="utf-8") == demo_profile_toml()


def test_serve_demo_command():
    from click.testing import CliRunner

    from govnews.commands.serve_demo import serve_demo_cmd

    r = CliRunner().invoke(serve_demo_cmd, ["--help"])
    assert r.exit_code == 0 and "Examples:" in r.output and "govnews serve-demo --port" in r.output
    r = CliRunner().invoke(serve_demo_cmd, ["--host", "0.0.0.0", "--port", "0"])
    assert r.exit_code != 0 and "loopback" in r.output
