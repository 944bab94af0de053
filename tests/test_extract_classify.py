from crawler.extract.classify import classify_page
from tests.support.shared import require_shared

LONG = "区政府召开常务会议，研究部署近期重点工作。会议强调，要坚持稳中求进工作总基调，扎实做好各项工作。" * 4
WAF = (b'<html><body><br><br><br><script></script><script>window.location="/?adfwkey=mqo82";</script>'
       b'<br><br><br><center><h3><a href="/?adfwkey=mqo82"><p>\xc8\xe7\xb9\xfb</p></a></h3></center></body></html>')


def test_empty():
    assert classify_page(b"", "http://a.cn/", 200, "text/html")[0] == "empty"


def test_waf_challenge_blocked():
    assert len(WAF) < 300
    assert classify_page(WAF, "http://a.cn/", 200, "text/html")[0] == "blocked"


def test_binary_served_as_html():
    assert classify_page(b"%PDF-1.7\n...", None, 200, "text/html") == ("binary", "pdf")
    assert classify_page(b"\x00\x01\x02\x03" * 100, None, 200, "text/html")[0] == "binary"


def test_article_list_soft404():
    art = f"<html><body><h1>标题</h1><p>{LONG}</p></body></html>".encode()
    assert classify_page(art) == ("article", None)
    items = "".join(f'<li><a href="/t2024_{i}.html">区政府召开第{i}次常务会议</a></li>' for i in range(30))
    assert classify_page(f"<html><body><ul>{items}</ul></body></html>".encode())[0] == "list"
    assert classify_page("<html><title>404</title><body>页面不存在</body></html>".encode())[0] == "soft404"
    assert classify_page(art, status=404)[0] == "soft404"
    assert classify_page(b"<html><body><p>hello</p></body></html>")[0] == "not_article"


def test_bjjs_snapshots():
    SNAPSHOTS = require_shared() / "corpus" / "raw" / "bjjs_snapshots" / "data"
    assert classify_page((SNAPSHOTS / "20190524.html").read_bytes())[0] == "blocked"
    assert classify_page((SNAPSHOTS / "20190813.html").read_bytes())[0] == "empty"


def test_extract_page_matches_classify_then_extract():
    """The crawl's one-parse path gives what the two public functions give separately."""
    from pathlib import Path

    from crawler.extract import extract, extract_page

    pages = sorted((Path(__file__).parent / "fixtures" / "extract").glob("*.html"))
    pages += [None]
    for path in pages:
        data = path.read_bytes() if path else WAF
        url = "http://127.0.0.1/x/t20241024_1.html"
        outcome, reason, art = extract_page(data, url)
        assert (outcome, reason) == classify_page(data, url), path
        if outcome == "article":
            assert art.to_dict() == extract(data, url).to_dict(), path
        else:
            assert art is None


def test_a_not_found_page_reached_through_an_article_link_is_still_a_soft_404():
    from crawler.extract.classify import classify_page

    page = ("<html><head><title>页面不存在</title></head><body><div class='err'><p>对不起，您访问的页面不存在"
            "或已被删除。</p><a href='/'>返回首页</a></div></body></html>").encode()
    assert classify_page(page, "http://a.gov.cn/a/1.html", 200, "text/html", expect_article=True)[0] == "soft404"
    notice = ("<html><head><title>关于清理过期公告的通知</title></head><body><p>根据工作安排，2023年以前的过期公告"
              "已被删除，如需查询请联系县政府办公室，电话0816-1234567。特此通知。</p></body></html>").encode()
    assert classify_page(notice, "http://a.gov.cn/a/2.html", 200, "text/html", expect_article=True)[0] == "article"
