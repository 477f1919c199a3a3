"""Reading and validating a catalog CSV in either public format; nothing is written here.

Two formats, told apart by their header:
- TidyTuesday ``spotify_songs.csv`` (``track_artist``, ``playlist_genre``,
  ``playlist_subgenre``): one row per (track, playlist), so a track's genres are the
  normalised genre and subgenre of every row it appears in;
- the Spotify Tracks Dataset (``artists`` separated by ';', ``track_genre``, an unnamed
  index column): one row per (track, genre). Its ``explicit`` column (True/False) is kept;
  anything else there, and the TidyTuesday format, which has no such column, is unknown.

A row with a bad id or a missing or out-of-range value is skipped and counted by reason;
the first valid row of a track gives its values, every valid row adds its genres, and a
later row whose values differ from the first's is counted as conflicting (the owner sees
how often the file disagrees with itself).
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter, le
from pathlib import Path
from typing import NamedTuple

from core.errors import CatalogError
from core.genres import normalise_genre

FORMAT_TIDYTUESDAY = "tidytuesday"
FORMAT_TRACKS_DATASET = "tracks-dataset"
FORMAT_NAMES = {
    FORMAT_TIDYTUESDAY: "TidyTuesday spotify_songs",
    FORMAT_TRACKS_DATASET: "Spotify Tracks Dataset",
}
_SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")
_MISSING = frozenset({"", "na", "nan", "null", "none"})
_EXPLICIT = {"true": True, "false": False, "1": True, "0": False}  # else unknown


class CatalogTrack(NamedTuple):
    """One valid track, ready to store. (A NamedTuple: 100k of them are built per import.)"""

    id: str
    name: str
    artists: tuple[str, ...]
    album: str
    genres: frozenset[str]
    popularity: int
    valence: float
    energy: float
    danceability: float = 0.5
    acousticness: float = 0.5
    instrumentalness: float = 0.0
    speechiness: float = 0.05
    liveness: float = 0.1
    tempo: float = 120.0
    loudness: float = -8.0
    key: int = 0
    mode: int = 1
    duration_ms: int = 200_000
    explicit: bool | None = None  # None: the file does not say


# (column, whole number, lowest, highest), in CatalogTrack's field order after popularity;
# the audio features are named alike in both formats.
FEATURE_COLUMNS: tuple[tuple[str, bool, float, float], ...] = (
    ("valence", False, 0.0, 1.0),
    ("energy", False, 0.0, 1.0),
    ("danceability", False, 0.0, 1.0),
    ("acousticness", False, 0.0, 1.0),
    ("instrumentalness", False, 0.0, 1.0),
    ("speechiness", False, 0.0, 1.0),
    ("liveness", False, 0.0, 1.0),
    ("tempo", False, 0.0, 400.0),
    ("loudness", False, -100.0, 20.0),
    ("key", True, -1, 11),
    ("mode", True, 0, 1),
    ("duration_ms", True, 0, 24 * 3600 * 1000),
)


@dataclass(frozen=True)
class Columns:
    """Where one format keeps each field."""

    id: str
    name: str
    artists: str
    album: str
    popularity: str
    genres: tuple[str, ...]
    artist_separator: str | None
    signature: frozenset[str]  # header names that identify the format
    explicit: str | None = None  # an optional column: None where the format has none

    @property
    def required(self) -> list[str]:
        return [
            self.id,
            self.name,
            self.artists,
            self.album,
            self.popularity,
            *self.genres,
            *(name for name, *_ in FEATURE_COLUMNS),
        ]


FORMATS: dict[str, Columns] = {
    FORMAT_TIDYTUESDAY: Columns(
        id="track_id",
        name="track_name",
        artists="track_artist",
        album="track_album_name",
        popularity="track_popularity",
        genres=("playlist_genre", "playlist_subgenre"),
        artist_separator=None,
        signature=frozenset({"track_artist", "playlist_genre"}),
    ),
    FORMAT_TRACKS_DATASET: Columns(
        id="track_id",
        name="track_name",
        artists="artists",
        album="album_name",
        popularity="popularity",
        genres=("track_genre",),
        artist_separator=";",
        signature=frozenset({"artists", "track_genre"}),
        explicit="explicit",
    ),
}


@dataclass
class ParsedCatalog:
    """A CSV read and validated."""

    path: Path
    format: str
    rows_read: int = 0
    tracks: dict[str, CatalogTrack] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    conflicting_rows: int = 0  # valid rows repeating a track id with other values

    @property
    def genres(self) -> set[str]:
        return {genre for track in self.tracks.values() for genre in track.genres}


def read_catalog(path: Path | str, *, progress: bool = False) -> ParsedCatalog:
    """Parse and validate the CSV at ``path``; CatalogError when it cannot be used at all."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            header = next(reader, None)
            if header is None:
                raise CatalogError(f"{path} is empty: expected a catalog CSV with a header")
            fmt, index = detect_format(path, header)
            parsed = ParsedCatalog(path=path, format=fmt)
            _parse_rows(parsed, _with_progress(reader, path, progress), FORMATS[fmt], index)
    except FileNotFoundError:
        raise CatalogError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CatalogError(f"{path} is a folder, not a catalog CSV") from None
    except PermissionError:
        raise CatalogError(f"cannot read {path}: permission denied") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path} is not a UTF-8 text CSV") from None
    except csv.Error as error:
        raise CatalogError(f"{path} is not a readable CSV: {error}") from None
    except OSError as error:
        raise CatalogError(f"cannot read {path}: {error.strerror or error}") from None
    if not parsed.tracks:
        reasons = ", ".join(f"{r}: {c}" for r, c in parsed.skipped.most_common(3))
        raise CatalogError(
            f"{path} has no usable rows ({parsed.rows_read} read"
            + (f"; skipped {reasons})" if reasons else ")")
        )
    return parsed


