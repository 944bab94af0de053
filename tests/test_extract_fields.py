"""Issue-15 rules, one by one, with their negative cases: headline vs column/menu texts, labels in their own
element, rejected field values, bylines."""
from crawler.extract import extract
from crawler.extract.clean import byline_names, split_bylines
from crawler.extract.metadata import join_bare_labels, parse_labelled_line

URL = "http://www.example.gov.cn/xwzx/gzdt/202410/t20241024_1.html"
BODY = "".join(f"<p>{p}</p>" for p in (
    "10月24日，区政府召开常务会议，研究部署近期重点工作，会议听取了重点项目进展情况汇报。",
    "会议强调，要坚持稳中求进工作总基调，扎实做好各项工作，确保完成全年目标任务。"))


def page(head: str, body: str) -> bytes:
    return f"<html><head><meta charset=utf-8>{head}</head><body>{body}</body></html>".encode()


# --- headline -------------------------------------------------------------------------------------
def test_column_box_heading_is_never_the_headline():
    html = page("<title>区政府召开常务会议_工作动态_示范区政府</title>",
                '<div class="title"><h2>工作动态</h2></div><div class="title"><h2>区政府召开常务会议</h2></div>' + BODY)
    assert extract(html, URL).title == "区政府召开常务会议"


def test_menu_link_text_is_never_the_headline():
    html = page("<title>政务服务“一网通办”培训</title>",
                '<div class="nav"><a href="/zwfw/">政务服务</a><a href="/">首页</a></div>'
                '<p class="main-tit">双河镇开展政务服务“一网通办”培训</p>' + BODY)
    # <title> lacks the town; the menu item 政务服务 is fully inside <title> but is a menu link
    assert extract(html, URL).title == "双河镇开展政务服务“一网通办”培训"


def test_headline_that_contains_the_column_name_stays():
    html = page("<title>乡村振兴工作推进会召开_乡村振兴_示范区</title>",
                '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xczx/">乡村振兴</a></div>'
                '<div class="tit">乡村振兴</div><h1>乡村振兴工作推进会召开</h1>' + BODY)
    art = extract(html, URL)
    assert art.title == "乡村振兴工作推进会召开"


# --- labels -----------------------------------------------------------------------------------------
def test_label_in_its_own_element():
    html = page("<title>区政府召开常务会议</title>",
                "<h1>区政府召开常务会议</h1><div><small>來源:</small>高新院 achie.org <small>日期:</small>2024-10-24</div>"
                + BODY)
    art = extract(html, URL)
    assert art.source == "高新院 achie.org" and art.published_at.date().isoformat() == "2024-10-24"


def test_label_and_value_in_separate_cells():
    assert join_bare_labels(["来源：", "新华社", "【发布时间：】", "2024-10-24", "正文第一段。"]) == [
        "来源：新华社", "【发布时间：】2024-10-24", "正文第一段。"]
    # a next line that is itself labelled, or long, is not the value
    assert join_bare_labels(["来源：", "作者：张三"]) == ["来源：", "作者：张三"]
    assert join_bare_labels(["来源：", "这是一个很长的正文段落" * 5]) == ["来源：", "这是一个很长的正文段落" * 5]
    html = page("<title>区政府召开常务会议</title>",
                "<h1>区政府召开常务会议</h1><table><tr><td>来源：</td><td>区政府办公室</td><td>作者：</td><td>张三</td>"
                "</tr></table>" + BODY)
    art = extract(html, URL)
    assert (art.source, art.author) == ("区政府办公室", "张三")


def test_several_labels_on_one_line_both_colon_widths():
    fields, is_meta = parse_labelled_line("来源:区融媒体中心  作者：张三  责任编辑: 李四  发布日期：2024-10-24  浏览次数：56")
    assert is_meta and fields == {"source": "区融媒体中心", "author": "张三", "editor": "李四",
                                  "published": "2024-10-24", "clicks": "56"}


