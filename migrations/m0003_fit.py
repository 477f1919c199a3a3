"""Votes ("did it fit?"): one 👍 / 👎 per user per request, and an index for stats per chat.

``vote`` is ``core.fit.Vote``'s value; ``at`` is when it was last set (ISO 8601 UTC). A
taken-back vote is deleted. ``requests_by_chat`` serves ``/stats`` (one chat's requests).
"""

from __future__ import annotations

from sqlite_utils import Database

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE fit_votes (
        request_id INTEGER NOT NULL,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
        at TEXT NOT NULL,
        PRIMARY KEY (request_id, platform, user_id)
    )
    """,
    "CREATE INDEX requests_by_chat ON requests (platform, chat_id, created_at)",
)


def apply(db: Database) -> None:
    """Create ``fit_votes`` and the per-chat index of ``requests``."""
    for statement in STATEMENTS:
        db.execute(statement)
