"""Cleaning steps, each a small named function over text lines (see docs/EXTRACTION.md).

* pinyin glosses glued after traditional-only characters (``區(qū)``) and their broken forms
  (``日?qǐng)?bào)``) are removed by :func:`common.text.strip_glosses` (the one gloss remover, shared
  with dedup), which keeps real glosses (``亳(bó)州``);
* :func:`drop_mojibake` removes mojibake fragments (``?。ㄐ軅?``);
* :func:`split_metadata_lines` moves 来源/发布时间/编辑/原标题/摘要/点击… lines into fields;
* :func:`drop_noise_lines` removes breadcrumbs, tool bars and share bars;
* :func:`cut_footer` cuts 相关新闻/上一篇/版权所有… footers;
* :func:`collapse_repeats` keeps a body printed twice once;
* :func:`is_spam_title` flags SEO-spam titles.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from common.text import to_simplified

from .metadata import credit_author, parse_labelled_line

DATA_DIR = Path(__file__).resolve().parent / "data"


def _data_lines(name: str) -> list[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return [s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")]


# --- mojibake ---------------------------------------------------------------------------------
#: a run of characters that contains bopomofo or a "?" glued between CJK characters/punctuation
#: (bounded: a fragment is at most MOJIBAKE_MAX_PREFIX + 1 + MOJIBAKE_MAX_TAIL + 1 characters, so the
#: regex stays linear on a run of 。 or ㄅ of any length)
MOJIBAKE_TOKEN_RE = re.compile(r"[?？]?[。、，\u3000-\u303f]{0,8}[\u3105-\u312f][^\s?？]{0,24}[?？]|\ufffd+")


def drop_mojibake(line: str) -> tuple[str, int]:
    """Remove mojibake fragments from a line; returns (line, fragments dropped)."""
    n = 0

    def repl(m):
        nonlocal n
        n += 1
        return ""

    out = MOJIBAKE_TOKEN_RE.sub(repl, line)
    return (out.strip() if n else line), n


# --- noise lines and footers ------------------------------------------------------------------
NOISE_LINE_RES = [re.compile(p) for p in _data_lines("noise_lines.txt")]
NOISE_MAX_LEN = 80
FOOTER_RES = [re.compile(p, re.I) for p in _data_lines("boilerplate.txt")]
#: a footer marker line is only trusted this far into the body (share of lines)
FOOTER_MIN_POSITION = 0.5
FOOTER_MAX_LEN = 200


def is_noise_line(line: str) -> bool:
    s = line.strip()
    return len(s) < NOISE_MAX_LEN and any(rx.search(s) for rx in NOISE_LINE_RES)


def drop_noise_lines(lines: list[str]) -> list[str]:
    return [ln for ln in lines if not is_noise_line(ln)]


def is_footer_line(line: str) -> bool:
    s = line.strip()
    return len(s) < FOOTER_MAX_LEN and any(rx.match(s) for rx in FOOTER_RES)


def cut_footer(lines: list[str]) -> tuple[list[str], bool]:
    """Cut from the first footer marker that sits in the last part of the body."""
    n = len(lines)
    for i, ln in enumerate(lines):
        if i >= max(1, int(n * FOOTER_MIN_POSITION)) and is_footer_line(ln):
            return lines[:i], True
    return lines, False


# --- repeats ----------------------------------------------------------------------------------
REPEAT_MIN_LEN = 12


def _key(line: str) -> str:
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", line)))


def collapse_repeats(lines: list[str]) -> tuple[list[str], bool]:
    """Drop lines (at least REPEAT_MIN_LEN characters) already seen earlier: a body printed twice is kept once."""
    seen, out, dropped = set(), [], 0
    for ln in lines:
        k = _key(ln)
        if len(k) >= REPEAT_MIN_LEN and k in seen:
            dropped += 1
            continue
        seen.add(k)
        out.append(ln)
    return out, dropped >= 2


# --- metadata lines ---------------------------------------------------------------------------
BARE_AUTHOR_LABEL_RE = re.compile(r"^(?:作者|作\s者|作者简介)[:：]?$")
NAME_LINE_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
FIELD_ALIASES = {"published": "published_text"}


def split_metadata_lines(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Move labelled metadata lines into fields; returns (remaining lines, fields).

    A bare ``作者`` label followed by a line (the author's post) at the end, with a short name line
    opening the body, gives that name as author (the layout of signed commentary pages).
    """
    fields: dict[str, str] = {}
    out: list[str] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        s = ln.strip()
        if BARE_AUTHOR_LABEL_RE.match(s):
            post = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if post and len(post) <= 40:
                fields.setdefault("author_post", post)
                i += 2
            else:
                i += 1
            continue
        got, is_meta = parse_labelled_line(s)
        if is_meta and got:
            for k, v in got.items():
                fields.setdefault(FIELD_ALIASES.get(k, k), v)
            i += 1
            continue
        if "author" not in fields and (name := credit_author(s)):
            fields["credit_author"] = name
        out.append(ln)
        i += 1
    if "author_post" in fields and out and NAME_LINE_RE.match(out[0].strip()):
        fields.setdefault("author", out.pop(0).strip())
    return out, fields


