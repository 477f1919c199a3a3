"""Per-user preferences, each chat's taste, and explicitness in the catalog.

- ``user_prefs``: one row per (platform, user) who used ``/prefs``; ``skip_artists`` is a
  JSON array of names as the user wrote them (matched case-insensitively when used).
- ``chat_taste_resets``: ``/prefs reset`` for a chat's taste. Presses are never deleted
  (they are the request log); a reset only makes presses up to ``after_feedback_id`` stop
  counting. An id rather than a time, so a press in the same second is not lost.
- ``tracks.explicit``: 1 explicit, 0 clean, NULL unknown (the TidyTuesday format has no
  such column; the Spotify Tracks Dataset does).
- ``requests.taste_valence``/``taste_energy``: how far the chat's taste moved the request's
  base, so a steered or re-rendered card still says so.
- An index for a chat's requests on a scene (the taste's query).
"""

from __future__ import annotations

from sqlite_utils import Database

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE user_prefs (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        language TEXT,
        skip_artists TEXT NOT NULL DEFAULT '[]',
        explicit INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (platform, user_id)
    )
    """,
    """
    CREATE TABLE chat_taste_resets (
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        after_feedback_id INTEGER NOT NULL,
        reset_at TEXT NOT NULL,
        PRIMARY KEY (platform, chat_id)
    )
    """,
    "ALTER TABLE tracks ADD COLUMN explicit INTEGER",
    "ALTER TABLE requests ADD COLUMN taste_valence REAL NOT NULL DEFAULT 0",
    "ALTER TABLE requests ADD COLUMN taste_energy REAL NOT NULL DEFAULT 0",
    "CREATE INDEX requests_by_chat_scene ON requests (platform, chat_id, category_id)",
)


def apply(db: Database) -> None:
    """Create the prefs and taste tables and add the new columns."""
    for statement in STATEMENTS:
        db.execute(statement)
