"""What an attachment response really is, whatever its Content-Type says.

``sniff(data, declared, ext) -> Sniffed``: the type from the first bytes (PDF, OLE2 = doc/xls/ppt/wps/et,
ZIP containers told apart by their members = docx/xlsx/pptx/ofd/zip, RAR, 7z, HTML, text), and
whether the response is an *HTML error page* standing in for a document (a CMS answering a missing
file with 200 and "文件不存在", or a login page) rather than a document served as ``text/html``.
Pure: bytes in, a verdict out.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

__all__ = ["OLE_TYPES", "Sniffed", "sniff"]

OLE_TYPES = {"doc": "application/msword", "wps": "application/vnd.ms-works", "xls": "application/vnd.ms-excel",
             "et": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
             "dps": "application/vnd.ms-powerpoint"}
ZIP_TYPES = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
TEXT_TYPES = {"csv": "text/csv", "txt": "text/plain"}
HTML_START_RE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|script|meta|title|div|p\b)",
                           re.I | re.S)
ERROR_WORDS_RE = re.compile("404|403|500|not found|error|错误|錯誤|不存在|没有找到|找不到|已删除|已被删除|无权|"
                            "禁止访问|登录|登錄|请先登录|访问受限|页面不存在|文件不存在|下载失败|出错", re.I)
#: an HTML page with less visible text than this is an error / redirect page, not a document
SHORT_HTML_TEXT = 400


@dataclass(frozen=True)
class Sniffed:
    content_type: str        # what the bytes are
    is_document: bool        # a file worth keeping (not an HTML error page, not empty)
    reason: str | None       # why not, or what was odd (``served as text/html``)


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()[:2000]
    except (zipfile.BadZipFile, ValueError, OSError):
        return "application/zip"
    for prefix, ctype in ZIP_TYPES.items():
        if any(n.startswith(prefix) for n in names):
            return ctype
    if any(n.upper() == "OFD.XML" for n in names):
        return "application/ofd"
    return "application/zip"


def _html_text(data: bytes) -> tuple[str, str]:
    from crawler.extract.decode import decode_html
    from crawler.extract.html import parse_html
    text, _ = decode_html(data[:200_000], None)
    tree = parse_html(text)
    if tree is None:
        return "", ""
    title = " ".join((tree.findtext(".//title") or "").split())
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return title, " ".join(tree.text_content().split())


def _declared(declared: str | None) -> str:
    return (declared or "").split(";")[0].strip().lower()


def sniff(data: bytes, declared: str | None = None, ext: str | None = None) -> Sniffed:
    """The verdict on one attachment response body (see the module docstring)."""
    served = _declared(declared)
    note = None
    if not data:
        return Sniffed(served or "application/octet-stream", False, "empty")
    head = data[:8]
    if data[:1024].lstrip().startswith(b"%PDF-") or data.startswith(b"%PDF"):
        ctype = "application/pdf"
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        ctype = OLE_TYPES.get(ext or "", "application/x-ole-storage")
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        ctype = _zip_kind(data)
    elif head.startswith(b"Rar!"):
        ctype = "application/vnd.rar"
    elif head.startswith(b"7z\xbc\xaf\x27\x1c"):
        ctype = "application/x-7z-compressed"
    elif head.startswith(b"{\\rtf"):
        ctype = "application/rtf"
    elif HTML_START_RE.match(data[:2048]):
        title, text = _html_text(data)
        expected_doc = ext not in (None, "txt", "csv") or served not in ("", "text/html")
        if expected_doc and (len(text) < SHORT_HTML_TEXT or ERROR_WORDS_RE.search(title)):
            return Sniffed("text/html", False, "html_error_page" + (f": {title[:80]}" if title else ""))
        ctype = "text/html"
        if ext not in (None, "txt", "csv"):
            note = f"html served for .{ext}"
    elif ext in TEXT_TYPES or served.startswith("text/"):
        ctype = TEXT_TYPES.get(ext or "", served if served.startswith("text/") else "text/plain")
    else:
        ctype = served or "application/octet-stream"
    if served and served != ctype and note is None and served not in ("application/octet-stream",
                                                                    "application/x-download",
                                                                    "application/force-download",
                                                                    "binary/octet-stream"):
        note = f"served as {served}"
    return Sniffed(ctype, True, note)
