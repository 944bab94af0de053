"""``crawler.extract.html.parse_html``: the one place decoded HTML becomes an lxml tree."""
import lxml.html
import pytest

from crawler.discovery import links
from crawler.extract.html import parse_html

PAGE = "<html><head><title>标题</title></head><body><p>中文正文</p><a href='/a.html'>链接</a></body></html>"


def body_text(tree):
    return tree.find("body").text_content()


def test_plain_page_is_an_html_element():
    tree = parse_html(PAGE)
    assert isinstance(tree, lxml.html.HtmlElement) and body_text(tree) == "中文正文链接"


@pytest.mark.parametrize("decl", ['<?xml version="1.0" encoding="gb2312"?>', "<?xml version='1.0' encoding='utf-8'?>\n",
                                  '\ufeff<?xml version="1.0" encoding="GBK" standalone="yes"?>'])
def test_xml_declaration_with_encoding(decl):
    # lxml refuses str input declaring an encoding (ValueError); the text is decoded already
    with pytest.raises(ValueError):
        lxml.html.document_fromstring(decl.lstrip("\ufeff") + PAGE)
    assert body_text(parse_html(decl + PAGE)) == "中文正文链接"


@pytest.mark.parametrize("text", ["", "   \n\t", "<!-- only a comment -->", "<!DOCTYPE html>"])
def test_empty_documents_give_none(text):
    assert parse_html(text) is None


def test_garbage_never_raises():
    for text in ["\x00\x00", "<<<>>>", "</body></html>", "<html", "\ud800 lone surrogate"]:
        tree = parse_html(text)
        assert tree is None or isinstance(tree, lxml.html.HtmlElement)


def test_doctype_after_scripts_keeps_the_body():
    html = "<script>var a=1;</script>\n<!DOCTYPE HTML PUBLIC -//W3C//DTD HTML 4.01//EN>\n" + PAGE
    assert "中文正文" in body_text(parse_html(html))


def test_discovery_uses_the_same_helper():
    assert links.parse_html is parse_html
    xhtml = '<?xml version="1.0" encoding="gb2312"?>' + PAGE
    assert [(lk.url, lk.text) for lk in links.extract_links(xhtml, "http://a.gov.cn/x/")] == \
        [("http://a.gov.cn/a.html", "链接")]
