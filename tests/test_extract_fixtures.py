"""Seed-derived fixture pages (web-poet style), three files each:

* ``<name>.html``: the page's bytes (the input);
* ``<name>.expected.json``: hand-written expectations (the intent: fields, flags, body lines, words that
  must not be in the body) and the input ``url``;
* ``<name>.output.json``: the WHOLE ``Article.to_dict()`` of ``extract(html, url=url, now=NOW)``, every
  field, flag and image; a changed, missing or unexpected field fails (web-poet's fixture rule).
  Regenerate with ``GOVNEWS_UPDATE_FIXTURES=1`` (see :mod:`tests.support.expected_output`) and review.
"""
import json
from datetime import datetime
from pathlib import Path

import pytest

from common.clock import LOCAL_TZ
from crawler.extract import extract
from tests.support.expected_output import check_output

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
NAMES = sorted(p.name.removesuffix(".html") for p in FIXTURES.glob("*.html"))
FIELDS = ("title", "published_at", "source", "author", "editor", "original_title", "column", "encoding")
#: the fetch time every fixture is extracted at (web-poet's frozen time): after every fixture's date
NOW = datetime(2025, 1, 1, tzinfo=LOCAL_TZ)


#: the five seed pages (issue 5) and the issue-15 template families (DedeCMS column title, county table
#: labels with a centred byline, three home-made portal layouts), built from the seeds' texts
SEED_FIXTURES = {"hanweb_broken_glosses", "portal_menu_clicks", "portal_repeated", "trs_spam_glosses",
                 "zjeg_author_post"}
TEMPLATE_FIXTURES = {"dedecms_column_title", "county_centred_byline", "portal_reporter_credits",
                     "portal_wentu_credit", "portal_column_in_headline"}


def test_all_five_seeds_have_fixtures():
    assert set(NAMES) == SEED_FIXTURES | TEMPLATE_FIXTURES
    files = {p.name for p in FIXTURES.iterdir()}
    expected = {f"{n}{ext}" for n in NAMES for ext in (".html", ".expected.json", ".output.json")}
    assert files == expected, f"missing: {sorted(expected - files)}, stray: {sorted(files - expected)}"


def _extract(name):
    exp = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return exp, extract((FIXTURES / f"{name}.html").read_bytes(), url=exp.get("url"), now=NOW)


@pytest.fixture(params=NAMES)
def case(request):
    exp, art = _extract(request.param)
    return exp, art, art.to_dict()


@pytest.mark.parametrize("name", NAMES)
def test_whole_output(name):
    _, art = _extract(name)
    check_output(FIXTURES / f"{name}.output.json", art.to_dict())


def test_fields(case):
    exp, _, got = case
    for field in FIELDS:
        if field in exp:
            assert got[field] == exp[field], field


def test_flags(case):
    exp, art, _ = case
    for key, value in exp.get("flags", {}).items():
        assert art.flags.get(key) == value, key


def test_body(case):
    exp, art, _ = case
    lines = art.body.split("\n")
    assert len(lines) == exp["body_lines"]
    assert lines[0] == exp["body_first"]
    if "body_last" in exp:
        assert lines[-1] == exp["body_last"]
    for s in exp.get("body_contains", []):
        assert s in art.body
    for s in exp.get("body_not_contains", []):
        assert s not in art.body, s


def test_summary_and_images(case):
    exp, art, _ = case
    if "summary_startswith" in exp:
        assert art.summary.startswith(exp["summary_startswith"])
    if "images" in exp:
        assert [i.url for i in art.images] == [i["url"] for i in exp["images"]]


def test_simplified_copy_and_no_glosses(case):
    _, art, _ = case
    assert art.body_simplified
    assert "區" not in art.body_simplified and "發" not in art.body_simplified
    assert "(q" not in art.title and "(f" not in art.title
    assert art.published_at is None or art.published_at.utcoffset().total_seconds() == 8 * 3600


