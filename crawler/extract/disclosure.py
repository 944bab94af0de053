"""The 政府信息公开 metadata block of a page: ``parse_disclosure(tree) -> Disclosure``.

Every disclosure page (信息公开目录 / 政策文件) carries a small block of labelled fields — 索引号,
发布机构 / 发文机关, 成文日期, 发布日期, 文号 / 发文字号, 主题分类 / 组配分类, 有效性, 公开方式, 主题词 —
in one of a few layouts, which this module reads alike:

* TRS (www.gov.cn and most provincial sites): a ``<table>`` with two or three label/value pairs per row
  (``<td><b>索 引 号：</b></td><td>000014349/2023-00045</td><td><b>主题分类：</b></td>...``);
* one pair per row (``<tr><th>发文机关</th><td>...</td></tr>``), or label and value in one cell
  (``<td>文号：丽政发〔2023〕30号</td>``, Hanweb / Zhejiang);
* list items and definition lists: ``<li><span>索引号：</span>...</li>``, ``<dt>/<dd>``,
  ``<label>``/``<span>`` pairs (UCAP 开普云, 博达 VSB, home-made CMSs);
* ``<meta name="...">`` tags where a CMS writes them (Chinese labels, English names such as
  ``IndexNo``/``DocNumber``, pinyin initials such as ``syh``/``wh``/``fwjg``/``cwrq``).

How: the page's text pieces (element texts and tails) are scanned in document order; a piece that
*starts with* a known label followed by a colon, or that *is* a label (a table cell, a ``<span>``),
opens a field whose value runs over the following pieces up to the next label. The block is the
smallest element that holds the most distinct labels (at least :data:`MIN_LABELS`, or 2 with 索引号
or 文号 among them), so an article sentence that happens to begin with "文号" is never a block.
The block is returned so the caller can take it out of the body (:attr:`Disclosure.block`).

Pure: an lxml tree (or HTML text) in, plain values out; no I/O and no clock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml.html import HtmlElement

__all__ = ["FIELDS", "Disclosure", "is_disclosure_line", "parse_disclosure", "parse_written_date"]

#: stored fields -> their labels (longest first when matching; spaces between characters allowed)
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("信息索引号", "索引号", "索取号", "索引號"),
    "doc_number": ("发文字号", "發文字號", "发文文号", "文件编号", "文件文号", "文号", "文號", "字号"),
    "issuer": ("发布机构", "發布機構", "发文机关", "發文機關", "发布单位", "发文单位", "发布机关", "发文机构",
               "制发机关", "发布部门", "发文部门", "公开主体", "信息公开主体", "生成机构"),
    "written_at": ("成文日期", "成文時間", "成文时间", "印发日期", "发文日期", "生成日期"),
    "topic": ("主题分类", "主題分類", "组配分类", "組配分類", "信息分类", "分类", "主题类别", "信息类别"),
    "validity": ("有效性", "效力状态", "时效性", "是否有效", "有效状态", "效力"),
    "subject_words": ("主题词", "主題詞", "关键词", "關鍵詞"),
}
#: labels of the block that end a value but are not stored as columns (kept in ``extra``)
OTHER_LABELS: dict[str, tuple[str, ...]] = {
    "published": ("发布日期", "發布日期", "公开日期", "公開日期", "发布时间", "公开时间"),
    "disclosure_mode": ("公开方式", "公開方式", "公开形式", "公开范围", "公开时限", "公开类别"),
    "title": ("信息名称", "文件名称", "标题", "標題", "名称", "名稱"),
    "summary": ("内容概述", "内容摘要", "摘要"),
    "genre": ("体裁分类", "服务对象分类", "主题服务分类", "信息格式", "载体类型", "文种"),
    "effective_at": ("生效日期", "施行日期", "实施日期", "失效日期", "废止日期", "有效期"),
    "language": ("语种",),
}
FIELDS = tuple(FIELD_LABELS)
#: a block needs this many distinct labels (2 suffice when 索引号 or 文号 is one of them)
MIN_LABELS = 3
#: a value longer than this is body text, not a field value
MAX_VALUE_LEN = 200
#: a block is dropped from the body only when its text is (about) its fields: labels + values + slack
BLOCK_SLACK = 120

_SEP = r"\s*[:：]?"


def _label_pattern(label: str) -> str:
    return r"\s*".join(re.escape(ch) for ch in label)


_ALL: list[tuple[str, str]] = sorted(
    [(name, lab) for name, labs in {**FIELD_LABELS, **OTHER_LABELS}.items() for lab in labs],
    key=lambda x: -len(x[1]))
_GROUP = {f"f{i}": name for i, (name, _) in enumerate(_ALL)}
#: a piece that starts with a label: ``索 引 号：`` / ``【文号】`` / ``文号``(alone)
LABEL_START_RE = re.compile(
    r"^[\s\u3000\xa0]*[【\[（(]?[\s\u3000\xa0]*(?:" + "|".join(
        f"(?P<f{i}>{_label_pattern(lab)})" for i, (_, lab) in enumerate(_ALL))
    + r")[\s\u3000\xa0]*[】\]）)]?[\s\u3000\xa0]*(?P<colon>[:：])?[\s\u3000\xa0]*")
#: first characters of the labels: a piece whose first character (after blanks and one opening bracket)
#: is none of them cannot match :data:`LABEL_START_RE` (a set lookup instead of the long alternation)
LABEL_FIRST_CHARS = frozenset(lab[0] for _, lab in _ALL)
_OPEN_BRACKETS = "【[（("
#: ``<meta name=...>`` names (lower-case) -> field
META_NAMES: dict[str, str] = {
    **{lab: name for name, labs in {**FIELD_LABELS}.items() for lab in labs},
    "indexno": "index_no", "index_no": "index_no", "idxno": "index_no", "syh": "index_no", "索引号": "index_no",
    "docnumber": "doc_number", "docno": "doc_number", "doc_number": "doc_number", "fileno": "doc_number",
    "wh": "doc_number", "fwzh": "doc_number", "documentnumber": "doc_number",
    "issuer": "issuer", "publisher": "issuer", "fbjg": "issuer", "fwjg": "issuer", "issueorgan": "issuer",
    "writtendate": "written_at", "cwrq": "written_at", "writtenat": "written_at", "createdate": "written_at",
    "topic": "topic", "ztfl": "topic", "zpfl": "topic", "theme": "topic",
    "validity": "validity", "yxx": "validity", "effectiveness": "validity",
    "subjectwords": "subject_words", "ztc": "subject_words", "subject_words": "subject_words",
}
DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")
WS_RE = re.compile(r"[\s\u3000\xa0]+")
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "option", "select", "textarea"}


@dataclass
class Disclosure:
    """The parsed block: the seven stored fields (``None`` when absent), the other labelled values
    (``extra``: ``published``, ``disclosure_mode`` ...), where they came from (``how``: ``block`` or
    ``meta``) and the block element itself (``block``; ``None`` for meta tags only)."""

    index_no: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    written_at: date | None = None
    topic: str | None = None
    validity: str | None = None
    subject_words: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    how: str | None = None
    block: Any = field(default=None, repr=False, compare=False)
    tight: bool = field(default=False, repr=False, compare=False)

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    def __bool__(self) -> bool:
        return any(v is not None for v in self.fields().values())


def parse_written_date(value: str | None) -> date | None:
    """``2023-11-10`` / ``2023年11月10日`` / ``2023/11/10`` -> ``date``; anything else ``None``."""
    m = DATE_RE.search(value or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _clean(value: str) -> str:
    return WS_RE.sub(" ", value).strip(" ：:|｜;；,，")


def _label_at(piece: str) -> tuple[str, int] | None:
    """``(field, end)`` when ``piece`` starts with a label that is a label here: followed by a colon,
    or the whole piece (a cell/span of its own), or by a value in a cell that begins with ``【``."""
    head = piece.lstrip()
    if head[:1] in _OPEN_BRACKETS:
        head = head[1:].lstrip()
    if head[:1] not in LABEL_FIRST_CHARS:
        return None
    m = LABEL_START_RE.match(piece)
    if not m:
        return None
    name = next(_GROUP[k] for k, v in m.groupdict().items() if v is not None and k != "colon")
    rest = piece[m.end():]
    if m.group("colon") or not rest.strip():
        return name, m.end()
    return None


def _pieces(root) -> list[tuple[str, Any]]:
    """(text, owner element) in document order; the owner of a tail is the parent."""
    out: list[tuple[str, Any]] = []

    def walk(el):
        if not isinstance(el.tag, str) or el.tag in _SKIP_TAGS:
            return
        if el.text and el.text.strip():
            out.append((el.text, el))
        for child in el:
            walk(child)
            if child.tail and child.tail.strip():
                out.append((child.tail, el))
    walk(root)
    return out


def _depth(el) -> int:
    n = 0
    while el is not None:
        el = el.getparent()
        n += 1
    return n


def _from_block(pieces: list[tuple[str, Any]], hits: list[tuple[int, str, int]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for k, (i, name, end) in enumerate(hits):
        stop = hits[k + 1][0] if k + 1 < len(hits) else len(pieces)
        parts = [pieces[i][0][end:]] + [p for p, _ in pieces[i + 1:stop]]
        value = _clean(" ".join(parts))
        if len(value) > MAX_VALUE_LEN:      # ran into body text: keep the first piece only
            value = _clean(parts[0] or (parts[1] if len(parts) > 1 else ""))
            if len(value) > MAX_VALUE_LEN:
                continue
        if value and name not in values:
            values[name] = value
    return values


def _from_meta(tree) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in tree.iter("meta"):
        name = (el.get("name") or el.get("property") or "").strip()
        content = _clean(el.get("content") or "")
        key = META_NAMES.get(name.lower()) or META_NAMES.get(WS_RE.sub("", name))
        if key and content and key not in out:
            out[key] = content
    return out


def parse_disclosure(tree: HtmlElement | str | None) -> Disclosure:
    """The disclosure block of a page (see the module docstring); empty when the page has none."""
    if isinstance(tree, str):
        from .html import parse_html
        tree = parse_html(tree)
    result = Disclosure()
    if tree is None:
        return result
    body = tree.find("body")
    root = body if body is not None else tree
    pieces = _pieces(root)
    # label hits and, per ancestor, the distinct labels below it
    hit_at: dict[int, tuple[str, int]] = {}
    labels_under: dict[Any, set[str]] = {}
    for i, (text, owner) in enumerate(pieces):
        if len(text) > MAX_VALUE_LEN + 20 and not LABEL_START_RE.match(text[:40]):
            continue
        got = _label_at(text)
        if got is None:
            continue
        hit_at[i] = got
        el = owner
        while el is not None:
            labels_under.setdefault(el, set()).add(got[0])
            el = el.getparent()
    values: dict[str, str] = {}
    best = None
    if labels_under:
        def enough(labs: set[str]) -> bool:
            stored = labs & set(FIELD_LABELS)
            return len(labs) >= MIN_LABELS and len(stored) >= 2 or (
                len(stored) >= 2 and bool(stored & {"index_no", "doc_number"}))
        candidates = [(len(labs), _depth(el), el) for el, labs in labels_under.items() if enough(labs)]
        if candidates:
            # the deepest element holding all but one of the most labels any element holds: a
            # 发布日期 line under the headline must not make <body> the block
            top = max(c[0] for c in candidates)
            best = max((c for c in candidates if c[0] >= top - 1), key=lambda c: (c[1], c[0]))[2]
    if best is not None:
        inside = {id(e) for e in best.iter()}
        idx = [i for i, (_, owner) in enumerate(pieces) if id(owner) in inside]
        sub = [pieces[i] for i in idx]
        hits = [(k, hit_at[i][0], hit_at[i][1]) for k, i in enumerate(idx) if i in hit_at]
        values = _from_block(sub, hits)
        result.block, result.how = best, "block"
        block_text = sum(len(WS_RE.sub("", p)) for p, _ in sub)
        field_text = sum(len(WS_RE.sub("", sub[k][0][:end])) for k, _, end in hits) + sum(
            len(WS_RE.sub("", v)) for v in values.values())
        result.tight = bool(hits) and block_text - field_text <= BLOCK_SLACK and all(
            len(v) <= MAX_VALUE_LEN for v in values.values())
    meta = _from_meta(tree)
    for name, value in meta.items():
        if name not in values:
            values[name] = value
            result.how = result.how or "meta"
    for name in FIELDS:
        value = values.pop(name, "")
        if name == "written_at":
            setattr(result, name, parse_written_date(value))
        else:
            setattr(result, name, value or None)
    result.extra = {k: v for k, v in values.items() if k in OTHER_LABELS}
    return result


#: a body line that is a piece of a disclosure table: starts with a label and a separator
_LINE_LABEL_RE = re.compile(r"^[|｜\s]*(?:" + "|".join(_label_pattern(lab) for _, lab in _ALL) + r")\s*[:：|｜]")


def is_disclosure_line(line: str, disclosure: Disclosure) -> bool:
    """Whether a body line is (a row of) the page's disclosure block: it starts with one of the
    block's labels and a separator, and every value it holds is one the block was parsed to."""
    if not disclosure or not _LINE_LABEL_RE.match(line):
        return False
    known = {_clean(str(v)) for v in disclosure.fields().values() if v} | set(disclosure.extra.values())
    cells = [c for c in re.split(r"[|｜]", line) if c.strip()]
    if len(cells) <= 1:
        got = _label_at(line.strip(" |"))
        if got is None:
            return False
        rest = _clean(line.strip(" |")[got[1]:])
        return not rest or rest in known or any(rest.startswith(k) for k in known) or (
            parse_written_date(rest) is not None and len(rest) <= 20)
    for cell in cells:
        c = _clean(cell)
        got = _label_at(c)
        if got is not None:
            c = _clean(c[got[1]:])
        if c and c not in known and parse_written_date(c) is None:
            return False
    return True
