"""The photos of an album request, so its card can be shown and steered after a restart.

One row per photo of the post, in the post's order (``position``, from 1). A photo that was
read keeps its scene (the CLIP distribution as JSON), its base and tuned points, how far the
chat's taste moved its base, and its point after steering (``target``; the album's one
caption reading is the request row's). A photo
that was skipped keeps only why (``problem``, a ``core.messages.ImageProblem`` value). The
request row itself holds the album's first photo that was read.
"""

from __future__ import annotations

from sqlite_utils import Database

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE album_photos (
        request_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        problem TEXT,
        category_id TEXT,
        category_confidence REAL,
        categories TEXT,
        base_valence REAL,
        base_energy REAL,
        base_source TEXT,
        final_valence REAL,
        final_energy REAL,
        taste_valence REAL,
        taste_energy REAL,
        target_valence REAL,
        target_energy REAL,
        seed_genres TEXT,
        PRIMARY KEY (request_id, position),
        CHECK ((problem IS NULL) != (category_id IS NULL))
    )
    """,
)


def apply(db: Database) -> None:
    """Create the ``album_photos`` table."""
    for statement in STATEMENTS:
        db.execute(statement)