def detect_format(path: Path, header: Sequence[str]) -> tuple[str, dict[str, int]]:
    """The format a header belongs to and each column's position."""
    index = {name.strip(): i for i, name in enumerate(header)}
    for fmt, columns in FORMATS.items():
        if columns.signature <= index.keys():
            missing = [name for name in columns.required if name not in index]
            if missing:
                raise CatalogError(
                    f"{path} looks like a {FORMAT_NAMES[fmt]} CSV but lacks the columns: "
                    + ", ".join(missing)
                )
            return fmt, index
    shown = ", ".join(name.strip() for name in header[:12] if name.strip()) or "(none)"
    raise CatalogError(
        f"{path} is not a known catalog CSV: expected TidyTuesday columns "
        "(track_id, track_artist, playlist_genre, ...) or Spotify Tracks Dataset columns "
        f"(track_id, artists, track_genre, ...); found: {shown}"
    )


def _parse_rows(
    parsed: ParsedCatalog, rows: Iterable[list[str]], columns: Columns, index: dict[str, int]
) -> None:
    """Validate each row into ``parsed``. One flat loop: it runs 100k times per import."""
    id_at, name_at, artists_at = index[columns.id], index[columns.name], index[columns.artists]
    album_at = index[columns.album]
    explicit_at = index.get(columns.explicit) if columns.explicit else None
    genre_at = [index[name] for name in columns.genres]
    numbers = [
        (columns.popularity, index[columns.popularity], True, 0, 100),
        *((name, index[name], whole, lo, hi) for name, whole, lo, hi in FEATURE_COLUMNS),
    ]
    cells = itemgetter(*(position for _, position, *_ in numbers))
    lows = [lo for *_, lo, _ in numbers]
    highs = [hi for *_, hi in numbers]
    wholes = [i for i, (_, _, whole, *_) in enumerate(numbers) if whole]
    whole_cells = itemgetter(*wholes)
    width = max(index.values()) + 1
    separator = columns.artist_separator
    genres_by_id: dict[str, set[str]] = defaultdict(set)
    tracks = parsed.tracks
    skipped = parsed.skipped
    rows_read = 0
    conflicting = 0
    for row in rows:
        rows_read += 1
        if len(row) < width:  # a short row: its missing cells are missing values
            row = row + [""] * (width - len(row))
        track_id = row[id_at].strip()
        if not _SPOTIFY_ID.fullmatch(track_id):
            skipped["bad id" if track_id else f"missing {columns.id}"] += 1
            continue
        name = row[name_at].strip()
        if name.lower() in _MISSING:
            skipped[f"missing {columns.name}"] += 1
            continue
        artists = split_artists(row[artists_at], separator)
        if not artists:
            skipped[f"missing {columns.artists}"] += 1
            continue
        genres = {slug for slug in (normalise_genre(row[i]) for i in genre_at) if slug}
        if not genres:
            skipped[f"missing {columns.genres[0]}"] += 1
            continue
        # the common case in C-level calls; a row that fails is looked at cell by cell
        values: list[float | int]  # the whole-number columns become int below
        try:
            values = list(map(float, cells(row)))
        except ValueError:
            values = []
        if not (
            values
            and all(map(le, lows, values))  # NaN fails these comparisons too
            and all(map(le, values, highs))
            and all(map(float.is_integer, whole_cells(values)))
        ):
            skipped[_problem(row, numbers)] += 1
            continue
        for i in wholes:
            values[i] = int(values[i])
        genres_by_id[track_id] |= genres
        album = row[album_at].strip()
        album = "" if album.lower() in _MISSING else album
        explicit = None if explicit_at is None else _EXPLICIT.get(row[explicit_at].strip().lower())
        first = tracks.get(track_id)
        if first is None:
            # in field order: the numbers are popularity to duration_ms, then explicit
            fields: tuple[object, ...] = (
                track_id,
                name,
                artists,
                album,
                frozenset(),
                *values,
                explicit,
            )
            tracks[track_id] = CatalogTrack._make(fields)
        elif first[1:4] != (name, artists, album) or first[5:] != (*values, explicit):
            conflicting += 1  # fields 1-3: name, artists, album; 5 on: numbers, explicit
    parsed.rows_read = rows_read
    parsed.conflicting_rows = conflicting
    for track_id, track in tracks.items():
        tracks[track_id] = track._replace(genres=frozenset(genres_by_id[track_id]))


