"""What arrived (crawler/attachments/sniff.py) and its text (crawler/attachments/text.py): every bad
input is a status with a reason, within bounded time, in a worker process with limits."""
from __future__ import annotations

import resource
import time

import pytest

from crawler.attachments.sniff import sniff
from crawler.attachments.text import attachment_text, extract_contained
from crawler.containment import ContainedExtractor, Limits
from tests.support.attachsite import (
    ERROR_PAGE,
    HTML_AS_DOCX,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_xlsx,
    make_zip_bomb,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def worker():
    with ContainedExtractor(Limits(timeout=20, max_memory_mb=1536, max_rss_mb=768)) as ex:
        yield ex


def test_sniff_what_really_arrived():
    pdf = make_pdf(["x"])
    assert sniff(pdf, "text/html", "pdf") == sniff(pdf, "text/html", "pdf")
    s = sniff(pdf, "text/html; charset=utf-8", "pdf")
    assert (s.content_type, s.is_document, s.reason) == ("application/pdf", True, "served as text/html")
    s = sniff(ERROR_PAGE, "application/pdf", "pdf")
    assert not s.is_document and s.reason.startswith("html_error_page: 404")
    s = sniff(HTML_AS_DOCX, "application/msword", "docx")
    assert (s.content_type, s.is_document, s.reason) == ("text/html", True, "html served for .docx")
    assert sniff(make_docx(["a"]), "application/octet-stream", None).content_type == DOCX
    assert sniff(make_xlsx([["a"]]), "application/vnd.ms-excel", "xls").content_type == XLSX
    assert sniff(make_zip_bomb(size=2 * 1024 * 1024), None, "zip").content_type == "application/zip"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, None, "doc").content_type == "application/msword"
    assert sniff(b"", "application/pdf", "pdf").reason == "empty"
    assert sniff("序号,名称\n1,甲\n".encode(), "application/octet-stream", "csv").content_type == "text/csv"


def test_text_of_each_type():
    r = attachment_text(make_pdf(["alpha page", "beta page"]), "application/pdf")
    assert (r.status, r.pages) == ("ok", 2) and "alpha page" in r.text and "beta page" in r.text
    r = attachment_text(make_docx(["第一段", "第二段"], [["项目", "金额"]]), DOCX)
    assert r.status == "ok" and r.text.splitlines() == ["第一段", "第二段", "项目 | 金额"]
    r = attachment_text(make_xlsx([["村名", "金额"], ["白鹭村", 2000]]), XLSX)
    assert r.status == "ok" and "白鹭村 | 2000" in r.text
    r = attachment_text(HTML_AS_DOCX, "text/html")
    assert r.status == "ok" and "实施细则" in r.text
    assert attachment_text(b"\xd0\xcf\x11\xe0", "application/msword").status == "unsupported"


@pytest.mark.parametrize("name,data,ctype,status,reason", [
    ("encrypted", make_encrypted_pdf(), "application/pdf", "encrypted", "password"),
    ("truncated", make_pdf(["t"] * 5)[:300], "application/pdf", "failed", "unreadable PDF"),
    ("xlsx bomb", make_zip_bomb("xl/worksheets/sheet1.xml"), XLSX, "too_large", "zip bomb"),
    ("docx bomb", make_zip_bomb("word/document.xml"), DOCX, "too_large", "zip bomb"),
    ("not a docx", b"PK\x03\x04garbage", DOCX, "failed", "zip"),
    ("zip", make_zip_bomb(), "application/zip", "unsupported", "application/zip"),
])
def test_bad_input_recorded_with_a_reason_in_bounded_time(worker, name, data, ctype, status, reason):
    started = time.monotonic()
    r = extract_contained(worker, data, ctype)
    assert time.monotonic() - started < 15, name
    assert r.status == status and reason in r.reason, (name, r)


def test_hundred_pages_and_page_cap(worker):
    pdf = make_pdf([f"page {i}" for i in range(100)])
    r = extract_contained(worker, pdf, "application/pdf")
    assert (r.status, r.pages) == ("ok", 100) and "page 99" in r.text
    r = extract_contained(worker, pdf, "application/pdf", max_pages=10)
    assert r.pages == 100 and "page 9" in r.text and "page 10" not in r.text and r.reason == "first 10 of 100 pages"


def test_deadline_kills_the_worker_and_the_next_file_works():
    pdf = make_pdf([f"page {i}" for i in range(300)])
    with ContainedExtractor(Limits(timeout=0.05, max_memory_mb=1536, max_rss_mb=768)) as ex:
        r = extract_contained(ex, pdf, "application/pdf")
        assert r.status == "timeout" and "more than" in r.reason
        ex.limits = Limits(timeout=20, max_memory_mb=1536, max_rss_mb=768)
        assert extract_contained(ex, make_pdf(["after"]), "application/pdf").status == "ok"


def test_parent_memory_stays_flat(worker):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    extract_contained(worker, make_zip_bomb("xl/worksheets/sheet1.xml"), XLSX)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024   # KiB: under 100 MB
