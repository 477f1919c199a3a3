"""A catalog version number, raised by every catalog import that changes something.

An import stages its changes from a snapshot of the catalog before it takes the write lock
(so the bot's writes never wait for the slow part); the version tells it, once it holds the
lock, whether another import changed the catalog since that snapshot.
"""

from __future__ import annotations

from sqlite_utils import Database

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE catalog_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    )
    """,
    "INSERT INTO catalog_version (id, version) VALUES (1, 0)",
)


def apply(db: Database) -> None:
    """Create the one-row ``catalog_version`` table at version 0."""
    for statement in STATEMENTS:
        db.execute(statement)
