"""govnews installs like a real package: a wheel in a fresh venv, used from a directory outside the
checkout (migrations, the demo profile and data files come from the wheel; nothing from the checkout).

The fresh venv borrows the third-party dependencies of the test environment through a path entry
(installing Scrapy, trafilatura and numpy from the registry would take minutes; CI's floors job checks
dependency resolution). The editable install of the checkout is *not* visible there: the test checks
that ``storage`` is imported from the new venv.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv dir, bin dir) of a fresh venv with the govnews wheel installed (no editable checkout)."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels)], check=True, cwd=root, capture_output=True)
    wheel = next(wheels.glob("govnews-*.whl"))
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / "bin"
    site = Path(subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # third-party dependencies from the test environment (a plain path entry: its .pth files, among them
    # the editable finder of the checkout, are not run)
    (site / "_deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True)
    return env_dir, bin_dir


def _run(bin_dir: Path, cwd: Path, *args: str, env: dict | None = None, timeout: float = 300):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOVNEWS_")}
    full_env.update({"PATH": f"{bin_dir}{os.pathsep}{full_env.get('PATH', '')}", "PYTHONPATH": ""})
    full_env.update(env or {})
    return subprocess.run([str(bin_dir / "govnews"), *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def test_wheel_ships_migrations_profiles_and_data(installed):
    _env_dir, bin_dir = installed
    out = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import importlib.resources as r, storage, crawler;"
         "print(storage.__file__);"
         "print(sorted(p.name for p in (r.files('storage') / 'migrations' / 'versions').iterdir()"
         " if p.name.endswith('.py')));"
         "print((r.files('crawler') / 'bundled_sites' / 'demo.toml').is_file())"],
        capture_output=True, text=True, check=True, cwd="/")
    lines = out.stdout.splitlines()
    assert str(REPO) not in lines[0], f"storage imported from the checkout: {lines[0]}"
    assert "0001_initial_schema.py" in lines[1]
    assert lines[2] == "True"


def test_init_db_crawl_and_export_from_another_directory(installed, tmp_path):
    _env_dir, bin_dir = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"GOVNEWS_HOME": str(work)}
    r = _run(bin_dir, work, "init-db", "--db", "sqlite:///x.db", env=env)
    assert r.returncode == 0, r.stderr
    assert (work / "x.db").is_file()

    port = _free_port()
    (work / "sites").mkdir()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOVNEWS_")}
    full_env.update(env)
    server = subprocess.Popen([str(bin_dir / "govnews"), "serve-demo", "--port", str(port), "--write-profile",
                               str(work / "sites" / "demo.toml")], cwd=work, env=full_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (work / "sites" / "demo.toml").exists() and time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"serve-demo exited: {server.stdout.read()}")
            time.sleep(0.1)
        r = _run(bin_dir, work, "crawl", "demo", "--db", "sqlite:///x.db", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        r = _run(bin_dir, work, "export", "--db", "sqlite:///x.db", "-o", "out.jsonl", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        rows = [json.loads(line) for line in (work / "out.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(rows) >= 10
        assert all(row["title"] for row in rows)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert not (REPO / "x.db").exists()


def test_bundled_demo_profile_is_found_from_any_directory(installed, tmp_path):
    """``govnews crawl demo`` from an empty directory finds the demo profile shipped in the wheel, and a
    read-only command creates nothing there."""
    _env_dir, bin_dir = installed
    out = subprocess.run([str(bin_dir / "python"), "-c",
                          "from crawler.profiles import load_profile; print(load_profile('demo').path)"],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": os.environ["PATH"], "GOVNEWS_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert "bundled_sites" in out.stdout and str(REPO) not in out.stdout
    r = _run(bin_dir, tmp_path, "sites", env={"GOVNEWS_HOME": str(tmp_path)})
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "data").exists(), "a read-only command created data/"


def test_every_data_file_of_the_checkout_is_in_the_wheel(installed):
    """Files the code reads at run time (word lists, seeds, profiles) ship with the packages."""
    env_dir, bin_dir = installed
    site = Path(subprocess.run([str(bin_dir / "python"), "-c", "import storage, pathlib;"
                                "print(pathlib.Path(storage.__file__).parent.parent)"],
                               check=True, capture_output=True, text=True, cwd="/").stdout.strip())
    missing = []
    for package in ("common", "crawler", "storage", "govnews"):
        for path in (REPO / package).rglob("*"):
            shipped = path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
            if shipped and not (site / path.relative_to(REPO)).is_file():
                missing.append(str(path.relative_to(REPO)))
    assert not missing, f"not in the wheel: {missing}"
