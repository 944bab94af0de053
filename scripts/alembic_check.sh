#!/usr/bin/env bash
# Models and migrations must not drift: `alembic upgrade head` on a fresh database, then
# `alembic check`, on SQLite and (when reachable; required under CI=true) on PostgreSQL.
# Through storage.db (the Alembic Config is built in code: no alembic.ini, any cwd), so this checks
# the migrations the package really runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
PY="$BIN/python"
migrate_and_check() {
    "$PY" -c 'import sys
from storage.db import check_db, upgrade_db
upgrade_db(sys.argv[1])
check_db(sys.argv[1])' "$1"
}
PG_HOST="${GOVNEWS_TEST_PG_HOST:-127.0.0.1}"
PG_PORT="${GOVNEWS_TEST_PG_PORT:-5432}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== alembic check (SQLite)"
migrate_and_check "sqlite:///$tmp/check.db"

echo "== alembic check (PostgreSQL $PG_HOST:$PG_PORT)"
# prints "user dbname" of a working admin connection, or nothing
admin="$("$PY" - "$PG_HOST" "$PG_PORT" <<'PYEOF' || true
import sys, psycopg
host, port = sys.argv[1], int(sys.argv[2])
for user in ("postgres", "root"):
    for db in ("postgres", "test"):
        try:
            psycopg.connect(host=host, port=port, user=user, dbname=db, connect_timeout=3).close()
            print(user, db); sys.exit(0)
        except Exception:
            pass
sys.exit(1)
PYEOF
)"
if [ -z "$admin" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "PostgreSQL not reachable at $PG_HOST:$PG_PORT (CI=true: required)" >&2
        exit 1
    fi
    echo "PostgreSQL not reachable at $PG_HOST:$PG_PORT: skipped"
    exit 0
fi
read -r pg_user pg_db <<<"$admin"
name="govnews_check_$$_$RANDOM"
pgexec() {
    "$PY" -c 'import sys, psycopg
c = psycopg.connect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3], dbname=sys.argv[4], autocommit=True)
c.execute(sys.argv[5]); c.close()' "$PG_HOST" "$PG_PORT" "$pg_user" "$pg_db" "$1"
}
pgexec "CREATE DATABASE \"$name\""
trap 'pgexec "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"; rm -rf "$tmp"' EXIT
migrate_and_check "postgresql+psycopg://$pg_user@$PG_HOST:$PG_PORT/$name"
echo "alembic check: OK"
