"""Spotify's own recommender, for apps that still have it (opt-in: AIDJ_RECOMMENDER=spotify).

Spotify removed ``GET /recommendations`` for new apps in November 2024, so this is for old
apps only, and every failure (403/404 for new apps, 429, 5xx, timeouts, no connection)
quietly falls back to the local catalog with one warning line: the user always gets tracks.
The response has no audio features, so a track's valence/energy are the requested targets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import spotipy

from adapters.spotify.client import SpotifyConfig, SpotifyOptions, app_client, credentials_from
from adapters.spotify.resilience import RetryPolicy, describe
from adapters.spotify.track_details import pick_image
from core.mood import MoodPoint
from core.tracks import Track, TrackFilter, TrackSource, recommend_from

log = logging.getLogger(__name__)

MAX_SEEDS = 5
MAX_LIMIT = 100

# The genre seeds /recommendations accepted (its seed list endpoint is gone too); category
# genres outside it (catalog-only slugs like "indie-poptimism") are skipped.
_GENRE_SEEDS_TEXT = """
    acoustic afrobeat alt-rock alternative ambient anime black-metal bluegrass blues
    bossanova brazil breakbeat british cantopop chicago-house children chill classical club
    comedy country dance dancehall death-metal deep-house detroit-techno disco disney
    drum-and-bass dub dubstep edm electro electronic emo folk forro french funk garage
    german gospel goth grindcore groove grunge guitar happy hard-rock hardcore hardstyle
    heavy-metal hip-hop holidays honky-tonk house idm indian indie indie-pop industrial
    iranian j-dance j-idol j-pop j-rock jazz k-pop kids latin latino malay mandopop metal
    metal-misc metalcore minimal-techno movies mpb new-age new-release opera pagode party
    philippines-opm piano pop pop-film post-dubstep power-pop progressive-house psych-rock
    punk punk-rock r-n-b rainy-day reggae reggaeton road-trip rock rock-n-roll rockabilly
    romance sad salsa samba sertanejo show-tunes singer-songwriter ska sleep songwriter
    soul soundtracks spanish study summer swedish synth-pop tango techno trance trip-hop
    turkish work-out world-music
"""
SPOTIFY_GENRE_SEEDS = frozenset(_GENRE_SEEDS_TEXT.split())


def seed_genres(genres: Iterable[str]) -> list[str]:
    """Up to five genres Spotify accepts as seeds, in the category's order of preference."""
    valid = [g for g in dict.fromkeys(genres) if g in SPOTIFY_GENRE_SEEDS]
    return valid[:MAX_SEEDS]


def track_from(obj: dict[str, Any], target: MoodPoint) -> Track:
    """A Track from a Web API track object, placed at the requested mood."""
    album = obj.get("album") or {}
    return Track(
        id=obj["id"],
        name=obj.get("name", ""),
        artists=tuple(a.get("name", "") for a in obj.get("artists") or ()),
        valence=target.valence,
        energy=target.energy,
        popularity=int(obj.get("popularity") or 0),
        album=album.get("name", ""),
        album_art_url=pick_image(album.get("images") or []),
    )


class LegacyRecommender:
    """A ``core.tracks.TrackSource`` that asks Spotify first and tops up from another."""

    def __init__(
        self,
        client: spotipy.Spotify,
        fallback: TrackSource,
        *,
        policy: RetryPolicy,
        market: str | None = None,
    ) -> None:
        self._client = client
        self._fallback = fallback
        self._policy = policy
        self._market = market

    @classmethod
    def from_settings(
        cls,
        settings: SpotifyConfig,
        fallback: TrackSource,
        *,
        options: SpotifyOptions | None = None,
    ) -> LegacyRecommender | None:
        """None unless opted in (recommender == "spotify") and the app credentials are set."""
        credentials = credentials_from(settings)
        if settings.recommender != "spotify" or credentials is None:
            return None
        options = options or SpotifyOptions()
        return cls(
            app_client(credentials, options),
            fallback,
            policy=options.policy,
            market=settings.spotify_market,
        )

    async def recommend(
        self,
        target: MoodPoint,
        genres: tuple[str, ...],
        n: int,
        exclude: set[str],
        *,
        avoid: TrackFilter | None = None,
    ) -> list[Track]:
        """Spotify's picks, topped up (or replaced) by the catalog's; neither gives what
        ``avoid`` leaves out (Spotify's track objects say whether a track is explicit)."""
        try:
            tracks = await asyncio.to_thread(self.fetch, target, genres, n, exclude, avoid)
        except Exception as error:
            log.warning(
                "Spotify recommendations unavailable (%s); using the local catalog",
                describe(error),
            )
            tracks = []
        if len(tracks) >= n:
            return tracks
        more = await self._from_fallback(target, genres, n - len(tracks), exclude, tracks, avoid)
        return tracks + more

    def fetch(
        self,
        target: MoodPoint,
        genres: tuple[str, ...],
        n: int,
        exclude: set[str],
        avoid: TrackFilter | None = None,
    ) -> list[Track]:
        """Up to ``n`` recommended tracks not in ``exclude`` nor left out by ``avoid``;
        raises SpotifyUnavailable."""
        seeds = seed_genres(genres) or list(genres[:MAX_SEEDS])
        params: dict[str, Any] = {
            "seed_genres": ",".join(seeds),
            "target_valence": round(target.valence, 3),
            "target_energy": round(target.energy, 3),
            "limit": min(MAX_LIMIT, n + len(exclude)),
        }
        if self._market:
            params["market"] = self._market
        # spotipy's recommendations() does the same GET but warns DeprecationWarning per call
        result = self._policy.call(
            "recommendations", lambda: self._client._get("recommendations", **params)
        )
        tracks: list[Track] = []
        seen = set(exclude)
        for obj in (result or {}).get("tracks") or []:
            if not obj or not obj.get("id") or obj["id"] in seen:
                continue
            seen.add(obj["id"])
            track = track_from(obj, target)
            if avoid and not _allowed(avoid, obj, track):
                continue
            tracks.append(track)
            if len(tracks) == n:
                break
        return tracks

    async def _from_fallback(
        self,
        target: MoodPoint,
        genres: tuple[str, ...],
        n: int,
        exclude: set[str],
        have: list[Track],
        avoid: TrackFilter | None,
    ) -> list[Track]:
        skip = set(exclude) | {t.id for t in have}
        return await recommend_from(self._fallback, target, genres, n, skip, avoid)


def _allowed(avoid: TrackFilter, obj: dict[str, Any], track: Track) -> bool:
    """Whether a Web API track object passes the listener's filter."""
    if avoid.no_explicit and obj.get("explicit") is True:
        return False
    return avoid.allows_artists(track.artists)
