from crawler.extract import extract
from crawler.extract.body import extract_body_lines, find_container, text_lines
from crawler.extract.html import parse_html

PARA = "科技城新区直管区深入实施工作大走访、思想大解放、作风大转变、能力大提升、效率大提高五大活动，交出一份出色成绩单。"


def page(inner, head=""):
    return f"""<html><head>{head}<title>标题_某某区人民政府</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/a">政务公开</a><a href="/b">办事服务</a></div>
{inner}
<div class="footer">版权所有：某某区人民政府 ICP备案</div></body></html>"""


def test_trs_editor_container():
    html = page(f'<div class="main"><div class="TRS_Editor"><p>{PARA}</p><p>第二段{PARA}</p></div></div>')
    tree = parse_html(html)
    el, name = find_container(tree, html)
    assert name == "TRS_Editor"
    lines, method = extract_body_lines(tree, el)
    assert lines[0] == PARA and method.endswith(("container", "container-text"))


def test_hanweb_zoom_and_ucap():
    for attr, name in (('id="zoom"', "#zoom"), ('id="UCAP-CONTENT"', "#UCAP-CONTENT")):
        html = page(f"<div {attr}><p>{PARA}</p></div>")
        assert find_container(parse_html(html), html)[1] == name


def test_zjeg_markers():
    html = page(f"<div><!--ZJEG_RSS.content.begin--><p>{PARA}</p><!--ZJEG_RSS.content.end--></div>"
                f"<div><p>不是正文的很长很长的一段推荐内容{PARA}</p></div>")
    el, name = find_container(parse_html(html), html)
    assert name == "ZJEG_RSS" and "推荐" not in "".join(el.itertext())


def test_profile_body_selector_wins():
    html = page(f'<div class="TRS_Editor"><p>{PARA}</p></div><div class="my-body"><p>自定义{PARA}</p></div>')
    el, name = find_container(parse_html(html), html, "div.my-body")
    assert name == "div.my-body" and "自定义" in "".join(el.itertext())


def test_empty_container_not_trusted():
    html = page(f'<div class="TRS_Editor"></div><article><p>{PARA}</p><p>{PARA}再一段</p></article>')
    assert find_container(parse_html(html), html) == (None, None)


def test_whole_page_fallback_and_images():
    art = extract(page(f'<article><p>{PARA}</p><p>{PARA}又一段</p></article>').encode(), "http://a.gov.cn/x/y.html")
    assert art.flags["container"] is None and PARA in art.body
    html = page(f'<div class="TRS_Editor"><p><img src="../img/a.jpg" alt="图说"></p><p>{PARA}</p></div>')
    art = extract(html.encode(), "http://a.gov.cn/x/y/z.html")
    assert [(i.url, i.caption) for i in art.images] == [("http://a.gov.cn/x/img/a.jpg", "图说")]


def test_text_lines_skip_scripts_and_split_blocks():
    tree = parse_html("<html><body><p>一<b>二</b></p><script>var x='不要';</script><div>三</div>四<br>五</body></html>")
    assert text_lines(tree) == ["一二", "三", "四", "五"]


def test_scripts_before_html_keep_body():
    html = "<script>var a=1;</script>\n<!DOCTYPE HTML PUBLIC -//W3C//DTD HTML 4.01//EN>\n" + page(f"<p>{PARA}</p>")
    tree = parse_html(html)
    assert tree.find("body") is not None and PARA in " ".join(text_lines(tree))


def test_page_walk_lines_are_text_lines_and_stats_per_block():
    from pathlib import Path

    from crawler.extract.body import page_walk
    from crawler.extract.decode import decode_html
    for f in sorted(Path(__file__).parent.joinpath("fixtures", "extract").glob("*.html")):
        tree = parse_html(decode_html(f.read_bytes())[0])
        body = tree.find("body")
        assert page_walk(body)[0] == text_lines(body), f.name
    tree = parse_html("<html><body><div id='a'>一，二。<a href='/x'>链接文字</a><span>三！</span>"
                      "<script>var x = '，，，';</script><p>四、五<br>六</p></div></body></html>")
    lines, stats = page_walk(tree.find("body"))
    assert lines == ["一，二。链接文字三！", "四、五", "六"]
    by_tag = {el.get("id") or el.tag: v for el, v in stats.items()}
    # [chars, link chars, sentence punctuation]: the link's text counts as linked, the script's not at all,
    # the <p> (its <br> is no block holder) holds its own text
    assert by_tag == {"a": [10, 4, 3], "p": [4, 0, 1]}


