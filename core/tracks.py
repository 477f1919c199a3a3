"""A catalog track as the recommender and the replies see it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from core.mood import MoodPoint
from core.recommend import artist_keys

SPOTIFY_TRACK_URL = "https://open.spotify.com/track/{id}"


@dataclass(frozen=True)
class Track:
    id: str  # Spotify track id
    name: str
    artists: tuple[str, ...]
    valence: float
    energy: float
    popularity: int = 0
    genres: tuple[str, ...] = ()
    album: str = ""
    album_art_url: str | None = None

    @property
    def url(self) -> str:
        # quoted: an id from an imported file must not be able to break out of a link
        return SPOTIFY_TRACK_URL.format(id=quote(self.id, safe=""))

    @property
    def artist_line(self) -> str:
        return ", ".join(self.artists)


@dataclass(frozen=True)
class TrackFilter:
    """What a listener asked never to be given (``/prefs``): tracks by some artists, and
    explicit tracks where the catalog records explicitness (unknown counts as clean)."""

    artists: frozenset[str] = frozenset()  # artist keys, as ``core.recommend.artist_keys``
    no_explicit: bool = False

    def __bool__(self) -> bool:
        """Whether it leaves anything out."""
        return bool(self.artists) or self.no_explicit

    def allows_artists(self, artists: Iterable[str]) -> bool:
        """False when any of ``artists`` is one to leave out."""
        return not (artist_keys(artists) & self.artists)


class TrackSource(Protocol):
    """Where a card's tracks come from: the local catalog, or Spotify's legacy recommender
    topped up from the catalog. The flow awaits whichever it was given."""

    async def recommend(
        self,
        target: MoodPoint,
        genres: tuple[str, ...],
        n: int,
        exclude: set[str],
        *,
        avoid: TrackFilter | None = None,
    ) -> list[Track]:
        """Up to ``n`` tracks nearest ``target`` within ``genres``, none of ``exclude`` and
        none that ``avoid`` leaves out."""
        ...


async def recommend_from(
    source: TrackSource,
    target: MoodPoint,
    genres: tuple[str, ...],
    n: int,
    exclude: set[str],
    avoid: TrackFilter | None = None,
) -> list[Track]:
    """``source.recommend``, handing ``avoid`` on only when it leaves something out, so a
    source written before filters existed (or a test's stand-in) still serves everyone else."""
    if avoid:
        return await source.recommend(target, genres, n, exclude, avoid=avoid)
    return await source.recommend(target, genres, n, exclude)
