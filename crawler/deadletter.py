"""Dead letters: pages the archive could not take (database down, locked, ...) kept on local disk.

When a write to the archive fails, :class:`DeadLetterGuard` (wrapped around
:meth:`crawler.pipelines.StorePipeline.store`) appends the page item to a JSON-lines file instead
of losing it, and stops hammering the database for a cool-down (a circuit breaker: while it is
open, items go straight to the file). ``govnews replay`` and the start of the next crawl of the site
(:class:`crawler.reliability.ReliabilityExtension`) put them into the archive again.

Files: ``$GOVNEWS_DEADLETTER_DIR`` (Scrapy setting or environment; default ``data/deadletter``
under the repository root) ``/<site>/<UTC time>-<host>-<pid>-<random>.jsonl``. One JSON object per line::

    {"v": 1, "id": "<uuid>", "written_at": "...", "db": "<fingerprint of the masked DB URL>",
     "error": "OperationalError: ...", "item": {...page item without its body...},
     "body_b64": "<raw bytes, base64>"}

The writing process holds an exclusive ``flock`` on its file while it lives, so a replay never reads
a file that is still being written; a process killed with SIGKILL releases it.

Replay is idempotent: a record whose ``pages`` row already exists (same URL, fetch time and SHA-256)
is not recorded again, and :meth:`storage.archive.Archive.store_article` answers ``seen`` for an
article it already holds. A replayed file is deleted once every record in it is stored; records
that fail again stay in the file (rewritten atomically) for the next replay.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DIR_SETTING = "GOVNEWS_DEADLETTER_DIR"
DEFAULT_DIR = REPO_ROOT / "data" / "deadletter"
COOLDOWN_SETTING = "GOVNEWS_DB_RETRY_SECONDS"
DEFAULT_COOLDOWN = 30.0          # seconds the circuit stays open after a failed write
FORMAT_VERSION = 1
SUFFIX = ".jsonl"
#: item fields that are not JSON as they are
_DATETIME_FIELDS = ("fetched_at",)
#: derived item fields that replay recomputes (extraction is pure) instead of serialising
_DERIVED_FIELDS = ("article", "body", "store_outcome", "article_id")
_URL_PASSWORD_RE = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]*@", re.I)


def scrub(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@host`` URL hidden."""
    return _URL_PASSWORD_RE.sub(r"\1***@", text)


def deadletter_dir(settings=None) -> Path:
    value = (settings.get(DIR_SETTING) if settings is not None else None) or os.environ.get(DIR_SETTING)
    return Path(value) if value else DEFAULT_DIR


def db_fingerprint(db_url: str) -> str:
    """Which archive a letter was meant for (the URL without its password, hashed)."""
    from storage.db import mask_url
    return hashlib.sha256(mask_url(db_url).encode()).hexdigest()[:16]


def _site_dirname(site: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]", "_", site or "unknown")


# ------------------------------------------------------------------------------------- writing
def encode_item(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key in _DERIVED_FIELDS:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, (bytes, bytearray)):
            value = {"b64": base64.b64encode(bytes(value)).decode("ascii")}
        out[key] = value
    return json.loads(json.dumps(out, default=str, ensure_ascii=False))


def decode_item(record: dict[str, Any]) -> dict[str, Any]:
    item = dict(record["item"])
    for key, value in list(item.items()):
        if isinstance(value, dict) and set(value) == {"b64"}:
            item[key] = base64.b64decode(value["b64"])
    for key in _DATETIME_FIELDS:
        if isinstance(item.get(key), str):
            item[key] = datetime.fromisoformat(item[key])
    item["body"] = base64.b64decode(record.get("body_b64") or "")
    return item


