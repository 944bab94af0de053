"""Issue 14 (export) and issue 17 (WARC-Target-URI): atomic files, --force, clear path errors,
CSV --excel (BOM), images in JSONL/CSV, WARC warcinfo + request records, CR/LF URLs encoded."""
from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from crawler.extract.article import Article
from govnews.cli import main
from govnews.commands.export import warc_target_uri

URL = "http://127.0.0.1/a/t20241024_1.html"
EVIL = "http://127.0.0.1/a/x.html\r\nWARC-Type: metadata\r\n"


def run(*args):
    return CliRunner().invoke(main, list(args))


def fill(archive, url=URL):
    archive.ensure_site("demo", "示范县", ["127.0.0.1"])
    page = archive.record_page("demo", url, status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                               body="<html><body><p>正文</p></body></html>".encode(), outcome="article")
    archive.store_article("demo", url, Article(
        url=url, title="=HYPERLINK(1)", body="近日，记者来到经开区连接器产业园项目，看到现场塔吊耸立。",
        images=[{"src": "http://127.0.0.1/a/1.jpg", "alt": "图一"}, {"src": "http://127.0.0.1/a/2.png"}]),
        page_id=page)


def test_an_existing_file_is_kept_without_force_and_never_truncated_by_an_error(archive, db_url, tmp_path):
    """Was: -o FILE truncated the previous export before the query ran; a database error left 0 bytes."""
    fill(archive)
    out = tmp_path / "a.jsonl"
    out.write_text("previous export\n", encoding="utf-8")
    refused = run("export", "--db", db_url, "-o", str(out))
    assert refused.exit_code == 1 and "exists: pass --force" in refused.output
    assert out.read_text(encoding="utf-8") == "previous export\n"
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"")                                  # a database error during the export
    failed = run("export", "--db", f"sqlite:///{broken}", "-o", str(out), "--force")
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert out.read_text(encoding="utf-8") == "previous export\n", "the previous export is intact"
    ok = run("export", "--db", db_url, "-o", str(out), "--force")
    assert ok.exit_code == 0 and json.loads(out.read_text(encoding="utf-8"))["url"] == URL
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "no temp file left"


def test_jsonl_and_csv_include_images_and_excel_gets_a_bom(archive, db_url, tmp_path):
    fill(archive)
    rec = json.loads(run("export", "--db", db_url, "--site", "demo", "--site", "other").stdout)
    assert [i["src"] for i in rec["images"]] == ["http://127.0.0.1/a/1.jpg", "http://127.0.0.1/a/2.png"]
    out = tmp_path / "a.csv"
    assert run("export", "--db", db_url, "--format", "csv", "--excel", "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["images"] == "http://127.0.0.1/a/1.jpg http://127.0.0.1/a/2.png"
    assert row["title"] == "'=HYPERLINK(1)", "formulas still defused"
    plain = tmp_path / "b.csv"
    run("export", "--db", db_url, "--format", "csv", "-o", str(plain))
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert run("export", "--db", db_url, "--excel").exit_code == 2, "--excel is for CSV"


def test_warc_has_warcinfo_request_records_and_a_crlf_url_cannot_inject_headers(archive, db_url, tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    fill(archive, EVIL)
    out = tmp_path / "a.warc.gz"
    assert run("export", "--db", db_url, "--format", "warc", "-o", str(out)).exit_code == 0
    with open(out, "rb") as f:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(f)]
    assert [t for t, _ in records] == ["warcinfo", "response", "request"]      # warcio's pair order
    assert records[1][1] == records[2][1] == "http://127.0.0.1/a/x.html%0D%0AWARC-Type:%20metadata%0D%0A"
    assert warc_target_uri("http://a.gov.cn/新闻/1.html") == "http://a.gov.cn/%E6%96%B0%E9%97%BB/1.html"
    assert warc_target_uri("http://a.gov.cn/a?b=1&c=%20") == "http://a.gov.cn/a?b=1&c=%20"
