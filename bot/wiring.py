"""Builds a ready MoodService from settings: storage, model reader, track source, Spotify.

One place decides which parts a run needs, so the CLI and the bot runner never assemble
the flow differently.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from adapters.spotify.client import SpotifyOptions
from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.legacy_recommendations import LegacyRecommender
from adapters.spotify.resilience import RetryPolicy
from adapters.storage.catalog_source import CatalogSource
from adapters.storage.gateway import Storage
from bot.config import Settings
from bot.health import Health
from bot.metrics import Metrics
from bot.models import prepare_async
from bot.observed import TimedReader, TimedSpotify
from bot.service import MoodReader, MoodService
from core.errors import ConfigError, WorkerError
from core.tracks import TrackSource

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
    queue, Spotify's calls; whether the worker serves). With ``AIDJ_MODEL_SERVER`` set, the
    models run on that Ray Serve application instead, whichever ``worker`` says.
    """
    if with_models:  # the cached copies, or downloaded now with progress
        settings = await prepare_async(settings)
    async with contextlib.AsyncExitStack() as stack:
        storage = Storage.open(settings.db_path)
        stack.callback(storage.close)  # also when the worker fails to start
        reader: MoodReader | None = None
        if with_models and settings.model_server is not None:
            reader = await _model_server(stack, settings, metrics, health)
        elif with_models and worker:
            from adapters.models.worker import ModelWorker

            model_worker = await stack.enter_async_context(
                ModelWorker(settings.model_options(), events=metrics)
            )
            if metrics is not None:
                metrics.watch_queue(lambda: model_worker.queue_depth)
            if health is not None:
                health.watch("models", lambda: model_worker.serving)
            reader = model_worker
        elif with_models:
            from adapters.models.in_process import InProcessAnalyzer

            reader = InProcessAnalyzer(settings.model_options())
        options = SpotifyOptions(
            policy=RetryPolicy(on_attempt=metrics.spotify_call if metrics else None)
        )
        extras = SpotifyExtras.from_settings(settings, storage.spotify, options=options)
        yield MoodService(
            TimedReader(reader) if reader is not None else None,
            storage,
            settings,
            spotify=TimedSpotify(extras) if extras is not None else None,
            tracks=_track_source(settings, storage, options),
            render_plane=plane,
        )


async def _model_server(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    metrics: Metrics | None,
    health: Health | None,
) -> MoodReader:
    """The reader of the Ray Serve application AIDJ_MODEL_SERVER names; no model loads here."""
    from adapters.models.serve_reader import ServeReader

    assert settings.model_server is not None
    try:
        reader = await stack.enter_async_context(
            ServeReader(
                settings.model_server,
                settings.model_options(),
                events=metrics,
                direct_max_bytes=settings.serve_direct_max_kb * 1024,
            )
        )
    except WorkerError as error:
        raise ConfigError(f"AIDJ_MODEL_SERVER={settings.model_server}: {error}") from None
    if metrics is not None:
        metrics.watch_queue(lambda: reader.queue_depth)
    if health is not None:
        health.watch("models", lambda: reader.serving)
    return reader


def _track_source(settings: Settings, storage: Storage, options: SpotifyOptions) -> TrackSource:
    """The local catalog, or Spotify's legacy recommender topped up from it when opted in."""
    catalog = CatalogSource(storage)
    if settings.recommender != "spotify":
        return catalog
    legacy = LegacyRecommender.from_settings(settings, fallback=catalog, options=options)
    if legacy is None:
        log.warning("AIDJ_RECOMMENDER=spotify needs Spotify credentials; using the catalog")
        return catalog
    return legacy