class DeadLetterWriter:
    """Appends items to ``<dir>/<site>/<time>-<host>-<pid>.jsonl`` (one file per process and site)."""

    def __init__(self, directory: str | os.PathLike, db_url: str):
        self.directory = Path(directory)
        self.db = db_fingerprint(db_url)
        self._files: dict[str, Any] = {}
        self.written = 0

    def _file(self, site: str):
        f = self._files.get(site)
        if f is None:
            folder = self.directory / _site_dirname(site)
            folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            path = folder / f"{stamp}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}{SUFFIX}"
            f = open(path, "a", encoding="utf-8")
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)   # held while this process lives
            self._files[site] = f
            logger.warning("dead-letter file %s: pages the archive could not take are kept here", path)
        return f

    def write(self, item: dict[str, Any], error: BaseException | str) -> Path:
        err = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        record = {
            "v": FORMAT_VERSION, "id": uuid.uuid4().hex,
            "written_at": datetime.now(UTC).isoformat(), "db": self.db,
            "error": scrub(err)[:2000], "item": encode_item(item),
            "body_b64": base64.b64encode(bytes(item.get("body") or b"")).decode("ascii"),
        }
        f = self._file(item.get("site") or "unknown")
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())        # a dead letter must survive the crash that usually follows
        self.written += 1
        return Path(f.name)

    def close(self) -> None:
        for f in self._files.values():
            try:
                f.close()           # closing releases the flock
            except OSError:  # pragma: no cover
                pass
        self._files.clear()


class DeadLetterGuard:
    """Run ``store(item)``; on any exception keep the item in the dead-letter file instead.

    After a failure the circuit opens for ``cooldown`` seconds: items go straight to the file without
    waiting for the database again; the first item after the cool-down probes it.
    """

    def __init__(self, writer: DeadLetterWriter, cooldown: float = DEFAULT_COOLDOWN, stats=None,
                 clock: Callable[[], float] = time.monotonic):
        self.writer = writer
        self.cooldown = cooldown
        self.stats = stats
        self.clock = clock
        self.open_until = 0.0
        self.last_error: str | None = None

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def process(self, item: dict[str, Any], store: Callable[[dict], dict]) -> dict[str, Any]:
        if self.clock() < self.open_until:
            self._keep(item, f"archive unavailable (circuit open after: {self.last_error})")
            return item
        try:
            return store(item)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the page is kept
            self.last_error = scrub(f"{type(exc).__name__}: {exc}")[:500]
            self.open_until = self.clock() + self.cooldown
            logger.error("archive write failed for %s (%s); keeping it as a dead letter, database "
                         "writes paused for %.0fs", item.get("url"), self.last_error.splitlines()[0],
                         self.cooldown)
            self._inc("govnews/db_errors/store")
            self._keep(item, self.last_error)
            return item

    def _keep(self, item: dict[str, Any], error: str) -> None:
        path = self.writer.write(item, error)
        item["deadletter"] = str(path)
        self._inc("govnews/deadletter/written")


# ------------------------------------------------------------------------------------- replay
class _Stats(Counter):
    """Enough of Scrapy's stats collector for the pipelines."""

    def inc_value(self, key, count=1, start=0):
        self[key] += count

    def set_value(self, key, value):
        self[key] = value

    def get_value(self, key, default=None):
        return self.get(key, default)


@dataclass
class ReplayReport:
    files: int = 0
    records: int = 0
    stored: int = 0
    already: int = 0                 # the page row existed: an earlier replay got that far
    failed: int = 0
    skipped_files: list[str] = field(default_factory=list)   # locked (being written) or other DB
    outcomes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        outs = ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items())) or "-"
        return (f"{self.files} file(s), {self.records} record(s): {self.stored} stored, "
                f"{self.already} already in the archive, {self.failed} failed; articles: {outs}"
                + (f"; skipped {len(self.skipped_files)} file(s)" if self.skipped_files else ""))


def letter_files(directory: str | os.PathLike, site: str | None = None) -> list[Path]:
    root = Path(directory)
    if not root.is_dir():
        return []
    folders = [root / _site_dirname(site)] if site else [p for p in root.iterdir() if p.is_dir()]
    return sorted(p for d in folders if d.is_dir() for p in d.glob(f"*{SUFFIX}"))


