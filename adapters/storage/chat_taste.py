"""The nudges a chat pressed on a scene (for ``core.taste``), and forgetting them.

Presses are the ``feedback`` rows the request log keeps for every delivered steer; a
chat's are those on requests made in that chat. A press on an album's card moves every photo,
so it counts for each scene among the album's photos (once per scene), not only the first
photo's (the request's own). ``/prefs reset`` does not delete them (they
are the log other statistics read): it records the last press id at that moment in
``chat_taste_resets``, and only later presses count.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from adapters.storage.database import utc_now
from core.steering import Action
from core.taste import Press

_NUDGES = tuple(action.value for action in Action if action is not Action.REGENERATE)
_CHAT_NUDGES = f"""
    SELECT f.action, f.created_at
    FROM requests AS r
    JOIN feedback AS f ON f.request_id = r.id
    WHERE r.platform = ? AND r.chat_id = ?
      AND (r.category_id = ? OR EXISTS (
        SELECT 1 FROM album_photos AS p WHERE p.request_id = r.id AND p.category_id = ?
      ))
      AND f.action IN ({", ".join("?" * len(_NUDGES))})
      AND f.id > coalesce(
        (SELECT after_feedback_id FROM chat_taste_resets WHERE platform = ? AND chat_id = ?), 0
      )
    ORDER BY f.id DESC
    LIMIT ?
"""


def chat_nudges(
    db: Database, platform: str, chat_id: str, category_id: str, limit: int = 500
) -> list[Press]:
    """The chat's nudges (⚡ 🌙 ☀️ 🌧, not 🔁) on cards of ``category_id`` since its last
    taste reset, newest first, at most ``limit`` of them."""
    rows = db.execute(
        _CHAT_NUDGES,
        [platform, str(chat_id), category_id, category_id, *_NUDGES, platform, str(chat_id), limit],
    )
    return [Press(Action(action), datetime.fromisoformat(at)) for action, at in rows]


def reset_chat_taste(db: Database, platform: str, chat_id: str) -> None:
    """Make every press so far stop counting towards the chat's taste."""
    with db.atomic():
        db.execute(
            "INSERT INTO chat_taste_resets (platform, chat_id, after_feedback_id, reset_at) "
            "VALUES (?, ?, (SELECT coalesce(max(id), 0) FROM feedback), ?) "
            "ON CONFLICT (platform, chat_id) DO UPDATE SET "
            "after_feedback_id = excluded.after_feedback_id, reset_at = excluded.reset_at",
            [platform, str(chat_id), utc_now()],
        )
