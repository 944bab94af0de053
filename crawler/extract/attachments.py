"""Attachments of an article page: ``find_attachments(tree_or_html, url) -> [{"url", "name"}]``.

Government notices link the document itself as 附件: ``现将《…办法》印发给你们`` and the 办法 is a
PDF, DOC or XLS. Found here:

* links whose path ends in a document extension (:data:`EXTENSIONS`: pdf, doc(x), xls(x), wps, et,
  dps, ofd, ppt(x), zip, rar, 7z, txt, csv), TRS ``/files/<hex>.pdf`` and ``P020….pdf`` included;
* CMS download endpoints whose path does not end in the extension: Hanweb
  ``/module/download/downfile.jsp?classid=0&filename=x.pdf``, ``download.jsp?id=``,
  ``attachment.do?…``, ``…?fileName=x.docx`` (a query value naming a document), or a download
  script (:data:`ENDPOINT_RE`) whose link text names a document or says 附件/下载;
* ``<embed>``/``<object>``/``<iframe>`` sources that are documents (inline PDF viewers).

Links in navigation, headers and footers (``nav``/``menu``/``footer``/… in the class or id of an
ancestor) are site furniture, not the article's attachments, unless they sit in a 附件 area. The name
is the link text (else its ``title``, else the file name from the URL); URLs are absolute, without
fragment, each once, in page order. Pure: no I/O.
"""
from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

__all__ = ["ENDPOINT_RE", "EXTENSIONS", "attachment_ext", "find_attachments", "is_attachment_url"]

EXTENSIONS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "dps", "ofd", "ppt", "pptx", "zip", "rar",
              "7z", "txt", "csv")
_EXT_RE = re.compile(r"\.(" + "|".join(EXTENSIONS) + r")$", re.I)
#: a document name inside a text or a query value
_NAME_EXT_RE = re.compile(r"\.(" + "|".join(EXTENSIONS) + r")(?:[\s)）\]】]|$)", re.I)
#: download scripts of CMSs (Hanweb downfile.jsp, download.jsp?id=, attachment.do, DownLoad.aspx, ...)
ENDPOINT_RE = re.compile(
    r"(?:downfile|download|downloadfile|filedownload|down|getfile|attach|attachment|fujian)"
    r"(?:\.(?:jsp|do|action|aspx?|php|ashx)|/|$)", re.I)
#: query keys that carry the file name or path
NAME_KEYS = ("filename", "file_name", "fname", "name", "filepath", "path", "file", "realname", "downname",
             "title", "oldname", "attachname")
#: text of a link or area that says "attachment"
ATTACH_WORDS_RE = re.compile(r"附件|附\s*件|相关附件|附件下载|下载|下載|附件\d|文件下载")
#: ancestors whose class/id marks site furniture
FURNITURE_RE = re.compile(r"(?:^|[\s_-])(?:nav|navbar|menu|footer|foot|header|head|topbar|sidebar|breadcrumb|"
                          r"crumb|friend|links|yqlj|copyright|bottom)(?:$|[\s_-]|\d)", re.I)
FURNITURE_TAGS = ("nav", "footer", "header")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")
NAME_MAX = 300
#: a document extension anywhere in a link (the cheap test before the URL is resolved)
_EXT_ANY_RE = re.compile(r"\.(?:" + "|".join(EXTENSIONS) + r")", re.I)


def _may_be_attachment(href: str) -> bool:
    """False only for a link that cannot be an attachment whatever it resolves against (a base URL whose
    path names no download script): its text names no document extension and no download script, and it
    has no query (nor ``;params``, nor an empty path that takes the base's query). Exact: the resolved
    path ends in the link's last segment, and a download-script word lies inside one segment."""
    if "?" in href or ";" in href:
        return True
    probe = unquote(href.replace("\\", "/").replace("\t", "").replace("\r", "").replace("\n", ""))
    return bool(_EXT_ANY_RE.search(probe) or ENDPOINT_RE.search(probe))


def attachment_ext(url: str, name: str | None = None) -> str | None:
    """The document extension of an attachment (from its path, a name-carrying query value or its
    link text), lower-case, or ``None``."""
    parts = urlsplit(url)
    m = _EXT_RE.search(unquote(parts.path))
    if m:
        return m.group(1).lower()
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in NAME_KEYS or _EXT_RE.search(value.strip()):
            m = _EXT_RE.search(unquote(value).strip())
            if m:
                return m.group(1).lower()
    if name:
        m = _NAME_EXT_RE.search(name.strip() + " ")
        if m:
            return m.group(1).lower()
    return None


