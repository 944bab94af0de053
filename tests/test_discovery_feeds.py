from crawler.discovery.feeds import parse_feed, parse_sitemap

RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>\xe6\x96\xb0\xe9\x97\xbb\xe4\xb8\x80</title><link>http://a.cn/art/2024/10/24/art_1_2.html</link></item>
<item><title>two</title><link>/news/2024-10/23/content_9.htm</link></item></channel></rss>"""
ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>a</title>
<link href="http://a.cn/x/t20241024_1.html"/></entry></feed>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&x;</title><link>http://a.cn/1.html</link></item></channel></rss>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><rss><channel><item><title>&lol3;</title>
<link>http://a.cn/1.html</link></item></channel></rss>"""


def test_rss_links_resolved_in_order():
    links = parse_feed(RSS, "http://a.cn/rss.xml")
    assert [l.url for l in links] == ["http://a.cn/art/2024/10/24/art_1_2.html",
                                      "http://a.cn/news/2024-10/23/content_9.htm"]
    assert links[0].text == "新闻一"


def test_atom():
    assert [l.url for l in parse_feed(ATOM, "http://a.cn/")] == ["http://a.cn/x/t20241024_1.html"]


def test_entities_are_never_expanded():
    assert parse_feed(XXE, "http://a.cn/") == []
    assert parse_feed(LAUGHS, "http://a.cn/") == []


def test_garbage_is_not_a_feed():
    assert parse_feed(b"", "http://a.cn/") == []
    assert parse_feed(b"<html><body>not xml", "http://a.cn/") == []


def test_sitemap():
    xml = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.cn/a/t20240101_1.html</loc>'
           b'</url><url><loc> /b.html </loc></url></urlset>')
    assert parse_sitemap(xml, "http://a.cn/sitemap.xml") == ["http://a.cn/a/t20240101_1.html", "http://a.cn/b.html"]
