"""Builds a ready MoodService from settings: database, model reader, Spotify extras.

One place decides which parts a run needs, so the CLI and the bot runner never assemble
the flow differently.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator

from sqlite_utils import Database

from adapters.spotify.client import SpotifyOptions
from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.legacy_recommendations import LegacyRecommender
from adapters.spotify.resilience import RetryPolicy
from adapters.storage.database import open_database
from bot.config import Settings
from bot.health import Health
from bot.metrics import Metrics
from bot.models import prepare_async
from bot.observed import TimedReader, TimedSpotify
from bot.service import MoodReader, MoodService, catalog_tracks
from core.mood import MoodPoint
from core.tracks import Track

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def service_context(
    settings: Settings,
    *,
    with_models: bool,
    worker: bool,
    plane: bool = True,
    metrics: Metrics | None = None,
    health: Health | None = None,
) -> AsyncIterator[MoodService]:
    """A MoodService for the duration of the block.

    ``with_models``: load CLIP and NLI (not needed to regenerate a stored request);
    ``worker``: in a separate process (chat bots) rather than in this one (one-shot CLI);
    ``metrics`` / ``health``: what `aidj run` exports (the worker's batches, restarts and
    queue, Spotify's calls; whether the worker serves).
    """
    if with_models:  # the cached copies, or downloaded now with progress
        settings = await prepare_async(settings)
    db = open_database(settings.db_path)
    db_lock = threading.Lock()  # one connection, shared by the flow and the Spotify extras
    async with contextlib.AsyncExitStack() as stack:
        reader: MoodReader | None = None
        if with_models and worker:
            from adapters.models.worker import ModelWorker

            model_worker = await stack.enter_async_context(ModelWorker(settings, events=metrics))
            if metrics is not None:
                metrics.watch_queue(lambda: model_worker.queue_depth)
            if health is not None:
                health.watch("models", lambda: model_worker.serving)
            reader = model_worker
        elif with_models:
            from adapters.models.in_process import InProcessAnalyzer

            reader = InProcessAnalyzer(settings)
        options = SpotifyOptions(
            policy=RetryPolicy(on_attempt=metrics.spotify_call if metrics else None)
        )
        extras, track_source = _spotify_parts(settings, db, db_lock, options)
        try:
            yield MoodService(
                TimedReader(reader) if reader is not None else None,
                db,
                settings,
                spotify=TimedSpotify(extras) if extras is not None else None,
                track_source=track_source,
                render_plane=plane,
                db_lock=db_lock,
            )
        finally:
            db.close()


def _spotify_parts(
    settings: Settings, db: Database, db_lock: threading.Lock, options: SpotifyOptions
) -> tuple[SpotifyExtras | None, LegacyRecommender | None]:
    """Spotify extras when configured, and the legacy recommender when opted in."""

    def from_catalog(
        target: MoodPoint, genres: tuple[str, ...], n: int, exclude: set[str]
    ) -> list[Track]:
        with db_lock:
            return catalog_tracks(db, target, genres, n, exclude)

    extras = SpotifyExtras.from_settings(settings, db, options=options, db_lock=db_lock)
    track_source = None
    if settings.recommender == "spotify":
        track_source = LegacyRecommender.from_settings(
            settings, fallback=from_catalog, options=options
        )
        if track_source is None:
            log.warning("AIDJ_RECOMMENDER=spotify needs Spotify credentials; using the catalog")
    return extras, track_source
