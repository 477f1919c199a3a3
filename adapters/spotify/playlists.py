"""Real Spotify playlists for replies: one per request, refilled on regenerate.

Endpoints (Spotify's February 2026 development-mode rules, which spotipy 2.26 follows):
``POST /me/playlists`` creates, ``POST /playlists/{id}/items`` adds, ``PUT
/playlists/{id}/items`` replaces, ``DELETE /playlists/{id}/followers`` removes it from the
owner's library. spotipy's ``playlist_add_items`` sends a bare JSON array, so adding goes
through ``Spotify._post`` with the documented ``{"uris": [...]}`` body.

The request -> playlist mapping lives in ``spotify_playlists``, written as soon as the
playlist exists, so a failure while filling it never leads to a second playlist.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import spotipy
from sqlite_utils import Database

from adapters.spotify.resilience import RetryPolicy, SpotifyUnavailable
from adapters.spotify.track_details import utc_now
from core.reply import PlaylistCard, scene_lines, text, title

log = logging.getLogger(__name__)

TABLE = "spotify_playlists"
PLAYLIST_URL = "https://open.spotify.com/playlist/{id}"
CAPTION_CHARS = 40
DESCRIPTION_CHARS = 300  # Spotify's limit for playlist descriptions


def playlist_name(card: PlaylistCard, caption: str) -> str:
    """E.g. "AI DJ · Rainy day · missing you on a grey day", caption cut to 40 chars."""
    short = shorten(caption, CAPTION_CHARS)
    return f"{title(card)} · {short}" if short else title(card)


def playlist_description(card: PlaylistCard) -> str:
    """The numbers behind the playlist: scene and confidence, base -> final mood."""
    parts = scene_lines(card)
    if card.target != card.analysis.final:
        parts.append(text("nudged", card.language, v=card.target.valence, e=card.target.energy))
    return shorten(" · ".join(parts), DESCRIPTION_CHARS)


def shorten(value: str, limit: int) -> str:
    """One line, at most ``limit`` characters, with an ellipsis when cut."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class StoredPlaylist:
    request_id: int
    playlist_id: str
    url: str
    created_at: str


@dataclass(frozen=True)
class CleanupResult:
    removed: int
    failed: int  # left for a later run (Spotify unavailable)


class PlaylistStore:
    """The ``spotify_playlists`` table."""

    def __init__(self, db: Database, db_lock: threading.Lock) -> None:
        self._db = db
        self._lock = db_lock

    def get(self, request_id: int) -> StoredPlaylist | None:
        rows = self._query(
            "where request_id = ? and deleted_at is null", [request_id], limit_one=True
        )
        return rows[0] if rows else None

    def created_before(self, cutoff: str) -> list[StoredPlaylist]:
        return self._query("where deleted_at is null and created_at < ?", [cutoff])

    def save(self, stored: StoredPlaylist) -> None:
        row = {
            "request_id": stored.request_id,
            "playlist_id": stored.playlist_id,
            "url": stored.url,
            "created_at": stored.created_at,
            "deleted_at": None,
        }
        with self._lock:
            self._db[TABLE].upsert(row, pk="request_id")

    def mark_deleted(self, request_id: int, when: str) -> None:
        with self._lock:
            self._db.execute(
                f"update {TABLE} set deleted_at = ? where request_id = ?", [when, request_id]
            )
            self._db.conn.commit()

    def _query(
        self, where: str, params: list[object], limit_one: bool = False
    ) -> list[StoredPlaylist]:
        sql = f"select request_id, playlist_id, url, created_at from {TABLE} {where}"
        sql += " order by created_at" + (" limit 1" if limit_one else "")
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [StoredPlaylist(*row) for row in rows]


class PlaylistMaker:
    """Synchronous; ``extras.SpotifyExtras`` runs it in a thread. Acts as the owner."""

    def __init__(
        self,
        client: spotipy.Spotify,
        db: Database,
        *,
        policy: RetryPolicy,
        public: bool = False,
        db_lock: threading.Lock | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._client = client
        self._policy = policy
        self._public = public
        self._store = PlaylistStore(db, db_lock or threading.Lock())
        self._clock = clock
        self._lock = threading.Lock()  # a double-clicked regenerate must not make two

    def playlist_for(self, card: PlaylistCard, caption: str) -> str | None:
        """The playlist URL for ``card.request_id``: created the first time, its items
        replaced afterwards. None when the card has no tracks. Raises SpotifyUnavailable."""
        uris = [f"spotify:track:{track.id}" for track in card.tracks]
        if not uris:
            return None
        with self._lock:
            stored = self._store.get(card.request_id)
            if stored is not None:
                try:
                    self._policy.call(
                        "playlist replace",
                        lambda: self._client.playlist_replace_items(stored.playlist_id, uris),
                    )
                    return stored.url
                except SpotifyUnavailable as error:
                    if error.status != 404:
                        raise
                    log.info("playlist of request %d is gone; making a new one", card.request_id)
            return self._create(card, caption, uris)

    def _create(self, card: PlaylistCard, caption: str, uris: list[str]) -> str:
        created = self._policy.call(
            "playlist create",
            lambda: self._client.current_user_playlist_create(
                playlist_name(card, caption),
                public=self._public,
                description=playlist_description(card),
            ),
            idempotent=False,
        )
        playlist_id = created["id"]
        url = (created.get("external_urls") or {}).get("spotify") or PLAYLIST_URL.format(
            id=playlist_id
        )
        self._store.save(StoredPlaylist(card.request_id, playlist_id, url, self._clock()))
        self._policy.call(
            "playlist items",
            lambda: self._client._post(f"playlists/{playlist_id}/items", payload={"uris": uris}),
            idempotent=False,
        )
        return url

    def cleanup(self, older_than: timedelta, now: datetime | None = None) -> CleanupResult:
        """Unfollow (Spotify's delete) playlists created before ``now - older_than`` and
        mark them deleted. Stops at the first failure other than "already gone"."""
        now = now or datetime.now(UTC)
        cutoff = (now - older_than).isoformat(timespec="seconds")
        due = self._store.created_before(cutoff)
        removed = 0
        for stored in due:
            try:
                self._policy.call(
                    "playlist cleanup",
                    lambda s=stored: self._client.current_user_unfollow_playlist(s.playlist_id),
                )
            except SpotifyUnavailable as error:
                if error.status != 404:
                    log.warning("Spotify cleanup stopped (%s)", error.reason)
                    return CleanupResult(removed, len(due) - removed)
            self._store.mark_deleted(stored.request_id, now.isoformat(timespec="seconds"))
            removed += 1
        return CleanupResult(removed, 0)
