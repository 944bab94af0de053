"""Shared fixtures: a fresh, migrated database on SQLite and on PostgreSQL.

* ``db_url`` (parametrised ``sqlite`` / ``postgresql``): a new database built by ``alembic upgrade
  head`` (never ``create_all``). For speed the schema is migrated once per session into a template
  (a SQLite file copied per test; a PostgreSQL ``TEMPLATE`` database).
* ``archive``: a :class:`storage.archive.Archive` on ``db_url``.
* ``sqlite_url`` / ``pg_url``: one backend only.
* ``pg_admin``: psycopg connection parameters for the server (user ``postgres`` or ``root``).

PostgreSQL at 127.0.0.1:5432 unreachable -> the PostgreSQL params are skipped with the reason,
except under ``CI=true`` where they fail.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

PG_HOST = os.environ.get("GOVNEWS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("GOVNEWS_TEST_PG_PORT", "5432"))
IN_CI = os.environ.get("CI", "").lower() == "true"
from tests.support.shared import require_shared  # noqa: E402,F401 (re-exported for tests)

REPO = Path(__file__).resolve().parent.parent

# Scrapy's test crawlers (``get_crawler``) need the reactor the settings name; older Scrapy (the
# dependency floor of older Scrapy) refuses to guess, so install it once for the session, as Scrapy's own tests do.
from scrapy.utils.reactor import install_reactor, is_reactor_installed  # noqa: E402

if not is_reactor_installed():
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

_pg_state: dict = {}


def _pg_connect_params():
    """First (user, dbname) that connects, or raise the last error."""
    import psycopg

    if "params" in _pg_state:
        return _pg_state["params"]
    if "error" in _pg_state:
        raise _pg_state["error"]
    last = None
    for user in ("postgres", "root"):
        for dbname in ("postgres", "test"):
            try:
                with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=dbname,
                                     connect_timeout=3):
                    _pg_state["params"] = dict(host=PG_HOST, port=PG_PORT, user=user, dbname=dbname)
                    return _pg_state["params"]
            except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
                last = exc
    _pg_state["error"] = last
    raise last


def require_postgres() -> dict:
    """Connection params of the test server; skip (or fail under CI=true) when unreachable."""
    try:
        return _pg_connect_params()
    except Exception as exc:  # noqa: BLE001
        msg = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT} as postgres/root: {exc}"
        if IN_CI:
            pytest.fail(msg + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(msg)


def _admin_exec(params: dict, sql: str) -> None:
    import psycopg

    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(sql)


def pg_url_for(params: dict, dbname: str) -> str:
    return f"postgresql+psycopg://{params['user']}@{params['host']}:{params['port']}/{dbname}"


def create_pg_database(template: str | None = None) -> tuple[str, str]:
    params = require_postgres()
    name = f"govnews_test_{uuid.uuid4().hex[:12]}"
    tmpl = f" TEMPLATE {template}" if template else ""
    _admin_exec(params, f'CREATE DATABASE "{name}"{tmpl}')
    return name, pg_url_for(params, name)


def drop_pg_database(name: str) -> None:
    params = _pg_connect_params()
    _admin_exec(params, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_admin():
    return require_postgres()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    from storage.db import upgrade_db

    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade_db(f"sqlite:///{path}")
    # fold the WAL into the main file so a plain copy is complete
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


@pytest.fixture(scope="session")
def _pg_template():
    from storage.db import upgrade_db

    try:
        name, url = create_pg_database()
    except BaseException as exc:  # skip/fail outcomes are re-raised per test
        yield exc
        return
    upgrade_db(url)
    yield name
    drop_pg_database(name)


@pytest.fixture
def sqlite_url(_sqlite_template, tmp_path):
    path = tmp_path / "archive.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(_pg_template):
    if isinstance(_pg_template, BaseException):
        require_postgres()  # skips or fails with the reason
        raise _pg_template
    name, url = create_pg_database(template=_pg_template)
    yield url
    drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request):
    """A fresh migrated database URL, once per backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def archive(db_url):
    from storage.archive import Archive

    a = Archive(db_url)
    yield a
    a.close()