# --- field values -----------------------------------------------------------------------------
#: punctuation never at the start or end of a name/source/column value (brackets only when unbalanced)
FIELD_EDGE_PUNCT = " \t\u3000:：,，、.。;；|｜/\\-—_·•*"
#: a field value is cut to this many characters before cleaning (the loop below removes one bracket per turn)
FIELD_MAX_LEN = 1024
BRACKET_PAIRS = {"【": "】", "[": "]", "(": ")", "（": "）", "《": "》", "「": "」", "『": "』", "<": ">", "〔": "〕"}


def clean_field(value: str | None) -> str | None:
    """Strip edge punctuation and unbalanced brackets from a parsed field: ``张强】`` -> ``张强``,
    ``【责任编辑`` leftovers, ``：绵阳日报`` -> ``绵阳日报``; ``张强（实习）`` and ``《人民日报》`` keep theirs."""
    if not value:
        return value
    closers = {v: k for k, v in BRACKET_PAIRS.items()}
    v = value[:FIELD_MAX_LEN]
    while True:
        before = v
        v = v.strip(FIELD_EDGE_PUNCT)
        if v and v[-1] in closers and closers[v[-1]] not in v[:-1]:
            v = v[:-1]
        if v and v[0] in BRACKET_PAIRS and BRACKET_PAIRS[v[0]] not in v[1:]:
            v = v[1:]
        if v and v[0] in BRACKET_PAIRS and v[-1] == BRACKET_PAIRS[v[0]] and v[0] not in "《":
            inner = v[1:-1]
            if not any(c in inner for c in BRACKET_PAIRS) and not any(c in inner for c in closers):
                v = inner
        if v == before:
            break
    return v or None


# --- titles -----------------------------------------------------------------------------------
SPAM_WORDS = _data_lines("spam_words.txt")
SPAM_MIN_HITS = 2


def spam_hits(title: str | None) -> int:
    t = to_simplified((title or "").lower())
    return sum(1 for w in SPAM_WORDS if w in t)


def is_spam_title(title: str | None) -> bool:
    return spam_hits(title) >= SPAM_MIN_HITS


def bigram_overlap(a: str, b: str) -> float:
    """Share of ``a``'s character bigrams found in ``b`` (0..1)."""
    a, b = _key(a), _key(b)
    if len(a) < 2 or len(b) < 2:
        return 1.0 if a and a in b else 0.0
    bg = {b[i:i + 2] for i in range(len(b) - 1)}
    grams = [a[i:i + 2] for i in range(len(a) - 1)]
    return sum(g in bg for g in grams) / len(grams)


