"""The local catalog as a ``core.tracks.TrackSource``: the primary recommender.

A catalog without any of a scene's genres (the public TidyTuesday set has no study or
classical music) is searched whole, by sound alone, rather than failing the card.
"""

from __future__ import annotations

import logging

from adapters.storage.gateway import Storage
from adapters.storage.track_search import GenresNotInCatalogError
from core.mood import MoodPoint
from core.tracks import Track, TrackFilter

log = logging.getLogger(__name__)


class CatalogSource:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def recommend(
        self,
        target: MoodPoint,
        genres: tuple[str, ...],
        n: int,
        exclude: set[str],
        *,
        avoid: TrackFilter | None = None,
    ) -> list[Track]:
        try:
            return await self._storage.nearest_tracks(target, genres, n, exclude, avoid=avoid)
        except GenresNotInCatalogError as error:
            log.info("no track in %s; searching the whole catalog", ", ".join(error.genres))
            return await self._storage.nearest_tracks(target, (), n, exclude, avoid=avoid)
