"""The Spotify tables: album art and availability per track, the playlist of each request.

Synchronous, for the spotipy code that runs in worker threads; every query goes through
``run`` (the storage gateway's ``call_blocking``), so it executes on the database's own
thread like every other query. A failed cache write is logged, not raised: a cache miss
next time is all it costs, and the reply must not fail over it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlite_utils import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
Run = Callable[[Callable[[], Any]], Any]

TRACKS = "spotify_tracks"
PLAYLISTS = "spotify_playlists"


@dataclass(frozen=True)
class TrackInfo:
    album_art_url: str | None
    available: bool | None  # None: Spotify did not say


@dataclass(frozen=True)
class StoredPlaylist:
    request_id: int
    playlist_id: str
    url: str
    created_at: str


class SpotifyCache:
    def __init__(self, db: Database, run: Run) -> None:
        self._db = db
        self._run = run

    # ---- spotify_tracks --------------------------------------------------------------------

    def track_infos(self, track_ids: Sequence[str]) -> dict[str, TrackInfo]:
        """What the cache knows about ``track_ids`` (no HTTP)."""
        if not track_ids:
            return {}
        marks = ",".join("?" * len(track_ids))
        rows = self._run(
            lambda: self._db.execute(
                f"select track_id, album_art_url, available from {TRACKS} "
                f"where track_id in ({marks})",
                list(track_ids),
            ).fetchall()
        )
        return {
            track_id: TrackInfo(art, None if available is None else bool(available))
            for track_id, art, available in rows
        }

    def save_track_info(self, track_id: str, info: TrackInfo, fetched_at: str) -> None:
        row = {
            "track_id": track_id,
            "album_art_url": info.album_art_url,
            "available": None if info.available is None else int(info.available),
            "fetched_at": fetched_at,
        }
        try:
            self._run(lambda: self._db.table(TRACKS).upsert(row, pk="track_id"))
        except sqlite3.Error as error:
            log.warning("cannot cache Spotify track details (%s)", error)

    # ---- spotify_playlists -----------------------------------------------------------------

    def playlist(self, request_id: int) -> StoredPlaylist | None:
        rows = self._playlists("where request_id = ? and deleted_at is null", [request_id])
        return rows[0] if rows else None

    def playlists_created_before(self, cutoff: str) -> list[StoredPlaylist]:
        return self._playlists("where deleted_at is null and created_at < ?", [cutoff])

    def save_playlist(self, stored: StoredPlaylist) -> None:
        row = {
            "request_id": stored.request_id,
            "playlist_id": stored.playlist_id,
            "url": stored.url,
            "created_at": stored.created_at,
            "deleted_at": None,
        }
        self._run(lambda: self._db.table(PLAYLISTS).upsert(row, pk="request_id"))

    def mark_playlist_deleted(self, request_id: int, when: str) -> None:
        def mark() -> None:
            with self._db.atomic():
                self._db.execute(
                    f"update {PLAYLISTS} set deleted_at = ? where request_id = ?",
                    [when, request_id],
                )

        self._run(mark)

    def _playlists(self, where: str, params: list[object]) -> list[StoredPlaylist]:
        sql = f"select request_id, playlist_id, url, created_at from {PLAYLISTS} {where}"
        rows = self._run(lambda: self._db.execute(sql + " order by created_at", params).fetchall())
        return [StoredPlaylist(*row) for row in rows]
