"""Issue 14: `make demo VENV=…` and `make demo DB=/abs/path` work; a taken port is refused."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import make_engine
from storage.models import Article

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo(env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    full = dict(os.environ, **env)
    full.pop("GOVNEWS_DB_URL", None)
    return subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], env=full, capture_output=True, text=True,
                          timeout=timeout)


def test_make_passes_venv_and_db_through():
    if shutil.which("make") is None:
        pytest.skip("no make")
    out = subprocess.run(["make", "-n", "-o", "install", "demo", "VENV=/opt/gn venv", "DB=/srv/demo/a.db"],
                         cwd=REPO, capture_output=True, text=True).stdout
    assert 'BIN="/opt/gn venv/bin"' in out and 'DB="/srv/demo/a.db"' in out


def test_a_port_taken_by_another_program_is_refused(tmp_path):
    """Was: `make demo` crawled whatever listened on the port."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        res = demo({"BIN": str(VENV_BIN), "DEMO_PORT": str(port), "DB": str(tmp_path / "a.db")})
    assert res.returncode == 1 and f"port {port} on 127.0.0.1 is already in use" in res.stderr
    assert not (tmp_path / "a.db").exists(), "nothing was built or crawled"


def test_demo_with_another_venv_path_and_an_absolute_db(tmp_path):
    """Was: BIN was always .venv/bin, and DB=/abs/path became sqlite:///<checkout>//abs/path."""
    venv = tmp_path / "elsewhere venv"          # another venv location, with a space in it
    venv.symlink_to(VENV_BIN.parent, target_is_directory=True)
    db = tmp_path / "abs" / "archive.db"
    res = demo({"BIN": str(venv / "bin"), "DEMO_PORT": str(free_port()), "DB": str(db)})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert db.is_file()
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Article.id))) > 0
    engine.dispose()
    assert ": ok (run" in res.stderr
    assert f"serve --db \"sqlite:///{db}\"" in res.stdout and "http://127.0.0.1:8766/" in res.stdout, \
        "make demo ends with how to browse the archive it built"
