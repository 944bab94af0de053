"""A loopback government site whose notices carry attachments (issue 16 tests and benchmark).

Files are generated here: PDFs by a small PDF writer (:func:`make_pdf`, any number of pages of
ASCII text), DOCX with python-docx, XLSX with openpyxl, an encrypted PDF with pypdf, a truncated
PDF, a zip bomb, HTML pretending to be documents. :class:`AttachmentSite` lays out notices (each a
Hanweb-style page with a 信息公开 table and an 附件 list) and serves them with
:func:`serve_attachment_site`; every request path is recorded in ``server.requests``, ETags are sent
and honoured (304).
"""
from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# ------------------------------------------------------------------------------------ generators
def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF (1.4, Helvetica) with one line of ASCII text per page."""
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 font, then (page, content) pairs
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, line in enumerate(pages):
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 3 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def make_xlsx(rows: list[list[object]], title: str = "名单") -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def make_encrypted_pdf(password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf(["confidential budget"]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_zip_bomb(member: str = "zeros.bin", size: int = 64 * 1024 * 1024) -> bytes:
    """A small zip whose member expands to ``size`` bytes of zeros."""
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open(member, "w", force_zip64=True) as fh:
        for _ in range(size // len(chunk)):
            fh.write(chunk)
    return out.getvalue()


ERROR_PAGE = ("<html><head><title>404 文件不存在</title></head><body><h1>对不起，您访问的文件不存在或已被删除</h1>"
              "<p><a href='/'>返回首页</a></p></body></html>").encode()
HTML_AS_DOCX = ("<html><head><meta charset='utf-8'><title>实施细则</title></head><body>"
                + "<p>本细则是以网页形式保存的文档，内容为乡村振兴项目资金管理的实施细则，共二十条。</p>" * 12
                + "</body></html>").encode()


# ------------------------------------------------------------------------------------ the site
@dataclass
class Served:
    path: str
    body: bytes
    content_type: str
    status: int = 200

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Notice:
    path: str
    title: str
    attachments: list[tuple[str, str]]          # (href, link text)
    doc_number: str
    body_words: str = ""


#: one sentence per notice, so that notices are different articles (dedup would merge equal bodies)
BODY_VARIANTS = ["本通知所称专项资金，是指县财政预算安排用于支持乡村产业发展的资金，实行专款专用。",
                 "转发单位应当结合本地实际制定配套措施，并于每季度末报送执行情况和存在的困难。",
                 "申报材料包括申请表、项目可行性报告、资金使用计划和相关证明材料，逾期不再受理。",
                 "对于文件格式异常、无法打开的附件，请与县政府办公室信息科联系，我们将及时更新。",
                 "基准测试通知的正文在这里，用于衡量附件下载和文本抽取在整个抓取中所占的时间。"]
_FILLER = "农业工业交通水利教育卫生文化旅游环境资源财政税收金融审计民政社保住房规划城建应急安全市场监管科技人才"


def _filler(k: int) -> str:
    """A sentence of its own per benchmark notice (deterministic), so dedup keeps them apart."""
    import random
    rnd = random.Random(k)
    return "".join(rnd.choice(_FILLER) for _ in range(160)) + "。"


DISCLOSURE = """<table class="xxgk"><tr><td>索引号：</td><td>{index_no}</td><td>发布机构：</td><td>示范县人民政府办公室</td></tr>
<tr><td>文号：</td><td>{doc_number}</td><td>成文日期：</td><td>2024-03-0{day}</td></tr>
<tr><td>主题分类：</td><td>综合政务</td><td>有效性：</td><td>有效</td></tr></table>"""


@dataclass
class AttachmentSite:
    """Notices with attachments; ``files`` maps paths to what is served. ``scale`` repeats the
    regular notices (benchmark)."""

    bad_input: bool = True
    scale: int = 1
    files: dict[str, Served] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)

    SEARCH_WORD = "Quokkafund"             # only in the shared PDF
    DOCX_WORD = "蓝鲸专项"                  # only in the DOCX
    XLSX_WORD = "白鹭村"                    # only in the XLSX

    def __post_init__(self) -> None:
        pdf = make_pdf([f"Implementation rules of the {self.SEARCH_WORD} programme", "Article two: funds"])
        docx_ = make_docx([f"{self.DOCX_WORD}资金申报指南", "申报单位应当如实填写申报书。"], [["项目", "金额"], ["道路", "100"]])
        xlsx = make_xlsx([["序号", "村名", "金额"], [1, self.XLSX_WORD, 2000], [2, "青山村", 3000]])
        f = self.files
        f["/files/2c9a8b7d6e5f4a3b.pdf"] = Served("/files/2c9a8b7d6e5f4a3b.pdf", pdf, "application/pdf")
        f["/module/download/downfile.jsp?classid=0&filename=2403011234567.docx"] = Served(
            "/module/download/downfile.jsp?classid=0&filename=2403011234567.docx", docx_, "application/octet-stream")
        f["/download.jsp?id=7"] = Served("/download.jsp?id=7", xlsx, "application/vnd.ms-excel")
        f["/att/same-bytes-other-url.pdf"] = Served("/att/same-bytes-other-url.pdf", pdf, "application/pdf")
        f["/att/pdf-as-html.pdf"] = Served("/att/pdf-as-html.pdf", make_pdf(["served as text html"]), "text/html")
        f["/att/error-as-pdf.pdf"] = Served("/att/error-as-pdf.pdf", ERROR_PAGE, "application/pdf")
        f["/att/big.pdf"] = Served("/att/big.pdf", make_pdf(["big"] * 3) + b"%" + b"0" * 400_000, "application/pdf")
        notices = [
            Notice("/art/2024/3/1/art_1_1.html", "关于印发专项资金管理办法的通知", [
                ("/files/2c9a8b7d6e5f4a3b.pdf", "专项资金管理办法.pdf"),
                ("/module/download/downfile.jsp?classid=0&filename=2403011234567.docx", "申报指南.docx"),
                ("/download.jsp?id=7", "补助名单.xlsx")], "示府办发〔2024〕1号"),
            Notice("/art/2024/3/2/art_1_2.html", "关于转发专项资金管理办法的通知", [
                ("/files/2c9a8b7d6e5f4a3b.pdf", "管理办法")], "示府办发〔2024〕2号"),
            Notice("/art/2024/3/3/art_1_3.html", "关于做好专项资金申报工作的通知", [
                ("/files/2c9a8b7d6e5f4a3b.pdf", "专项资金管理办法"),
                ("/att/same-bytes-other-url.pdf", "管理办法（另一网址）"),
                ("/att/missing.pdf", "已删除的附件.pdf"),
                ("/att/pdf-as-html.pdf", "网页类型的PDF.pdf"),
                ("/att/error-as-pdf.pdf", "错误页.pdf"),
                ("/att/big.pdf", "超大附件.pdf"),
                ("http://elsewhere.example.com/x.pdf", "外站附件.pdf")], "示府办发〔2024〕3号"),
        ]
        if self.bad_input:
            f["/att/encrypted.pdf"] = Served("/att/encrypted.pdf", make_encrypted_pdf(), "application/pdf")
            whole = make_pdf(["truncated file"] * 5)
            f["/att/truncated.pdf"] = Served("/att/truncated.pdf", whole[: len(whole) // 2], "application/pdf")
            f["/att/hundred.pdf"] = Served("/att/hundred.pdf", make_pdf([f"page {i} hundredpages"
                                                                         for i in range(100)]), "application/pdf")
            f["/att/bomb.zip"] = Served("/att/bomb.zip", make_zip_bomb(), "application/zip")
            bomb_xlsx = make_zip_bomb("xl/worksheets/sheet1.xml")
            f["/att/bomb.xlsx"] = Served("/att/bomb.xlsx", bomb_xlsx, "application/octet-stream")
            f["/att/really-html.docx"] = Served("/att/really-html.docx", HTML_AS_DOCX, "application/msword")
            notices.append(Notice("/art/2024/3/4/art_1_4.html", "关于公布问题文件的通知", [
                ("/att/encrypted.pdf", "加密文件.pdf"), ("/att/truncated.pdf", "截断文件.pdf"),
                ("/att/hundred.pdf", "一百页.pdf"), ("/att/bomb.zip", "压缩包.zip"), ("/att/bomb.xlsx", "炸弹.xlsx"),
                ("/att/really-html.docx", "实施细则.docx")], "示府办发〔2024〕4号"))
        for k in range(1, self.scale):       # benchmark copies: fresh files per notice
            pdf_k = make_pdf([f"copy {k} page {i} of the rules" for i in range(5)])
            docx_k = make_docx([f"第{k}号通知的附件正文。"] * 20)
            xlsx_k = make_xlsx([[i, f"村{k}-{i}", i * 10] for i in range(50)])
            paths = [(f"/files/bench{k}.pdf", pdf_k, "application/pdf", "办法.pdf"),
                     (f"/files/bench{k}.docx", docx_k, "application/octet-stream", "指南.docx"),
                     (f"/files/bench{k}.xlsx", xlsx_k, "application/octet-stream", "名单.xlsx")]
            for p, body, ctype, _ in paths:
                f[p] = Served(p, body, ctype)
            notices.append(Notice(f"/art/2024/4/{k % 28 + 1}/art_2_{k}.html", f"第{k}号基准测试通知",
                                  [(p, n) for p, _, _, n in paths], f"示府办发〔2024〕{100 + k}号",
                                  body_words=_filler(k)))
        self.notices = notices

    def notice_html(self, i: int, n: Notice) -> bytes:
        atts = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in n.attachments)
        day = (i % 9) + 1
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{n.title}_示范县人民政府</title></head>
<body><div class="header"><a href="/">首页</a></div>
{DISCLOSURE.format(index_no=f"11330000MB0000000X/2024-{i:05d}", doc_number=n.doc_number, day=day)}
<div class="article"><h1>{n.title}</h1><p>发布日期：2024-03-0{day}</p>
<div id="zoom"><p>各乡镇人民政府，县政府各部门：</p>
<p>{n.title}，现将有关文件印发给你们，请结合实际认真贯彻执行。执行中遇到的问题，请及时向县政府办公室反映。</p>
<p>{n.body_words or BODY_VARIANTS[i % len(BODY_VARIANTS)]}（{n.doc_number}）</p>
<p>各单位要高度重视，加强组织领导，明确责任分工，确保各项工作落到实处，取得实效。</p>
<p>附件：</p><ul class="fujian">{atts}</ul>
<p>示范县人民政府办公室</p></div></div>
<div class="footer">示范县人民政府 版权所有</div></body></html>""".encode()

    def list_html(self) -> bytes:
        items = "".join(f'<li><a href="{n.path}">{n.title}</a><span>2024-03-0{(i % 9) + 1}</span></li>'
                        for i, n in enumerate(self.notices))
        return (f'<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
                f'<ul class="list">{items}</ul></body></html>').encode()

    def resolve(self, path: str) -> Served | None:
        if path in ("/", "/index.html"):
            return Served(path, self.list_html(), "text/html; charset=utf-8")
        for i, n in enumerate(self.notices):
            if n.path == path:
                return Served(path, self.notice_html(i, n), "text/html; charset=utf-8")
        if path == "/robots.txt":
            return Served(path, b"User-agent: *\nAllow: /\n", "text/plain")
        return self.files.get(path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server.site_server      # type: ignore[attr-defined]
        with srv.lock:
            srv.requests.append(self.path)
        served = srv.site.resolve(self.path)
        if served is None:
            body = ERROR_PAGE
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("If-None-Match") == served.etag:
            with srv.lock:
                srv.not_modified.append(self.path)
            self.send_response(304)
            self.send_header("ETag", served.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(served.status)
        self.send_header("Content-Type", served.content_type)
        self.send_header("Content-Length", str(len(served.body)))
        self.send_header("ETag", served.etag)
        self.end_headers()
        self.wfile.write(served.body)


@dataclass
class SiteServer:
    site: AttachmentSite
    url: str = ""
    requests: list[str] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attachment_requests(self) -> list[str]:
        with self.lock:
            return [p for p in self.requests if p in self.site.files or p.startswith("/att/")]


@contextmanager
def serve_attachment_site(site: AttachmentSite) -> Iterator[SiteServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv = SiteServer(site, url=f"http://127.0.0.1:{httpd.server_address[1]}/")
    httpd.site_server = srv          # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()


def profile_toml(base_url: str, name: str = "attach") -> str:
    base = base_url.rstrip("/")
    return "\n".join([
        f'name = "{name}"', 'title = "示范县（附件）"', f'start_urls = ["{base}/"]', 'allowed_domains = ["127.0.0.1"]',
        'allow_private_hosts = ["127.0.0.1"]', "", "[hints]", "download_delay = 0", "max_pages = 500",
        r"article_url_regex = '/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$'", ""])