def test_cli_prints_one_json_line_per_file():
    from click.testing import CliRunner

    from govnews.commands.extract import extract_cmd

    files = [str(FIXTURES / f"{n}.html") for n in NAMES[:2]]
    result = CliRunner().invoke(extract_cmd, files + ["--url", "http://www.example.gov.cn/a/t20211029_1.html"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["page"] for r in rows] == files
    assert set(rows[0]) == {"page", "outcome", "reason", "title", "body", "published_at", "source", "author", "editor", "column",
                            "original_title", "summary", "flags",
                            # issue 16: attachments and the 信息公开 fields, always printed
                            "attachments", "index_no", "doc_number", "issuer", "written_at", "topic", "validity",
                            "subject_words"}
    assert all(r["title"] and r["body"] for r in rows)
    assert all((r["outcome"], r["reason"]) == ("article", None) for r in rows)


def test_cli_outcome_and_profile(tmp_path):
    from click.testing import CliRunner

    from govnews.commands.extract import extract_cmd

    challenge = Path(__file__).parent / "fixtures" / "challenge" / "ruishu_412.html"
    result = CliRunner().invoke(extract_cmd, [str(challenge), "--status", "412"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert (row["outcome"], row["reason"]) == ("blocked", "challenge: ruishu (http 412)")
    short = tmp_path / "short.html"
    short.write_text("<html><body><div class=art><h1>停电公告</h1><p>10月26日城东片区计划停电。</p></div>"
                     "<div class=side><p>热线：12345</p></div></body></html>", encoding="utf-8")
    row = json.loads(CliRunner().invoke(extract_cmd, [str(short)]).output)
    assert (row["outcome"], row["reason"]) == ("not_article", "little text")
    row = json.loads(CliRunner().invoke(extract_cmd, [str(short), "--article-link"]).output)
    assert row["outcome"] == "article"
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "demo.toml").write_text('name = "demo"\nstart_urls = ["http://127.0.0.1/"]\n'
                                     '[hints]\nbody_selector = "div.art"\n', encoding="utf-8")
    row = json.loads(CliRunner().invoke(extract_cmd, [str(short), "--profile", "demo", "--sites", str(sites),
                                                      "--article-link"]).output)
    assert row["outcome"] == "article" and "热线" not in row["body"] and "城东片区" in row["body"]
    bad = CliRunner().invoke(extract_cmd, [str(short), "--profile", "nope", "--sites", str(sites)])
    assert bad.exit_code != 0 and "no site profile 'nope'" in bad.output and "Traceback" not in bad.output


def test_fixture_rule_fails_on_missing_unexpected_and_changed_fields(tmp_path, monkeypatch):
    from tests.support.expected_output import UPDATE_ENV, differences

    monkeypatch.delenv(UPDATE_ENV, raising=False)
    expected = {"title": "t", "flags": {"container": "#zoom", "footer_cut": False}, "images": [{"url": "a"}]}
    got = {"flags": {"container": "#zoom", "footer_cut": 0, "new": 1}, "images": [{"url": "b"}], "extra": None}
    assert differences(expected, got) == [
        "unexpected field extra = None",
        "flags.footer_cut: got 0, expected False",   # a bool is not an int here
        "unexpected field flags.new = 1",
        "images[0].url: got 'b', expected 'a'",
        "missing field title (expected 't')",
    ]
    path = tmp_path / "x.output.json"
    path.write_text(json.dumps(expected), encoding="utf-8")
    check_output(path, expected)
    with pytest.raises(AssertionError, match="unexpected field extra"):
        check_output(path, {**expected, "extra": 1})
    with pytest.raises(AssertionError, match="missing field title"):
        check_output(path, {k: v for k, v in expected.items() if k != "title"})
    with pytest.raises(pytest.fail.Exception, match="missing"):
        check_output(tmp_path / "absent.output.json", expected)


@pytest.mark.parametrize("clock,published", [(datetime(2031, 1, 1, tzinfo=LOCAL_TZ), "2030-06-01T10:00:00+08:00"),
                                             (datetime(2025, 1, 1, tzinfo=LOCAL_TZ), None)])
def test_cli_passes_the_current_time_as_now(tmp_path, monkeypatch, clock, published):
    from click.testing import CliRunner

    import common.clock
    from govnews.commands.extract import extract_cmd

    para = "这是一段足够长的正文内容，用来让正文抽取把它当作文章页面来处理。" * 6
    page = tmp_path / "p.html"
    page.write_text(f"<html><head><title>区政府召开常务会议</title></head><body><h1>区政府召开常务会议</h1>"
                    f"<p>发布时间：2030-06-01 10:00</p><div id='zoom'><p>{para}</p></div></body></html>", encoding="utf-8")
    monkeypatch.setattr(common.clock, "utcnow", lambda: clock)
    result = CliRunner().invoke(extract_cmd, [str(page)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["published_at"] == published
