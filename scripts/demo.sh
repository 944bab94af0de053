#!/usr/bin/env bash
# make demo: serve the bundled demo government site on loopback, crawl it into the archive, summarise.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${DEMO_PORT:-8765}"
DB="${DB:-data/archive.db}"
export GOVNEWS_DB_URL="sqlite:///$(pwd)/$DB"
mkdir -p "$(dirname "$DB")" data/tmp

echo "==> building the archive schema in $DB (alembic upgrade head)"
$BIN/govnews init-db

echo "==> serving the demo government site on http://127.0.0.1:$PORT/"
$BIN/govnews serve-demo --port "$PORT" > data/tmp/demo-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if $BIN/python -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $PORT)))"; then break; fi
  sleep 0.2
done

PROFILE=sites/demo.toml
if [ "$PORT" != "8765" ]; then
  PROFILE=data/tmp/demo-$PORT.toml
  $BIN/python -c "from govnews.demosite import demo_profile_toml; print(demo_profile_toml('http://127.0.0.1:$PORT/'))" > "$PROFILE"
fi

echo "==> crawling it: govnews crawl $PROFILE"
$BIN/govnews crawl "$PROFILE" -s LOG_LEVEL=WARNING

echo
$BIN/python -m govnews.demo "$GOVNEWS_DB_URL" "$DB"
if command -v sqlite3 >/dev/null; then
  echo
  sqlite3 -header -column "$DB" "$($BIN/python -c 'from govnews.demo import EXAMPLE_QUERY; print(EXAMPLE_QUERY)')"
fi
echo; echo "==> browse the archive: $BIN/govnews serve   then open http://127.0.0.1:8766/ (read-only; crawl health at /health, feeds at /feeds/all.atom)"
