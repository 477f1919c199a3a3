"""Synthetic catalogs for tests: tracks, CSV files in both formats, a ready database.

Other test modules (chat adapters, the flow) use ``build_synthetic_catalog`` for a small
catalog that covers every category's seed genres, so any scene finds ten tracks.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sqlite_utils import Database

from adapters.storage.anchors_store import build_anchor_table
from adapters.storage.catalog_csv import CatalogTrack
from adapters.storage.catalog_import import store_tracks
from adapters.storage.database import open_database
from core.categories import CATEGORIES
from migrations import apply_migrations

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

TIDYTUESDAY_HEADER = [
    "track_id",
    "track_name",
    "track_artist",
    "track_popularity",
    "track_album_id",
    "track_album_name",
    "track_album_release_date",
    "playlist_name",
    "playlist_id",
    "playlist_genre",
    "playlist_subgenre",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
]
TRACKS_DATASET_HEADER = [
    "",  # pandas' unnamed index column
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "popularity",
    "duration_ms",
    "explicit",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
    "track_genre",
]


def all_seed_genres() -> list[str]:
    """Every seed genre of every category, sorted."""
    return sorted({genre for category in CATEGORIES for genre in category.seed_genres})


def track_id(key: object) -> str:
    """A valid-looking 22-character Spotify id, the same for the same ``key``."""
    number = int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=16).digest())
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def make_track(
    key: object,
    valence: float,
    energy: float,
    *,
    genres: Iterable[str] = ("pop",),
    artists: Sequence[str] | None = None,
    popularity: int = 50,
    name: str | None = None,
    explicit: bool | None = None,
    **features: float,
) -> CatalogTrack:
    """One catalog track; its id is ``track_id(key)``, its artist unique unless given."""
    return CatalogTrack(
        id=track_id(key),
        name=name or f"Song {key}",
        artists=tuple(artists) if artists else (f"Artist {key}",),
        album=f"Album {key}",
        genres=frozenset(genres),
        popularity=popularity,
        valence=valence,
        energy=energy,
        explicit=explicit,
        **features,  # type: ignore[arg-type]
    )


def synthetic_tracks(genres: Sequence[str], per_genre: int, *, seed: int = 0) -> list[CatalogTrack]:
    """``per_genre`` tracks in each genre, spread uniformly over the plane, each artist once."""
    rng = random.Random(seed)
    tracks = []
    for genre in genres:
        for i in range(per_genre):
            tracks.append(
                make_track(
                    (seed, genre, i),
                    round(rng.random(), 3),
                    round(rng.random(), 3),
                    genres=(genre,),
                    popularity=rng.randint(0, 100),
                    name=f"{genre} song {i}",
                    artists=(f"{genre} artist {i}",),
                    explicit=i % 3 == 0,  # a third, so a card without them is a choice
                    danceability=round(rng.random(), 3),
                    acousticness=round(rng.random(), 3),
                    tempo=round(rng.uniform(60, 180), 1),
                    loudness=round(rng.uniform(-20, -3), 2),
                )
            )
    return tracks


def build_synthetic_catalog(
    db_path_or_db: Path | str | Database,
    tracks_per_genre: int = 12,
    *,
    seed: int = 0,
    anchors: bool = True,
) -> Database:
    """A database holding a synthetic catalog over every seed genre (and its anchors).

    With the default 12 tracks per genre, each category has well over 100 candidate tracks
    (10+ seed genres), so every scene gets ten tracks and several regenerates.
    """
    if isinstance(db_path_or_db, Database):
        db = db_path_or_db
        apply_migrations(db)
    else:
        db = open_database(db_path_or_db)
    store_tracks(db, synthetic_tracks(all_seed_genres(), tracks_per_genre, seed=seed))
    if anchors:
        build_anchor_table(db)
    return db


# ---------------------------------------------------------------- CSV files


def tidytuesday_row(
    track: CatalogTrack, genre: str, subgenre: str | None = None, **overrides: object
) -> dict[str, object]:
    """One TidyTuesday row of ``track`` (a row per playlist it appears in)."""
    row: dict[str, object] = {
        "track_id": track.id,
        "track_name": track.name,
        "track_artist": track.artists[0],
        "track_popularity": track.popularity,
        "track_album_id": "album" + track.id[:17],
        "track_album_name": track.album,
        "track_album_release_date": "2019-06-14",
        "playlist_name": f"{genre} mix",
        "playlist_id": "playlist" + track.id[:14],
        "playlist_genre": genre,
        "playlist_subgenre": subgenre if subgenre is not None else genre,
        **_features(track),
    }
    row.update(overrides)
    return row


def tracks_dataset_row(
    track: CatalogTrack, genre: str, index: int = 0, **overrides: object
) -> dict[str, object]:
    """One Spotify Tracks Dataset row of ``track`` (a row per genre it is listed under)."""
    row: dict[str, object] = {
        "": index,
        "track_id": track.id,
        "artists": ";".join(track.artists),
        "album_name": track.album,
        "track_name": track.name,
        "popularity": track.popularity,
        "explicit": "True" if track.explicit else "False",
        "time_signature": 4,
        "track_genre": genre,
        **_features(track),
    }
    row.update(overrides)
    return row


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Mapping[str, object]]) -> Path:
    """Write ``rows`` (dicts by column name) under ``header``."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in header])
    return path


def write_tidytuesday_csv(path: Path, tracks: Iterable[CatalogTrack]) -> Path:
    """A TidyTuesday-format file: a row per genre of each track."""
    rows = (tidytuesday_row(t, g) for t in tracks for g in sorted(t.genres))
    return write_csv(path, TIDYTUESDAY_HEADER, rows)


def write_tracks_dataset_csv(path: Path, tracks: Iterable[CatalogTrack]) -> Path:
    """A Spotify Tracks Dataset file: a row per genre of each track."""
    pairs = ((t, g) for t in tracks for g in sorted(t.genres))
    rows = (tracks_dataset_row(t, g, i) for i, (t, g) in enumerate(pairs))
    return write_csv(path, TRACKS_DATASET_HEADER, rows)


def _features(track: CatalogTrack) -> dict[str, object]:
    return {
        "danceability": track.danceability,
        "energy": track.energy,
        "key": track.key,
        "loudness": track.loudness,
        "mode": track.mode,
        "speechiness": track.speechiness,
        "acousticness": track.acousticness,
        "instrumentalness": track.instrumentalness,
        "liveness": track.liveness,
        "valence": track.valence,
        "tempo": track.tempo,
        "duration_ms": track.duration_ms,
    }
