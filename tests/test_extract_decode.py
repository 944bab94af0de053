import pytest

from crawler.extract.decode import cleaneval_wrapper, decode_html, normalize_charset, sniff_meta_charset

TEXT = "<html><head>{meta}<title>区政府新闻</title></head><body><p>發布時間 綿陽日報 科技城新区建设</p></body></html>"


def page(meta=""):
    return TEXT.format(meta=meta)


def test_gbk_without_declaration():
    data = page().encode("gbk")
    text, codec = decode_html(data)
    assert "綿陽日報 科技城新区" in text and codec == "gb18030"


def test_gbk_declared_in_meta_and_header():
    data = page('<meta charset="gbk">').encode("gbk")
    assert "区政府新闻" in decode_html(data)[0]
    assert decode_html(data, "GBK") == decode_html(data)


def test_gb2312_declared_decodes_as_gb18030_superset():
    data = page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gb18030")
    # 綿 is outside GB2312: a strict gb2312 decoder fails on it
    text, codec = decode_html(data)
    assert codec == "gb18030" and "綿陽" in text
    assert normalize_charset("GB2312") == "gb18030"


def test_utf8_mislabelled_gb2312():
    data = page('<meta charset="gb2312">').encode("utf-8")
    text, codec = decode_html(data)
    assert codec == "utf-8" and "區" not in text and "区政府新闻" in text


def test_http_header_wrong_falls_back():
    data = page().encode("utf-8")
    assert decode_html(data, "gbk")[1] == "utf-8"


def test_invalid_sequence_mid_page_replaced_not_crash():
    good = page('<meta charset="gbk">').encode("gbk")
    data = good[:60] + b"\xff\xfe" + good[60:]
    text, codec = decode_html(data)
    assert codec == "gb18030" and "\ufffd" in text and "科技城新区" in text


def test_cleaneval_wrapper_tolerated():
    data = b'<text id="http://a.cn/x.html" title="t" encoding="gb2312">\n' + page().encode("gbk")
    assert cleaneval_wrapper(data) == ("http://a.cn/x.html", "gb18030")
    assert "科技城新区" in decode_html(data)[0]


def test_empty_and_ascii():
    assert decode_html(b"") == ("", "utf-8")
    assert decode_html(b"<p>hi</p>") == ("<p>hi</p>", "ascii")


def test_sniff_meta():
    assert sniff_meta_charset(b'<meta content="text/html; charset=GBK" http-equiv="Content-Type">') == "gb18030"
    assert sniff_meta_charset(b"<p>none</p>") is None


UTF8_ARTICLE = ("<html><head><meta charset=\"utf-8\"><title>示范县召开全县安全生产工作会议</title></head><body>"
                + "<p>会议要求，各乡镇、各部门要切实提高政治站位，压紧压实安全生产责任。</p>" * 20 + "</body></html>")


def test_a_few_invalid_bytes_mid_page_keep_utf8():
    data = UTF8_ARTICLE.encode("utf-8")
    mid = data.index("压实".encode()) + 1                      # inside a character, and a stray byte
    broken = data[:mid] + b"\xff" + data[mid + 2:] + b"\xc3("
    text, codec = decode_html(broken)
    assert codec == "utf-8" and "示范县召开全县安全生产工作会议" in text
    assert 1 <= text.count("\ufffd") <= 4
    assert decode_html(broken, "gbk")[1] == "utf-8"           # a wrong gbk label does not win either


def test_utf8_with_many_invalid_bytes_is_not_forced_to_utf8():
    good = UTF8_ARTICLE.encode("utf-8")
    noisy = b"".join(good[i:i + 20] + b"\xff" for i in range(0, len(good), 20))   # ~5 % invalid bytes
    assert decode_html(noisy)[1] != "utf-8"


def test_gbk_pages_are_never_taken_for_almost_utf8():
    for meta in ("", '<meta charset="gbk">'):
        data = (UTF8_ARTICLE.replace('<meta charset="utf-8">', meta)).encode("gbk")
        text, codec = decode_html(data)
        assert codec == "gb18030" and "安全生产工作会议" in text
    short = "<p>区政府新闻</p>".encode("gbk")                  # too little text to call it UTF-8
    assert decode_html(short)[1] != "utf-8"


@pytest.mark.parametrize("value,expected", [
    ("text/html; charset=GBK", "GBK"), (b"text/html;charset=\"utf-8\"", "utf-8"), ("text/html", None), (None, None),
])
def test_content_type_charset(value, expected):
    from crawler.extract.decode import content_type_charset
    assert content_type_charset(value) == expected
