"""An in-memory MoodFlow for adapter tests that only care about the chat protocol.

It follows the MoodFlow contract (ten tracks per card, regenerate never repeats, nudges move
the target, only the requester steers) without models or a database, so the Discord and
Telegram suites can exercise the real platform libraries quickly. End-to-end suites use the
real flow instead (see ``tests/conftest.py``).
"""

from __future__ import annotations

import io
import itertools

from PIL import Image, UnidentifiedImageError

from bot.flow import Actor, PhotoRequest
from core.errors import BadImageError, NotRequesterError, UnknownRequestError
from core.language import reply_language
from core.mood import (
    Analysis,
    AxisReading,
    ImageReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.reply import PlaylistCard
from core.steering import Action, steer
from core.tracks import Track


class StubFlow:
    def __init__(self, count: int = 10, step: float = 0.15) -> None:
        self.count = count
        self.step = step
        self._ids = itertools.count(1)
        self._requests: dict[int, tuple[PhotoRequest, PlaylistCard, set[str]]] = {}
        self._messages: dict[tuple[str, str, str], int] = {}
        self._track_numbers = itertools.count(1)
        self.calls: list[tuple[str, object]] = []

    def _tracks(self, target: MoodPoint) -> tuple[Track, ...]:
        tracks = []
        for _ in range(self.count):
            n = next(self._track_numbers)
            tracks.append(
                Track(
                    id=f"track{n:017d}",
                    name=f"Song {n}",
                    artists=(f"Artist {n}",),
                    valence=target.valence,
                    energy=target.energy,
                    popularity=50,
                )
            )
        return tuple(tracks)

    async def recommend(self, request: PhotoRequest) -> PlaylistCard:
        self.calls.append(("recommend", request))
        try:
            Image.open(io.BytesIO(request.image)).verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise BadImageError("this file is not an image") from error
        positive = AxisReading("positive", +1, 0.8, {})
        analysis = Analysis(
            reading=Reading(
                image=ImageReading("rainy_day", 0.9, {"rainy_day": 0.9}),
                text=TextReading(valence=positive, energy=AxisReading.neutral())
                if request.caption
                else TextReading.neutral(),
            ),
            base=MoodPoint(0.25, 0.30),
            final=MoodPoint(0.65, 0.30) if request.caption else MoodPoint(0.25, 0.30),
            seed_genres=("acoustic",),
            base_source="anchors",
        )
        request_id = next(self._ids)
        card = PlaylistCard(
            request_id=request_id,
            language=reply_language(request.locale, request.caption),
            analysis=analysis,
            target=analysis.final,
            tracks=self._tracks(analysis.final),
            delta_max=0.5,
            plane_png=_tiny_png(),
        )
        self._requests[request_id] = (request, card, {t.id for t in card.tracks})
        return card

    async def steer(self, request_id: int, action: Action, actor: Actor) -> PlaylistCard:
        self.calls.append(("steer", (request_id, action, actor)))
        if request_id not in self._requests:
            raise UnknownRequestError("unknown request")
        request, card, shown = self._requests[request_id]
        if actor.user_id != request.user_id and not actor.is_admin:
            raise NotRequesterError("only the requester can steer")
        target = steer(card.target, action, self.step)
        tracks = self._tracks(target)
        new = PlaylistCard(
            request_id=request_id,
            language=card.language,
            analysis=card.analysis,
            target=target,
            tracks=tracks,
            delta_max=card.delta_max,
            plane_png=card.plane_png,
            round=card.round + 1,
            last_action=action,
        )
        self._requests[request_id] = (request, new, shown | {t.id for t in tracks})
        return new

    async def remember_message(
        self, request_id: int, platform: str, chat_id: str, message_id: str
    ) -> None:
        self._messages[(platform, chat_id, message_id)] = request_id

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        return self._messages.get((platform, chat_id, message_id))


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 60, 90)).save(buffer, format="PNG")
    return buffer.getvalue()
