#!/usr/bin/env bash
# make demo: serve the bundled demo government site on loopback, crawl it into the archive, summarise.
#
#   make demo                         # .venv, data/archive.db, port 8765
#   make demo VENV=/opt/govnews/venv DB=/tmp/demo/archive.db DEMO_PORT=8800
#
# BIN (the venv's bin directory, from VENV), DB (relative to the checkout, or absolute) and
# DEMO_PORT come from the environment. A port that something else already listens on is refused:
# the demo never crawls whatever happens to answer there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BIN="${BIN:-.venv/bin}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
PORT="${DEMO_PORT:-8765}"
DB="${DB:-data/archive.db}"
case "$DB" in /*) DB_PATH="$DB" ;; *) DB_PATH="$ROOT/$DB" ;; esac
export GOVNEWS_DB_URL="sqlite:///$DB_PATH"
TMP="$ROOT/data/tmp"
mkdir -p "$(dirname "$DB_PATH")" "$TMP"

if [ ! -x "$BIN/govnews" ]; then
  echo "demo: $BIN/govnews not found: run \`make install\` (or pass VENV=... to make)" >&2
  exit 1
fi
port_open() {
  "$BIN/python" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(('127.0.0.1', int(sys.argv[1]))) == 0 else 1)" "$1"
}
if port_open "$PORT"; then
  echo "demo: port $PORT on 127.0.0.1 is already in use by another program; refusing to crawl it." >&2
  echo "      Stop that program, or choose another port: make demo DEMO_PORT=8800" >&2
  exit 1
fi

echo "==> building the archive schema in $DB_PATH (alembic upgrade head)"
"$BIN/govnews" init-db

echo "==> serving the demo government site on http://127.0.0.1:$PORT/"
"$BIN/govnews" serve-demo --port "$PORT" > "$TMP/demo-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
ready=""
for _ in $(seq 50); do
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "demo: the demo server exited:" >&2
    cat "$TMP/demo-server.log" >&2
    exit 1
  fi
  if port_open "$PORT"; then ready=1; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "demo: the demo server did not start listening on port $PORT (log: $TMP/demo-server.log)" >&2
  exit 1
fi

PROFILE="$ROOT/sites/demo.toml"
if [ "$PORT" != "8765" ]; then
  PROFILE="$TMP/demo-$PORT.toml"
  "$BIN/python" -c "import sys; from govnews.demosite import demo_profile_toml; print(demo_profile_toml(sys.argv[1]))" \
    "http://127.0.0.1:$PORT/" > "$PROFILE"
fi

echo "==> crawling it: govnews crawl $PROFILE"
"$BIN/govnews" crawl "$PROFILE"

echo
"$BIN/python" -m govnews.demo "$GOVNEWS_DB_URL" "$DB_PATH"
if command -v sqlite3 >/dev/null; then
  echo
  sqlite3 -header -column "$DB_PATH" "$("$BIN/python" -c 'from govnews.demo import EXAMPLE_QUERY; print(EXAMPLE_QUERY)')"
fi
echo
echo "==> browse the archive: \"$BIN/govnews\" serve --db \"$GOVNEWS_DB_URL\"   then open http://127.0.0.1:8766/ (read-only; crawl health at /health, feeds at /feeds/all.atom)"
