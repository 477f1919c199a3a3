"""The platform-neutral mood flow: photo + caption -> analysis -> tracks -> a card.

This is the one place that strings the steps together, for both chat platforms and the
command line: rate limit, ask the model reader, take the base from the anchor table, tune,
recommend from the catalog (excluding what this request already showed), record it all,
and add the Spotify extras when configured. SQLite work runs in a thread under one lock so
the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from sqlite_utils import Database

from adapters.storage.anchors_store import anchor_points, base_for
from adapters.storage.request_log import RequestLog
from adapters.storage.track_search import GenresNotInCatalogError, nearest
from bot.config import Settings
from bot.flow import Actor, PhotoRequest
from core.categories import get_category
from core.errors import NotRequesterError, UnknownRequestError
from core.language import reply_language
from core.mood import Analysis, MoodPoint, Reading
from core.ratelimit import SlidingWindowLimiter
from core.reply import PlaylistCard
from core.steering import Action, steer
from core.tracks import Track
from core.tuning import place

log = logging.getLogger(__name__)
T = TypeVar("T")

_STEER_RATE_FACTOR = 3  # pressing a control is cheap; allow more of those than photos
_EXEMPT_PLATFORMS = frozenset({"cli"})  # the owner at a terminal is not rate limited


class MoodReader(Protocol):
    async def analyze(self, image: bytes, caption: str) -> Reading: ...


class SpotifyExtrasLike(Protocol):
    async def enrich(self, tracks: list[Track]) -> list[Track]: ...

    async def playlist_for(self, card: PlaylistCard, caption: str) -> str | None: ...


class TrackSource(Protocol):
    """An alternative recommender (the legacy Spotify one); falls back to the catalog."""

    async def recommend(
        self, target: MoodPoint, genres: tuple[str, ...], n: int, exclude: set[str]
    ) -> list[Track]: ...


def catalog_tracks(
    db: Database, target: MoodPoint, genres: tuple[str, ...], n: int, exclude: set[str]
) -> list[Track]:
    """Nearest tracks in the scene's genres; a catalog without any of them (the public
    TidyTuesday set has no study or classical music) is searched whole, by sound alone."""
    try:
        return nearest(db, target, genres, n, exclude)
    except GenresNotInCatalogError as error:
        log.info("no track in %s; searching the whole catalog", ", ".join(error.genres))
        return nearest(db, target, (), n, exclude)


class MoodService:
    """Implements ``bot.flow.MoodFlow``."""

    def __init__(
        self,
        reader: MoodReader | None,
        db: Database,
        settings: Settings,
        *,
        spotify: SpotifyExtrasLike | None = None,
        track_source: TrackSource | None = None,
        render_plane: bool = True,
        db_lock: threading.Lock | None = None,
    ) -> None:
        self._reader = reader
        self._db = db
        self._requests = RequestLog(db)
        self._settings = settings
        self._spotify = spotify
        self._track_source = track_source
        self._render_plane = render_plane
        self._db_lock = db_lock or threading.Lock()
        self._photo_limiter = SlidingWindowLimiter(settings.rate_limit_per_minute)
        self._steer_limiter = SlidingWindowLimiter(
            settings.rate_limit_per_minute * _STEER_RATE_FACTOR
        )

    # -- MoodFlow ----------------------------------------------------------------------

    async def recommend(self, request: PhotoRequest) -> PlaylistCard:
        if self._reader is None:
            raise RuntimeError("this MoodService was built without a model reader")
        language = reply_language(request.locale, request.caption)
        self._limit(self._photo_limiter, request.platform, request.user_id)
        caption = request.caption.strip()
        reading = await self._reader.analyze(request.image, caption)
        analysis = await self._in_db(self._place, reading)
        request_id = await self._in_db(
            self._requests.record_request,
            analysis,
            platform=request.platform,
            chat_id=request.chat_id,
            user_id=request.user_id,
            language=language,
            caption=caption,
        )
        return await self._card(request_id, analysis, analysis.final, language, caption, 0, None)

    async def steer(self, request_id: int, action: Action, actor: Actor) -> PlaylistCard:
        stored = await self._in_db(self._requests.get, request_id)
        if stored is None:
            raise UnknownRequestError(f"no request #{request_id}")
        if not (
            actor.is_admin or (actor.platform, actor.user_id) == (stored.platform, stored.user_id)
        ):
            raise NotRequesterError("only the requester or a chat admin can steer this playlist")
        self._limit(self._steer_limiter, actor.platform, actor.user_id)
        target = steer(stored.target, action, self._settings.nudge_step)
        await self._in_db(self._requests.set_target, request_id, target)
        await self._in_db(self._requests.record_feedback, request_id, actor.user_id, action.value)
        return await self._card(
            request_id,
            stored.analysis,
            target,
            stored.language,
            stored.caption,
            stored.rounds,
            action,
        )

    async def remember_message(
        self, request_id: int, platform: str, chat_id: str, message_id: str
    ) -> None:
        await self._in_db(self._requests.link_message, platform, chat_id, message_id, request_id)

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        return await self._in_db(self._requests.request_for_message, platform, chat_id, message_id)

    # -- steps ---------------------------------------------------------------------------

    def _place(self, reading: Reading) -> Analysis:
        base, source = base_for(self._db, get_category(reading.image.category_id))
        return place(reading, base, source, self._settings.delta_max)

    async def _card(
        self,
        request_id: int,
        analysis: Analysis,
        target: MoodPoint,
        language: str,
        caption: str,
        round_number: int,
        action: Action | None,
    ) -> PlaylistCard:
        tracks = await self._pick_tracks(request_id, analysis.seed_genres, target, round_number)
        if self._spotify is not None:
            tracks = await self._spotify.enrich(tracks)
        plane = (
            await self._plane(analysis, target, tracks, language) if self._render_plane else None
        )
        card = PlaylistCard(
            request_id=request_id,
            language=language,
            analysis=analysis,
            target=target,
            tracks=tuple(tracks),
            delta_max=self._settings.delta_max,
            plane_png=plane,
            round=round_number,
            last_action=action,
        )
        if self._spotify is not None:
            url = await self._spotify.playlist_for(card, caption)
            if url:
                card = replace(card, playlist_url=url)
        return card

    async def _pick_tracks(
        self, request_id: int, genres: tuple[str, ...], target: MoodPoint, round_number: int
    ) -> list[Track]:
        exclude = await self._in_db(self._requests.shown_ids, request_id)
        n = self._settings.recommend_count
        if self._track_source is not None:
            tracks = await self._track_source.recommend(target, genres, n, exclude)
        else:
            tracks = await self._in_db(catalog_tracks, self._db, target, genres, n, exclude)
        await self._in_db(
            self._requests.record_shown, request_id, [t.id for t in tracks], round_number
        )
        return tracks

    async def _plane(
        self, analysis: Analysis, target: MoodPoint, tracks: list[Track], language: str
    ) -> bytes:
        from adapters.render.mood_plane import render_mood_plane

        anchors = await self._in_db(anchor_points, self._db)
        return await asyncio.to_thread(
            render_mood_plane,
            anchors,
            analysis.base,
            target,
            tracks,
            language,
            analysis.reading.image.category_id,
        )

    def _limit(self, limiter: SlidingWindowLimiter, platform: str, user_id: str) -> None:
        if platform not in _EXEMPT_PLATFORMS:
            limiter.check((platform, user_id))

    async def _in_db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def locked() -> T:
            with self._db_lock:
                return function(*args, **kwargs)

        return await asyncio.to_thread(locked)
