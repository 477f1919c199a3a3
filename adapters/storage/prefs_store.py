"""Users' ``/prefs`` settings: the ``user_prefs`` table (one row per user who changed any).

Synchronous, on the storage gateway's thread. ``update`` reads, changes and writes a row in
one transaction there, so two ``/prefs`` of one user at once cannot lose either change.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlite_utils import Database

from adapters.storage.database import utc_now, write_transaction
from core.language import Language
from core.prefs import UserPrefs


def user_prefs(db: Database, platform: str, user_id: str) -> UserPrefs:
    """The user's settings (the defaults for a user who never changed any)."""
    row = db.execute(
        "SELECT language, skip_artists, explicit FROM user_prefs "
        "WHERE platform = ? AND user_id = ?",
        [platform, str(user_id)],
    ).fetchone()
    if row is None:
        return UserPrefs()
    language, skip_artists, explicit = row
    return UserPrefs(
        language=Language.of(language) if language else None,
        skip_artists=tuple(json.loads(skip_artists)),
        explicit=bool(explicit),
    )


def update_user_prefs(
    db: Database, platform: str, user_id: str, change: Callable[[UserPrefs], UserPrefs]
) -> UserPrefs:
    """Apply ``change`` to the user's settings and keep the result (a user back at the
    defaults keeps no row); the new settings. What ``change`` raises leaves them as they were."""
    with write_transaction(db):  # read, then write: hold the write lock from the start
        new = change(user_prefs(db, platform, user_id))
        if new == UserPrefs():
            db.execute(
                "DELETE FROM user_prefs WHERE platform = ? AND user_id = ?",
                [platform, str(user_id)],
            )
            return new
        db.execute(
            "INSERT INTO user_prefs (platform, user_id, language, skip_artists, explicit, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, user_id) DO UPDATE SET language = excluded.language, "
            "skip_artists = excluded.skip_artists, explicit = excluded.explicit, "
            "updated_at = excluded.updated_at",
            [
                platform,
                str(user_id),
                new.language.value if new.language else None,
                json.dumps(list(new.skip_artists), ensure_ascii=False),
                int(new.explicit),
                utc_now(),
            ],
        )
    return new