def test_confident_density_block_skips_trafilatura(monkeypatch):
    from crawler.extract import body as body_mod
    from crawler.extract.body import density_choice
    article = "".join(f"<p>{PARA}</p>" for _ in range(4))
    html = page(f"<div class='article'>{article}</div><div class='links'><a href='/1'>其他新闻一</a></div>")
    tree = parse_html(html)
    monkeypatch.setattr(body_mod, "run_trafilatura", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    lines, method = extract_body_lines(tree, None)
    assert method == "density-text" and lines == [PARA] * 4
    # two blocks of prose of the same weight (a page of two stories): the best holds half the page's
    # sentence punctuation, no confident block, trafilatura runs (fast)
    tree = parse_html(page(f"<div class='one'><p>{PARA}</p><p>{PARA}</p></div><hr>"
                           f"<section><div class='two'><p>{PARA}</p><p>{PARA}</p></div></section>"))
    calls = []
    monkeypatch.setattr(body_mod, "run_trafilatura", lambda *a, **k: calls.append(k) or [PARA])
    block, confident = density_choice(tree.find("body"))
    assert not confident
    extract_body_lines(tree, None)
    assert calls and calls[0].get("fast") is True


def test_recommended_story_leaves_trafilatura_page_output(monkeypatch):
    from crawler.extract import body as body_mod
    other = "另一篇推荐文章的段落，讲的是别的事情，与本文无关。"
    html = page(f"<section><div class='detail'><h1>标题</h1><p>{PARA}</p><p>{PARA}</p></div></section>"
                f"<section><div class='detail__recommend'><h1>推荐标题</h1><p>{other}</p><p>第二段{other}</p>"
                f"</div></section><section><div class='box'><p>{PARA}</p><p>{PARA}{PARA}</p></div></section>")
    tree = parse_html(html)
    # the page has no confident block (two paragraphs of prose apart): trafilatura's page text is used,
    # without the lines of the recommended-article block
    monkeypatch.setattr(body_mod, "run_trafilatura",
                        lambda *a, **k: [PARA, PARA, "推荐标题", other, "第二段" + other, PARA, PARA + PARA])
    lines, method = extract_body_lines(tree, None)
    assert method == "trafilatura" and lines == [PARA, PARA, PARA, PARA + PARA]


def test_density_block_never_inside_a_more_stories_block():
    from crawler.extract.body import density_choice
    # an infinite-scroll page: the article's short paragraphs, then a "more stories" stream whose one
    # teaser paragraph carries more sentence punctuation than any article paragraph
    teaser = "下一篇报道的导语，很长，很密，有逗号、顿号、分号；还有问号？感叹号！再来，一句，又一句，" * 3
    html = page(f"<main><article class='caas-body'><p>{PARA}</p><p>本文第二段，短。</p></article>"
                f"<div id='module-moreStories'><ul><li><div class='item'><p>{teaser}</p></div></li>"
                f"<li><div class='item'><a href='/2'>另一条</a></div></li></ul></div></main>")
    block, _ = density_choice(parse_html(html).find("body"))
    assert block is not None and text_lines(block)[0] == PARA
    # the same page without the block's name: the teaser's paragraph wins (what the rule prevents)
    block, _ = density_choice(parse_html(html.replace("module-moreStories", "stream")).find("body"))
    assert text_lines(block) == [teaser]


def test_page_of_several_posts_gives_the_first(monkeypatch):
    from crawler.extract import body as body_mod
    other = "第二篇日志的正文，写的是另一天的事情，与第一篇无关。"
    posts = "".join(f"<table><tr><td class='post-title'>日志{i}</td></tr><tr><td class='post-body'>{text}</td></tr>"
                    f"<tr><td class='post-footer'>张贴 @ 2005-03-2{i}</td></tr></table>"
                    for i, text in enumerate((PARA, other, other + other)))
    tree = parse_html(page(f"<div class='main'>{posts}</div>"))
    monkeypatch.setattr(body_mod, "run_trafilatura", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    assert extract_body_lines(tree, None) == ([PARA], "first-post")
    # one post body (a single-post page): not a list, the density block / trafilatura decide as before
    monkeypatch.setattr(body_mod, "run_trafilatura", lambda *a, **k: ["TRAFILATURA"])
    one = parse_html(page(f"<div class='post-body'><p>{PARA}</p></div><div class='x'><p>{other}</p></div>"))
    assert extract_body_lines(one, None)[1] != "first-post"
    # a summary and the article named alike are not two posts: the whole class token must be the post word
    # and the same on both
    two = parse_html(page(f"<div class='article-content-summary'><p>{other}</p></div>"
                          f"<div class='article-content'><p>{PARA}</p></div>"
                          f"<div class='article-text'><p>{other}</p></div>"))
    assert extract_body_lines(two, None)[1] != "first-post"


NOTICE_PARAS = "".join(f"<p>为进一步加强农村人居环境整治工作，现将第{i}项有关事项通知如下，请各乡镇认真落实，确保按期完成。</p>"
                       for i in range(6))
NOTICE_TABLE = ("<div class='tb'><table><tr><th>序号</th><th>村名</th><th>金额</th></tr>"
                + "".join(f"<tr><td>{i}</td><td>城关镇第{i}村</td><td>{i * 13}万元</td></tr>" for i in range(5))
                + "</table></div>")


def _notice(after: str, wrap: bool = True) -> str:
    inner = f"<h1>关于下达整治资金的通知</h1><div class='text'>{NOTICE_PARAS}</div>{after}"
    body = f"<div class='article'>{inner}</div>" if wrap else inner
    return page(f"<div class='nav'><a href='/'>首页</a><a href='/tz/'>通知公告</a></div>{body}"
                "<div class='footer'>版权所有 某某县人民政府</div>")


def test_a_table_and_the_signature_after_the_density_block_stay_in_the_body():
    lines, method = extract_body_lines(parse_html(_notice(NOTICE_TABLE + "<p>某某县财政局 2024年3月5日</p>")))
    assert method == "density-text"
    assert "城关镇第4村" in lines and "52万元" in lines and lines[-1] == "某某县财政局 2024年3月5日"


def test_what_follows_the_block_stops_at_links_share_bars_and_the_page_body():
    related = "<div class='list'><a href='/1'>另一条通知</a><a href='/2'>再一条通知</a></div>"
    share = "<div class='share'>分享到：微信 微博</div>"
    for after in (related + NOTICE_TABLE, share + NOTICE_TABLE):
        lines, _ = extract_body_lines(parse_html(_notice(after)))
        assert "城关镇第4村" not in lines and "另一条通知" not in lines and not any("分享" in ln for ln in lines)
    # a block directly under <body>: its siblings are the page's own parts (footer), never taken
    lines, _ = extract_body_lines(parse_html(_notice("<p>某某县财政局</p>", wrap=False)))
    assert "某某县财政局" not in lines and not any("版权所有" in ln for ln in lines)
