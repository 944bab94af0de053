"""Dead letters: pages the archive could not take (database down, locked, ...) kept on local disk.

When a write to the archive fails, :class:`DeadLetterGuard` (wrapped around
:meth:`crawler.ingest.IngestService.store` in the store pipeline) appends the page (a
:class:`crawler.items.FetchedPage`) to a JSON-lines file instead of losing it, and stops hammering
the database for a cool-down (a circuit breaker: while it is open, pages go straight to the file).
``govnews replay`` and the start of the next crawl of the site
(:class:`crawler.extensions.deadletter_replay.DeadLetterReplayExtension`) put them into the archive again.

Files: ``$GOVNEWS_DEADLETTER_DIR`` (Scrapy setting or environment; default ``deadletter`` under the
data directory, :func:`common.paths.data_dir`) ``/<site>/<UTC time>-<host>-<pid>-<random>.jsonl``.
One JSON object per line::

    {"v": 1, "id": "<uuid>", "written_at": "...", "db": "<fingerprint of the masked DB URL>",
     "error": "OperationalError: ...", "item": {...FetchedPage.to_record(): the page without its body...},
     "body_b64": "<raw bytes, base64>"}

The writing process holds an exclusive ``flock`` on its file while it lives, so a replay never reads
a file that is still being written; a process killed with SIGKILL releases it.

Replay (:class:`Replayer`) runs each letter through :class:`crawler.ingest.IngestService`, the same
classify -> extract -> hostile check -> store path as the crawl, with the site profile's extraction
hints (:class:`crawler.ingest.ProfileHints`; a crawl passes its own). No Scrapy is involved. Letters
written before ``FetchedPage`` (plain item dicts, with a ``hints`` key that is now ignored) replay the
same way. Replay is idempotent: a record whose ``pages`` row already exists (same URL, fetch time and
SHA-256) is not recorded again, and :meth:`storage.archive.Archive.store_article` answers ``seen``
for an article it already holds. A replayed file is deleted once every record in it is stored;
records that fail again stay in the file (rewritten atomically) for the next replay.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from common.clock import utcnow
from common.hosts import holder_id
from common.paths import data_dir
from common.secrets import mask_secrets
from crawler.ingest import HintsFor, IngestService, IngestStats, ProfileHints
from crawler.items import FetchedPage
from storage.db import mask_url
from storage.models import Page

if TYPE_CHECKING:
    from storage.archive import Archive

logger = logging.getLogger(__name__)

DIR_SETTING = "GOVNEWS_DEADLETTER_DIR"
DIR_NAME = "deadletter"          # under common.paths.data_dir() unless GOVNEWS_DEADLETTER_DIR says otherwise
COOLDOWN_SETTING = "GOVNEWS_DB_RETRY_SECONDS"
DEFAULT_COOLDOWN = 30.0          # seconds the circuit stays open after a failed write
FORMAT_VERSION = 1
SUFFIX = ".jsonl"
ERROR_MAX = 2000

def deadletter_dir(settings=None) -> Path:
    """The Scrapy setting, else ``$GOVNEWS_DEADLETTER_DIR``, else ``<data dir>/deadletter`` (at call time)."""
    value = (settings.get(DIR_SETTING) if settings is not None else None) or os.environ.get(DIR_SETTING)
    return Path(value) if value else data_dir() / DIR_NAME


def db_fingerprint(db_url: str) -> str:
    """Which archive a letter was meant for (the URL without its password, hashed)."""
    return hashlib.sha256(mask_url(db_url).encode()).hexdigest()[:16]


def _site_dirname(site: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]", "_", site or "unknown")


# ------------------------------------------------------------------------------------- records
def encode_item(page: FetchedPage) -> dict[str, Any]:
    """The ``item`` part of a letter: :meth:`FetchedPage.to_record` (the body is kept apart)."""
    return json.loads(json.dumps(page.to_record(), default=str, ensure_ascii=False))


def decode_item(record: dict[str, Any]) -> FetchedPage:
    """The page of a letter (``item`` + ``body_b64``); older letters hold plain item dicts."""
    return FetchedPage.from_record(record["item"], body=base64.b64decode(record.get("body_b64") or ""))


# ------------------------------------------------------------------------------------- writing
class DeadLetterWriter:
    """Appends pages to ``<dir>/<site>/<time>-<host>-<pid>-<random>.jsonl`` (one file per process and site)."""

    def __init__(self, directory: str | os.PathLike, db_url: str, *, clock: Callable[[], datetime] = utcnow):
        self.directory = Path(directory)
        self.db = db_fingerprint(db_url)
        self.clock = clock
        self._files: dict[str, Any] = {}
        self.written = 0

    def _file(self, site: str | None):
        key = _site_dirname(site)
        f = self._files.get(key)
        if f is None:
            folder = self.directory / key
            folder.mkdir(parents=True, exist_ok=True)
            stamp = self.clock().strftime("%Y%m%dT%H%M%S")
            holder = holder_id().replace(":", "-")
            path = folder / f"{stamp}-{holder}-{uuid.uuid4().hex[:6]}{SUFFIX}"
            f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open while this process lives
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)   # held while this process lives
            self._files[key] = f
            logger.warning("dead-letter file %s: pages the archive could not take are kept here", path)
        return f

    def write(self, page: FetchedPage, error: BaseException | str) -> Path:
        err = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        record = {
            "v": FORMAT_VERSION, "id": uuid.uuid4().hex,
            "written_at": self.clock().isoformat(), "db": self.db,
            "error": mask_secrets(err)[:ERROR_MAX], "item": encode_item(page),
            "body_b64": base64.b64encode(bytes(page.body or b"")).decode("ascii"),
        }
        f = self._file(page.site)
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
    """Run ``store(page)``; on any exception keep the page in the dead-letter file instead.

    After a failure the circuit opens for ``cooldown`` seconds: pages go straight to the file without
    waiting for the database again; the first page after the cool-down probes it. :meth:`process`
    wraps a plain function, :meth:`process_async` one that is awaited (the pipeline's write in a
    worker thread); both run on the caller's thread, so the guard needs no lock.
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

    def is_open(self) -> bool:
        """True during the cool-down after a failed write (pages skip the database)."""
        return self.clock() < self.open_until

    def process(self, page: FetchedPage, store: Callable[[FetchedPage], FetchedPage]) -> FetchedPage:
        if self.is_open():
            self.keep_while_open(page)
            return page
        try:
            return store(page)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the page is kept
            self.failed(page, exc)
            return page

    async def process_async(self, page: FetchedPage,
                            store: Callable[[FetchedPage], Awaitable[FetchedPage]]) -> FetchedPage:
        if self.is_open():
            self.keep_while_open(page)
            return page
        try:
            return await store(page)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the page is kept
            self.failed(page, exc)
            return page

    def keep_while_open(self, page: FetchedPage) -> None:
        self._keep(page, f"archive unavailable (circuit open after: {self.last_error})")

    def failed(self, page: FetchedPage, exc: BaseException) -> None:
        """A write of ``page`` failed with ``exc``: open the circuit and keep the page."""
        self.last_error = mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
        self.open_until = self.clock() + self.cooldown
        logger.error("archive write failed for %s (%s); keeping it as a dead letter, database "
                     "writes paused for %.0fs", page.url, self.last_error.splitlines()[0], self.cooldown)
        self._inc("govnews/db_errors/store")
        self._keep(page, self.last_error)

    def _keep(self, page: FetchedPage, error: str) -> None:
        path = self.writer.write(page, error)
        page.deadletter = str(path)
        self._inc("govnews/deadletter/written")


