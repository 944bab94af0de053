"""`govnews init-db` and `govnews duplicates` on both backends."""
from __future__ import annotations

import json

from click.testing import CliRunner

from govnews.commands.duplicates import duplicates_cmd
from govnews.commands.initdb import init_db_cmd
from storage.archive import Archive

TEXT = ("区政府召开常务会议，研究部署今冬明春安全生产和森林防火工作。会议指出，当前已进入森林防火紧要期，"
        "各镇街、各部门要压紧压实责任，强化巡查管控，坚决防范重特大火灾发生。")


def test_init_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'x' / 'a.db'}"
    r = CliRunner().invoke(init_db_cmd, ["--db", url])
    assert r.exit_code == 0, r.output
    assert "schema revision" in r.output and (tmp_path / "x" / "a.db").exists()
    r = CliRunner().invoke(init_db_cmd, [], env={"GOVNEWS_DB_URL": url})  # idempotent, env honoured
    assert r.exit_code == 0, r.output


def test_duplicates_lists_groups(db_url):
    a = Archive(db_url)
    a.store_article("a", "http://a.gov.cn/1.html", {"title": "防火", "body": TEXT})
    a.store_article("b", "http://b.gov.cn/1.html", {"title": "防火", "body": TEXT})
    a.store_article("b", "http://b.gov.cn/2.html", {"title": "防火", "body": TEXT + "（编辑：王五）"})
    a.store_article("a", "http://a.gov.cn/solo.html", {"title": "单独", "body": "另一篇完全不同的文章内容，讲的是春耕。" * 3})
    a.close()
    runner = CliRunner()
    r = runner.invoke(duplicates_cmd, ["--db", db_url])
    assert r.exit_code == 0, r.output
    assert "http://a.gov.cn/1.html" in r.output and "http://b.gov.cn/2.html" in r.output
    assert "solo" not in r.output and "1 group(s)" in r.output
    r = runner.invoke(duplicates_cmd, ["--db", db_url, "--json", "--site", "b", "--since", "2000-01-01"])
    g = json.loads(r.output.splitlines()[0])
    assert g["n_sightings"] == 3 and g["n_revisions"] == 1
    r = runner.invoke(duplicates_cmd, ["--db", db_url, "--site", "nosuch"])
    assert "no merged groups" in r.output
    r = runner.invoke(duplicates_cmd, ["--db", db_url, "--since", "2999-01-01"])
    assert "no merged groups" in r.output
    assert "Examples" in runner.invoke(duplicates_cmd, ["--help"]).output
