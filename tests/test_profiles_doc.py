"""Issue 14: profiles validated at load everywhere, and docs/PROFILES.md documents every key."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.profiles import KNOWN_HINTS, KNOWN_KEYS, ProfileError, load_profile
from govnews.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "PROFILES.md"
BROKEN = '''name = "xindu"
start_urls = ["http://www.xindu.gov.cn/", "ftp://www.xindu.gov.cn/"]
schedule = "61 * * * *"
timezone = "Asia/Shangai"
verifed = true

[hints]
max_pages = "lots"
body_selectr = "div.x"
download_delay = -1
body_selector = "div[["
'''
GOOD = 'name = "good"\nstart_urls = ["http://www.good.gov.cn/"]\n'


def documented_keys(table_heading: str) -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(table_heading, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_every_key_the_loader_accepts_is_documented_with_type_default_and_example():
    top, hints = documented_keys("## Top-level keys"), documented_keys("## `[hints]`")
    assert KNOWN_KEYS - top == set(), f"top-level keys missing from docs/PROFILES.md: {sorted(KNOWN_KEYS - top)}"
    assert KNOWN_HINTS - hints == set(), f"hints missing from docs/PROFILES.md: {sorted(KNOWN_HINTS - hints)}"
    text = DOC.read_text(encoding="utf-8")
    for row in re.findall(r"^\| `[a-z_]+` \|.*$", text, flags=re.M):
        assert len(row.split(" | ")) >= 5, f"a row without type, default, example and meaning: {row}"


def test_all_errors_of_a_file_at_once_with_its_name_and_did_you_mean(tmp_path):
    path = tmp_path / "xindu.toml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg
    for part in ("unknown key 'verifed' (did you mean 'verified'?)",
                 "unknown timezone 'Asia/Shangai' (did you mean 'Asia/Shanghai'?)",
                 "schedule '61 * * * *' is not a valid cron expression",
                 "start_urls must be http(s) URLs, not: 'ftp://www.xindu.gov.cn/'",
                 "hints.max_pages must be an integer, not str 'lots'",
                 "unknown hint 'body_selectr' (did you mean 'body_selector'?)",
                 "hints.download_delay must be >= 0",
                 "hints.body_selector 'div[[' is not a valid CSS selector"):
        assert part in msg, (part, msg)
    assert len(info.value.errors) == 8


def test_sites_lists_good_profiles_marks_broken_and_check_exits_1(tmp_path):
    """Was: `govnews sites` aborted on one broken profile."""
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "xindu.toml").write_text(BROKEN, encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(main, ["sites", "--sites", str(tmp_path)])
    assert out.exit_code == 0
    assert re.search(r"^good\s", out.stdout, flags=re.M)
    assert f"BROKEN  {tmp_path / 'xindu.toml'}: unknown key 'verifed'" in out.stdout
    rows = [json.loads(line) for line in runner.invoke(main, ["sites", "--sites", str(tmp_path), "--json"]).stdout
            .splitlines()]
    assert rows[0]["name"] == "good" and "error" in rows[1] and len(rows[1]["errors"]) == 8
    check = runner.invoke(main, ["sites", "--sites", str(tmp_path), "--check"])
    assert check.exit_code == 1 and "BROKEN" in check.stdout and "ok      good" in check.stdout
    assert runner.invoke(main, ["sites", "--sites", str(tmp_path), "--check", "good"]).exit_code == 0
    bad_one = runner.invoke(main, ["sites", "--sites", str(tmp_path), "--check", "xindu"])
    assert bad_one.exit_code == 1 and "did you mean 'Asia/Shanghai'" in bad_one.stdout
    assert runner.invoke(main, ["sites", "--check"]).exit_code == 0, "the shipped profiles are valid"


def test_crawl_and_due_refuse_a_broken_profile_with_the_reason(tmp_path, sqlite_url):
    """Was: `schedule = "61 * * * *"` passed `crawl` and `sites`; `crawl --due` said `skipped profile: PATH`."""
    (tmp_path / "xindu.toml").write_text(BROKEN, encoding="utf-8")
    runner = CliRunner()
    crawl = runner.invoke(main, ["crawl", "xindu", "--sites", str(tmp_path), "--db", sqlite_url])
    assert crawl.exit_code == 1 and "schedule '61 * * * *'" in crawl.output and "Traceback" not in crawl.output
    due = runner.invoke(main, ["crawl", "--due", "--dry-run", "--sites", str(tmp_path), "--db", sqlite_url])
    assert due.exit_code == 0
    assert f"skipped profile {tmp_path / 'xindu.toml'}: unknown key 'verifed'" in due.output
