"""Stage 1: bytes -> str.

Order of trust (each candidate is used only if the bytes really decode with it):

1. strict UTF-8 when the bytes contain multi-byte sequences (a page re-saved as UTF-8 keeps its old
   ``gb2312`` meta; valid UTF-8 with non-ASCII text is practically never a legacy encoding); and
   UTF-8 with replacement when the bytes are overwhelmingly valid UTF-8 with a handful of invalid
   sequences mid-page (a truncated copy-paste, a bad byte from an editor): at least
   ``MIN_UTF8_CHARS`` valid multi-byte characters and at most ``MAX_UTF8_INVALID_RATIO`` invalid bytes
   per valid character. GBK text read as UTF-8 is mostly invalid (well above 30 %), so it never
   passes;
2. the declared charset: the HTTP header (``declared``), then ``<meta charset>`` /
   ``<meta http-equiv=Content-Type>``, then a CleanEval ``<text ... encoding="...">`` wrapper;
   GB2312/GBK are decoded as their superset GB18030. A declared charset that fails on only a few
   invalid sequences mid-page is kept and those bytes are replaced (``errors="replace"``);
3. charset-normalizer, restricted to the encodings Chinese pages use;
4. GB18030 with replacement.
"""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

#: how far into the document to look for a ``<meta>`` charset declaration
META_SNIFF_BYTES = 4096
#: the charset parameter of an HTTP Content-Type header
CONTENT_TYPE_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w\-:.]+)", re.I)
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
#: CleanEval corpus wrapper line: ``<text id="URL" title="..." encoding="gb2312">``
CLEANEVAL_WRAPPER_RE = re.compile(rb"""^\s*<text\s+id=["']([^"']*)["'][^>]*>""", re.I)
WRAPPER_ENCODING_RE = re.compile(rb"""\sencoding=["']([^"']*)["']""", re.I)
#: declared names decoded with a superset codec
SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312": "gb18030", "gb_2312-80": "gb18030",
            "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030", "big5": "big5hkscs",
            "iso-8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}
#: the only codecs a page is decoded with: the WHATWG Encoding Standard's web encodings (Python names).
#: Anything else a page declares (``idna`` raises, ``punycode`` is quadratic, ``utf-7`` and
#: ``unicode_escape`` turn bytes into markup) is ignored like an unknown name.
WEB_CODECS = frozenset({
    "utf-8", "cp866", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7",
    "iso8859-8", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r", "koi8-u",
    "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258", "gbk", "gb18030", "big5", "big5hkscs", "euc_jp", "iso2022_jp",
    "shift_jis", "cp932", "euc_kr", "cp949", "utf-16-le", "utf-16-be", "utf-16"})
#: UTF-16 without a BOM: share of NUL bytes at the even (BE) or odd (LE) positions of the head (ASCII
#: markup; CJK text has none), with at least UTF16_MIN_NULS of them
UTF16_NUL_SHARE = 0.03
UTF16_SNIFF_BYTES = 1024
UTF16_MIN_NULS = 8
#: declarations that say little (servers default to them); checked after UTF-8 and CJK detection
WEAK_DECLARATIONS = {"cp1252"}
#: encodings charset-normalizer may choose from
DETECT_CANDIDATES = ["utf_8", "gb18030", "big5", "euc_jp", "shift_jis", "euc_kr"]
#: a declared charset is kept when at most this share of characters are replacement characters
MAX_REPLACEMENT_RATIO = 0.002
MAX_REPLACEMENTS_ABSOLUTE = 8
#: "almost UTF-8": enough valid multi-byte characters, and invalid bytes a tiny share of them
MIN_UTF8_CHARS = 16
MAX_UTF8_INVALID_RATIO = 0.01


def normalize_charset(name: str | bytes | None) -> str | None:
    """Python codec name for a declared charset, GB family widened to GB18030; None if unknown."""
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    name = name.strip().strip("\"'").lower()
    name = SUPERSET.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):
        return None
    codec = SUPERSET.get(codec, codec)
    return codec if codec in WEB_CODECS else None


