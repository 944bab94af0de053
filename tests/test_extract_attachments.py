"""find_attachments (crawler/extract/attachments.py): extensions, CMS download endpoints, names, furniture."""
from __future__ import annotations

from crawler.extract import extract
from crawler.extract.attachments import attachment_ext, find_attachments, is_attachment_url

PAGE = "http://www.ls.gov.cn/art/2023/11/15/art_1229_1.html"
HTML = """<html><head><base href="http://www.ls.gov.cn/art/2023/11/15/"></head><body>
<div class="nav"><a href="/guide.pdf">政府信息公开指南</a></div>
<div class="TRS_Editor"><p>现将《办法》印发给你们。</p>
<p>附件：<a href="/module/download/downfile.jsp?classid=0&amp;filename=2311151234567.pdf">1.丽水市城市管理办法.pdf</a></p>
<p><a href="../files/8a8a8a8a6b2c.docx">2.名单</a></p>
<p><a href="download.jsp?id=123" title="申报表.wps">下载</a></p>
<p><a href="/attachment.do?fid=99">汇总表.xlsx</a></p>
<p><a href="/x?fileName=%E8%A1%A8.xls">点击下载</a></p>
<p><a href="/P020231115.ofd#page=2">版式文件</a> <a href="/P020231115.ofd">again</a></p>
<p><a href="/news/2.html">另一条新闻</a> <a href="javascript:void(0)">x.pdf</a> <a href="mailto:a@b.cn">信箱.pdf</a></p>
<embed src="/files/viewer/abc.PDF"></div>
<div class="footer"><a href="/app.zip">客户端</a></div>
<div id="fujian" class="footer-attach"><a href="/att/list.csv">数据清单</a></div>
</body></html>"""


def test_find_attachments_whole_output():
    assert find_attachments(HTML, PAGE) == [
        {"url": "http://www.ls.gov.cn/module/download/downfile.jsp?classid=0&filename=2311151234567.pdf",
         "name": "1.丽水市城市管理办法.pdf"},
        {"url": "http://www.ls.gov.cn/art/2023/11/files/8a8a8a8a6b2c.docx", "name": "2.名单"},
        {"url": "http://www.ls.gov.cn/art/2023/11/15/download.jsp?id=123", "name": "申报表.wps"},
        {"url": "http://www.ls.gov.cn/attachment.do?fid=99", "name": "汇总表.xlsx"},
        {"url": "http://www.ls.gov.cn/x?fileName=%E8%A1%A8.xls", "name": "表.xls"},
        {"url": "http://www.ls.gov.cn/P020231115.ofd", "name": "版式文件"},
        {"url": "http://www.ls.gov.cn/files/viewer/abc.PDF", "name": "abc.PDF"},
        {"url": "http://www.ls.gov.cn/att/list.csv", "name": "数据清单"},
    ]


def test_extract_carries_attachments():
    art = extract(HTML.encode(), PAGE)
    assert [a["name"] for a in art.attachments][:2] == ["1.丽水市城市管理办法.pdf", "2.名单"]
    assert art.to_dict()["attachments"] == art.attachments


def test_no_attachments_key_when_none():
    art = extract(b"<html><body><div><p>" + "正文。".encode() * 50 + b"</p></div></body></html>", PAGE)
    assert art.attachments == [] and "attachments" not in art.to_dict()


def test_is_attachment_url():
    assert is_attachment_url("http://a.gov.cn/files/2c9a8b7d6e5f.pdf")
    assert is_attachment_url("http://a.gov.cn/module/download/downfile.jsp?filename=x.docx")
    assert is_attachment_url("http://a.gov.cn/download.jsp?id=5", "下载")
    assert is_attachment_url("http://a.gov.cn/common/attachment.do?fid=5", "表.xls")
    assert not is_attachment_url("http://a.gov.cn/art/1.html", "附件")
    assert not is_attachment_url("ftp://a.gov.cn/x.pdf")
    assert not is_attachment_url("http://a.gov.cn/pdf/index.html")


def test_attachment_ext():
    assert attachment_ext("http://a/x/P0202.PDF") == "pdf"
    assert attachment_ext("http://a/downfile.jsp?filename=a.xlsx") == "xlsx"
    assert attachment_ext("http://a/download.jsp?id=1", "通知.docx") == "docx"
    assert attachment_ext("http://a/download.jsp?id=1", "通知") is None


def test_malformed_bracketed_hosts_are_skipped_not_raised():
    """``http://[bad/`` makes urllib raise ValueError; such links are no attachments, and the page
    still extracts (found by the hypothesis test over mutated corpus pages)."""
    from crawler.extract import extract_page

    page = ('<html><body><div class="TRS_Editor"><p>' + "正文内容" * 40 + '</p><img src="http://[x/a.png">'
            '<a href="http://[abc/f.pdf">附件1.pdf</a><a href="http://a[b]/g.pdf">附件2.pdf</a>'
            '<a href="/files/ok.pdf">附件3.pdf</a></div></body></html>').encode()
    outcome, _reason, art = extract_page(page, "http://www.example.gov.cn/art/2024/1/1/art_1_1.html",
                                         status=200, content_type="text/html")
    assert outcome == "article"
    assert [a["url"] for a in art.attachments] == ["http://www.example.gov.cn/files/ok.pdf"]


# links that look like no attachment but resolve to one, and plain links; the prefilter that skips urljoin
# for most links must give the same answer as resolving every link
TRICKY_HREFS = ["a.html", "down\\load/1", "do\twnload/1", "fu%6Aian/x", "%2Epdf", "x.PDF", "/a/b/../c.doc",
                "download", "getfile.aspx", "?filename=a.pdf", ";x", "//other.cn/a.xls", "http://o.cn/",
                "news/2.html", "../attach/", "javascript:x.pdf", "  /files/a.zip  ", "/x/y.html#a.pdf"]


def test_prefilter_is_exact(monkeypatch):
    from crawler.extract import attachments
    links = "".join(f'<a href="{h}">附件{i}</a>' for i, h in enumerate(TRICKY_HREFS))
    html = f"<html><body><div class='content'>{links}</div></body></html>"
    for base in ("http://www.a.gov.cn/art/2024/1/2/art_1.html", "http://www.a.gov.cn/download/list.html",
                 "http://www.a.gov.cn/x/file.pdf", None):
        filtered = find_attachments(html, base)
        monkeypatch.setattr(attachments, "_may_be_attachment", lambda href: True)
        unfiltered = find_attachments(html, base)
        monkeypatch.undo()
        assert filtered == unfiltered, base
    assert len(find_attachments(html, "http://www.a.gov.cn/art/1.html")) >= 6