def test_content_source_repeating_the_title_is_rejected():
    html = page('<title>区政府召开常务会议</title><meta name="ContentSource" content="区政府召开常务会议">',
                "<h1>区政府召开常务会议</h1><p>来源：区政府办公室</p>" + BODY)
    assert extract(html, URL).source == "区政府办公室"
    html = page('<title>区政府召开常务会议</title><meta name="ContentSource" content="区政府召开常务会议">',
                "<h1>区政府召开常务会议</h1>" + BODY)
    assert extract(html, URL).source is None


def test_source_naming_the_page_url_or_a_label_word_is_rejected():
    html = page("<title>区政府召开常务会议</title>",
                f"<h1>区政府召开常务会议</h1><p>来源：{URL}  作者：作者</p>" + BODY)
    art = extract(html, URL)
    assert art.source is None and art.author is None
    html = page("<title>区政府召开常务会议</title>", "<h1>区政府召开常务会议</h1><p>来源：http://www.xinhuanet.com/</p>"
                + BODY)
    assert extract(html, URL).source == "http://www.xinhuanet.com"


# --- bylines ------------------------------------------------------------------------------------------
def test_byline_forms():
    assert byline_names("许兴国") == ["许兴国"]
    assert byline_names("【许兴国】") == ["许兴国"]
    assert byline_names("欧阳明月") == ["欧阳明月"]
    assert byline_names("记者 张三") == ["张三"]
    assert byline_names("通讯员 王五") == ["王五"]
    assert byline_names("文/图：李四") == ["李四"]
    assert byline_names("文图 周明") == ["周明"]
    assert byline_names("摄影 赵六") == ["赵六"]
    assert byline_names("本报讯（记者 张三 通讯员 李四）") == ["张三", "李四"]
    assert byline_names("记者 张三 通讯员 王五 赵六") == ["张三", "王五", "赵六"]


def test_not_bylines():
    for line in ("乡村振兴", "工作动态", "谢谢大家", "新华社", "一、总体要求", "我们一起努力",
                 "记者从市政府获悉，今年我市新增就业岗位。", "编辑 王五", "（责任编辑：谭鹏）"):
        assert byline_names(line) is None, line


def test_split_bylines_first_and_last():
    lines, names = split_bylines(["记者 张三", "正文第一段。", "正文第二段。", "文/图：李四"])
    assert lines == ["正文第一段。", "正文第二段。"] and names == ["张三", "李四"]
    # a one-line real paragraph is not a byline; a one-line body keeps its line
    assert split_bylines(["正文第一段。", "奋力谱写高质量发展新篇章。"]) == (["正文第一段。", "奋力谱写高质量发展新篇章。"], [])
    assert split_bylines(["许兴国"]) == (["许兴国"], [])


def test_byline_gives_the_author_and_leaves_the_body():
    html = page("<title>区政府召开常务会议</title>",
                '<h1>区政府召开常务会议</h1><div class="TRS_Editor"><p align="center">许兴国</p>' + BODY
                + "<p>（记者 范萌 通讯员 王五）</p></div>")
    art = extract(html, URL)
    assert art.author == "许兴国、范萌、王五"
    assert "许兴国" not in art.body and "范萌" not in art.body
    # a labelled author wins; the byline still leaves the body
    html = page("<title>区政府召开常务会议</title>", '<h1>区政府召开常务会议</h1><p>作者：张三</p>'
                '<div class="TRS_Editor"><p>记者 李四</p>' + BODY + "</div>")
    art = extract(html, URL)
    assert art.author == "张三" and "李四" not in art.body


def test_gloss_after_latin_letter_in_title_and_body():
    html = page("<title>I(mǎi)BM合作项目签约</title>", "<h1>I(mǎi)BM合作项目签约</h1><p>与I(mǎi)BM签约。"
                + "区政府召开常务会议，研究部署近期重点工作。" * 4 + "</p>")
    art = extract(html, URL)
    assert art.title == "IBM合作项目签约" and "mǎi" not in art.body and "与IBM签约" in art.body
