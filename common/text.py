"""Chinese text normalisation shared by extraction (clean) and storage (dedup, search).

One traditional -> simplified converter (OpenCC ``t2s``, created once, thread-safe) and one pinyin-gloss
remover. Extraction and storage both import from here, so a body cleaned by the extractor and the text
hashed by dedup agree on what a gloss is.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

_lock = threading.Lock()
_converter = None


def _opencc():
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter


def to_simplified(text: str) -> str:
    """OpenCC t2s of ``text`` ("" and None come back as they are)."""
    return _opencc().convert(text) if text else text


@lru_cache(maxsize=8192)
def is_traditional_only(ch: str) -> bool:
    """True for a character OpenCC changes when converting traditional -> simplified."""
    return _opencc().convert(ch) != ch


# --- pinyin glosses ---------------------------------------------------------------------------------
#: a pinyin syllable as the glossing plugins print it (bounded: at most 7 letters)
PINYIN = r"[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,7}"
TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
#: ``區(qū)``: a Han character followed by a parenthesised pinyin syllable
GLOSS_RE = re.compile(r"([\u3400-\u9fff\uf900-\ufaff])[(（](" + PINYIN + r")[)）]")
#: broken glosses where the character and "(" were lost: ``?qǐng)``
BROKEN_GLOSS_RE = re.compile(r"[?？\ufffd](" + PINYIN + r")[)）]")
BROKEN_GLOSS_TAIL_RE = re.compile(r"[?？\ufffd]" + PINYIN + r"[)）]$")

#: broken glosses whose character can be restored from the pinyin and the character before it, as in
#: ``綿陽日?qǐng)?bào)`` -> ``綿陽日報``: pinyin -> (traditional character, characters it must follow). Only
#: frequent pairs of news-outlet names; any other broken gloss is dropped.
BROKEN_GLOSS_RESTORE = {
    "bào": ("報", "日晚商報导導周週時时画畫"),
    "wén": ("聞", "新"),
    "wǎng": ("網", "新闻聞報报视視"),
    "shè": ("社", "報报"),
    "tái": ("臺", "视視電电"),
}


def _looks_pinyin(s: str) -> bool:
    return any(c in TONE_MARKS for c in s) or s.islower()


def _left_of_broken(text: str, pos: int) -> str:
    """The character before position ``pos`` once broken glosses in front of it are skipped."""
    head = text[:pos]
    while True:
        m = BROKEN_GLOSS_TAIL_RE.search(head)
        if not m:
            break
        head = head[:m.start()]
    return head[-1:] if head else ""


def strip_glosses(text: str) -> tuple[str, int]:
    """Remove pinyin glosses after traditional-only characters; returns (text, glosses removed).

    A gloss after a character that is the same in simplified text (``中(zhōng)``) is left alone: in
    simplified text it is legitimate (a textbook, a name's reading).
    """
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        ch, py = m.group(1), m.group(2)
        if is_traditional_only(ch) and _looks_pinyin(py):
            count += 1
            return ch
        return m.group(0)

    def repl_broken(m: re.Match[str]) -> str:
        nonlocal count
        py = m.group(1)
        if not any(c in TONE_MARKS for c in py):
            return m.group(0)
        count += 1
        restore = BROKEN_GLOSS_RESTORE.get(py)
        # the character before may itself be a broken gloss: look at what is left before it
        prev = _left_of_broken(m.string, m.start())
        if restore and prev and prev in restore[1]:
            return restore[0]
        return ""

    if not text or ("(" not in text and "（" not in text and ")" not in text and "）" not in text):
        return text, 0
    text = GLOSS_RE.sub(repl, text)
    text = BROKEN_GLOSS_RE.sub(repl_broken, text)
    return text, count
