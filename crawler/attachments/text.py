"""Text of an attachment file: ``attachment_text(data, content_type) -> TextResult``.

PDF with pypdf, DOCX with python-docx, XLSX with openpyxl (read-only), OFD from its page XML, HTML
and plain text decoded like pages; other types (doc, xls, wps, et, dps, ppt(x), zip, rar, 7z) are
kept without text and flagged ``unsupported``. Bounded by construction where the libraries allow it:
at most ``max_pages`` PDF pages / ``max_rows`` sheet rows, at most ``max_chars`` of text, and ZIP
containers (docx/xlsx/ofd) are refused before opening when they would expand past ``max_unzipped``
bytes or by a ratio typical of a zip bomb. Time and memory are bounded from outside:
:func:`extract_contained` runs this in a worker process (:class:`crawler.containment.ContainedExtractor`)
with a deadline and memory caps, so a PDF bomb or a 2,000-page scan cannot stall the crawl.

Statuses: ``ok``, ``empty`` (a scan without a text layer), ``unsupported``, ``encrypted``,
``too_large``, ``failed`` (the library could not read it), ``timeout`` (from the worker).
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass

from common.text import to_simplified

__all__ = ["MAX_CHARS", "MAX_PAGES", "TextResult", "attachment_text", "extract_contained", "normalise_text"]

MAX_PAGES = 300
MAX_ROWS = 20_000
MAX_CHARS = 2_000_000
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
REASON_MAX = 300


@dataclass
class TextResult:
    status: str
    text: str | None = None
    reason: str | None = None
    pages: int | None = None
    #: seconds the extraction itself took (measured where it ran: in the worker)
    seconds: float = 0.0


def normalise_text(text: str) -> str:
    """Lines stripped, runs of blank lines collapsed, NULs dropped (the text is stored as it is
    otherwise; the simplified copy for search is made by storage)."""
    text = text.replace("\x00", "")
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip()


def _done(parts: list[str], pages: int | None = None, reason: str | None = None) -> TextResult:
    text = normalise_text("\n".join(parts))
    if len(text) > MAX_CHARS:
        text, reason = text[:MAX_CHARS], f"text cut at {MAX_CHARS} characters"
    if not text:
        return TextResult("empty", None, reason or "no text layer", pages)
    return TextResult("ok", text, reason, pages)


def _zip_guard(data: bytes, max_unzipped: int) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return f"bad zip: {exc}"
    if total > max_unzipped or (len(data) and total / len(data) > MAX_ZIP_RATIO and total > 10 * 1024 * 1024):
        return f"expands to {total} bytes from {len(data)} (zip bomb?)"
    return None


def _pdf(data: bytes, max_pages: int) -> TextResult:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return TextResult("encrypted", None, "encrypted PDF (a password is needed)")
            except Exception as exc:  # unsupported encryption algorithm, ...
                return TextResult("encrypted", None, f"encrypted PDF: {type(exc).__name__}: {exc}"[:REASON_MAX])
        n = len(reader.pages)
        parts = []
        for i, page in enumerate(reader.pages):
            if i >= max_pages:
                break
            parts.append(page.extract_text() or "")
    except FileNotDecryptedError as exc:
        return TextResult("encrypted", None, f"encrypted PDF: {exc}"[:REASON_MAX])
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError,
            RecursionError) as exc:
        return TextResult("failed", None, f"unreadable PDF: {type(exc).__name__}: {exc}"[:REASON_MAX])
    return _done(parts, n, f"first {max_pages} of {n} pages" if n > max_pages else None)


def _docx(data: bytes) -> TextResult:
    import docx

    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text.strip() for c in row.cells))
    return _done(parts)


def _xlsx(data: bytes, max_rows: int) -> TextResult:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts, rows, cut = [], 0, False
    try:
        for ws in wb.worksheets:
            parts.append(f"[{ws.title}]")
            for row in ws.iter_rows(values_only=True):
                rows += 1
                if rows > max_rows:
                    cut = True
                    break
                cells = ["" if v is None else str(v) for v in row]
                if any(cells):
                    parts.append(" | ".join(cells).rstrip(" |"))
            if cut:
                break
    finally:
        wb.close()
    return _done(parts, len(wb.worksheets), f"first {max_rows} rows" if cut else None)


_OFD_TEXT_RE = re.compile(rb"<(?:ofd:)?TextCode[^>]*>(.*?)</(?:ofd:)?TextCode>", re.S)


def _ofd(data: bytes) -> TextResult:
    import html

    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        pages = sorted(n for n in z.namelist() if re.search(r"Pages/Page_\d+/Content\.xml$", n))
        for name in pages:
            found = _OFD_TEXT_RE.findall(z.read(name))
            parts.append("".join(html.unescape(m.decode("utf-8", "replace")) for m in found))
    return _done(parts, len(pages))


def _html(data: bytes) -> TextResult:
    from crawler.extract.decode import decode_html
    from crawler.extract.html import parse_html

    text, _ = decode_html(data, None)
    tree = parse_html(text)
    if tree is None:
        return TextResult("empty", None, "empty HTML")
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return _done([tree.text_content()])


def _plain(data: bytes) -> TextResult:
    from crawler.extract.decode import decode_html

    text, _ = decode_html(data, None)
    return _done([text])


def attachment_text(data: bytes, content_type: str | None, *, max_pages: int = MAX_PAGES, max_rows: int = MAX_ROWS,
                    max_unzipped: int = MAX_UNZIPPED) -> TextResult:
    """The text of one file of the (sniffed) ``content_type`` (see the module docstring). Never raises
    for bad input: the problem is the result's ``reason``."""
    import time

    started = time.perf_counter()
    result = _attachment_text(data, content_type, max_pages=max_pages, max_rows=max_rows, max_unzipped=max_unzipped)
    result.seconds = time.perf_counter() - started
    return result