# ------------------------------------------------------------------------------------- replay
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


def _existing_page(archive: Archive, page: FetchedPage) -> int | None:
    """The ``pages`` row an earlier replay already wrote for this letter (URL, fetch time, SHA-256)."""
    if page.fetched_at is None:
        return None
    digest = hashlib.sha256(bytes(page.body or b"")).hexdigest()
    with archive.engine.connect() as conn:
        return conn.execute(
            select(Page.id).where(Page.url == page.url, Page.fetched_at == page.fetched_at,
                                  Page.sha256 == digest).limit(1)
        ).scalar()


class Replayer:
    """Stores dead letters through :class:`crawler.ingest.IngestService` (extraction, then storage).

    ``hints_for(site)`` gives the extraction hints (default: the site's profile, none when it is
    gone); ``stats`` collects the ingest counters (default: an :class:`~crawler.ingest.IngestStats`).
    """

    def __init__(self, archive: Archive, *, any_db: bool = False, db_url: str | None = None,
                 hints_for: HintsFor | None = None, stats=None):
        self.archive = archive
        self.stats = stats if stats is not None else IngestStats()
        self.ingest = IngestService(archive, stats=self.stats, hints_for=hints_for or ProfileHints())
        self.db = db_fingerprint(db_url or archive.url)
        self.any_db = any_db
        self._sites: set[str] = set()

    def replay_record(self, record: dict[str, Any], report: ReplayReport) -> None:
        page = decode_item(record)
        if page.site and page.site not in self._sites:
            self.archive.site_id(page.site)
            self._sites.add(page.site)
        if page.page_id is None:
            existing = _existing_page(self.archive, page)
            if existing is not None:
                page.page_id = existing
                report.already += 1
        if page.kind == "article":           # recomputed by extraction (pure), with its reason;
            page.outcome = page.reason = None   # other kinds keep theirs (failed, refused, blocked)
        page = self.ingest.process(page)
        if page.store_outcome:
            report.outcomes[page.store_outcome] += 1

    def replay_file(self, path: Path, report: ReplayReport) -> None:
        try:
            f = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - held (flock) while replaying
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
                    url = (record.get("item") or {}).get("url")
                    msg = mask_secrets(f"{url}: {type(exc).__name__}: {exc}")[:300]
                    report.errors.append(msg)
                    logger.error("replay failed, letter kept: %s", msg)
                    keep.append(json.dumps(record, ensure_ascii=False))
            if keep:
                tmp = path.with_suffix(".tmp")
                tmp.write_text("\n".join(keep) + "\n", encoding="utf-8")
                os.replace(tmp, path)
            else:
                path.unlink()


def replay(archive: Archive, directory: str | os.PathLike | None = None, *, site: str | None = None,
           any_db: bool = False, db_url: str | None = None, hints_for: HintsFor | None = None) -> ReplayReport:
    """Put every dead letter under ``directory`` (for ``site``, or all sites) into ``archive``.

    ``hints_for(site)``: the extraction hints (default: the site's profile; a crawl passes its own)."""
    report = ReplayReport()
    directory = Path(directory) if directory else deadletter_dir()
    files = letter_files(directory, site)
    if not files:
        return report
    replayer = Replayer(archive, any_db=any_db, db_url=db_url, hints_for=hints_for)
    for path in files:
        replayer.replay_file(path, report)
    if report.records:
        logger.info("dead-letter replay from %s: %s", directory, report.summary())
    return report