# --- bylines ------------------------------------------------------------------------------------
#: common Chinese surnames (single and compound): a bare 2–4 character line is a name only when it starts
#: with one of them (``乡村振兴`` or ``工作动态`` as a one-line paragraph is not a byline)
SURNAMES = frozenset(_data_lines("surnames.txt")[0].split())
COMPOUND_SURNAMES = frozenset(s for s in SURNAMES if len(s) == 2)
#: credit words that introduce names in a byline
CREDIT_WORDS = ("本报记者", "特约记者", "见习记者", "实习记者", "融媒体记者", "记者", "記者", "通讯员", "通訊員",
                "实习生", "文图", "文圖", "图文", "圖文", "文/图", "文/圖", "图/文", "撰文", "摄影", "攝影", "摄", "攝",
                "文", "图", "圖", "作者", "供稿", "编辑", "編輯", "责任编辑", "責任編輯")
_CREDIT_ALT = "|".join(sorted((re.escape(w).replace("/", r"\s*[/／]\s*") for w in CREDIT_WORDS), key=len, reverse=True))
#: splits a credit line into (role, names) pairs
CREDIT_SPLIT_RE = re.compile(r"(" + _CREDIT_ALT + r")")
#: 本报讯 and brackets around a credit line
CREDIT_WRAP_RE = re.compile(r"^[（(【\[]?\s*(?:本报讯|本報訊|本网讯|本網訊)?\s*[（(【\[]?|[）)】\]]+$")
#: a line that is only names: ``许兴国``, ``【许兴国】``, ``许兴国 王小明``
NAME_ONLY_RE = re.compile(
    r"^[（(【\[]?\s*([\u4e00-\u9fff·]{2,4}(?:[\s、,，]+[\u4e00-\u9fff·]{2,4}){0,3})\s*[）)】\]]?$")
#: credit roles whose names are not the author (editors have their own field)
EDITOR_CREDITS = ("编辑", "編輯", "责任编辑", "責任編輯")
NAME_SPLIT_RE = re.compile(r"[\s、,，:：/／]+")
CJK_NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")


def _is_bare_name(token: str) -> bool:
    """A personal name standing alone: 2–3 characters after a common surname, 4 after a compound one."""
    if token[:2] in COMPOUND_SURNAMES:
        return 3 <= len(token) <= 4
    return 2 <= len(token) <= 3 and token[0] in SURNAMES


def byline_names(line: str) -> list[str] | None:
    """The author names of a byline paragraph, or None when ``line`` is not one.

    A byline is a line that is only personal names (a common surname + 1–2 characters, optionally in
    brackets: ``许兴国``, ``【许兴国】``) or only credits (``记者 张三``, ``通讯员 王五``, ``文/图：李四``,
    ``摄影 赵六``, ``本报讯（记者 张三 通讯员 李四）``). Editor credits make the line a byline but their
    names are not authors."""
    s = line.strip()
    if not s or len(s) > 60:
        return None
    if (m := NAME_ONLY_RE.match(s)) and not CREDIT_SPLIT_RE.search(s):
        bare = [t for t in NAME_SPLIT_RE.split(m.group(1)) if t]
        return bare if all(_is_bare_name(t) for t in bare) else None
    core = CREDIT_WRAP_RE.sub("", s).strip()
    parts = CREDIT_SPLIT_RE.split(core)
    if len(parts) < 3 or parts[0].strip(" :：/／（(【[") != "":
        return None
    names: list[str] = []
    for role, segment in zip(parts[1::2], parts[2::2], strict=True):
        tokens = [t for t in NAME_SPLIT_RE.split(segment.strip(" ）)】]")) if t]
        if not tokens:
            if role.startswith("文") or role.startswith("图"):
                continue            # 文/图 written as separate credit words: 文/图/李四
            return None
        if not all(CJK_NAME_RE.match(t) for t in tokens):
            return None
        if role in EDITOR_CREDITS:
            continue
        names += [t for t in tokens if t not in names]
    return names or None


def split_bylines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Move a byline first and/or last paragraph out of the body: ``(lines, author names)``. A body of one
    line keeps it (it is the article)."""
    names: list[str] = []
    if len(lines) >= 2 and (got := byline_names(lines[0])) is not None:
        names += got
        lines = lines[1:]
    if len(lines) >= 2 and (got := byline_names(lines[-1])) is not None:
        names += [n for n in got if n not in names]
        lines = lines[:-1]
    return lines, names