def _problem(row: list[str], numbers: list[tuple[str, int, bool, float, float]]) -> str:
    """Why a row's numbers are unusable: the first bad cell's reason."""
    for column, position, whole, lo, hi in numbers:
        raw = row[position]
        try:
            value = float(raw)
        except ValueError:
            missing = raw.strip().lower() in _MISSING
            return f"missing {column}" if missing else f"{column} not a number"
        if value != value:
            return f"missing {column}"
        if not lo <= value <= hi:
            return f"{column} out of range"
        if whole and not value.is_integer():
            return f"{column} not a whole number"
    raise AssertionError("_problem called for a valid row")


def split_artists(raw: str, separator: str | None) -> tuple[str, ...]:
    """The artist names of one cell, in order, each once."""
    if raw.strip().lower() in _MISSING:
        return ()
    parts = raw.split(separator) if separator else [raw]
    artists: list[str] = []
    for part in parts:
        artist = part.strip()
        if artist and artist not in artists:
            artists.append(artist)
    return tuple(artists)


def _with_progress(rows: Iterator[list[str]], path: Path, enabled: bool) -> Iterable[list[str]]:
    """``rows`` behind a tqdm bar on stderr when asked for and tqdm is installed."""
    if not enabled:
        return rows
    try:
        from tqdm import tqdm
    except ImportError:
        return rows
    with path.open("rb") as file:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    return tqdm(rows, total=max(0, lines - 1), unit=" rows", desc="reading", mininterval=0.2)
