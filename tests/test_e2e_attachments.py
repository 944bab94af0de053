"""End to end (issue 16): a loopback site whose notices carry PDF, DOCX and XLSX attachments (direct
links and CMS download endpoints), one shared by three notices, one 404, a PDF served as text/html,
an HTML error page served as a PDF, one over the size limit, and bad files (encrypted, truncated,
100 pages, zip bombs, a DOCX that is HTML). Two crawls as subprocesses on SQLite and PostgreSQL;
then search, export (JSONL + WARC validated with warcio), ``govnews attachments`` and ``stats``."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from common.clock import utcnow
from govnews.cli import main
from storage.attachments import counts, search_attachments, versions
from storage.db import make_engine
from storage.models import Article, ArticleAttachment, Attachment, AttachmentContent
from tests.support.attachsite import AttachmentSite, profile_toml, serve_attachment_site
from tests.support.crawl import scrapy_crawl

MAX_SIZE = 200_000
CRAWL_ARGS = ("-s", f"GOVNEWS_ATTACHMENT_MAX_SIZE={MAX_SIZE}", "-s", "GOVNEWS_ATTACHMENT_TEXT_TIMEOUT=20")


@pytest.fixture(scope="module")
def site():
    return AttachmentSite()


@pytest.fixture
def crawled(site, db_url, tmp_path):
    with serve_attachment_site(site) as server:
        profile = tmp_path / "attach.toml"
        profile.write_text(profile_toml(server.url), encoding="utf-8")
        scrapy_crawl(profile, db_url, *CRAWL_ARGS)
        first = list(server.attachment_requests())
        yield server, profile, first


def _rows(engine):
    with engine.connect() as conn:
        atts = {r.url.rsplit("/", 1)[-1]: r for r in conn.execute(
            select(Attachment, AttachmentContent.text_status, AttachmentContent.text, AttachmentContent.pages,
                   AttachmentContent.content_type.label("sniffed"), AttachmentContent.text_reason)
            .outerjoin(AttachmentContent, AttachmentContent.id == Attachment.content_id))}
        links = conn.execute(select(ArticleAttachment.attachment_id, func.count()).group_by(
            ArticleAttachment.attachment_id)).all()
        n_contents = conn.scalar(select(func.count()).select_from(AttachmentContent))
        n_articles = conn.scalar(select(func.count()).select_from(Article))
    return atts, dict(links), n_contents, n_articles


def test_attachments_end_to_end(crawled, db_url, site, tmp_path):
    server, profile, first = crawled
    engine = make_engine(db_url)
    atts, links, n_contents, n_articles = _rows(engine)
    assert n_articles == len(site.notices), "every notice is archived, whatever happened to its attachments"

    shared = atts["2c9a8b7d6e5f4a3b.pdf"]
    assert shared.outcome == "ok" and shared.text_status == "ok" and site.SEARCH_WORD in shared.text
    assert links[shared.id] == 3, "the shared PDF is linked to the three notices"
    assert shared.size > 0 and len(shared.sha256) == 64 and shared.fetched_at is not None
    # the same bytes at a second URL: one stored file
    assert atts["same-bytes-other-url.pdf"].content_id == shared.content_id
    docx = atts["downfile.jsp?classid=0&filename=2403011234567.docx"]
    assert docx.outcome == "ok" and docx.sniffed.endswith("wordprocessingml.document") and site.DOCX_WORD in docx.text
    xlsx = atts["download.jsp?id=7"]
    assert xlsx.outcome == "ok" and xlsx.sniffed.endswith("spreadsheetml.sheet") and site.XLSX_WORD in xlsx.text
    assert xlsx.declared_type == "application/vnd.ms-excel" and xlsx.reason == "served as application/vnd.ms-excel"

    # failures, each with its reason; the article archived anyway
    assert (atts["missing.pdf"].outcome, atts["missing.pdf"].reason, atts["missing.pdf"].status) == (
        "failed", "http_404", 404)
    assert atts["big.pdf"].outcome == "failed" and atts["big.pdf"].reason == "too_large"
    err = atts["error-as-pdf.pdf"]
    assert err.outcome == "failed" and err.reason.startswith("html_error_page") and err.content_id is None
    as_html = atts["pdf-as-html.pdf"]
    assert as_html.outcome == "ok" and as_html.sniffed == "application/pdf" and as_html.reason == "served as text/html"
    assert as_html.declared_type == "text/html" and as_html.text_status == "ok"
    assert atts["x.pdf"].outcome == "failed" and atts["x.pdf"].reason == "offsite"
    assert not any("elsewhere" in p for p in server.requests)

    # bad input: recorded with a reason, the crawl went on
    assert (atts["encrypted.pdf"].outcome, atts["encrypted.pdf"].text_status) == ("ok", "encrypted")
    assert atts["truncated.pdf"].text_status == "failed" and "PDF" in atts["truncated.pdf"].text_reason
    assert atts["hundred.pdf"].text_status == "ok" and atts["hundred.pdf"].pages == 100
    assert "page 99 hundredpages" in atts["hundred.pdf"].text
    assert atts["bomb.zip"].outcome == "ok" and atts["bomb.zip"].text_status == "unsupported"
    assert atts["bomb.xlsx"].text_status == "too_large" and "zip bomb" in atts["bomb.xlsx"].text_reason
    really = atts["really-html.docx"]
    assert really.outcome == "ok" and really.sniffed == "text/html" and really.reason == "html served for .docx"
    assert "实施细则" in really.text

    ok_urls = {p for p in first if atts[p.rsplit("/", 1)[-1]].outcome == "ok"}
    assert len(first) == len(set(first)), "each attachment fetched once per crawl"
    assert n_contents == len({a.content_id for a in atts.values() if a.content_id})

    # disclosure fields stored, visible in article_view
    with engine.connect() as conn:
        row = conn.execute(text("SELECT doc_number, issuer, written_at, validity, attachments FROM article_view "
                                "WHERE doc_number = '示府办发〔2024〕3号'")).one()
    assert row.issuer == "示范县人民政府办公室" and str(row.written_at).startswith("2024-03-0")
    assert row.validity == "有效" and row.attachments == 7

    # search: a word found only in an attachment
    hits = search_attachments(engine, site.SEARCH_WORD)
    assert {h.title for h in hits} >= {n.title for n in site.notices[:3]}
    assert all(h.attachment for h in hits)
    assert search_attachments(engine, site.XLSX_WORD)[0].attachment == "补助名单.xlsx"

    c = counts(engine)
    assert c["outcomes"]["failed"] >= 4 and c["reasons"]["http_404"] == 1 and c["links"] >= 16

    # a second crawl downloads no stored attachment again; failures are retried
    server.requests.clear()
    scrapy_crawl(profile, db_url, *CRAWL_ARGS)
    again = server.attachment_requests()
    assert not (set(again) & ok_urls), f"stored attachments fetched again: {set(again) & ok_urls}"
    failed_paths = {p for p in first if atts[p.rsplit("/", 1)[-1]].outcome == "failed"}
    assert set(again) <= failed_paths and set(again)
    atts2, links2, n_contents2, _ = _rows(engine)
    assert n_contents2 == n_contents and links2 == links
    assert atts2["missing.pdf"].attempts == 2
    engine.dispose()


def test_cli_search_export_list_stats(crawled, db_url, tmp_path, site):
    runner = CliRunner()
    env = {"GOVNEWS_DB_URL": db_url}
    res = runner.invoke(main, ["search", site.SEARCH_WORD, "--json"], env=env)
    assert res.exit_code == 0, res.output
    hits = [json.loads(line) for line in res.output.splitlines()]
    assert hits and all(h["attachment"] for h in hits)
    res = runner.invoke(main, ["search", site.SEARCH_WORD, "--no-attachments"], env=env)
    assert res.exit_code == 0 and "no matches" in res.output
    res = runner.invoke(main, ["search", "通知", "--attachments-only", "--json"], env=env)
    assert res.exit_code == 0

    res = runner.invoke(main, ["attachments", "--failed"], env=env)
    assert res.exit_code == 0, res.output
    assert "http_404" in res.output and "too_large" in res.output and "html_error_page" in res.output
    res = runner.invoke(main, ["attachments", "--site", "attach", "--json"], env=env)
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert len(rows) == len(site.files) + 2          # + the 404 and the off-site one
    res = runner.invoke(main, ["attachments", "--since", "not-a-date"], env=env)
    assert res.exit_code == 2 and "Traceback" not in res.output

    out = tmp_path / "a.jsonl"
    res = runner.invoke(main, ["export", "-o", str(out)], env=env)
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    rec = next(r for r in recs if r["doc_number"] == "示府办发〔2024〕1号")
    assert [a["name"] for a in rec["attachments"]] == ["专项资金管理办法.pdf", "申报指南.docx", "补助名单.xlsx"]
    assert all(set(a) >= {"name", "url", "sha256", "size", "content_type", "text_length"} for a in rec["attachments"])
    assert rec["attachments"][0]["text_length"] > 0

    warc = tmp_path / "a.warc.gz"
    res = runner.invoke(main, ["export", "--format", "warc", "-o", str(warc)], env=env)
    assert res.exit_code == 0, res.output
    from warcio.archiveiterator import ArchiveIterator
    uris = []
    with open(warc, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests=True):
            if record.rec_type == "response":
                uris.append(record.rec_headers.get_header("WARC-Target-URI"))
                record.content_stream().read()
    assert any(u.endswith("/files/2c9a8b7d6e5f4a3b.pdf") for u in uris)
    assert sum(u.endswith("/files/2c9a8b7d6e5f4a3b.pdf") for u in uris) == 1, "one record per attachment"
    import subprocess
    import sys
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    res = runner.invoke(main, ["stats"], env=env)
    assert res.exit_code == 0 and "attachments" in res.output

    res = runner.invoke(main, ["attachments", "--extract", "--all"], env=env)
    assert res.exit_code == 0, res.output
    assert "extracted" in res.output


# ------------------------------------------------------------------------------------ issue 16, last items
def _small_crawl(db_url, tmp_path):
    """A fresh site without the bad inputs (quick), served; crawled once."""
    small = AttachmentSite(bad_input=False)
    server_cm = serve_attachment_site(small)
    server = server_cm.__enter__()
    profile = tmp_path / "attach.toml"
    profile.write_text(profile_toml(server.url), encoding="utf-8")
    scrapy_crawl(profile, db_url, *CRAWL_ARGS)
    return small, server, server_cm, profile


def test_reextract_relinks_and_the_next_crawl_fetches_the_pending_one(db_url, tmp_path):
    small, server, server_cm, profile = _small_crawl(db_url, tmp_path)
    try:
        engine = make_engine(db_url)
        first = small.notices[0]                  # the PDF (shared), the DOCX and the XLSX (only here)
        xlsx_url = server.url.rstrip("/") + "/download.jsp?id=7"
        with engine.begin() as conn:              # as an older extractor left it: no links, the XLSX unknown
            aid = conn.scalar(select(Article.id).where(Article.url.like(f"%{first.path}")))
            conn.execute(ArticleAttachment.__table__.delete().where(ArticleAttachment.article_id == aid))
            conn.execute(Attachment.__table__.delete().where(Attachment.url == xlsx_url))
        env = {"GOVNEWS_DB_URL": db_url}
        runner = CliRunner()
        res = runner.invoke(main, ["reextract", "--site", "attach", "--dry-run", "--no-progress"], env=env)
        assert res.exit_code == 0, res.output
        dry = json.loads(res.output.strip().splitlines()[-1])
        assert (dry["links_added"], dry["links_pending"], dry["links_kept"]) == (3, 1, 0)
        with engine.connect() as conn:
            assert not conn.scalar(select(func.count()).select_from(ArticleAttachment)
                                   .where(ArticleAttachment.article_id == aid)), "--dry-run writes nothing"

        res = runner.invoke(main, ["reextract", "--site", "attach", "--no-progress"], env=env)
        assert res.exit_code == 0, res.output
        report = json.loads(res.output.strip().splitlines()[-1])
        assert (report["links_added"], report["links_pending"]) == (3, 1)
        with engine.connect() as conn:
            linked = dict(conn.execute(select(Attachment.url, Attachment.outcome).join(
                ArticleAttachment, ArticleAttachment.attachment_id == Attachment.id)
                .where(ArticleAttachment.article_id == aid)).all())
        assert len(linked) == 3 and linked[xlsx_url] == "pending"
        assert sum(v == "ok" for v in linked.values()) == 2, "known files linked without a download"
        res = runner.invoke(main, ["attachments", "--pending", "--json"], env=env)
        assert res.exit_code == 0, res.output
        pending = [json.loads(line) for line in res.output.splitlines()]
        assert [(p["url"], p["outcome"], p["name"], p["articles"]) for p in pending] == [
            (xlsx_url, "pending", "补助名单.xlsx", 1)]
        res = runner.invoke(main, ["stats"], env=env)
        assert res.exit_code == 0 and "pending 1" in res.output, res.output

        server.requests.clear()
        scrapy_crawl(profile, db_url, *CRAWL_ARGS)
        again = server.attachment_requests()
        assert "/download.jsp?id=7" in again, again
        assert not {"/files/2c9a8b7d6e5f4a3b.pdf", "/att/same-bytes-other-url.pdf"} & set(again)
        atts, links, _, _ = _rows(engine)
        xlsx = atts["download.jsp?id=7"]
        assert xlsx.outcome == "ok" and small.XLSX_WORD in xlsx.text and links[xlsx.id] == 1
        engine.dispose()
    finally:
        server_cm.__exit__(None, None, None)


def test_known_attachments_are_revalidated_by_age_not_downloaded_again(db_url, tmp_path):
    small, server, server_cm, profile = _small_crawl(db_url, tmp_path)
    try:
        engine = make_engine(db_url)
        before, links_before, n_contents, _ = _rows(engine)
        ok = {name for name, r in before.items() if r.outcome == "ok"}
        docx_path = "/module/download/downfile.jsp?classid=0&filename=2403011234567.docx"
        docx_name = docx_path.rsplit("/", 1)[-1]
        assert docx_name in ok and len(ok) >= 4

        # a crawl right after: nothing stored is requested
        server.requests.clear()
        scrapy_crawl(profile, db_url, *CRAWL_ARGS)
        assert not {p.rsplit("/", 1)[-1] for p in server.attachment_requests()} & ok
        # the clock moves on 40 days (the stored check times move back: no sleep); the DOCX changes
        with engine.begin() as conn:
            conn.execute(text("UPDATE attachments SET fetched_at = :t WHERE outcome = 'ok'"),
                         {"t": utcnow() - timedelta(days=40)})
        from tests.support.attachsite import Served, make_docx
        small.files[docx_path] = Served(docx_path, make_docx(["修订后的申报指南", "新增：候鸟专项"]),
                                        "application/octet-stream")
        server.requests.clear()
        server.not_modified.clear()
        start = utcnow()
        scrapy_crawl(profile, db_url, *CRAWL_ARGS)
        asked = {p.rsplit("/", 1)[-1] for p in server.attachment_requests()}
        assert ok <= asked, f"stale attachments not checked: {ok - asked}"
        not_modified = {p.rsplit("/", 1)[-1] for p in server.not_modified if p in small.files}   # not list pages
        assert not_modified == ok - {docx_name}, "304 for the unchanged"
        after, links_after, n_contents_after, _ = _rows(engine)
        assert links_after == links_before
        assert all(after[n].outcome == "ok" and after[n].fetched_at >= start for n in ok), "check times moved"
        assert all(after[n].content_id == before[n].content_id for n in ok - {docx_name})
        docx = after[docx_name]
        assert docx.content_id != before[docx_name].content_id and "候鸟专项" in docx.text
        assert n_contents_after == n_contents + 1
        with engine.connect() as conn:          # the old file is kept
            old = conn.execute(select(AttachmentContent.sha256, AttachmentContent.text)
                               .where(AttachmentContent.id == before[docx_name].content_id)).one()
        assert old.sha256 == before[docx_name].sha256 and small.DOCX_WORD in old.text
        [was] = versions(engine, server.url.rstrip("/") + docx_path)
        assert was["content_id"] == before[docx_name].content_id and was["replaced_at"] >= start

        # checked now: the next crawl requests none of them again
        server.requests.clear()
        scrapy_crawl(profile, db_url, *CRAWL_ARGS)
        assert not {p.rsplit("/", 1)[-1] for p in server.attachment_requests()} & ok
        engine.dispose()
    finally:
        server_cm.__exit__(None, None, None)
