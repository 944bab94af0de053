"""hostile_signs: what an attacker injects into a hacked government page (pure function)."""
from crawler.challenge import challenge_reason
from crawler.hostile import hostile_signs, site_domain

URL = "http://www.xindu.gov.cn/xwzx/t20240101_1.html"


def page(extra_head="", extra_body=""):
    return (f"<html><head><meta charset='utf-8'>{extra_head}</head><body><h1>通知</h1>"
            f"<p>正文内容。</p>{extra_body}</body></html>")


def test_a_clean_page_has_no_signs():
    assert hostile_signs(page(extra_body='<a href="/xwzx/index.html">更多</a>'), URL) == []
    assert hostile_signs(b"", URL) == [] and hostile_signs("   ", URL) == []


def test_hidden_spam_and_offsite_links():
    spam = '<div style="display:none"><a href="http://bet.example.com/">澳门娱乐城</a></div>'
    assert hostile_signs(page(extra_body=spam), URL) == ["hidden_links:1"]
    offsite = "".join(f'<a href="http://x{i}.example.org/">link</a>' for i in range(3))
    css = "<style>.hd{position:absolute;left:-9999px}</style>"
    assert hostile_signs(page(css, f'<span class="hd">{offsite}</span>'), URL) == ["hidden_links:3"]
    same_site = '<div hidden><a href="http://zwgk.xindu.gov.cn/a.html">政务公开</a></div>'
    assert hostile_signs(page(extra_body=same_site), URL) == []      # hidden, but the site's own link


def test_cloaking_obfuscated_scripts_iframes_and_meta_refresh():
    cloak = ("<script>var ua=navigator.userAgent.toLowerCase();if(ua.indexOf('baiduspider')>-1)"
             "{document.write('<a href=http://bet.example.com>x</a>')}</script>")
    assert "cloaking_script" in hostile_signs(page(extra_body=cloak), URL)
    packed = "<script>eval(function(p,a,c,k,e,d){return p}('x',1,1,'x'.split('|'),0,{}))</script>"
    assert hostile_signs(page(extra_body=packed), URL) == ["obfuscated_script"]
    frame = '<iframe src="http://evil.example.net/" width="0" height="0"></iframe>'
    assert hostile_signs(page(extra_body=frame), URL) == ["hidden_iframe"]
    refresh = '<meta http-equiv="refresh" content="0;url=http://evil.example.net/">'
    assert hostile_signs(page(refresh), URL) == ["meta_refresh_offsite"]
    own = '<meta http-equiv="refresh" content="5;url=/index.html">'
    assert hostile_signs(page(own), URL) == []


def test_bytes_are_decoded_with_the_given_charset():
    spam = '<div style="display:none"><a href="http://bet.example.com/">澳门赌场</a></div>'
    data = page(extra_body=spam).replace("utf-8", "gbk").encode("gbk")
    assert hostile_signs(data, URL, "gbk") == ["hidden_links:1"]


def test_site_domain():
    assert site_domain("www.xindu.gov.cn") == "xindu.gov.cn"
    assert site_domain("news.example.com") == "example.com"
    assert site_domain("127.0.0.1") == "0.1"          # literal hosts: every other host is off-site anyway


def test_challenge_reason():
    waf = b"<html><script>var adfwkey='x';document.cookie='adfwkey=1';location.reload()</script></html>"
    assert (challenge_reason(waf, URL, 200, "text/html") or "").startswith("blocked")
    assert challenge_reason(b"", URL, 200, "text/html").startswith("empty")
    assert challenge_reason(page().encode(), URL, 200, "text/html; charset=utf-8") is None
