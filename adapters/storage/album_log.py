"""An album request's photos in the ``album_photos`` table (``migrations.m0006_albums``).

Called by ``RequestLog`` inside its own transactions (recording a request, committing a
steer), so an album's photos are written, moved and removed together with its request row.
The caption reading is the request's: every photo of an album shares the one caption.
"""

from __future__ import annotations

from sqlite_utils import Database

from adapters.storage import analysis_columns as columns
from core.albums import Album, AlbumPhoto, SkippedPhoto
from core.messages import ImageProblem
from core.mood import MoodPoint, Reading, TextReading

_NAMES = (
    "position",
    "problem",
    *columns.IMAGE_COLUMNS,
    *columns.PLACEMENT_COLUMNS,
    "target_valence",
    "target_energy",
)
_COLUMNS = ", ".join(_NAMES)


def insert_album(db: Database, request_id: int, album: Album) -> None:
    """Store every photo of ``album`` (read or skipped) for ``request_id``."""
    rows: list[dict[str, object]] = []
    for photo in album.photos:
        rows.append(
            {
                "position": photo.position,
                "problem": None,
                **columns.image_values(photo.analysis.reading.image),
                **columns.placement_values(photo.analysis),
                "target_valence": photo.target.valence,
                "target_energy": photo.target.energy,
            }
        )
    for skipped in album.skipped:
        rows.append({"position": skipped.position, "problem": skipped.problem.value})
    marks = ", ".join("?" * (len(_NAMES) + 1))
    db.conn.executemany(
        f"INSERT INTO album_photos (request_id, {_COLUMNS}) VALUES ({marks})",
        [(request_id, *(row.get(name) for name in _NAMES)) for row in rows],
    )


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
    values = dict(zip(_NAMES, row, strict=True))
    reading = Reading(image=columns.stored_image(values), text=text)
    analysis = columns.stored_analysis(reading, values)
    target = MoodPoint(values["target_valence"], values["target_energy"])
    return AlbumPhoto(values["position"], analysis, target)
