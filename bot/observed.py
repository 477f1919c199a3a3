"""The flow as `aidj run` serves it: every request traced (``bot.trace``), the steps that
happen outside ``MoodService`` timed at their edges.

``ObservedFlow`` wraps any ``MoodFlow``: it opens the trace, and times the photo download and
the delivery (the callables the chat adapter hands in). ``TimedReader`` and ``TimedSpotify``
wrap the model reader and the Spotify extras the service is built with. None of them changes
what the wrapped object does or raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.service import MoodReader, SpotifyExtrasLike
from bot.trace import RequestTrace, Tracer, step
from core.controls import Control, ControlKind
from core.fit import FitStats, Vote
from core.flow import (
    Actor,
    AlbumRequest,
    CardMessage,
    CardRequest,
    EditCard,
    ImageFetch,
    MoodFlow,
    Pressed,
    SendCard,
)
from core.language import Language
from core.mood import Reading
from core.reply import PlaylistCard
from core.steering import Action
from core.tracks import Track

T = TypeVar("T")


class ObservedFlow:
    """Implements ``core.flow.MoodFlow`` around ``inner``."""

    def __init__(self, inner: MoodFlow, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def recommend(self, request: CardRequest, send: SendCard | None = None) -> PlaylistCard:
        with self._tracer.request(request.platform, "photo") as trace:
            if isinstance(request, AlbumRequest):
                images = tuple(_downloaded(image) for image in request.images)
                request = dataclasses.replace(request, images=images)
            else:
                request = dataclasses.replace(request, image=_downloaded(request.image))
            card = await self._inner.recommend(request, _delivery(send, trace))
            trace.request_id = card.request_id
            return card

    async def steer(
        self, card: CardMessage, action: Action, actor: Actor, edit: EditCard, **options: Any
    ) -> PlaylistCard:
        with self._tracer.request(card.platform, "control") as trace:
            delivered = _delivery(edit, trace)
            assert delivered is not None
            new = await self._inner.steer(card, action, actor, delivered, **options)
            trace.request_id = new.request_id
            return new

    async def press(
        self, card: CardMessage, control: Control, actor: Actor, edit: EditCard, **options: Any
    ) -> Pressed:
        if control.kind is ControlKind.FIT:  # a vote makes no card, as ``vote`` below
            return await self._inner.press(card, control, actor, edit, **options)
        with self._tracer.request(card.platform, "control") as trace:
            delivered = _delivery(edit, trace)
            assert delivered is not None
            pressed = await self._inner.press(card, control, actor, delivered, **options)
            if pressed.card is not None:
                trace.request_id = pressed.card.request_id
            return pressed

    async def vote(self, card: CardMessage, actor: Actor, vote: Vote, *, on: bool = True) -> None:
        # a vote makes no card: not a request to time or count among the cards
        await self._inner.vote(card, actor, vote, on=on)

    async def chat_stats(self, platform: str, chat_id: str) -> FitStats:
        return await self._inner.chat_stats(platform, chat_id)

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        return await self._inner.request_for_message(platform, chat_id, message_id)

    async def prefs(self, actor: Actor, words: str) -> str:
        return await self._inner.prefs(actor, words)

    async def language_for(
        self, platform: str, user_id: str, locale: str | None, text: str = ""
    ) -> Language:
        return await self._inner.language_for(platform, user_id, locale, text)


def _downloaded(image: bytes | ImageFetch) -> bytes | ImageFetch:
    """A photo to fetch, its fetch timed as the download step."""
    return image if isinstance(image, bytes) else _timed(image, "download")


def _timed(function: Callable[[], Awaitable[T]], name: str) -> Callable[[], Awaitable[T]]:
    async def timed() -> T:
        with step(name):
            return await function()

    return timed


def _delivery(
    deliver: Callable[[PlaylistCard], Awaitable[T]] | None, trace: RequestTrace
) -> Callable[[PlaylistCard], Awaitable[T]] | None:
    """``deliver`` timed as the send step; a failure there is the request's outcome."""
    if deliver is None:
        return None

    async def timed(card: PlaylistCard) -> T:
        with step("send"):
            try:
                return await deliver(card)
            except BaseException:
                trace.send_failed = True
                raise

    return timed


class TimedReader:
    """Implements ``bot.service.MoodReader``; each call is the analysis step."""

    def __init__(self, inner: MoodReader) -> None:
        self._inner = inner

    async def analyze(self, image: bytes, caption: str) -> Reading:
        with step("analysis"):
            return await self._inner.analyze(image, caption)


class TimedSpotify:
    """Implements ``bot.service.SpotifyExtrasLike``; both calls are the spotify step."""

    def __init__(self, inner: SpotifyExtrasLike) -> None:
        self._inner = inner

    async def enrich(self, tracks: list[Track]) -> list[Track]:
        with step("spotify"):
            return await self._inner.enrich(tracks)

    async def playlist_for(self, card: PlaylistCard, caption: str) -> str | None:
        with step("spotify"):
            return await self._inner.playlist_for(card, caption)
