"""Journeys through the real flow: tiny models, the synthetic catalog, real SQLite.

The tiny models' readings are arbitrary, so the caption test takes a caption whose real
destination reading names a destination and sets the threshold around its confidence: what
is tested is that the reading reaches the card, not that the model reads well.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math

import pytest

from adapters.models.analyzer import MoodAnalyzer
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.config import load_settings
from bot.service import MoodService
from core.controls import Control
from core.errors import NotRequesterError, UnknownRequestError
from core.flow import Actor, PhotoRequest
from core.journey import Journey, JourneySource, journey_path
from core.language import Language
from core.mood import Destination, MoodPoint
from core.reply import PlaylistCard, summary_lines
from core.steering import Action
from tests.conftest import make_photo, recorded_request
from tests.flow_chat import Chat

CAPTIONS = [  # in both languages; the tiny model reads a destination in some of them
    "cheer me up",
    "help me sleep",
    "기분 전환하고 싶어",
    "I need to focus",
    "잠이 안 와",
    "let us go",
]


def open_service(settings, analyzer) -> MoodService:
    return MoodService(analyzer, Storage(open_database(settings.db_path)), settings)


@pytest.fixture
def service(tiny_analyzer, own_settings):
    running = open_service(own_settings, tiny_analyzer)
    yield running
    running._storage.close()


def photo(caption: str = "rainy day", user: str = "alice", **extra) -> PhotoRequest:
    return PhotoRequest("telegram", "c1", user, make_photo(), caption, **extra)


def alice(**extra) -> Actor:
    return Actor("telegram", "c1", "alice", **extra)


def assert_along(
    card: PlaylistCard, start: MoodPoint, destination: Destination, within: float = 0.2
) -> None:
    """Ten songs, one per point of the path from ``start`` toward ``destination``, in order,
    on average ``within`` of their points (the synthetic catalog is sparse, ~0.1 between
    songs, and a request's later cards skip what it showed: closeness on the real catalog is
    in tests/test_journey.py)."""
    assert card.journey is not None and card.journey.destination is destination
    assert card.path == tuple(journey_path(start, destination, 10))
    assert len(card.tracks) == 10 and len({t.id for t in card.tracks}) == 10
    artists = [a.casefold() for t in card.tracks for a in t.artists]
    assert len(artists) == len(set(artists))

    def gaps(points: tuple[MoodPoint, ...]) -> float:
        return sum(
            math.dist((t.valence, t.energy), (p.valence, p.energy))
            for t, p in zip(card.tracks, points, strict=True)
        )

    assert gaps(card.path) / 10 < within
    if math.dist(*((p.valence, p.energy) for p in (card.path[0], card.path[-1]))) > 0.1:
        assert gaps(card.path) < gaps(card.path[::-1]), "the songs follow the path's order"


# ---------------------------------------------------------------- the caption chooses


async def test_a_captions_destination_reading_over_the_threshold_makes_a_journey(
    destination_analyzer, own_settings
) -> None:
    tiny_analyzer = destination_analyzer
    readings = [(c, (await tiny_analyzer.analyze(make_photo(), c)).text) for c in CAPTIONS]
    caption, text = next((c, t) for c, t in readings if t.destination and t.destination.destination)
    reading = text.destination
    assert reading is not None and reading.destination is not None
    assert sum(reading.scores.values()) == pytest.approx(1.0, abs=1e-6)

    at = dataclasses.replace(own_settings, journey_threshold=reading.confidence)
    service = open_service(at, tiny_analyzer)
    card, _ = await Chat().post(service, photo(caption))
    assert card.journey == Journey(
        reading.destination, JourneySource.CAPTION, reading.confidence, caption
    )
    assert_along(card, card.analysis.final, reading.destination)
    line = next(line for line in summary_lines(card) if line.startswith(("Journey", "여정")))
    assert caption in line and f"({reading.confidence:.2f})" in line
    stored = recorded_request(at, card.request_id)
    assert stored.journey == card.journey
    assert stored.analysis == card.analysis, "the destination reading is stored exactly"
    service._storage.close()

    above = dataclasses.replace(own_settings, journey_threshold=reading.confidence + 1e-6)
    service = open_service(above, tiny_analyzer)
    card, _ = await Chat().post(service, photo(caption))
    assert card.journey is None and card.path == ()
    assert card.analysis.reading.text.destination == reading  # read, just not sure enough
    service._storage.close()


async def test_a_caption_asking_for_nothing_or_no_caption_makes_no_journey(
    service: MoodService,
) -> None:
    card, _ = await Chat().post(service, photo(""))
    assert card.journey is None and card.analysis.reading.text.destination is None


def test_journey_threshold_off_skips_the_destination_reading(tiny_models) -> None:
    settings = load_settings(
        {"AIDJ_JOURNEY_THRESHOLD": "off"},
        dotenv=False,
        clip_model=str(tiny_models.clip),
        nli_model=str(tiny_models.nli),
    )
    assert settings.journey_threshold is None
    options = settings.model_options()
    assert options.read_destinations is False
    [reading] = MoodAnalyzer.load(options).analyze_batch([(make_photo(), "cheer me up")])
    assert not isinstance(reading, Exception) and reading.text.destination is None


# ---------------------------------------------------------------- /mood, buttons, steering


async def test_asked_journey_regenerate_nudge_and_stay(service: MoodService) -> None:
    chat = Chat()
    first, message = await chat.post(service, photo(journey=Destination.HYPE))
    assert first.journey == Journey(Destination.HYPE, JourneySource.COMMAND)
    assert_along(first, first.target, Destination.HYPE)

    again = await service.steer(message, Action.REGENERATE, alice(), chat.edit)
    assert again.journey == first.journey and again.path == first.path
    assert not {t.id for t in again.tracks} & {t.id for t in first.tracks}

    nudged = await service.steer(message, Action.CALMER, alice(), chat.edit)
    assert nudged.target.energy == pytest.approx(first.target.energy - 0.15)
    assert_along(nudged, nudged.target, Destination.HYPE, 0.3)  # from the new start

    plain = await service.press(
        message, Control.journey(first.request_id, None), alice(), chat.edit
    )
    assert plain.card is not None and plain.card.journey is None and plain.card.path == ()
    assert plain.card.target == nudged.target
    assert chat.edits == [again, nudged, plain.card]
    shown = [again, nudged, plain.card]
    ids = [t.id for card in [first, *shown] for t in card.tracks]
    assert len(ids) == len(set(ids)), "no song twice in one request"


async def test_a_journey_button_moves_the_songs_and_pressing_it_again_gives_new_ones(
    service: MoodService,
) -> None:
    chat = Chat()
    first, message = await chat.post(service, photo())
    lift = Control.journey(first.request_id, Destination.LIFT)
    pressed = await service.press(message, lift, alice(), chat.edit)
    card = pressed.card
    assert card is not None and pressed.notice is None
    assert card.journey == Journey(Destination.LIFT, JourneySource.CONTROL)
    assert_along(card, first.target, Destination.LIFT)
    assert card.round == 1 and card.last_action is None

    second = (await service.press(message, lift, alice(), chat.edit)).card
    assert second is not None and second.journey == card.journey and second.path == card.path
    assert not {t.id for t in second.tracks} & {t.id for t in card.tracks}

    focus = Control.journey(first.request_id, Destination.FOCUS)
    third = (await service.press(message, focus, alice(), chat.edit)).card
    assert third is not None and third.journey is not None
    assert third.journey.destination is Destination.FOCUS


async def test_presses_at_once_give_distinct_rounds(service: MoodService) -> None:
    chat = Chat()
    first, message = await chat.post(service, photo())
    wind_down = Control.journey(first.request_id, Destination.WIND_DOWN)
    cards = await asyncio.gather(
        *(service.press(message, wind_down, alice(), chat.edit) for _ in range(2))
    )
    rounds = sorted(pressed.card.round for pressed in cards if pressed.card)
    assert rounds == [1, 2]
    a, b = (pressed.card for pressed in cards if pressed.card)
    assert not {t.id for t in a.tracks} & {t.id for t in b.tracks}


async def test_someone_else_may_not_choose_a_journey(service: MoodService, own_settings) -> None:
    chat = Chat()
    first, message = await chat.post(service, photo())
    lift = Control.journey(first.request_id, Destination.LIFT)
    with pytest.raises(NotRequesterError):
        await service.press(message, lift, Actor("telegram", "c1", "mallory"), chat.edit)
    with pytest.raises(NotRequesterError):  # an admin of another chat
        await service.press(message, lift, Actor("telegram", "c2", "x", is_admin=True), chat.edit)
    with pytest.raises(NotRequesterError):  # a button naming another request
        other = Control.journey(first.request_id + 1, Destination.LIFT)
        await service.press(message, other, alice(), chat.edit)
    with pytest.raises(UnknownRequestError):  # a value this version does not know
        await service.press(
            message, Control(first.request_id, other.kind, "moon"), alice(), chat.edit
        )
    assert chat.edits == []
    stored = recorded_request(own_settings, first.request_id)
    assert stored.journey is None and stored.rounds == 1
    admin = Actor("telegram", "c1", "bob", is_admin=True)
    assert (await service.press(message, lift, admin, chat.edit)).card is not None


async def test_a_restart_keeps_the_journey(tiny_analyzer, own_settings) -> None:
    chat = Chat()
    before = open_service(own_settings, tiny_analyzer)
    first, message = await chat.post(before, photo("비 오는 날", locale="ko"))
    chosen = await before.press(
        message, Control.journey(first.request_id, Destination.WIND_DOWN), alice(), chat.edit
    )
    before._storage.close()

    after = open_service(own_settings, tiny_analyzer)
    card = await after.steer(message, Action.REGENERATE, alice(), chat.edit)
    assert card.journey == Journey(Destination.WIND_DOWN, JourneySource.CONTROL)
    assert card.language is Language.KO
    assert_along(card, first.target, Destination.WIND_DOWN, 0.3)  # the third card
    assert chosen.card is not None
    assert not {t.id for t in card.tracks} & {t.id for t in chosen.card.tracks}
    assert any(line.startswith("여정 🛌") for line in summary_lines(card))
    owner = await after.steer_as_owner(first.request_id, Action.MORE_ENERGY)
    assert owner.journey == card.journey
    after._storage.close()
