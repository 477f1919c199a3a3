"""Builds a ready MoodService from settings: storage, model reader, track source, Spotify.

One place decides which parts a run needs, so the CLI and the bot runner never assemble
the flow differently.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.legacy_recommendations import LegacyRecommender
from adapters.storage.catalog_source import CatalogSource
from adapters.storage.gateway import Storage
from bot.config import Settings
from bot.service import MoodReader, MoodService
from core.tracks import TrackSource

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def service_context(
    settings: Settings, *, with_models: bool, worker: bool, plane: bool = True
) -> AsyncIterator[MoodService]:
    """A MoodService for the duration of the block.

    ``with_models``: load CLIP and NLI (not needed to regenerate a stored request);
    ``worker``: in a separate process (chat bots) rather than in this one (one-shot CLI).
    """
    storage = Storage.open(settings.db_path)
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(storage.close)
        reader: MoodReader | None = None
        if with_models and worker:
            from adapters.models.worker import ModelWorker

            reader = await stack.enter_async_context(ModelWorker(settings.model_options()))
        elif with_models:
            from adapters.models.in_process import InProcessAnalyzer

            reader = InProcessAnalyzer(settings.model_options())
        yield MoodService(
            reader,
            storage,
            settings,
            spotify=SpotifyExtras.from_settings(settings, storage.spotify),
            tracks=_track_source(settings, storage),
            render_plane=plane,
        )


def _track_source(settings: Settings, storage: Storage) -> TrackSource:
    """The local catalog, or Spotify's legacy recommender topped up from it when opted in."""
    catalog = CatalogSource(storage)
    if settings.recommender != "spotify":
        return catalog
    legacy = LegacyRecommender.from_settings(settings, fallback=catalog)
    if legacy is None:
        log.warning("AIDJ_RECOMMENDER=spotify needs Spotify credentials; using the catalog")
        return catalog
    return legacy
