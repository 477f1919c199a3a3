"""Real Spotify playlists for replies: one per request, refilled on regenerate.

Endpoints (Spotify's February 2026 development-mode rules; spotipy 2.26 has wrappers for the
first three): ``POST /me/playlists`` creates, ``POST /playlists/{id}/items`` adds, ``PUT
/playlists/{id}/items`` replaces, ``GET /me/playlists`` lists the owner's playlists, and
``DELETE /me/library?uris=spotify:playlist:{id},...`` (at most 40 a call) removes them from
the owner's library, which is all "deleting" a playlist ever was. The old unfollow endpoint,
``DELETE /playlists/{id}/followers``, is gone for development-mode apps (403). spotipy's
``playlist_add_items`` sends a bare JSON array and it has no library wrapper, so adding and
removing go through its generic ``Spotify._post`` / ``Spotify._delete``.

Creating and adding are not idempotent, so a 5xx (or a timeout) on them is never simply
retried: Spotify may have done it before failing. After a failed create the owner's recent
playlists are searched for this request's (same name, description ending in ``#<request
id>``) before creating again; without the scope to list private playlists, the card goes
without a playlist instead. After a failed add, the items are replaced (idempotent).

The request -> playlist mapping lives in ``spotify_playlists`` (``storage.spotify_cache``),
written as soon as the playlist exists, so a failure while filling it never leads to a
second playlist.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import spotipy

from adapters.spotify.resilience import RetryPolicy, SpotifyUnavailable
from adapters.spotify.track_details import utc_now
from adapters.storage.spotify_cache import SpotifyCache, StoredPlaylist
from core.reply import PlaylistCard, scene_lines, text, title

log = logging.getLogger(__name__)

PLAYLIST_URL = "https://open.spotify.com/playlist/{id}"
CAPTION_CHARS = 40
DESCRIPTION_CHARS = 300  # Spotify's limit for playlist descriptions
LIBRARY_BATCH = 40  # URIs per DELETE /me/library
RECENT_PLAYLISTS = 50  # how far back a lookup searches (GET /me/playlists, one page)
_SEPARATOR = " · "


def playlist_name(card: PlaylistCard, caption: str) -> str:
    """E.g. "AI DJ · Rainy day · missing you on a grey day", caption cut to 40 chars."""
    short = shorten(caption, CAPTION_CHARS)
    return f"{title(card)} · {short}" if short else title(card)


def playlist_description(card: PlaylistCard) -> str:
    """The numbers behind the playlist (scene and confidence, base -> final mood), then
    ``#<request id>``: the marker that finds this request's playlist again."""
    parts = scene_lines(card)
    if card.target != card.analysis.final:
        parts.append(text("nudged", card.language, v=card.target.valence, e=card.target.energy))
    marker = request_marker(card.request_id)
    numbers = shorten(_SEPARATOR.join(parts), DESCRIPTION_CHARS - len(marker) - len(_SEPARATOR))
    return f"{numbers}{_SEPARATOR}{marker}"


def request_marker(request_id: int) -> str:
    return f"#{request_id}"


def is_playlist_of(playlist: dict[str, Any], name: str, request_id: int) -> bool:
    """Whether ``playlist`` (a Web API playlist object) is the one made for ``request_id``;
    Spotify returns descriptions HTML-escaped."""
    description = html.unescape(playlist.get("description") or "")
    return playlist.get("name") == name and (
        description.endswith(_SEPARATOR + request_marker(request_id))
    )


