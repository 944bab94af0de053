"""Challenge / WAF pages -> ``blocked`` with the vendor as reason; short notices -> ``article``.

Fixtures under ``tests/fixtures/challenge/`` are modelled on each vendor's page as served to a client
without JavaScript (markup shape, cookie and script names; tokens randomised).
"""
from pathlib import Path

import pytest

from crawler.challenge import challenge_reason
from crawler.extract import extract, extract_page
from crawler.extract.classify import article_signal, challenge_vendor, classify_page
from crawler.extract.html import parse_html

FIXTURES = Path(__file__).parent / "fixtures" / "challenge"
#: fixture -> (HTTP status the vendor answers with, vendor)
CASES = {
    "ruishu_412": (412, "ruishu"),
    "ruishu_token_only_412": (412, "ruishu"),
    "jiasule_521": (521, "jiasule"),
    "jiasule_stage2": (521, "jiasule"),
    "safedog_block": (200, "safedog"),
    "safedog_cc": (200, "safedog"),
    "yunsuo": (200, "yunsuo"),
    "chuangyudun": (468, "chuangyudun"),
    "aliyun_waf": (200, "aliyun-waf"),
    "wzws": (200, "wzws"),
}
URL = "http://www.example.gov.cn/xwzx/202410/t20241024_1.html"
LONG = "区政府召开常务会议，研究部署近期重点工作。会议强调，要坚持稳中求进工作总基调，扎实做好各项工作。" * 4


def test_every_fixture_has_a_case():
    assert sorted(p.stem for p in FIXTURES.glob("*.html")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vendor_blocked(name):
    status, vendor = CASES[name]
    data = (FIXTURES / f"{name}.html").read_bytes()
    outcome, reason = classify_page(data, URL, status, "text/html")
    assert outcome == "blocked" and reason.startswith(f"challenge: {vendor}"), reason
    got = extract_page(data, URL, status=status, expect_article=True)
    assert got[:2] == (outcome, reason) and got[2] is None     # an article link does not make it an article
    # the spider's check on list pages uses the same classification
    assert challenge_reason(data, URL, status, "text/html") == f"blocked: {reason}"


def test_ruishu_200_with_ts_still_blocked():
    data = (FIXTURES / "ruishu_412.html").read_bytes()
    assert classify_page(data, URL, 200)[1] == "challenge: ruishu"


def test_ruishu_token_needs_the_412():
    """A long opaque <meta> token alone (verification codes, CSP nonces) is no challenge at 200."""
    data = (FIXTURES / "ruishu_token_only_412.html").read_bytes()
    assert challenge_vendor(data.decode(), 200) is None
    assert classify_page(data, URL, 200)[0] != "blocked"


def test_article_about_web_security_is_not_blocked():
    body = ("<h1>我区开展网络安全宣传周活动</h1><p>活动现场，技术人员介绍了安全狗、云锁等网站防护软件的使用方法，"
            + LONG + "</p>")
    data = f"<html><head><meta charset=utf-8></head><body>{body}</body></html>".encode()
    assert classify_page(data, URL) == ("article", None)


def test_short_notice_with_mobile_redirect_script_is_not_blocked():
    data = ('<html><head><meta charset=utf-8><meta name="ArticleTitle" content="关于端午节放假的通知">'
            '<script>if(/Mobile/.test(navigator.userAgent)){window.location.href="http://m.example.gov.cn/?id=1";}'
            '</script>' + "<!-- " + "x" * 4000 + " -->"
            '</head><body><h1>关于端午节放假的通知</h1><p>端午节放假一天，请各单位做好值班安排。</p></body></html>')
    assert classify_page(data.encode(), URL)[0] == "article"


# --- article signals ---------------------------------------------------------------------------------
NOTICE_META = ('<html><head><meta charset=utf-8><meta name="ArticleTitle" content="关于召开2024年度工作会议的通知">'
               '<meta name="PubDate" content="2024-10-24 09:03"><meta name="ContentSource" content="区政府办公室">'
               '</head><body><div class="nav">' + "".join(f'<a href="/c{i}/">栏目{i}</a>' for i in range(20))
               + '</div><h1>关于召开2024年度工作会议的通知</h1><p>各单位：定于10月28日召开年度工作会议。</p>'
               '<p>附件：<a href="/u/cms/2024/1024.docx">会议议程.docx</a></p></body></html>')
NOTICE_CONTAINER = ('<html><head><meta charset=utf-8><title>停水通知_城区水务局</title></head><body>'
                    '<div class="TRS_Editor"><p>因管道维修，10月25日城区部分地段停水。</p></div></body></html>')
NEWS_ZJEG = ('<html><head><meta charset=utf-8><title>我县举行植树活动</title></head><body>'
             '<!--ZJEG_RSS.content.begin--><p>3月12日，县四套班子领导与干部群众一起参加义务植树活动。</p>'
             '<!--ZJEG_RSS.content.end--></body></html>')
BARE_SHORT = ('<html><head><meta charset=utf-8><title>停电公告</title></head><body><h1>停电公告</h1>'
              '<p>10月26日8:00至18:00，城东片区计划停电。</p></body></html>')


@pytest.mark.parametrize("html,signal", [(NOTICE_META, "meta:articletitle"),
                                         (NOTICE_CONTAINER, "container:TRS_Editor"),
                                         (NEWS_ZJEG, "container:ZJEG_RSS")])
def test_short_pages_with_signals_are_articles(html, signal):
    data = html.encode()
    assert article_signal(parse_html(html), html) == signal
    outcome, reason, art = extract_page(data, URL)
    assert (outcome, reason) == ("article", None)
    assert art.body and len(art.body) < 100


def test_short_notice_fields():
    art = extract(NOTICE_META.encode(), URL)
    assert art.title == "关于召开2024年度工作会议的通知"
    assert art.source == "区政府办公室"
    assert art.published_at.isoformat() == "2024-10-24T09:03:00+08:00"
    assert "各单位：定于10月28日召开年度工作会议。" in art.body


def test_short_page_without_signal():
    data = BARE_SHORT.encode()
    assert extract_page(data, URL)[:2] == ("not_article", "little text")
    outcome, reason, art = extract_page(data, URL, expect_article=True)
    assert (outcome, reason) == ("article", None) and "城东片区计划停电" in art.body
    assert classify_page(data, URL, expect_article=True) == ("article", None)


def test_expect_article_keeps_errors_and_not_found():
    data = BARE_SHORT.encode()
    assert extract_page(data, URL, status=404, expect_article=True)[0] == "soft404"
    assert extract_page(data, URL, status=500, expect_article=True)[0] == "not_article"
    assert extract_page(b"<html><body></body></html>", URL, expect_article=True)[0] == "not_article"


def test_list_page_stays_list_without_flag():
    items = "".join(f'<li><a href="/t2024_{i}.html">区政府召开第{i}次常务会议</a></li>' for i in range(30))
    data = f"<html><body><ul>{items}</ul></body></html>".encode()
    assert classify_page(data)[0] == "list"
