"""The 信息公开 block (crawler/extract/disclosure.py): every field in five layouts, the block out of the body."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crawler.extract import extract
from crawler.extract.disclosure import is_disclosure_line, parse_disclosure, parse_written_date

FIX = Path(__file__).parent / "fixtures" / "disclosure"

EXPECTED = {
    "trs_pairs": dict(index_no="113325000025726015/2023-123456", doc_number="丽政发〔2023〕30号",
                      issuer="丽水市人民政府", written_at=date(2023, 11, 10), topic="城乡建设、环境保护\\城市规划",
                      validity="有效", subject_words="城市管理 办法 通知"),
    "one_per_row": dict(index_no="11330100MB1234567X/2024-00012", doc_number="某农发〔2024〕5号",
                        issuer="某县农业农村局", written_at=date(2024, 3, 2), topic="通知公告", validity="有效",
                        subject_words="农业 项目 申报"),
    "list_items": dict(index_no="000000-2023-0456", doc_number="某卫财〔2023〕12号", issuer="某市卫生健康委员会",
                       written_at=date(2023, 9, 28), topic="财政、金融、审计", validity="已废止", subject_words="决算"),
    "meta_tags": dict(index_no="11440300007542374M/2022-00789", doc_number="某府办函〔2022〕88号",
                      issuer="某区人民政府办公室", written_at=date(2022, 5, 20), topic="防汛抗旱", validity="有效",
                      subject_words="防汛 调整 通知"),
    "same_cell": dict(index_no="002482870/2021-01234", doc_number="某建〔2021〕7号", issuer="某市住房和城乡建设局",
                      written_at=date(2021, 6, 18), topic="城乡建设", validity="有效", subject_words=None),
}
LABEL_WORDS = ("索引号", "索 引 号", "发文机关", "发布机构", "发布单位", "成文", "文号", "发文字号", "主题分类",
               "组配分类", "有效性", "主题词", "公开方式", "效力状态", "信息分类", "文件编号")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_field(name):
    d = parse_disclosure((FIX / f"{name}.html").read_text("utf-8"))
    assert d.fields() == EXPECTED[name]
    assert d.how == ("meta" if name == "meta_tags" else "block")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_article_fields_and_table_not_in_body(name):
    art = extract((FIX / f"{name}.html").read_bytes(), "http://www.example.gov.cn/art/1.html")
    for field, value in EXPECTED[name].items():
        assert getattr(art, field) == value, field
    assert art.body.strip()
    for word in LABEL_WORDS:
        assert word not in art.body, word
    for field in ("index_no", "doc_number", "topic"):       # only in the table (the issuer signs the text)
        assert EXPECTED[name][field] not in art.body
    d = art.to_dict()
    assert d["written_at"] == EXPECTED[name]["written_at"].isoformat()


def test_published_date_from_the_block_wins():
    art = extract((FIX / "list_items.html").read_bytes(), "http://www.example.gov.cn/art/1.html")
    assert art.published_at.date() == date(2023, 10, 8)      # 发布日期, not 成文时间
    assert art.written_at == date(2023, 9, 28)
    assert art.flags["date_from"] == "disclosure"


def test_a_sentence_starting_with_a_label_is_no_block():
    html = ("<html><body><div><p>文号：这一段是正文里偶然出现的说法，后面还有很长的内容，和信息公开表格没有关系，"
            "只是说明一下。</p><p>另一段正文。</p></div></body></html>")
    d = parse_disclosure(html)
    assert not d and d.block is None


def test_no_block_no_fields():
    d = parse_disclosure("<html><body><p>普通新闻正文，没有信息公开表格。</p></body></html>")
    assert not d and d.fields() == dict.fromkeys(EXPECTED["trs_pairs"])
    assert parse_disclosure(None).fields() == d.fields()


def test_block_with_trailing_text_is_kept_but_its_lines_go():
    html = ("<html><body><div class='c'><p>索引号：123/2024-1</p><p>发布机构：某局</p><p>文号：某发〔2024〕1号</p>"
            "<p>" + "正文内容很长。" * 40 + "</p></div></body></html>")
    d = parse_disclosure(html)
    assert d.index_no == "123/2024-1" and d.issuer == "某局" and d.doc_number == "某发〔2024〕1号"
    assert not d.tight
    assert is_disclosure_line("索引号：123/2024-1", d)
    assert is_disclosure_line("| 发布机构 | 某局 | 文号 | 某发〔2024〕1号 |", d)
    assert not is_disclosure_line("正文内容很长。", d)
    assert not is_disclosure_line("发布机构：另一个局的说法不同", d)


@pytest.mark.parametrize("text,expected", [("2023-11-10", date(2023, 11, 10)), ("2023年1月5日", date(2023, 1, 5)),
                                           ("2023/02/30", None), ("无", None), (None, None)])
def test_written_date(text, expected):
    assert parse_written_date(text) == expected
