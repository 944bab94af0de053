#!/usr/bin/env bash
# Installs govnews with every dependency at its declared floor (">=X" in pyproject.toml becomes "==X")
# into a fresh venv, then runs the fast tests there: the floors must be versions the code really works with.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_DIR="${FLOORS_VENV:-/tmp/govnews-floors-venv}"
rm -rf "$VENV_DIR"
python3 -m venv "$VENV_DIR"
"$VENV_DIR/bin/python" -m pip install -q -U pip
"$VENV_DIR/bin/python" - > "$VENV_DIR/floors.txt" <<'PY'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for dep in deps:
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", dep)
    if m:
        print(f"{m.group(1)}=={m.group(3)}")
PY
echo "floors:"; sed 's/^/  /' "$VENV_DIR/floors.txt"
"$VENV_DIR/bin/python" -m pip install -q -c "$VENV_DIR/floors.txt" ".[dev]"
"$VENV_DIR/bin/python" -m pip list 2>/dev/null | grep -iE "^(scrapy|twisted|sqlalchemy|trafilatura|datasketch|alembic|apscheduler|lxml) "
"$VENV_DIR/bin/python" -m pytest -q -x -p no:cacheprovider -m 'not soak and not corpus and not postgres and not redis' \
    tests/test_extract_fixtures.py tests/test_storage_archive.py tests/test_dedup.py tests/test_pipelines.py \
    tests/test_spider.py tests/test_middlewares.py tests/test_e2e_crawl.py tests/test_migrations.py tests/test_cli.py