def shorten(value: str, limit: int) -> str:
    """One line, at most ``limit`` characters, with an ellipsis when cut."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class CleanupResult:
    removed: int
    failed: int = 0  # left for a later run
    reason: str | None = None  # why they were left, e.g. "HTTP 403"
    refused: bool = False  # Spotify answered no (4xx), rather than failing to answer


class PlaylistMaker:
    """Synchronous; ``extras.SpotifyExtras`` runs it in a thread. Acts as the owner."""

    def __init__(
        self,
        client: spotipy.Spotify,
        cache: SpotifyCache,
        *,
        policy: RetryPolicy,
        public: bool = False,
        can_look_up: bool = True,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        """``can_look_up``: whether the login may list private playlists (playlist-read-
        private); without it a failed create gives up rather than risk a second playlist."""
        self._client = client
        self._policy = policy
        self._public = public
        self._can_look_up = can_look_up or public
        self._store = cache
        self._clock = clock
        self._lock = threading.Lock()  # a double-clicked regenerate must not make two

    def playlist_for(self, card: PlaylistCard, caption: str) -> str | None:
        """The playlist URL for ``card.request_id``: created the first time, its items
        replaced afterwards. None when the card has no tracks. Raises SpotifyUnavailable."""
        uris = [f"spotify:track:{track.id}" for track in card.tracks]
        if not uris:
            return None
        with self._lock:
            stored = self._store.playlist(card.request_id)
            if stored is not None:
                try:
                    self._replace(stored.playlist_id, uris)
                    return stored.url
                except SpotifyUnavailable as error:
                    if error.status != 404:
                        raise
                    log.info("playlist of request %d is gone; making a new one", card.request_id)
            return self._create(card, caption, uris)

    def _create(self, card: PlaylistCard, caption: str, uris: list[str]) -> str:
        name = playlist_name(card, caption)
        look_up = (lambda: self._find(name, card.request_id)) if self._can_look_up else None
        created = self._policy.call(
            "playlist create",
            lambda: self._client.current_user_playlist_create(
                name, public=self._public, description=playlist_description(card)
            ),
            idempotent=False,
            recover=look_up,
        )
        playlist_id = created["id"]
        url = (created.get("external_urls") or {}).get("spotify") or PLAYLIST_URL.format(
            id=playlist_id
        )
        self._store.save_playlist(StoredPlaylist(card.request_id, playlist_id, url, self._clock()))
        self._policy.call(
            "playlist items",
            lambda: self._client._post(f"playlists/{playlist_id}/items", payload={"uris": uris}),
            idempotent=False,
            recover=lambda: self._replace(playlist_id, uris),
        )
        return url

    def _replace(self, playlist_id: str, uris: list[str]) -> dict[str, Any]:
        """Make ``uris`` the playlist's items, whatever it held (idempotent, so retried)."""
        result = self._policy.call(
            "playlist replace",
            lambda: self._client.playlist_replace_items(playlist_id, uris),
        )
        return result or {}

    def _find(self, name: str, request_id: int) -> dict[str, Any] | None:
        """The playlist made for ``request_id`` among the owner's recent ones, if any."""
        page = self._policy.call(
            "playlist lookup",
            lambda: self._client.current_user_playlists(limit=RECENT_PLAYLISTS),
        )
        for playlist in (page or {}).get("items") or []:
            if playlist and is_playlist_of(playlist, name, request_id):
                log.info("found the playlist of request %d that Spotify made", request_id)
                return playlist
        return None

    def _remove_from_library(self, uris: str) -> Any:
        return self._client._delete("me/library", uris=uris)

    def cleanup(self, older_than: timedelta, now: datetime | None = None) -> CleanupResult:
        """Remove playlists created before ``now - older_than`` from the owner's library,
        40 a call, and mark them deleted. Stops at the first call that fails; a playlist the
        owner already removed is no error (Spotify answers 200)."""
        now = now or datetime.now(UTC)
        cutoff = (now - older_than).isoformat(timespec="seconds")
        due = self._store.playlists_created_before(cutoff)
        removed = 0
        for start in range(0, len(due), LIBRARY_BATCH):
            batch = due[start : start + LIBRARY_BATCH]
            uris = ",".join(f"spotify:playlist:{stored.playlist_id}" for stored in batch)
            try:
                self._policy.call("playlist cleanup", partial(self._remove_from_library, uris))
            except SpotifyUnavailable as error:
                log.warning("Spotify cleanup stopped (%s)", error.reason)
                return CleanupResult(removed, len(due) - removed, error.reason, error.refused)
            when = now.isoformat(timespec="seconds")
            for stored in batch:
                self._store.mark_playlist_deleted(stored.request_id, when)
            removed += len(batch)
        return CleanupResult(removed)
