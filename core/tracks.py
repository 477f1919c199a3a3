"""A catalog track as the recommender and the replies see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from core.mood import MoodPoint

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


class TrackSource(Protocol):
    """Where a card's tracks come from: the local catalog, or Spotify's legacy recommender
    topped up from the catalog. The flow awaits whichever it was given."""

    async def recommend(
        self, target: MoodPoint, genres: tuple[str, ...], n: int, exclude: set[str]
    ) -> list[Track]:
        """Up to ``n`` tracks nearest ``target`` within ``genres``, none of ``exclude``."""
        ...
