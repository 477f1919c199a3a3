"""The scene a user chose for a request whose photo was a close call (``core.scene_choice``).

``requests.scene_choice`` is the chosen category id, NULL while none was chosen (every
request made before this migration too). ``category_id`` keeps CLIP's own pick; once a scene
is chosen the base, final and target columns and ``seed_genres`` hold the re-based values,
so a stored request re-renders (and steers) as the user left it.
"""

from __future__ import annotations

from sqlite_utils import Database

STATEMENTS: tuple[str, ...] = ("ALTER TABLE requests ADD COLUMN scene_choice TEXT",)


def apply(db: Database) -> None:
    """Add the nullable ``requests.scene_choice`` column."""
    for statement in STATEMENTS:
        db.execute(statement)
