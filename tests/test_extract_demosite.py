"""``extract()`` over every article page of the bundled demo site, checked against ``expected_articles``.

Field values are compared after OpenCC t2s on both sides (``expected_articles`` mixes scripts: mirror
sources stay traditional, editors/columns are simplified). Two documented tolerances:

* ``author``: where the expectation is ``None`` a reporter credit printed in the body (``（记者 范萌）``) may
  give the author (that is what :func:`crawler.extract.metadata.credit_author` is for);
* mirror pages: the seed text holds broken glosses (``高新?lián)?dāng)``) whose characters are gone from the
  bytes; a paragraph may miss up to MIRROR_LOST characters there (``日?qǐng)?bào)`` is restored to 日報).

Besides these checks against the site's own expectations, :func:`test_whole_output` holds the WHOLE
``Article.to_dict()`` of every page (web-poet's fixture rule) in ``tests/fixtures/extract_demosite/output.json``;
regenerate it with ``GOVNEWS_UPDATE_FIXTURES=1`` and review the diff.
"""
import difflib
import re
from datetime import datetime
from pathlib import Path

import pytest

from common.clock import LOCAL_TZ
from common.text import to_simplified
from crawler.extract import extract
from crawler.extract.decode import content_type_charset
from crawler.extract.metadata import parse_labelled_line
from govnews.demosite import DemoSite
from tests.support.expected_output import check_output

MIRROR_LOST = 2
OUTPUT = Path(__file__).parent / "fixtures" / "extract_demosite" / "output.json"
#: the fetch time the pages are extracted at: after every date of the demo site
NOW = datetime(2025, 1, 1, tzinfo=LOCAL_TZ)


def norm(s):
    return "".join(to_simplified(s or "").split())


@pytest.fixture(scope="module")
def extracted():
    site = DemoSite()
    out = []
    for exp in site.expected_articles:
        data, ctype, _headers = site.pages[exp.url_path]
        art = extract(data, url="http://127.0.0.1:8765" + exp.url_path, encoding=content_type_charset(ctype), now=NOW)
        out.append((exp, art))
    return out


def test_every_article_page(extracted):
    assert len(extracted) == 25 and {e.variant for e, _ in extracted} >= {"original", "mirror", "crosspost"}


def test_whole_output(extracted):
    check_output(OUTPUT, {e.url_path: a.to_dict() for e, a in extracted})


def test_title(extracted):
    bad = [(e.url_path, a.title) for e, a in extracted if to_simplified(a.title or "") != e.title_simplified]
    assert not bad


def test_published_at_with_time(extracted):
    bad = [(e.url_path, a.published_at, e.published_at) for e, a in extracted if a.published_at != e.published_at]
    assert not bad


@pytest.mark.parametrize("field", ["source", "editor", "column"])
def test_fields(extracted, field):
    bad = [(e.url_path, getattr(a, field), getattr(e, field)) for e, a in extracted
           if norm(getattr(a, field)) != norm(getattr(e, field)) or bool(getattr(a, field)) != bool(getattr(e, field))]
    assert not bad


def test_author(extracted):
    bad = []
    for e, a in extracted:
        if e.author is not None:
            ok = norm(a.author) == norm(e.author)
        else:   # a reporter credit line printed with the body may name the author
            ok = a.author is None or any(norm(a.author) in norm(ln) and "记者" in norm(ln)
                                         for ln in a.body.split("\n")[-3:])
        if not ok:
            bad.append((e.url_path, a.author, e.author))
    assert not bad


def test_fields_have_no_edge_brackets(extracted):
    for _, a in extracted:
        for field in ("source", "editor", "author", "column"):
            v = getattr(a, field)
            assert not v or not re.search(r"^[【\[(（:：,，]|[】\])）:：,，]$", v), (field, v)


def _contains(body: str, para: str, lost: int) -> bool:
    if para in body:
        return True
    if not lost:
        return False
    sm = difflib.SequenceMatcher(None, para, body, autojunk=False)
    matched = sum(b.size for b in sm.get_matching_blocks())
    return matched >= len(para) - lost


def test_every_paragraph_in_body(extracted):
    bad = []
    for e, a in extracted:
        body_lines = [norm(ln) for ln in a.body.split("\n")]
        for p in e.paragraphs:
            lost = MIRROR_LOST if e.variant == "mirror" else 0
            if not any(_contains(ln, norm(p), lost) for ln in body_lines):
                bad.append((e.url_path, p[:30]))
    assert not bad


def test_no_metadata_line_in_body(extracted):
    bad = []
    for e, a in extracted:
        for ln in a.body.split("\n"):
            fields, is_meta = parse_labelled_line(ln)
            if is_meta or ln.strip() in ("作者", e.author or "\0") or re.match(r"^(?:责任编辑|編輯|编辑|来源|來源)[:：]", ln):
                bad.append((e.url_path, ln))
    assert not bad
