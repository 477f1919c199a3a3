"""Album art and current availability for the tracks a reply shows.

Fetched one track at a time with ``GET /tracks/{id}`` (the several-ids endpoint is gone for
development-mode apps since February 2026) using the app's client-credentials token, and
cached in ``spotify_tracks`` so each track costs one request ever. When Spotify is failing,
enrichment stops at the first unavailable answer: the reply goes out with what is known
rather than waiting on ten doomed requests.

Availability: development-mode apps no longer get ``available_markets``, so it is known only
when a market is set (SPOTIFY_MARKET, sent as ``market=``; Spotify then says
``is_playable``) and is "unknown" (None) otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import spotipy

from adapters.spotify.resilience import RetryPolicy, SpotifyUnavailable
from adapters.storage.spotify_cache import SpotifyCache, TrackInfo
from core.tracks import Track

log = logging.getLogger(__name__)

_GONE = (400, 404)  # the id is not (or no longer) in Spotify's catalog: cache that too
_PREFERRED_ART_WIDTH = 300  # big enough for an embed thumbnail, a tenth of the 640 bytes


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TrackDetails:
    """Synchronous; ``extras.SpotifyExtras`` runs it in a thread."""

    def __init__(
        self,
        client: spotipy.Spotify,
        cache: SpotifyCache,
        *,
        policy: RetryPolicy,
        market: str | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._client = client
        self._cache = cache
        self._policy = policy
        self._market = market
        self._clock = clock

    def enrich(self, tracks: Sequence[Track]) -> list[Track]:
        """``tracks`` with album art filled in where Spotify has it; order kept."""
        ids = list(dict.fromkeys(t.id for t in tracks))
        known = self.cached(ids)
        for track_id in ids:
            if track_id in known:
                continue
            try:
                info = self._fetch(track_id)
            except SpotifyUnavailable as error:
                if error.status not in _GONE:
                    log.warning(
                        "Spotify track details unavailable (%s); replying without album art",
                        error.reason,
                    )
                    break
                info = TrackInfo(album_art_url=None, available=False)
            self._store(track_id, info)
            known[track_id] = info
        return [_with_art(track, known.get(track.id)) for track in tracks]

    def cached(self, track_ids: Sequence[str]) -> dict[str, TrackInfo]:
        """What the cache knows about ``track_ids`` (no HTTP)."""
        return self._cache.track_infos(track_ids)

    def _fetch(self, track_id: str) -> TrackInfo:
        obj = self._policy.call(
            "track details", lambda: self._client.track(track_id, market=self._market)
        )
        return parse_track_info(obj or {})

    def _store(self, track_id: str, info: TrackInfo) -> None:
        self._cache.save_track_info(track_id, info, self._clock())


def parse_track_info(obj: dict[str, Any]) -> TrackInfo:
    """Album art and availability from a Web API track object."""
    images = (obj.get("album") or {}).get("images") or []
    available: bool | None = None
    if "is_playable" in obj:  # present when a market was given: the precise answer
        available = bool(obj["is_playable"])
    elif "available_markets" in obj:  # extended-quota apps only, since February 2026
        available = bool(obj["available_markets"])
    return TrackInfo(album_art_url=pick_image(images), available=available)


def pick_image(images: list[dict[str, Any]]) -> str | None:
    """The smallest image at least 300 px wide, else the largest one."""
    sized = [(image.get("width") or 0, image["url"]) for image in images if image.get("url")]
    if not sized:
        return None
    big_enough = [s for s in sized if s[0] >= _PREFERRED_ART_WIDTH]
    return min(big_enough)[1] if big_enough else max(sized)[1]


def _with_art(track: Track, info: TrackInfo | None) -> Track:
    if info is None or not info.album_art_url or info.album_art_url == track.album_art_url:
        return track
    return replace(track, album_art_url=info.album_art_url)
