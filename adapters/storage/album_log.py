"""An album request's photos in the ``album_photos`` table (``migrations.m0006_albums``).

Called by ``RequestLog`` inside its own transactions (recording a request, committing a
steer), so an album's photos are written, moved and removed together with its request row.
The caption reading is the request's: every photo of an album shares the one caption.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from core.albums import Album, AlbumPhoto, SkippedPhoto
from core.messages import ImageProblem
from core.mood import Analysis, BaseSource, ImageReading, MoodPoint, Reading, TextReading

_COLUMNS = (
    "position, problem, category_id, category_confidence, categories, base_valence, "
    "base_energy, base_source, final_valence, final_energy, taste_valence, taste_energy, "
    "target_valence, target_energy, seed_genres"
)


def insert_album(db: Database, request_id: int, album: Album) -> None:
    """Store every photo of ``album`` (read or skipped) for ``request_id``."""
    rows: list[tuple[object, ...]] = []
    for photo in album.photos:
        analysis = photo.analysis
        image = analysis.reading.image
        rows.append(
            (
                request_id,
                photo.position,
                None,
                image.category_id,
                image.confidence,
                json.dumps(image.distribution),
                analysis.base.valence,
                analysis.base.energy,
                analysis.base_source,
                analysis.final.valence,
                analysis.final.energy,
                analysis.taste.valence,
                analysis.taste.energy,
                photo.target.valence,
                photo.target.energy,
                json.dumps(list(analysis.seed_genres)),
            )
        )
    for skipped in album.skipped:
        rows.append((request_id, skipped.position, skipped.problem.value, *([None] * 13)))
    marks = ", ".join("?" * 16)
    db.conn.executemany(f"INSERT INTO album_photos (request_id, {_COLUMNS}) VALUES ({marks})", rows)


def read_album(db: Database, request_id: int, text: TextReading) -> Album | None:
    """The album of ``request_id`` (its photos sharing the caption reading ``text``), or
    None for a single-photo request."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM album_photos WHERE request_id = ? ORDER BY position",
        [request_id],
    ).fetchall()
    if not rows:
        return None
    photos: list[AlbumPhoto] = []
    skipped: list[SkippedPhoto] = []
    for row in rows:
        position, problem = row[0], row[1]
        if problem is not None:
            skipped.append(SkippedPhoto(position, ImageProblem(problem)))
        else:
            photos.append(_photo(row, text))
    return Album(tuple(photos), tuple(skipped))


def move_album(db: Database, request_id: int, album: Album) -> None:
    """Keep the photos' points after a steer."""
    db.conn.executemany(
        "UPDATE album_photos SET target_valence = ?, target_energy = ? "
        "WHERE request_id = ? AND position = ?",
        [(p.target.valence, p.target.energy, request_id, p.position) for p in album.photos],
    )


def forget_album(db: Database, request_id: int) -> None:
    db.execute("DELETE FROM album_photos WHERE request_id = ?", [request_id])


def _photo(row: tuple, text: TextReading) -> AlbumPhoto:
    (
        position,
        _,
        category_id,
        confidence,
        categories,
        base_valence,
        base_energy,
        base_source,
        final_valence,
        final_energy,
        taste_valence,
        taste_energy,
        target_valence,
        target_energy,
        seed_genres,
    ) = row
    reading = Reading(
        image=ImageReading(category_id, confidence, json.loads(categories)), text=text
    )
    analysis = Analysis(
        reading=reading,
        base=MoodPoint(base_valence, base_energy),
        final=MoodPoint(final_valence, final_energy),
        seed_genres=tuple(json.loads(seed_genres)),
        base_source=BaseSource(base_source),
        taste=MoodPoint(taste_valence, taste_energy),
    )
    return AlbumPhoto(position, analysis, MoodPoint(target_valence, target_energy))