def is_attachment_url(url: str, text: str = "") -> bool:
    """Whether a link (URL + text) leads to an attachment (see the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    path = unquote(parts.path)
    if _EXT_RE.search(path):
        return True
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if (key.lower() in NAME_KEYS or "file" in key.lower()) and _EXT_RE.search(unquote(value).strip()):
            return True
    if ENDPOINT_RE.search(posixpath.basename(path) or path) or ENDPOINT_RE.search(path):
        return bool(_NAME_EXT_RE.search(text + " ") or ATTACH_WORDS_RE.search(text) or parts.query)
    return False


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _in_furniture(el) -> bool:
    node = el.getparent()
    while node is not None and node.tag not in ("body", "html"):
        if node.tag in FURNITURE_TAGS:
            return True
        marks = f"{node.get('class') or ''} {node.get('id') or ''}"
        if marks.strip() and FURNITURE_RE.search(marks):
            return True
        node = node.getparent()
    return False


def _in_attachment_area(el) -> bool:
    """An ancestor (up to a few levels) whose class/id or leading text says 附件."""
    node, level = el.getparent(), 0
    while node is not None and level < 4 and node.tag not in ("body", "html"):
        marks = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
        if any(w in marks for w in ("fujian", "attach", "appendix", "fj", "download", "xgfj")):
            return True
        if ATTACH_WORDS_RE.search((node.text or "")[:20]):
            return True
        node, level = node.getparent(), level + 1
    prev = el.getprevious()
    return bool(ATTACH_WORDS_RE.search((el.getparent().text or "") if prev is None and el.getparent() is not None
                                       else (prev.tail or "") if prev is not None else ""))


def _name_from_url(url: str) -> str:
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in NAME_KEYS and _EXT_RE.search(unquote(value).strip()):
            return posixpath.basename(unquote(value).strip().replace("\\", "/"))
    return posixpath.basename(unquote(parts.path)) or url


def _absolute(href: str, base: str | None) -> str | None:
    href = (href or "").strip()
    if "\\" in href and "://" not in href:      # Windows paths in old CMS templates
        href = href.replace("\\", "/")
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        url = urljoin(base or "", href)
        parts = urlsplit(url)
    except ValueError:                          # "http://[bad/": not a URL a crawler could fetch
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def find_attachments(tree: Any, url: str | None = None) -> list[dict[str, str]]:
    """The attachments linked from a page: ``[{"url": absolute URL, "name": link text}]``.

    ``tree`` is an lxml tree (:func:`crawler.extract.html.parse_html`) or decoded HTML text; ``url``
    the page's URL (relative links). A ``<base href>`` is honoured.
    """
    if isinstance(tree, (str, bytes)):
        from .decode import decode_html
        from .html import parse_html
        text = tree if isinstance(tree, str) else decode_html(tree, None)[0]
        tree = parse_html(text)
    if tree is None:
        return []
    base = url
    for b in tree.iter("base"):
        if b.get("href"):
            try:
                base = urljoin(url or "", b.get("href"))
            except ValueError:
                pass
            break
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    # links that cannot be attachments are skipped before urljoin (most of a page's links), unless the
    # base itself names a download script (then any relative link may resolve to one)
    try:
        base_path = unquote(urlsplit(base or "").path)
    except ValueError:
        base_path = ""
    prefilter = not ENDPOINT_RE.search(base_path) and not _EXT_ANY_RE.search(base_path)
    for el in tree.iter("a", "area", "embed", "object", "iframe"):
        href = el.get("href") if el.tag in ("a", "area") else (el.get("src") or el.get("data"))
        if prefilter and href and not _may_be_attachment(href):
            continue
        target = _absolute(href or "", base)
        if target is None or target in seen:
            continue
        text = _text(el) if el.tag == "a" else ""
        title = (el.get("title") or "").strip()
        probe = f"{text} {title}".strip()
        if not is_attachment_url(target, probe):
            continue
        if el.tag != "a" and not _EXT_RE.search(unquote(urlsplit(target).path)):
            continue
        if _in_furniture(el) and not _in_attachment_area(el):
            continue
        name = text if text and not re.fullmatch(r"(?:点击)?(?:下载|下載|查看|附件)\s*\d*", text) else ""
        name = name or title or _name_from_url(target)
        seen.add(target)
        out.append({"url": target, "name": name[:NAME_MAX]})
    return out
