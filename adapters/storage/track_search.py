"""The nearest catalog tracks to a target mood, within the seed genres.

The ``track_plane`` R*Tree holds one point per (track, genre) pair in (valence, energy,
genre code), so a box query for one genre reads only that genre's tracks near the target.
The search starts with a box sized for a few times ``n`` tracks at the genres' average
density and doubles it until the ranked result is settled: every track within distance
``r`` of the target is in the box, so once ``n`` tracks at distance <= ``r`` survive
exclusion and artist dedupe, no track outside the box could rank above them. When the box
covers the whole plane the result is final whatever its size (the genres ran out).

A listener's ``TrackFilter`` leaves tracks out before ranking, like ``exclude``: artists
by their keys (the same case-insensitive match as "no artist twice"), explicit tracks by
joining each box hit to its ``tracks`` row (only when asked: the plain search stays on the
index alone). The box then simply grows until enough tracks survive.

``core.recommend`` does the ranking; this module only fetches candidates and rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Sequence

from sqlite_utils import Database

from core.errors import CatalogError
from core.genres import normalise_genres
from core.mood import MoodPoint
from core.recommend import Candidate, distance, rank
from core.tracks import Track, TrackFilter

_SLACK = 4.0  # how many times the tracks needed the first box aims to hold
_MIN_RADIUS = 0.02
_BOX = (
    "SELECT p.track_id, p.valence, p.energy, p.popularity, p.artists FROM track_plane AS p "
    "WHERE p.valence_max >= ? AND p.valence_min <= ? AND p.energy_max >= ? AND p.energy_min <= ?"
)
_IN_GENRE = " AND p.genre_max >= ? AND p.genre_min <= ?"
# the index first (CROSS JOIN keeps that order), then each hit's row by its primary key
_CLEAN_BOX = (
    _BOX.replace(
        "FROM track_plane AS p ",
        "FROM track_plane AS p CROSS JOIN tracks AS t ON t.id = p.track_id ",
    )
    + " AND t.explicit IS NOT 1"
)


class GenresNotInCatalogError(CatalogError):
    """None of the requested genres has a track (a CatalogError; ``genres`` says which).

    Separate so a caller can choose to retry with ``genres=()`` (the whole catalog), for
    example for the study desk on the TidyTuesday catalog, which has none of its genres.
    """

    def __init__(self, message: str, genres: tuple[str, ...]) -> None:
        super().__init__(message)
        self.genres = genres


_EMPTY_CATALOG = (
    "the track catalog is empty: run `aidj catalog import` (or `aidj catalog import PATH.csv`)"
)


def nearest(
    db: Database,
    target: MoodPoint,
    genres: Sequence[str],
    n: int = 10,
    exclude: Collection[str] = frozenset(),
    *,
    seed: int | None = None,
    avoid: TrackFilter | None = None,
) -> list[Track]:
    """Up to ``n`` tracks nearest ``target`` listed under any of ``genres``.

    ``exclude``: track ids never to return (what this request already showed); ``avoid``:
    what the listener left out (artists, explicit tracks). No artist appears twice; fewer
    than ``n`` tracks come back only when the genres run out. An empty ``genres`` searches
    the whole catalog. ``seed`` only reorders exact ties.
    Raises CatalogError when the catalog is empty, GenresNotInCatalogError (a
    CatalogError) when no track has any of ``genres``.
    """
    if n <= 0:
        return []
    codes, population = genre_codes(db, genres)
    needed = n + len(exclude)
    radius = max(_MIN_RADIUS, math.sqrt(_SLACK * needed / (math.pi * max(population, 1))))
    while True:
        whole_plane = _covers_plane(target, radius)
        limit = math.inf if whole_plane else radius
        rows = _box(db, target, radius, codes, clean=bool(avoid and avoid.no_explicit))
        candidates = _candidates(rows, target, limit, exclude, avoid)
        picked = rank(target, candidates, n, seed=seed)
        if len(picked) >= n or whole_plane:
            return fetch_tracks(db, [c.id for c in picked])
        radius *= 2


def genre_codes(db: Database, genres: Sequence[str]) -> tuple[list[int] | None, int]:
    """The index codes of ``genres`` (None: every genre) and how many points they hold."""
    if db.execute("SELECT NOT EXISTS (SELECT 1 FROM tracks)").fetchone()[0]:
        raise CatalogError(_EMPTY_CATALOG)
    slugs = normalise_genres(genres)
    if not slugs:
        total = db.execute("SELECT coalesce(sum(track_count), 0) FROM genres").fetchone()[0]
        return None, total
    marks = ", ".join("?" * len(slugs))
    rows = db.execute(
        f"SELECT code, track_count FROM genres WHERE slug IN ({marks}) AND track_count > 0",
        list(slugs),
    ).fetchall()
    if not rows:
        raise GenresNotInCatalogError(
            "no track in the catalog is listed under any of the genres "
            f"{', '.join(slugs)}; import a catalog that has them "
            "(for example the Spotify Tracks Dataset) with `aidj catalog import PATH.csv`",
            slugs,
        )
    return [code for code, _ in rows], sum(count for _, count in rows)


def fetch_tracks(db: Database, track_ids: Sequence[str]) -> list[Track]:
    """The catalog rows of ``track_ids`` as Tracks, in the order given."""
    if not track_ids:
        return []
    marks = ", ".join("?" * len(track_ids))
    rows = db.execute(
        "SELECT id, name, artists, album, genres, popularity, valence, energy "
        f"FROM tracks WHERE id IN ({marks})",
        list(track_ids),
    )
    by_id = {
        row[0]: Track(
            id=row[0],
            name=row[1],
            artists=tuple(json.loads(row[2])),
            album=row[3],
            genres=tuple(json.loads(row[4])),
            popularity=row[5],
            valence=row[6],
            energy=row[7],
        )
        for row in rows
    }
    return [by_id[track_id] for track_id in track_ids if track_id in by_id]


def _box(
    db: Database, target: MoodPoint, radius: float, codes: list[int] | None, *, clean: bool
) -> Iterable[tuple]:
    """The index points in the box (of ``codes``' genres), only non-explicit ones when
    ``clean``."""
    box = (
        target.valence - radius,
        target.valence + radius,
        target.energy - radius,
        target.energy + radius,
    )
    query = _CLEAN_BOX if clean else _BOX
    if codes is None:
        yield from db.execute(query, box)
        return
    for code in codes:
        yield from db.execute(query + _IN_GENRE, (*box, code, code))


def _candidates(
    rows: Iterable[tuple],
    target: MoodPoint,
    limit: float = math.inf,
    exclude: Collection[str] = frozenset(),
    avoid: TrackFilter | None = None,
) -> list[Candidate]:
    """Candidates from (id, valence, energy, popularity, artists JSON) rows: each id once,
    not excluded, within ``limit`` of ``target`` (artists parsed only for those), by no
    artist ``avoid`` leaves out."""
    seen: dict[str, Candidate | None] = {}
    for track_id, valence, energy, popularity, artists in rows:
        if track_id in seen or track_id in exclude:
            continue
        if limit != math.inf and distance(target, valence, energy) > limit:
            continue
        names = tuple(json.loads(artists))
        if avoid is not None and not avoid.allows_artists(names):
            seen[track_id] = None  # left out, under every genre it is listed in
            continue
        seen[track_id] = Candidate(track_id, valence, energy, popularity, names)
    return [candidate for candidate in seen.values() if candidate is not None]


def _covers_plane(target: MoodPoint, radius: float) -> bool:
    """Whether the box around ``target`` holds all of [0, 1] x [0, 1]."""
    return (
        target.valence - radius <= 0.0
        and target.valence + radius >= 1.0
        and target.energy - radius <= 0.0
        and target.energy + radius >= 1.0
    )
