"""Asking when the photo is ambiguous (issue 11, point 6): the rule, the flow, Telegram.

The photos come from the tiny offline CLIP's *real* output: ``CLOSE_CALL`` is read with its
best two scenes within 0.10 of each other, ``CLEAR`` with a wide gap; each test checks that
precondition on the stored reading first, so a change in the tiny models shows up as such
and not as a puzzling failure further on. The flow runs on its own database per test; the
Telegram tests drive the real python-telegram-bot against the fake Bot API (the inline
keyboard follows ``core.controls.card_controls``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.chat.telegram_bot import TelegramBot, TelegramOptions
from adapters.chat.telegram_render import CAPTION_LIMIT, card_caption, visible_length
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.config import Settings, load_settings
from bot.service import MoodService
from core.categories import CATEGORIES, get_category
from core.controls import Control, ControlKind, card_controls
from core.errors import ConfigError, NotRequesterError, SceneNotOfferedError
from core.flow import Actor, CardMessage, PhotoRequest
from core.language import Language
from core.messages import ErrorReply, text_of
from core.mood import (
    Analysis,
    AxisReading,
    BaseSource,
    CaptionLabel,
    ImageReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.reply import PlaylistCard, scene_lines, scene_question
from core.scene_choice import DEFAULT_MARGIN, chosen_reading, keep_nudges, offered_scenes
from core.steering import Action
from core.tracks import Track
from core.tuning import tune
from tests.conftest import eventually, make_photo, recorded_request
from tests.control_rows import keyboard_row, row_of
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.flow_chat import Chat
from tests.handled_updates import HandledUpdates
from tests.test_messages import english_words

CLOSE_CALL = make_photo()  # the tiny CLIP: road trip 0.18, rainy day 0.15
CLEAR = make_photo((200, 120, 40))  # the tiny CLIP: night city 0.31, then 0.16
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TRACK_LINK = re.compile(r'<a href="https://open\.spotify\.com/track/([A-Za-z0-9]+)">')


def best_two_gap(distribution: dict[str, float]) -> float:
    first, second = sorted(distribution.values(), reverse=True)[:2]
    return first - second


# ---- the rule ----------------------------------------------------------------------------


def test_the_best_two_are_offered_only_when_within_the_margin() -> None:
    close = {"sunny_beach": 0.40, "sunset": 0.33, "party_concert": 0.27}
    assert offered_scenes(close, 0.10) == ("sunny_beach", "sunset")
    assert offered_scenes(close, 0.05) is None
    assert offered_scenes(close, 0.0) is None, "0 never asks"
    assert offered_scenes({"sunny_beach": 0.6, "sunset": 0.4}, 0.2) == ("sunny_beach", "sunset")
    clear = {"sunny_beach": 0.60, "sunset": 0.25, "party_concert": 0.15}
    assert offered_scenes(clear, DEFAULT_MARGIN) is None
    # an id this version does not know (an older stored request) is never offered
    assert offered_scenes({"old_scene": 0.5, "sunset": 0.45, "workout": 0.05}, 0.1) is None
    assert offered_scenes({"sunset": 1.0}, 0.5) is None


def test_keep_nudges_moves_the_offsets_to_the_new_point_within_the_plane() -> None:
    reading = Reading(
        ImageReading("sunset", 0.4, {"sunset": 0.4, "sunny_beach": 0.35}), TextReading.neutral()
    )
    before = Analysis(reading, MoodPoint(0.5, 0.5), MoodPoint(0.5, 0.5), (), BaseSource.ANCHORS)
    rebased = dataclasses.replace(before, final=MoodPoint(0.8, 0.9))
    moved = keep_nudges(before, MoodPoint(0.35, 0.8), rebased)
    # -0.15 valence; +0.3 energy, clamped to the plane
    assert (moved.valence, moved.energy) == pytest.approx((0.65, 1.0))
    chosen = chosen_reading(reading, "sunny_beach")
    assert chosen.image.category_id == "sunny_beach" and chosen.image.confidence == 0.35
    assert chosen.image.distribution == reading.image.distribution and chosen.text == reading.text


def _card(language: Language, choices: tuple[str, ...], **extra: Any) -> PlaylistCard:
    distribution = {"sunny_beach": 0.41, "sunset": 0.38}
    reading = Reading(ImageReading("sunny_beach", 0.41, distribution), TextReading.neutral())
    point = MoodPoint(0.6, 0.6)
    analysis = Analysis(reading, point, point, (), BaseSource.ANCHORS)
    return PlaylistCard(7, language, analysis, point, (), 0.5, scene_choices=choices, **extra)


@pytest.mark.parametrize("language", list(Language))
def test_a_close_call_card_asks_with_a_row_of_both_scenes(language: Language) -> None:
    card = _card(language, ("sunny_beach", "sunset"))
    rows = card_controls(card)
    steering, scenes = row_of(rows, ControlKind.STEER), row_of(rows, ControlKind.SCENE)
    assert [b.control.action for b in steering] == list(Action)
    assert [b.control for b in scenes] == [
        Control(7, ControlKind.SCENE, "sunny_beach"),
        Control(7, ControlKind.SCENE, "sunset"),
    ]
    assert [b.label for b in scenes] == [
        get_category("sunny_beach").label(language),
        get_category("sunset").label(language),
    ]
    assert all(Control.parse(b.control.encode()) == b.control for b in scenes)
    question = scene_question(card)
    assert question is not None
    assert get_category("sunny_beach").name(language) in question
    if language is Language.KO:
        assert HANGUL.search(question) and not english_words(question)
        assert scenes[1].label == "🌅 노을"
    else:
        assert question.startswith("Sunny beach or sunset?")
        assert scenes[1].label == "🌅 Sunset"
    # no question, and one row, on a clear card or once a scene is chosen
    assert row_of(card_controls(_card(language, ())), ControlKind.SCENE) == []
    chosen = _card(language, (), scene_chosen=True)
    assert scene_question(chosen) is None
    assert scene_lines(chosen)[0] != scene_lines(_card(language, ()))[0]


def test_every_scene_label_and_the_longest_control_fit_the_platforms() -> None:
    for category in CATEGORIES:
        for language in Language:
            assert 0 < len(category.label(language)) <= 80  # Discord's label limit
        data = Control.scene(2**53, category.id).encode()  # a request id far beyond any
        assert len(data.encode()) <= 64  # Telegram's callback_data


def test_the_question_survives_a_caption_trimmed_to_telegrams_limit() -> None:
    long = "x" * 300
    tracks = tuple(Track(f"t{n}", long, (long,), 0.5, 0.5, 50, ("pop",), long) for n in range(10))
    card = dataclasses.replace(_card(Language.EN, ("sunny_beach", "sunset")), tracks=tracks)
    caption = card_caption(card)
    assert visible_length(caption) <= CAPTION_LIMIT
    question = scene_question(card)
    assert question is not None and question in caption


def test_the_margin_is_a_setting_within_0_and_1() -> None:
    assert load_settings({}, dotenv=False).scene_choice_margin == DEFAULT_MARGIN == 0.10
    env = {"AIDJ_SCENE_CHOICE_MARGIN": "0"}
    assert load_settings(env, dotenv=False).scene_choice_margin == 0.0
    for bad in ("1.5", "-0.1", "wide"):
        with pytest.raises(ConfigError, match="AIDJ_SCENE_CHOICE_MARGIN"):
            load_settings({"AIDJ_SCENE_CHOICE_MARGIN": bad}, dotenv=False)


# ---- the flow ----------------------------------------------------------------------------


@pytest.fixture
def storage(own_settings) -> Any:
    db = open_database(own_settings.db_path)
    yield Storage(db)
    db.close()


@pytest.fixture
def service(tiny_analyzer, storage, own_settings) -> MoodService:
    return MoodService(tiny_analyzer, storage, own_settings)


async def post(
    service: MoodService, image: bytes = CLOSE_CALL, caption: str = "rainy but happy"
) -> tuple[PlaylistCard, CardMessage]:
    """A card posted in chat c1 for alice, as a chat adapter posts it."""
    return await Chat().post(service, PhotoRequest("telegram", "c1", "alice", image, caption))


def alice(**extra: Any) -> Actor:
    return Actor(platform="telegram", chat_id="c1", user_id="alice", **extra)


async def test_a_close_call_offers_the_best_two_and_a_clear_photo_does_not(
    service, own_settings
) -> None:
    card, _ = await post(service)
    distribution = card.analysis.reading.image.distribution
    assert best_two_gap(distribution) <= own_settings.scene_choice_margin, "a close call"
    best_two = sorted(distribution, key=distribution.__getitem__, reverse=True)[:2]
    assert list(card.scene_choices) == best_two
    assert card.scene_choices[0] == card.analysis.reading.image.category_id
    assert not card.scene_chosen

    clear, _ = await post(service, CLEAR)
    assert best_two_gap(clear.analysis.reading.image.distribution) > 0.10, "a clear photo"
    assert clear.scene_choices == ()


async def test_a_margin_of_zero_never_asks(tiny_analyzer, storage, own_settings) -> None:
    never = MoodService(
        tiny_analyzer, storage, dataclasses.replace(own_settings, scene_choice_margin=0.0)
    )
    card, _ = await post(never)
    assert card.scene_choices == () and scene_question(card) is None


async def test_choosing_rebases_keeps_the_nudges_and_survives_a_restart(
    service, storage, tiny_analyzer, own_settings
) -> None:
    card, message = await post(service, caption="rainy but happy")
    first, second = card.scene_choices
    edits: list[PlaylistCard] = []

    async def edit(new: PlaylistCard) -> None:
        edits.append(new)

    louder = await service.steer(message, Action.MORE_ENERGY, alice(), edit)
    assert louder.scene_choices == card.scene_choices, "a nudge keeps the question"
    offset = louder.target.energy - card.analysis.final.energy

    pressed = await service.press(message, Control.scene(card.request_id, second), alice(), edit)
    chosen = pressed.card
    assert chosen is not None and edits[-1] is chosen and pressed.notice is None
    analysis = chosen.analysis
    base, _ = await storage.base_for(get_category(second))
    assert analysis.reading.image.category_id == second and analysis.base == base
    assert analysis.base != card.analysis.base, "the two scenes' anchors differ"
    assert analysis.final == tune(base, card.analysis.reading.text, own_settings.delta_max)
    assert analysis.seed_genres == get_category(second).seed_genres
    assert chosen.target.valence == pytest.approx(analysis.final.valence)
    assert chosen.target.energy == pytest.approx(min(1.0, analysis.final.energy + offset))
    assert chosen.scene_chosen and chosen.scene_choices == () and chosen.round == 2
    assert row_of(card_controls(chosen), ControlKind.SCENE) == [], "the scene buttons are gone"
    earlier = {t.id for c in (card, louder) for t in c.tracks}
    assert len(chosen.tracks) == 10 and not earlier & {t.id for t in chosen.tracks}
    assert all(set(t.genres) & set(get_category(second).seed_genres) for t in chosen.tracks)

    stored = recorded_request(own_settings, card.request_id)
    assert stored.scene_choice == second and stored.analysis == analysis
    assert stored.target == chosen.target and stored.rounds == 3

    db = open_database(own_settings.db_path)  # a new process would start like this
    try:
        restarted = MoodService(tiny_analyzer, Storage(db), own_settings)
        again = await restarted.steer(message, Action.REGENERATE, alice(), edit)
        assert again.analysis == analysis and again.target == chosen.target
        assert again.scene_chosen and again.scene_choices == ()
        with pytest.raises(SceneNotOfferedError):  # one pick per request
            await restarted.press(message, Control.scene(card.request_id, first), alice(), edit)
    finally:
        db.close()
    assert recorded_request(own_settings, card.request_id).scene_choice == second


async def test_a_scene_not_offered_or_someone_else_is_refused_and_changes_nothing(
    service, own_settings
) -> None:
    card, message = await post(service)
    acknowledged: list[bool] = []

    async def acknowledge() -> None:
        acknowledged.append(True)

    async def edit(new: PlaylistCard) -> None:
        raise AssertionError("a refused press must not edit the card")

    elsewhere = next(c.id for c in CATEGORIES if c.id not in card.scene_choices)
    with pytest.raises(SceneNotOfferedError):
        await service.press(
            message,
            Control.scene(card.request_id, elsewhere),
            alice(),
            edit,
            acknowledge=acknowledge,
        )
    with pytest.raises(NotRequesterError):
        await service.press(
            message,
            Control.scene(card.request_id, card.scene_choices[1]),
            Actor(platform="telegram", chat_id="c1", user_id="mallory"),
            edit,
            acknowledge=acknowledge,
        )
    assert not acknowledged, "refused before any acknowledgement"
    stored = recorded_request(own_settings, card.request_id)
    assert stored.scene_choice is None and stored.rounds == 1
    clear, clear_message = await post(service, CLEAR)
    with pytest.raises(SceneNotOfferedError):  # a clear card offers nothing at all
        await service.press(
            clear_message,
            Control.scene(clear.request_id, clear.analysis.reading.image.category_id),
            alice(),
            edit,
        )


async def test_an_admin_may_choose(service, own_settings) -> None:
    card, message = await post(service)

    async def edit(new: PlaylistCard) -> None:
        pass

    control = Control.scene(card.request_id, card.scene_choices[1])
    moderator = Actor(platform="telegram", chat_id="c1", user_id="mod", is_admin=True)
    pressed = await service.press(message, control, moderator, edit)
    assert pressed.card is not None and pressed.card.scene_chosen
    assert recorded_request(own_settings, card.request_id).scene_choice == card.scene_choices[1]


# ---- Telegram ----------------------------------------------------------------------------

TOKEN = "123456789:scene-choice-telegram-token"
REQUESTER = user(5101)
KOREAN = user(5102, language_code="ko")
OTHER = user(5103)


@dataclass
class Telegram:
    fake: FakeTelegram
    handled: HandledUpdates
    settings: Settings

    async def ask(self, chat: dict[str, Any], sender: dict[str, Any], caption: str) -> Recorded:
        _, sent = await self.fake.send_photo(chat, sender, CLOSE_CALL, caption)
        return sent


@pytest.fixture
async def telegram(tiny_analyzer, own_settings) -> AsyncIterator[Telegram]:
    db = open_database(own_settings.db_path)
    async with FakeTelegram(TOKEN) as fake:
        options = TelegramOptions(
            token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        bot = TelegramBot(MoodService(tiny_analyzer, Storage(db), own_settings), options)
        handled = HandledUpdates(bot.application)
        await bot.start()
        try:
            yield Telegram(fake, handled, own_settings)
        finally:
            await bot.stop()
            db.close()


def scene_row(sent: Recorded) -> list[dict[str, Any]]:
    scenes = keyboard_row(sent.json("reply_markup")["inline_keyboard"], ControlKind.SCENE)
    assert len(scenes) == 2, "a close call: a row of both scenes"
    return scenes


@pytest.mark.parametrize(
    ("sender", "caption", "language"),
    [(REQUESTER, "rainy but happy", Language.EN), (KOREAN, "비 오는 날 우울해", Language.KO)],
)
async def test_telegram_asks_and_a_pick_rebases_the_card(
    telegram: Telegram, sender: dict[str, Any], caption: str, language: Language
) -> None:
    fake = telegram.fake
    sent = await telegram.ask(private_chat(sender), sender, caption)
    scenes = scene_row(sent)
    request_id = int(scenes[0]["callback_data"].split(":")[1])
    stored = recorded_request(telegram.settings, request_id)
    assert best_two_gap(stored.analysis.reading.image.distribution) <= 0.10
    first, second = (get_category(b["callback_data"].split(":")[3]) for b in scenes)
    assert [b["text"] for b in scenes] == [first.label(language), second.label(language)]
    question = sent.params["caption"]
    assert first.name(language) in question and (
        HANGUL.search(question) if language is Language.KO else "Pick one" in question
    )

    since = fake.mark()
    fake.press(sender, sent.result, scenes[1]["callback_data"])
    edit = await fake.wait_for("editMessageMedia", since=since)
    answer = await fake.wait_for("answerCallbackQuery", since=since)
    assert fake.requests.index(answer) < fake.requests.index(edit), "acknowledged first"
    caption_after = edit.json("media")["caption"]
    assert second.name(language) in caption_after.split("\n")[0], "the title names the pick"
    assert ("직접 고름" if language is Language.KO else "your pick") in caption_after
    keyboard = edit.json("reply_markup")["inline_keyboard"]
    assert keyboard_row(keyboard, ControlKind.SCENE) == [], "the scene buttons are gone"
    before = set(TRACK_LINK.findall(sent.params["caption"]))
    after = TRACK_LINK.findall(caption_after)
    assert len(set(after)) == 10 and not before & set(after)
    # kept once the edit has returned: the bot's last step for this press
    await eventually(
        lambda: recorded_request(telegram.settings, request_id).scene_choice == second.id
    )


async def test_telegram_refuses_someone_elses_pick_and_a_forged_scene(telegram: Telegram) -> None:
    fake = telegram.fake
    group = group_chat(-100777)
    sent = await telegram.ask(group, REQUESTER, "@aidj_test_bot road trip")
    scenes = scene_row(sent)
    request_id = int(scenes[0]["callback_data"].split(":")[1])

    since = fake.mark()
    press = fake.press(OTHER, sent.result, scenes[1]["callback_data"])
    await telegram.handled.wait(press, timeout=5.0)
    [answer] = fake.calls("answerCallbackQuery", since)
    assert answer.params["text"] == text_of(ErrorReply.NOT_REQUESTER, Language.EN)
    assert answer.params["show_alert"] == "true"

    offered = {b["callback_data"].split(":")[3] for b in scenes}
    elsewhere = next(c.id for c in CATEGORIES if c.id not in offered)
    since = fake.mark()
    press = fake.press(REQUESTER, sent.result, Control.scene(request_id, elsewhere).encode())
    await telegram.handled.wait(press, timeout=5.0)
    [answer] = fake.calls("answerCallbackQuery", since)
    assert answer.params["text"] == text_of(ErrorReply.SCENE_NOT_OFFERED, Language.EN)
    assert not fake.calls("editMessageMedia", since)
    stored = recorded_request(telegram.settings, request_id)
    assert stored.scene_choice is None and stored.rounds == 1


def test_scene_labels_read_as_the_reading_does() -> None:
    """The reading a close call shows is the pick's own probability, not CLIP's best."""
    reading = Reading(
        ImageReading("sunset", 0.4, {"sunset": 0.4, "sunny_beach": 0.35}),
        TextReading(AxisReading(CaptionLabel.POSITIVE, 1, 0.9), AxisReading.neutral()),
    )
    card = dataclasses.replace(
        _card(Language.EN, ()),
        analysis=Analysis(
            chosen_reading(reading, "sunny_beach"),
            MoodPoint(0.7, 0.7),
            MoodPoint(0.9, 0.7),
            (),
            BaseSource.ANCHORS,
        ),
        scene_chosen=True,
    )
    assert scene_lines(card)[0] == "Scene: Sunny beach (your pick; the photo read 35%)"
