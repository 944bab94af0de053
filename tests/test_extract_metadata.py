from crawler.extract.html import parse_html
from crawler.extract.metadata import (
    credit_author,
    headline_candidates,
    html_title,
    meta_field,
    meta_tags,
    parse_labelled_line,
    strip_site_name,
    strip_site_suffix,
)

HTML = """<html><head><title>区政府召开常务会议_某某区人民政府</title>
<meta name="ArticleTitle" content="区政府召开常务会议"><meta name="PubDate" content="2024-10-24 09:03">
<meta name="ContentSource" content="某某日报"><meta name="ColumnName" content="政务要闻">
<meta name="SiteName" content="某某区人民政府"><meta name="Author" content="张三">
<meta name="Keywords" content="常务会议"><meta name="Description" content="会议研究了工作。">
<meta property="og:title" content="区政府召开常务会议"></head>
<body><div class="TRS_Title">区政府召开常务会议</div><h1>区政府召开常务会议</h1></body></html>"""


def test_gov_meta_tags():
    meta = meta_tags(parse_html(HTML))
    assert meta["articletitle"] == "区政府召开常务会议" and meta["pubdate"] == "2024-10-24 09:03"
    assert meta_field(meta, "source") == "某某日报"
    assert meta_field(meta, "column") == "政务要闻"
    assert meta_field(meta, "site_name") == "某某区人民政府"
    assert meta_field(meta, "author") == "张三"
    assert meta_field(meta, "keywords") == "常务会议"
    assert meta_field(meta, "summary") == "会议研究了工作。"


def test_titles():
    tree = parse_html(HTML)
    assert html_title(tree) == "区政府召开常务会议_某某区人民政府"
    assert strip_site_suffix("区政府召开常务会议_某某区人民政府") == "区政府召开常务会议"
    assert strip_site_suffix("武汉的声音 - 新华网") == "武汉的声音"
    assert strip_site_suffix("标题内容很长的一条新闻|某网") == "标题内容很长的一条新闻"
    assert strip_site_name("武汉的声音：有英勇的你！-新华网") == "武汉的声音：有英勇的你！"
    assert strip_site_name("2024-2025年度工作要点") == "2024-2025年度工作要点"
    assert headline_candidates(tree)[0] == "区政府召开常务会议"


def test_labelled_line_fields():
    fields, meta = parse_labelled_line("发稿时间:2021-10-29 09:19   来源: 綿陽日報")
    assert meta and fields == {"published": "2021-10-29 09:19", "source": "綿陽日報"}
    fields, meta = parse_labelled_line("来源：高新院 日期：2021-10-09 点击：次 【大 中 小】【打印】【关闭】")
    assert meta and fields["source"] == "高新院" and fields["published"] == "2021-10-09"
    assert parse_labelled_line("责任编辑：李四") == ({"editor": "李四"}, True)
    assert parse_labelled_line("作者：王五")[0] == {"author": "王五"}
    assert parse_labelled_line("原标题：工作大走访 思想大解放")[0]["original_title"] == "工作大走访 思想大解放"


def test_body_text_is_not_metadata():
    assert parse_labelled_line("记者：近日，我们来到了这里，看到了很多事情。") == ({}, False)
    assert parse_labelled_line("会议指出，要把时间用在刀刃上。")[1] is False


def test_credit_author():
    assert credit_author("(綿陽日報社融媒體記者 范萌)") == "范萌"
    assert credit_author("（记者 王建宏、张文攀）") == "王建宏、张文攀"
    assert credit_author("记者在现场看到，工地一片繁忙。") is None
