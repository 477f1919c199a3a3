"""The anchor table: built from the catalog by ``core.anchors``' rule, read for base values.

A category's base point comes from this table; the category's default values are used
only when the table is empty or has no row for it, and the caller is told which
("anchors" or "defaults") so the reply can say so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlite_utils import Database

from adapters.storage.database import utc_now
from core.anchors import ANCHOR_SIZE, FEATURES, Anchor, AnchorTrack, build_anchors
from core.categories import CATEGORIES, MoodCategory, get_category
from core.errors import CatalogError
from core.mood import BaseSource, MoodPoint


@dataclass(frozen=True)
class StoredAnchor:
    category_id: str
    valence: float
    energy: float
    track_count: int
    rule: str
    built_at: str

    @property
    def point(self) -> MoodPoint:
        return MoodPoint(valence=self.valence, energy=self.energy)


def build_anchor_table(db: Database, size: int = ANCHOR_SIZE) -> list[Anchor]:
    """Replace the anchor table with anchors built from the whole catalog, atomically."""
    tracks = list(_anchor_tracks(db))
    if not tracks:
        raise CatalogError(
            "the track catalog is empty: run `aidj catalog import` before `aidj anchors build`"
        )
    anchors = build_anchors(CATEGORIES, tracks, size)
    built_at = utc_now()
    rows = [
        {
            "category_id": anchor.category_id,
            **{name: anchor.means[name] for name in FEATURES},
            "track_count": anchor.track_count,
            "rule": anchor.rule,
            "track_ids": json.dumps(list(anchor.track_ids)),
            "built_at": built_at,
        }
        for anchor in anchors
    ]
    with db.atomic():
        db.execute("DELETE FROM anchors")
        if rows:
            db.table("anchors").insert_all(rows)
    return anchors


def stored_anchors(db: Database) -> list[StoredAnchor]:
    """The anchor table's rows, in the categories' order."""
    rows = db.execute(
        "SELECT category_id, valence, energy, track_count, rule, built_at FROM anchors"
    ).fetchall()
    by_id = {row[0]: StoredAnchor(*row) for row in rows}
    return [by_id[c.id] for c in CATEGORIES if c.id in by_id]


def anchors_are_current(db: Database, size: int = ANCHOR_SIZE) -> bool:
    """Whether the stored anchors are what ``build_anchor_table`` would build from the
    catalog as it is now (same tracks, same rule, per category): false once an import
    changed what the anchors would pick, or after a change to the rule itself."""
    stored = {
        category_id: (rule, tuple(json.loads(track_ids)))
        for category_id, rule, track_ids in db.execute(
            "SELECT category_id, rule, track_ids FROM anchors"
        )
    }
    tracks = list(_anchor_tracks(db))
    if not tracks:
        return not stored
    fresh = {
        anchor.category_id: (anchor.rule, tuple(anchor.track_ids))
        for anchor in build_anchors(CATEGORIES, tracks, size)
    }
    return stored == fresh


def base_for(db: Database, category: MoodCategory | str) -> tuple[MoodPoint, BaseSource]:
    """The base point of ``category`` and where it came from (the anchor table or defaults)."""
    if isinstance(category, str):
        category = get_category(category)
    row = db.execute(
        "SELECT valence, energy FROM anchors WHERE category_id = ?", [category.id]
    ).fetchone()
    if row is None:
        return _default(category), BaseSource.DEFAULTS
    return MoodPoint(valence=row[0], energy=row[1]), BaseSource.ANCHORS


def anchor_points(db: Database) -> dict[str, MoodPoint]:
    """Every category's base point (anchor, else default), for the mood-plane picture."""
    stored = {anchor.category_id: anchor.point for anchor in stored_anchors(db)}
    return {c.id: stored.get(c.id, _default(c)) for c in CATEGORIES}


def _default(category: MoodCategory) -> MoodPoint:
    return MoodPoint(valence=category.default_valence, energy=category.default_energy)


def _anchor_tracks(db: Database) -> Iterator[AnchorTrack]:
    columns = ", ".join(FEATURES)
    rows = db.execute(f"SELECT id, artists, popularity, genres, {columns} FROM tracks")
    for track_id, artists, popularity, genres, *values in rows:
        yield AnchorTrack(
            id=track_id,
            artists=tuple(json.loads(artists)),
            popularity=popularity,
            genres=frozenset(json.loads(genres)),
            features=dict(zip(FEATURES, values, strict=True)),
        )