def utf16_codec(data: bytes) -> str | None:
    """``utf-16`` (BOM), ``utf-16-le`` / ``utf-16-be`` (no BOM, NUL bytes at every other position of the
    head, as ASCII markup in UTF-16 has), else None."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    head = data[:UTF16_SNIFF_BYTES]
    half = len(head) // 2
    if half < 8:
        return None
    lo, hi = head[0:half * 2:2], head[1:half * 2:2]
    for zeros, chars, codec in ((hi, lo, "utf-16-le"), (lo, hi, "utf-16-be")):
        nuls = zeros.count(0)
        if nuls < UTF16_MIN_NULS or nuls / half < UTF16_NUL_SHARE or chars.count(0) * 2 > nuls:
            continue
        # the code units with a NUL high byte must be ASCII text (markup), and hold a tag
        ascii_units = [c for z, c in zip(zeros, chars, strict=True) if z == 0]
        printable = sum(1 for c in ascii_units if c in (9, 10, 13) or 32 <= c < 127)
        if printable >= 0.95 * len(ascii_units) and ord("<") in ascii_units:
            return codec
    return None


def content_type_charset(content_type: str | bytes | None) -> str | None:
    """The charset named by a Content-Type header value, as declared (not yet normalised)."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    m = CONTENT_TYPE_CHARSET_RE.search(content_type or "")
    return m.group(1) if m else None


def sniff_meta_charset(data: bytes) -> str | None:
    m = META_CHARSET_RE.search(data[:META_SNIFF_BYTES])
    return normalize_charset(m.group(1)) if m else None


def cleaneval_wrapper(data: bytes) -> tuple[str | None, str | None]:
    """(url, encoding) from a CleanEval ``<text id=... encoding=...>`` first line, else (None, None)."""
    m = CLEANEVAL_WRAPPER_RE.match(data[:2048])
    if not m:
        return None, None
    url = m.group(1).decode("latin-1") or None
    enc = WRAPPER_ENCODING_RE.search(m.group(0))
    return url, normalize_charset(enc.group(1)) if enc else None


def _try(data: bytes, codec: str, tolerant: bool) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeError:    # UnicodeDecodeError, and the plain UnicodeError some codecs raise
        if not tolerant:
            return None
    except LookupError:
        return None
    try:
        text = data.decode(codec, errors="replace")
    except (UnicodeError, LookupError):
        return None
    bad = text.count("\ufffd")
    if bad <= MAX_REPLACEMENTS_ABSOLUTE or bad <= MAX_REPLACEMENT_RATIO * len(text):
        return text
    return None


#: the lone surrogates ``surrogateescape`` decodes invalid bytes to
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")


def _almost_utf8(data: bytes) -> str | None:
    """UTF-8 with replacement characters when only a handful of bytes are not valid UTF-8, else None."""
    escaped = data.decode("utf-8", errors="surrogateescape")   # each invalid byte -> one lone surrogate
    invalid = len(_ESCAPED_BYTE_RE.findall(escaped))
    valid = len(escaped) - len(escaped.encode("ascii", errors="ignore")) - invalid     # non-ASCII characters
    if valid < MIN_UTF8_CHARS or invalid > MAX_UTF8_INVALID_RATIO * valid:
        return None
    return data.decode("utf-8", errors="replace")


def decode_html(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page bytes; returns ``(text, codec_name)``. Never raises on bad bytes."""
    if not data:
        return "", "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if (u16 := utf16_codec(data)) is not None:
        return data.decode(u16, errors="replace").lstrip("\ufeff"), u16
    if data.isascii():
        return data.decode("ascii"), "ascii"
    text = _try(data, "utf-8", tolerant=False)
    if text is not None:
        return text, "utf-8"
    text = _almost_utf8(data)
    if text is not None:
        return text, "utf-8"
    declarations = [normalize_charset(declared), sniff_meta_charset(data), cleaneval_wrapper(data)[1]]
    weak = []
    for codec in declarations:
        if not codec or codec == "utf-8" or codec.startswith("utf-16"):
            continue    # (a UTF-16 page was found above; a declaration alone is wrong, as WHATWG says)
        if codec in WEAK_DECLARATIONS:
            weak.append(codec)
            continue
        text = _try(data, codec, tolerant=True)
        if text is not None:
            return text, codec
    best = from_bytes(data, cp_isolation=DETECT_CANDIDATES).best()
    if best is not None and best.encoding != "utf_8":
        codec = normalize_charset(best.encoding) or best.encoding
        text = _try(data, codec, tolerant=True)
        if text is not None:
            return text, codec
    for codec in weak:
        text = _try(data, codec, tolerant=False)
        if text is not None:
            return text, codec
    return data.decode("gb18030", errors="replace"), "gb18030"
