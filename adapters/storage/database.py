"""Opening the one SQLite database: folders, WAL, migrations.

Everything the bot stores (catalog, anchors, requests, Spotify caches) lives in one file,
``Settings.db_path`` by default. The connection allows use from other threads because the
flow runs its SQLite calls in a worker thread (under its own lock). WAL lets a running bot
keep reading while ``aidj catalog import`` writes; the busy timeout makes a writer wait for
the other instead of failing at once.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from core.errors import CatalogError
from migrations import apply_migrations

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 64 * 1024  # the whole 100k-track catalog and its index fit: imports stay in RAM


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
        raise CatalogError(f"cannot use the database {path}: {error}") from None
    return db, applied


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