def read_records(path: Path) -> Iterator[dict[str, Any] | str]:
    """Records of a file; a line that is not JSON (a torn last write) is yielded as the raw line."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                yield line


def _existing_page(archive, item: dict[str, Any]) -> int | None:
    from sqlalchemy import select

    from storage.models import Page

    body = bytes(item.get("body") or b"")
    fetched = item.get("fetched_at")
    if fetched is None:
        return None
    with archive.engine.connect() as conn:
        return conn.execute(
            select(Page.id).where(Page.url == item["url"], Page.fetched_at == fetched,
                                  Page.sha256 == hashlib.sha256(body).hexdigest()).limit(1)
        ).scalar()


class Replayer:
    """Stores dead letters through the crawl's own pipelines (extraction, then storage)."""

    def __init__(self, archive, *, any_db: bool = False, db_url: str | None = None):
        from crawler.pipelines import ExtractPipeline, StorePipeline

        self.archive = archive
        self.stats = _Stats()
        crawler = SimpleNamespace(stats=self.stats, _govnews_archive=archive, settings=None)
        self.extract = ExtractPipeline(crawler)
        self.store = StorePipeline(crawler)
        self.db = db_fingerprint(db_url or archive.url)
        self.any_db = any_db
        self._sites: set[str] = set()

    def replay_record(self, record: dict[str, Any], report: ReplayReport) -> None:
        item = decode_item(record)
        if item.get("site") and item["site"] not in self._sites:
            self.archive.site_id(item["site"])
            self._sites.add(item["site"])
        if item.get("page_id") is None:
            existing = _existing_page(self.archive, item)
            if existing is not None:
                item["page_id"] = existing
                report.already += 1
        item.pop("outcome", None)           # recomputed by extraction (pure) ...
        if item.get("kind") == "article":
            item.pop("reason", None)         # ... with its reason; failed/refused keep theirs
        item = self.extract.process_item(item)
        item = self.store.store(item)
        if item.get("store_outcome"):
            report.outcomes[item["store_outcome"]] += 1

    def replay_file(self, path: Path, report: ReplayReport) -> None:
        try:
            f = open(path, "r+", encoding="utf-8")
        except FileNotFoundError:
            return
        with f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                report.skipped_files.append(f"{path} (being written by a live process)")
                return
            records = list(read_records(path))
            if not self.any_db and any(isinstance(r, dict) and r.get("db") not in (None, self.db)
                                       for r in records):
                report.skipped_files.append(f"{path} (written for another database; --any-db replays it)")
                return
            report.files += 1
            keep: list[str] = []
            for record in records:
                report.records += 1
                if not isinstance(record, dict):
                    logger.error("%s: unreadable line kept: %.80r", path, record)
                    report.failed += 1
                    keep.append(record.rstrip("\n"))
                    continue
                try:
                    self.replay_record(record, report)
                    report.stored += 1
                except Exception as exc:  # noqa: BLE001 - kept for the next replay
                    report.failed += 1
                    msg = scrub(f"{record['item'].get('url')}: {type(exc).__name__}: {exc}")[:300]
                    report.errors.append(msg)
                    logger.error("replay failed, letter kept: %s", msg)
                    keep.append(json.dumps(record, ensure_ascii=False))
            if keep:
                tmp = path.with_suffix(".tmp")
                tmp.write_text("\n".join(keep) + "\n", encoding="utf-8")
                os.replace(tmp, path)
            else:
                path.unlink()


def replay(archive, directory: str | os.PathLike | None = None, *, site: str | None = None,
           any_db: bool = False, db_url: str | None = None) -> ReplayReport:
    """Put every dead letter under ``directory`` (for ``site``, or all sites) into ``archive``."""
    report = ReplayReport()
    directory = Path(directory) if directory else deadletter_dir()
    files = letter_files(directory, site)
    if not files:
        return report
    replayer = Replayer(archive, any_db=any_db, db_url=db_url)
    for path in files:
        replayer.replay_file(path, report)
    if report.records:
        logger.info("dead-letter replay from %s: %s", directory, report.summary())
    return report
