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
GLOSS_RE = re.compile(r"([\u3400-\u9fff\uf900-\ufaffA-Za-z0-9])[(（](" + PINYIN + r")[)）]")
#: broken glosses where the character and "(" were lost: ``?qǐng)``
BROKEN_GLOSS_RE = re.compile(r"[?？\ufffd](" + PINYIN + r")[)）]")
#: a text is "glossed traditional" (a glossing plugin's mirror) when at least this many glosses follow
#: traditional-only characters: then a toned gloss after any Han character is the plugin's too
GLOSSED_TEXT_MIN = 2

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


def _has_tone(s: str) -> bool:
    return any(c in TONE_MARKS for c in s)


def strip_glosses(text: str) -> tuple[str, int]:
    """Remove pinyin glosses; returns (text, glosses removed).

    A gloss is a parenthesised pinyin syllable glued after a character:

    * after a traditional-only character (``區(qū)``): always a glossing plugin's;
    * after a Latin letter or digit (``I(mǎi)BM``): only with a tone mark (``f(x)``, ``GDP(GDP)`` stay);
    * after a character that is the same in simplified text (``中(zhōng)``): legitimate in simplified
      text (a textbook, a name's reading: ``亳(bó)州``) and kept, unless the text is a glossed
      traditional mirror (at least :data:`GLOSSED_TEXT_MIN` glosses after traditional-only
      characters), where a toned gloss after any Han character goes too.

    Broken glosses (``?qǐng)``, the character and ``(`` lost) with a tone mark are dropped, or restored
    from :data:`BROKEN_GLOSS_RESTORE`. Linear in the text: one pass per pattern, no backward rescans.
    """
    if not text or ("(" not in text and "（" not in text and ")" not in text and "）" not in text):
        return text, 0
    count = 0
    matches = list(GLOSS_RE.finditer(text))
    glossed = sum(1 for m in matches if is_traditional_only(m.group(1)) and _looks_pinyin(m.group(2))) \
        >= GLOSSED_TEXT_MIN
    if matches:
        parts: list[str] = []
        pos = 0
        for m in matches:
            ch, py = m.group(1), m.group(2)
            if ch.isascii():
                drop = _has_tone(py)
            elif is_traditional_only(ch):
                drop = _looks_pinyin(py)
            else:
                drop = glossed and _has_tone(py)
            if drop:
                count += 1
                parts.append(text[pos:m.start()])
                parts.append(ch)
                pos = m.end()
        parts.append(text[pos:])
        text = "".join(parts)

    # broken glosses, left to right; a run of them (``日?qǐng)?bào)``) shares the character before the run
    out: list[str] = []
    pos = 0
    run_end, run_prev = -1, ""
    for m in BROKEN_GLOSS_RE.finditer(text):
        py = m.group(1)
        if not _has_tone(py):
            continue
        count += 1
        if m.start() == run_end:
            prev = run_prev
        else:
            prev = text[m.start() - 1:m.start()]
        run_end, run_prev = m.end(), prev
        out.append(text[pos:m.start()])
        restore = BROKEN_GLOSS_RESTORE.get(py)
        if restore and prev and prev in restore[1]:
            out.append(restore[0])
        pos = m.end()
    if pos:
        out.append(text[pos:])
        text = "".join(out)
    return text, count
