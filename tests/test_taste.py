"""Each chat's taste: the rule (core.taste) and the flow that applies it (MoodService).

The rule is checked with presses at chosen ages; the flow on the real service with the tiny
models and a database of the test's own, its clock injected (no sleeps): presses are kept by
the request log as they are in production, then the next card of the same scene in the same
chat starts from a moved base and says so.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.flow import Actor, PhotoRequest
from core.language import Language
from core.mood import MoodPoint
from core.reply import PlaylistCard, summary_lines, taste_line
from core.steering import Action
from core.taste import NO_TASTE, Press, TasteRule, chat_taste, with_taste
from tests.conftest import make_photo

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RULE = TasteRule(min_presses=5, half_life_days=14.0, max_shift=0.2, step=0.15)


def presses(action: Action, count: int, *, days_old: float = 0.0) -> list[Press]:
    return [Press(action, NOW - timedelta(days=days_old))] * count


# ---- the rule ----------------------------------------------------------------------------


def test_nothing_moves_until_one_nudge_was_pressed_often_enough():
    assert chat_taste(presses(Action.CALMER, 4), NOW, RULE) == NO_TASTE
    shifted = chat_taste(presses(Action.CALMER, 5), NOW, RULE)
    assert shifted == MoodPoint(0.0, pytest.approx(-0.15))  # the mean of five 🌙: one step


def test_the_shift_is_the_mean_of_the_axis_presses_so_opposites_cancel():
    mixed = presses(Action.CALMER, 5) + presses(Action.MORE_ENERGY, 2)
    assert chat_taste(mixed, NOW, RULE).energy == pytest.approx(0.15 * (2 - 5) / 7)
    # four each way: no nudge reached five, nothing moves however many presses there are
    assert chat_taste(presses(Action.CALMER, 4) + presses(Action.MORE_ENERGY, 4), NOW, RULE) == (
        NO_TASTE
    )


def test_each_axis_counts_its_own_presses():
    both = presses(Action.HAPPIER, 5) + presses(Action.CALMER, 6)
    assert chat_taste(both, NOW, RULE) == MoodPoint(pytest.approx(0.15), pytest.approx(-0.15))
    # 🌧 pressed five times moves valence only, whatever happened on energy
    assert chat_taste(presses(Action.SADDER, 5) + presses(Action.CALMER, 1), NOW, RULE) == (
        MoodPoint(pytest.approx(-0.15), 0.0)
    )


def test_presses_fade_with_age():
    half = chat_taste(presses(Action.CALMER, 5, days_old=14), NOW, RULE)
    assert half.energy == pytest.approx(-0.075)  # one half-life: half the shift
    quarter = chat_taste(presses(Action.CALMER, 5, days_old=28), NOW, RULE)
    assert quarter.energy == pytest.approx(-0.0375)
    # long forgotten: too small to show, so no shift at all (the card never says "-0.00")
    assert chat_taste(presses(Action.CALMER, 5, days_old=200), NOW, RULE) == NO_TASTE
    # fresh presses outweigh old ones in the same mean
    mixed = presses(Action.CALMER, 5, days_old=14) + presses(Action.MORE_ENERGY, 5)
    assert chat_taste(mixed, NOW, RULE).energy == pytest.approx((0.15 - 0.075) / 2)


def test_the_shift_is_bounded():
    bounded = dataclasses.replace(RULE, max_shift=0.1)
    assert chat_taste(presses(Action.CALMER, 50), NOW, bounded).energy == pytest.approx(-0.1)
    assert chat_taste(presses(Action.HAPPIER, 9), NOW, bounded).valence == pytest.approx(0.1)


def test_taste_can_be_turned_off():
    assert chat_taste(presses(Action.CALMER, 9), NOW, dataclasses.replace(RULE, min_presses=0)) == (
        NO_TASTE
    )
    assert chat_taste(presses(Action.CALMER, 9), NOW, dataclasses.replace(RULE, max_shift=0)) == (
        NO_TASTE
    )


def test_the_moved_base_stays_on_the_plane():
    base, applied = with_taste(MoodPoint(0.5, 0.95), MoodPoint(-0.1, 0.1))
    assert base == MoodPoint(pytest.approx(0.4), pytest.approx(1.0))
    assert applied == MoodPoint(pytest.approx(-0.1), pytest.approx(0.05))  # what really moved
    # at the edge nothing is left to move: no shift, so the card says nothing
    assert with_taste(MoodPoint(0.5, 0.998), MoodPoint(0.0, 0.1)) == (
        MoodPoint(0.5, 0.998),
        NO_TASTE,
    )


# ---- in the flow -------------------------------------------------------------------------


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(own_settings):
    opened = Storage.open(own_settings.db_path)
    yield opened
    opened.close()


def service_for(settings, storage: Storage, analyzer, clock: Clock) -> MoodService:
    return MoodService(analyzer, storage, settings, render_plane=False, clock=clock)


@pytest.fixture
def service(own_settings, storage, tiny_analyzer, clock) -> MoodService:
    return service_for(own_settings, storage, tiny_analyzer, clock)


async def card_in(service: MoodService, chat: str, user: str = "u1", locale="en") -> PlaylistCard:
    """A first card for the test photo (always the same scene) in ``chat``."""
    request = PhotoRequest("telegram", chat, user, make_photo(), "", locale=locale)
    return await service.recommend(request)


async def press(service: MoodService, card: PlaylistCard, action: Action, times: int) -> None:
    for _ in range(times):
        await service.steer_as_owner(card.request_id, action)


async def test_five_presses_move_that_chats_next_card_and_no_other(service) -> None:
    untuned = await card_in(service, "chat-a")
    assert untuned.analysis.taste == NO_TASTE and taste_line(untuned.analysis, Language.EN) is None
    await press(service, untuned, Action.CALMER, 4)
    assert (await card_in(service, "chat-a")).analysis.taste == NO_TASTE  # four: not yet

    await press(service, untuned, Action.CALMER, 1)
    tuned = await card_in(service, "chat-a")
    expected_base, expected = with_taste(untuned.analysis.base, MoodPoint(0.0, -0.1))
    assert expected.energy < 0  # the test photo's scene leaves room to move down
    assert tuned.analysis.taste == expected  # the mean of five 🌙 (0.15) bounded to 0.1
    assert tuned.analysis.base == expected_base
    assert tuned.analysis.final.energy < untuned.analysis.final.energy
    assert f"Tuned to this chat: energy {expected.energy:+.2f}" in summary_lines(tuned)
    korean = await card_in(service, "chat-a", locale="ko")
    assert f"이 채팅 취향 반영: 에너지 {expected.energy:+.2f}" in summary_lines(korean)

    elsewhere = await card_in(service, "chat-b")
    assert elsewhere.analysis.taste == NO_TASTE
    assert elsewhere.analysis.base == untuned.analysis.base


async def test_steering_a_tuned_card_keeps_saying_so(service, own_settings) -> None:
    await press(service, await card_in(service, "chat-a"), Action.HAPPIER, 5)
    tuned = await card_in(service, "chat-a")
    assert tuned.analysis.taste.valence > 0
    steered = await service.steer_as_owner(tuned.request_id, Action.REGENERATE)
    assert steered.analysis.taste == tuned.analysis.taste  # kept with the request
    assert taste_line(steered.analysis, Language.EN) in summary_lines(steered)


async def test_the_taste_fades_with_the_clock(service, clock) -> None:
    await press(service, await card_in(service, "chat-a"), Action.CALMER, 5)
    fresh = (await card_in(service, "chat-a")).analysis.taste.energy
    clock.offset = timedelta(days=14)
    faded = (await card_in(service, "chat-a")).analysis.taste.energy
    assert faded == pytest.approx(-0.075, abs=1e-6)  # 0.15 halved, under the 0.1 bound
    assert fresh == pytest.approx(-0.1)


async def test_the_taste_survives_a_restart(own_settings, tiny_analyzer, clock) -> None:
    first = Storage.open(own_settings.db_path)
    try:
        service = service_for(own_settings, first, tiny_analyzer, clock)
        await press(service, await card_in(service, "chat-a"), Action.MORE_ENERGY, 5)
        before = (await card_in(service, "chat-a")).analysis.taste
    finally:
        first.close()
    reopened = Storage.open(own_settings.db_path)
    try:
        again = service_for(own_settings, reopened, tiny_analyzer, clock)
        assert (await card_in(again, "chat-a")).analysis.taste == before != NO_TASTE
    finally:
        reopened.close()


async def test_a_reset_forgets_the_presses_so_far(service, storage) -> None:
    card = await card_in(service, "chat-a")
    await press(service, card, Action.CALMER, 5)
    member = Actor("telegram", "chat-a", "u2", is_admin=False)
    await service.prefs(member, "reset")
    assert (await card_in(service, "chat-a")).analysis.taste != NO_TASTE  # not theirs to reset
    admin = Actor("telegram", "chat-a", "u3", is_admin=True)
    await service.prefs(admin, "reset")
    assert (await card_in(service, "chat-a")).analysis.taste == NO_TASTE
    await press(service, card, Action.CALMER, 4)  # counting starts again from the reset
    assert (await card_in(service, "chat-a")).analysis.taste == NO_TASTE
    await press(service, card, Action.CALMER, 1)
    assert (await card_in(service, "chat-a")).analysis.taste != NO_TASTE


async def test_only_nudges_on_the_same_scene_count(service, storage) -> None:
    card = await card_in(service, "chat-a")
    await press(service, card, Action.REGENERATE, 6)  # 🔁 moves nothing
    assert (await card_in(service, "chat-a")).analysis.taste == NO_TASTE
    await press(service, card, Action.CALMER, 5)
    scene = card.analysis.reading.image.category_id
    assert len(await storage.chat_nudges("telegram", "chat-a", scene)) == 5
    other = next(c for c in ("rainy_day", "party_concert") if c != scene)
    assert await storage.chat_nudges("telegram", "chat-a", other) == []
    assert await storage.chat_nudges("discord", "chat-a", scene) == []  # per platform too


async def test_analysis_outside_a_chat_has_no_taste(service) -> None:
    await press(service, await card_in(service, "chat-a"), Action.CALMER, 5)
    assert (await service.read(make_photo(), "")).taste == NO_TASTE  # `aidj analyze`