def _attachment_text(data: bytes, content_type: str | None, *, max_pages: int, max_rows: int,
                     max_unzipped: int) -> TextResult:
    ctype = (content_type or "").lower()
    try:
        if ctype == "application/pdf":
            return _pdf(data, max_pages)
        if ctype.endswith(("wordprocessingml.document", "spreadsheetml.sheet")) or ctype == "application/ofd":
            problem = _zip_guard(data, max_unzipped)
            if problem:
                return TextResult("too_large" if "expands" in problem else "failed", None, problem)
            if ctype.endswith("wordprocessingml.document"):
                return _docx(data)
            if ctype.endswith("spreadsheetml.sheet"):
                return _xlsx(data, max_rows)
            return _ofd(data)
        if ctype == "text/html":
            return _html(data)
        if ctype.startswith("text/"):
            return _plain(data)
    except MemoryError:
        raise        # the worker's limit: the caller records it
    except Exception as exc:  # a library's error on a malformed file: recorded, never raised
        return TextResult("failed", None, f"{type(exc).__name__}: {exc}"[:REASON_MAX])
    return TextResult("unsupported", None, f"no text extractor for {ctype or 'unknown type'}")


def extract_contained(extractor, data: bytes, content_type: str | None, **limits) -> TextResult:
    """:func:`attachment_text` in ``extractor``'s worker (a ``crawler.containment.ContainedExtractor``;
    ``None``: in this process); a stopped worker becomes ``timeout`` / ``too_large`` / ``failed``."""
    from crawler.containment import ExtractCrashed, ExtractMemory, ExtractTimeout

    if extractor is None:
        try:
            return attachment_text(data, content_type, **limits)
        except MemoryError:
            return TextResult("too_large", None, "out of memory")
    try:
        return extractor.call(attachment_text, data, content_type, **limits)
    except ExtractTimeout as exc:
        return TextResult("timeout", None, f"text extraction: {exc}")
    except ExtractMemory as exc:
        return TextResult("too_large", None, f"text extraction: {exc}")
    except ExtractCrashed as exc:
        return TextResult("failed", None, f"text extraction: {exc}")


def simplified(text: str | None) -> str | None:
    return to_simplified(text) if text else text
