"""Opening the one SQLite database: folders, WAL, migrations.

Everything the bot stores (catalog, anchors, requests, Spotify caches) lives in one file,
``Settings.db_path`` by default. The connection allows use from other threads because the
flow runs its SQLite calls in a worker thread (under its own lock). WAL lets a running bot
keep reading while ``aidj catalog import`` writes; the busy timeout makes a writer wait for
the other instead of failing at once, and ``busy_as_user_error`` turns a wait that ran out
into a ``DatabaseBusyError`` that users can be shown.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from core.errors import CatalogError, DatabaseBusyError
from migrations import apply_migrations

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 64 * 1024  # the whole 100k-track catalog and its index fit: imports stay in RAM
BUSY_MESSAGE = (
    "the database is busy: another program (an `aidj catalog import`?) kept it locked "
    "too long; try again in a moment"
)
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_BUSY_TEXTS = ("database is locked", "database table is locked", "database is busy")


def open_database(path: Path | str) -> Database:
    """The database at ``path`` with every migration applied (":memory:" for tests)."""
    db, _ = open_and_migrate(path)
    return db


def open_and_migrate(path: Path | str) -> tuple[Database, list[str]]:
    """``open_database``, also saying which migrations it applied just now."""
    conn = _connect(path)
    db = Database(conn)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if str(path) != MEMORY:
            with db.ensure_autocommit_on():
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        applied = apply_migrations(db)
    except sqlite3.DatabaseError as error:
        conn.close()
        if is_busy(error):  # e.g. a migration waiting on an import's write lock
            raise DatabaseBusyError(BUSY_MESSAGE) from error
        raise CatalogError(f"cannot use the database {path}: {error}") from None
    return db, applied


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite giving up on a lock that another connection holds."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)  # absent on errors made by hand
    if code is not None:
        return code & 0xFF in _BUSY_CODES  # the primary code of e.g. SQLITE_BUSY_SNAPSHOT
    return str(error).startswith(_BUSY_TEXTS)


@contextmanager
def busy_as_user_error() -> Iterator[None]:
    """Inside this block, SQLite's "database is locked" comes out as ``DatabaseBusyError``
    (whose text users may see); every other error passes unchanged. Also a decorator."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if is_busy(error):
            raise DatabaseBusyError(BUSY_MESSAGE) from error
        raise


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction holding the write lock from its start (``BEGIN IMMEDIATE``).

    A plain (deferred) transaction that reads and then writes cannot upgrade its lock once
    another connection has written in between: SQLite refuses at once, whatever the busy
    timeout. Taking the lock up front waits (up to the busy timeout) instead. Keep the
    block short: every other writer waits while it is open.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    try:
        db.conn.commit()
    except BaseException:
        db.conn.rollback()
        raise


def utc_now() -> str:
    """A timestamp for the ``*_at`` columns: ISO 8601, UTC, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _connect(path: Path | str) -> sqlite3.Connection:
    if str(path) == MEMORY:
        return sqlite3.connect(MEMORY, check_same_thread=False)
    file = Path(path).expanduser()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(file, check_same_thread=False)
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise CatalogError(f"cannot open the database {file}: {reason}") from None
