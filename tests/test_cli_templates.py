"""Learned article templates are shown by ``govnews sites --verbose`` and ``govnews stats`` (issue 13)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from govnews.cli import main
from storage.db import make_engine
from storage.templates import save_templates


def _profile(tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "zoo.toml").write_text('name = "zoo"\nstart_urls = ["http://www.zoo.gov.cn/"]\n', encoding="utf-8")
    return sites


def test_sites_verbose_and_stats_show_the_learned_templates(sqlite_url, tmp_path):
    sites = _profile(tmp_path)
    engine = make_engine(sqlite_url)
    save_templates(engine, "zoo", [("/info/{n}/{n}.htm", 30, "http://www.zoo.gov.cn/info/1024/5678.htm")])
    engine.dispose()
    runner = CliRunner()
    r = runner.invoke(main, ["sites", "--verbose", "--sites", str(sites), "--db", sqlite_url])
    assert r.exit_code == 0, r.output
    assert "template /info/{n}/{n}.htm  (30 links, e.g. http://www.zoo.gov.cn/info/1024/5678.htm)" in r.output
    r = runner.invoke(main, ["sites", "--verbose", "--json", "--sites", str(sites), "--db", sqlite_url])
    assert json.loads(r.output.splitlines()[0])["templates"][0]["template"] == "/info/{n}/{n}.htm"
    r = runner.invoke(main, ["stats", "--sites", str(sites), "--db", sqlite_url])
    assert r.exit_code == 0, r.output
    assert "zoo                 /info/{n}/{n}.htm  (30 links)" in r.output


def test_sites_verbose_without_templates_says_so_and_without_archive_fails_clearly(sqlite_url, tmp_path):
    sites = _profile(tmp_path)
    r = CliRunner().invoke(main, ["sites", "-v", "--sites", str(sites), "--db", sqlite_url])
    assert r.exit_code == 0 and "no article templates learned yet" in r.output
    r = CliRunner().invoke(main, ["sites", "-v", "--sites", str(sites), "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert r.exit_code == 1 and "govnews init-db" in r.output
    assert not (tmp_path / "none.db").exists()
