"""Issue 14: every example in every `--help` works on the demo archive.

Each `govnews ...` example line of every command's help is run against an archive holding a crawl
of the demo site (in a scratch directory, `$GOVNEWS_DB_URL` pointing at it). Examples that start a
server or a daemon, crawl for real, or name resources this machine does not have (PostgreSQL
databases, /etc or /var paths, Redis) are checked to parse (click accepts their options) instead of
being run."""
from __future__ import annotations

import glob
import re
import shlex

import pytest
from click.testing import CliRunner

from govnews.cli import main
from govnews.demosite import DemoSite, serve
from tests.support.crawl import scrapy_crawl, write_profile

#: commands whose examples run until stopped, or crawl the network
NOT_RUN = {"serve-demo", "schedule", "worker", "serve", "enqueue", "discover"}
#: examples of other engineers' commands known not to work yet: (command, line) -> why. strict xfail:
#: when one starts working the test says so and the entry goes
KNOWN_BROKEN: dict[tuple[str, str], str] = {}
EXTERNAL = re.compile(r"postgresql://|redis://|/etc/|/var/|/srv/|/opt/|https?://(?!127\.0\.0\.1)|\.\.\.")


def examples() -> list[tuple[str, str]]:
    out = []
    runner = CliRunner()
    for name in sorted(main.commands):
        text = runner.invoke(main, [name, "--help"], terminal_width=200).output
        if "Examples:" not in text:
            continue
        for line in text.split("Examples:", 1)[1].splitlines():
            line = line.strip()
            if not line or (not line.startswith("govnews ") and " govnews " not in line.split("#")[0]):
                if out and not line:
                    continue
                if line and not line.startswith(("govnews", "GOVNEWS_", "DEMO_PORT", "python ")):
                    break
                continue
            out.append((name, line))
    return out


EXAMPLES = examples()


def split(line: str) -> list[str]:
    words = shlex.split(line.split(" #", 1)[0], comments=False)
    words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]       # VAR=value prefixes
    if ">" in words:
        words = words[:words.index(">")]
    assert words[0] == "govnews", line
    expanded = []
    for w in words[1:]:
        expanded += sorted(glob.glob(w)) or [w] if "*" in w else [w]
    return expanded


def page_files(root, tmp_path) -> None:
    """page.html and mirror/*.html for the `govnews extract` examples: archived demo pages."""
    from sqlalchemy import select

    from storage.db import make_engine
    from storage.models import Page
    from storage.pages import stored_body

    engine = make_engine(f"sqlite:///{root / 'archive.db'}")
    with engine.connect() as conn:
        page = conn.execute(select(Page).where(Page.outcome == "article").limit(1)).first()
        body = stored_body(conn, page)
    engine.dispose()
    (tmp_path / "page.html").write_bytes(body)
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "a.html").write_bytes(body)


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory):
    from storage.db import upgrade_db

    root = tmp_path_factory.mktemp("examples")
    url = f"sqlite:///{root / 'archive.db'}"
    upgrade_db(url)
    with serve(DemoSite(), host="127.0.0.1", port=0) as server:
        scrapy_crawl(write_profile(root, server.url), url, "-s", "DOWNLOAD_DELAY=0")
    return root, url


def test_every_help_has_examples_and_they_are_collected():
    assert len(EXAMPLES) >= 30
    assert {n for n, _ in EXAMPLES} >= {"crawl", "stats", "export", "search", "duplicates", "sites", "init-db"}


def _param(command, line, i):
    why = KNOWN_BROKEN.get((command, line))
    marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
    return pytest.param(command, line, id=f"{command}:{i}", marks=marks)


@pytest.mark.parametrize(("command", "line"), [_param(n, line, i) for i, (n, line) in enumerate(EXAMPLES)])
def test_help_example(command, line, demo_archive, tmp_path, monkeypatch):
    root, url = demo_archive
    monkeypatch.chdir(tmp_path)
    page_files(root, tmp_path)
    args = split(line)
    monkeypatch.setenv("GOVNEWS_DB_URL", url)
    monkeypatch.setenv("GOVNEWS_HOME", str(tmp_path))
    monkeypatch.setenv("GOVNEWS_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.delenv("GOVNEWS_SITES_DIR", raising=False)
    crawls = command == "crawl" and "--dry-run" not in args
    if command in NOT_RUN or crawls or EXTERNAL.search(line):
        cmd = main.commands[args[0]]
        cmd.make_context(args[0], list(args[1:]))          # raises on an option click does not accept
        return
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, f"{line}\n{result.output}"
