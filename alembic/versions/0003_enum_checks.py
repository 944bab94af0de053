"""named CHECK constraints on enumerated columns; drop sites.last_run_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00

* ``ck_pages_outcome``: ``pages.outcome`` in ``storage.enums.PageOutcome``;
  ``ck_crawl_runs_status``: ``crawl_runs.status`` in ``RunStatus``;
  ``ck_crawl_runs_trigger``: ``crawl_runs.trigger`` in ``Trigger``.
* Data step first, so no existing row violates them: an out-of-set page outcome becomes ``failed``
  with the old value kept in ``reason`` (``"<old outcome>: <old reason>"``); an out-of-set run
  status becomes ``failed`` (the old value is noted at the start of ``log_tail``); an out-of-set
  trigger becomes ``manual``. Plain SQL only: this revision never imports the app's models.
* ``sites.last_run_at`` is dropped (it was never written; ``site_latest_crawl`` has the last run).

The allowed values are frozen here (a new value is a new revision that widens the constraint).
SQLite cannot add a CHECK to a table: ``pages`` and ``crawl_runs`` are rebuilt in batch mode
(move-and-copy). ``alembic/env.py`` switches SQLite foreign keys off around the migration, so
rebuilding ``pages`` does not null ``articles.page_id`` & co. through ``ON DELETE SET NULL``; the
view over ``crawl_runs`` (``site_latest_crawl``) is dropped and re-created around the rebuild.
``sites.last_run_at`` is dropped natively (``ALTER TABLE ... DROP COLUMN``, SQLite >= 3.35).

Downgrade drops the constraints and re-adds ``sites.last_run_at`` (NULL); remapped values stay
remapped.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE_OUTCOMES = ("article", "duplicate", "revision", "list", "feed", "sitemap", "not_article", "blocked",
                 "binary", "empty", "soft404", "failed", "refused")
RUN_STATUSES = ("running", "ok", "empty", "failed", "interrupted", "timeout", "locked")
TRIGGERS = ("schedule", "manual", "due", "worker")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


CHECKS = {  # table -> [(constraint name, condition)]
    "pages": [("ck_pages_outcome", f"outcome IN ({_in(PAGE_OUTCOMES)})")],
    "crawl_runs": [("ck_crawl_runs_status", f"status IN ({_in(RUN_STATUSES)})"),
                   ("ck_crawl_runs_trigger", f"\"trigger\" IN ({_in(TRIGGERS)})")],
}


def _remap_values(conn) -> None:
    conn.execute(sa.text(
        "UPDATE pages SET reason = CASE WHEN reason IS NULL OR reason = '' THEN outcome "
        "ELSE outcome || ': ' || reason END, outcome = 'failed' "
        f"WHERE outcome IS NULL OR outcome NOT IN ({_in(PAGE_OUTCOMES)})"))
    conn.execute(sa.text(
        "UPDATE crawl_runs SET log_tail = '[migration 0003: status was ' || coalesce(status, 'NULL') || ']' "
        "|| CASE WHEN log_tail IS NULL THEN '' ELSE char(10) || log_tail END, status = 'failed' "
        f"WHERE status IS NULL OR status NOT IN ({_in(RUN_STATUSES)})"
    ) if conn.dialect.name == "sqlite" else sa.text(
        "UPDATE crawl_runs SET log_tail = '[migration 0003: status was ' || coalesce(status, 'NULL') || ']' "
        "|| CASE WHEN log_tail IS NULL THEN '' ELSE chr(10) || log_tail END, status = 'failed' "
        f"WHERE status IS NULL OR status NOT IN ({_in(RUN_STATUSES)})"))
    conn.execute(sa.text(
        "UPDATE crawl_runs SET \"trigger\" = 'manual' "
        f"WHERE \"trigger\" IS NULL OR \"trigger\" NOT IN ({_in(TRIGGERS)})"))


def _sqlite_views_on(conn, table: str) -> list[tuple[str, str]]:
    """``(name, CREATE VIEW sql)`` of the SQLite views whose SQL names ``table``."""
    rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'view'")).all()
    return [(r.name, r.sql) for r in rows if table in (r.sql or "")]


def _require_sqlite_fk_off(conn) -> None:
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "migration 0003 rebuilds SQLite tables and needs PRAGMA foreign_keys=OFF (alembic/env.py "
            "sets it on the connections it opens; switch it off before a transaction on your own connection)")


def _alter_checks(conn, add: bool) -> None:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        _require_sqlite_fk_off(conn)
    for table, checks in CHECKS.items():
        views = _sqlite_views_on(conn, table) if sqlite else []
        for name, _sql in views:
            op.execute(f"DROP VIEW {name}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, cond in checks:
                if add:
                    batch_op.create_check_constraint(op.f(name), cond)
                else:
                    batch_op.drop_constraint(op.f(name), type_="check")
        for _name, sql in views:
            op.execute(sql)
    if sqlite:
        bad = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if bad:
            raise RuntimeError(f"foreign key check failed after the rebuild: {bad[:5]}")


def upgrade() -> None:
    conn = op.get_bind()
    _remap_values(conn)
    _alter_checks(conn, add=True)
    if conn.dialect.name == "sqlite":
        op.execute("ALTER TABLE sites DROP COLUMN last_run_at")
    else:
        op.drop_column("sites", "last_run_at")


def downgrade() -> None:
    conn = op.get_bind()
    _alter_checks(conn, add=False)
    op.add_column("sites", sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True))  # native on SQLite
