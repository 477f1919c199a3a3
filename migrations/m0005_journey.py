"""A request's journey (``core.journey``): where its songs move to, and who chose it.

``journey`` is a destination value (``lift``, ``wind_down``, ``focus``, ``hype``) or NULL for
a playlist around one point; ``journey_source`` says who chose it (``caption``, ``control``
or ``command``), which the card tells. Requests made before this migration have neither.
The caption's destination reading itself is kept with the other caption scores
(``text_scores``' ``destination`` key), so a stored request re-renders exactly.
"""

from __future__ import annotations

from sqlite_utils import Database

STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE requests ADD COLUMN journey TEXT",
    "ALTER TABLE requests ADD COLUMN journey_source TEXT",
)


def apply(db: Database) -> None:
    """Add the two nullable journey columns to ``requests``."""
    for statement in STATEMENTS:
        db.execute(statement)
