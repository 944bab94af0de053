from common.text import is_traditional_only, strip_glosses, to_simplified
from crawler.extract.clean import (
    clean_field,
    collapse_repeats,
    cut_footer,
    drop_mojibake,
    drop_noise_lines,
    is_spam_title,
    split_metadata_lines,
)


def test_glosses_after_traditional_only_characters_removed():
    assert strip_glosses("科技城新區(qū)發(fā)展") == ("科技城新區發展", 2)
    assert strip_glosses("推動(dòng)項(xiàng)目") == ("推動項目", 2)


def test_real_glosses_kept():
    assert strip_glosses("亳(bó)州市") == ("亳(bó)州市", 0)
    assert strip_glosses("昨(5)日") == ("昨(5)日", 0)
    assert strip_glosses("區(GDP)") == ("區(GDP)", 0)


def test_broken_glosses_removed():
    text, n = strip_glosses("綿陽日?qǐng)?bào)")
    # the glossed character was lost to mojibake: restored from the pinyin after 日 (BROKEN_GLOSS_RESTORE)
    assert text == "綿陽日報" and n == 2
    assert strip_glosses("新?wén)網")[0] == "新聞網"
    assert strip_glosses("高新?lián)?dāng)。")[0] == "高新。"      # not in the table: dropped


def test_clean_field_strips_edge_punctuation():
    assert clean_field("张强】") == "张强"
    assert clean_field("【责任编辑") == "责任编辑"
    assert clean_field("：绵阳日报 |") == "绵阳日报"
    assert clean_field("张强（实习）") == "张强（实习）"
    assert clean_field("《人民日报》") == "《人民日报》"
    assert clean_field("】") is None


def test_traditional_only():
    assert is_traditional_only("區") and not is_traditional_only("亳") and not is_traditional_only("州")
    assert to_simplified("區縣新聞") == "区县新闻"


def test_mojibake_fragment_dropped():
    assert drop_mojibake(" ?。ㄐ軅?梁銳 記者 夏寧 文/圖)") == ("梁銳 記者 夏寧 文/圖)", 1)
    assert drop_mojibake("正常的一句话？对。") == ("正常的一句话？对。", 0)


def test_spam_titles():
    assert is_spam_title("亚洲成av人无码不卡影片_亚洲国产欧美不卡在线观看_欧美性爱在线观看亚洲_久久国产福利播放")
    assert is_spam_title("男人的天堂亚洲av无码_欧美亚洲日韩视频在线_最近2019年中文字幕_亚洲乱码中文手机在线")
    assert not is_spam_title("亚洲开发银行代表团来我市考察")
    assert not is_spam_title("国产大飞机C919在线观看直播")
    assert not is_spam_title("中共中央政治局召开会议 分析研究经济形势")


def test_metadata_lines_into_fields():
    lines = ["发稿时间:2021-10-29 09:19   来源: 綿陽日報", "摘要:一个个大项目签约落地。", "原标题:工作大走访",
             "正文第一段，记者看到工地一片繁忙。", "（记者 范萌）", "编辑:谭鹏", "【打印】【关闭】"]
    out, fields = split_metadata_lines(lines)
    assert out == ["正文第一段，记者看到工地一片繁忙。", "（记者 范萌）", "【打印】【关闭】"]
    assert fields["source"] == "綿陽日報" and fields["editor"] == "谭鹏" and fields["summary"] == "一个个大项目签约落地。"
    assert fields["original_title"] == "工作大走访" and fields["published_text"] == "2021-10-29 09:19"
    assert fields["credit_author"] == "范萌"


def test_author_name_first_and_post_after_label():
    out, fields = split_metadata_lines(["许兴国", "正文一段很长的内容。", "作者", "中共成都市新都区委书记"])
    assert out == ["正文一段很长的内容。"] and fields["author"] == "许兴国"
    assert fields["author_post"] == "中共成都市新都区委书记"


def test_noise_lines():
    lines = ["您现在的位置: 首页 > 区县新闻", "当前位置：首页 > 正文", "【字号：大 中 小】", "【打印】 【关闭】",
             "分享到：微信 微博", "正文保留。"]
    assert drop_noise_lines(lines) == ["正文保留。"]


def test_footer_cut_only_in_last_part():
    body = [f"第{i}段正文。" for i in range(6)]
    out, cut = cut_footer(body + ["相关新闻：", "另一条新闻", "上一篇：xx"])
    assert out == body and cut
    early = ["相关新闻显示，本段是正文。"] + body
    assert cut_footer(early) == (early, False)


def test_body_printed_twice_kept_once():
    body = ["第一段很长的正文内容在这里。", "第二段很长的正文内容在这里。", "短"]
    out, collapsed = collapse_repeats(body + body)
    assert out == body + ["短"] and collapsed
    assert collapse_repeats(body) == (body, False)
