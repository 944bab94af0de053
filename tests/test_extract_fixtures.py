"""Seed-derived fixture pages (web-poet style): ``<name>.html`` + hand-written ``<name>.expected.json``."""
import json
from pathlib import Path

import pytest

from crawler.extract import extract

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
FIELDS = ("title", "published_at", "source", "author", "editor", "original_title", "column", "encoding")


def test_all_five_seeds_have_fixtures():
    assert len(NAMES) == 5


@pytest.fixture(params=NAMES)
def case(request):
    exp = json.loads((FIXTURES / f"{request.param}.expected.json").read_text(encoding="utf-8"))
    art = extract((FIXTURES / f"{request.param}.html").read_bytes(), url=exp.get("url"))
    return exp, art, art.to_dict()


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
    assert set(rows[0]) == {"page", "title", "body", "published_at", "source", "author", "editor", "column",
                            "original_title", "summary", "flags"}
    assert all(r["title"] and r["body"] for r in rows)
