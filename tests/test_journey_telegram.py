"""Journeys on Telegram: the real python-telegram-bot against the fake Bot API, on the real
flow with the tiny models.

The buttons pressed are the ones the bot sent (their ``callback_data`` read back from the
card's keyboard), so a test also proves the row is there. Cards here are asked for without
a caption unless a test is about one, so the tiny model's arbitrary destination reading
cannot choose a journey of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.chat.telegram_bot import TelegramBot, TelegramOptions
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.controls import ControlKind
from core.errors import NotRequesterError
from core.journey import Journey, JourneySource, journey_path
from core.language import Language
from core.mood import Destination
from core.reply import error_text, text
from tests.conftest import make_photo, recorded_request
from tests.control_rows import keyboard_row
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.handled_updates import HandledUpdates
from tests.test_telegram_bot import RecordingFlow, edited_caption, track_ids

TOKEN = "777000:journey-token"
WAIT_S = 5.0
REQUESTER = user(5101)
OTHER = user(5102)
KOREAN = user(5103, language_code="ko")
GROUP = group_chat(-5100)


@dataclasses.dataclass
class Bot:
    fake: FakeTelegram
    flow: RecordingFlow
    handled: HandledUpdates

    async def ask(
        self, chat: dict[str, Any], sender: dict[str, Any], caption: str | None
    ) -> Recorded:
        """A photo in, its card out (once the flow has linked it)."""
        _, sent = await self.fake.send_photo(chat, sender, make_photo(), caption)
        await self.linked(sent)
        return sent

    async def linked(self, sent: Recorded) -> None:
        chat, message_id = str(sent.chat_id), str(sent.result["message_id"])
        async with asyncio.timeout(WAIT_S):
            while await self.flow.request_for_message("telegram", chat, message_id) is None:
                await asyncio.sleep(0.01)

    async def press(self, sender: dict[str, Any], card: Recorded, label: str) -> Recorded:
        """Press the card's button whose text contains ``label``; the edit it makes."""
        since = self.fake.mark()
        self.fake.press(sender, card.result, button(card, label)["callback_data"])
        return await self.fake.wait_for("editMessageMedia", since=since, timeout=WAIT_S)


def keyboard(sent: Recorded) -> list[list[dict[str, Any]]]:
    """The inline keyboard a sendPhoto or an edit carried."""
    return sent.json("reply_markup")["inline_keyboard"]


def journey_row(sent: Recorded) -> list[str]:
    """The labels of the card's journey buttons."""
    return [b["text"] for b in keyboard_row(keyboard(sent), ControlKind.JOURNEY)]


def button(sent: Recorded, label: str) -> dict[str, Any]:
    return next(b for row in keyboard(sent) for b in row if label in b["text"])


@contextlib.asynccontextmanager
async def running_bot(flow, fake: FakeTelegram) -> AsyncIterator[Bot]:
    recording = RecordingFlow(flow)
    options = TelegramOptions(token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url)
    bot = TelegramBot(recording, options)
    handled = HandledUpdates(bot.application)
    await bot.start()
    try:
        yield Bot(fake, recording, handled)
    finally:
        await bot.stop()


@pytest.fixture(scope="module")
async def telegram(module_mood_flow) -> AsyncIterator[Bot]:
    async with FakeTelegram(TOKEN) as fake, running_bot(module_mood_flow, fake) as bot:
        yield bot


# ---------------------------------------------------------------- buttons


async def test_a_journey_button_edits_in_songs_along_a_path(telegram: Bot) -> None:
    sent = await telegram.ask(private_chat(REQUESTER), REQUESTER, None)
    first = telegram.flow.cards[-1]
    assert first.journey is None
    assert journey_row(sent) == [
        "🌈 Lift",
        "🛌 Wind down",
        "🎯 Focus",
        "🚀 Hype",
    ]

    since = telegram.fake.mark()
    edit = await telegram.press(REQUESTER, sent, "Lift")
    answer = await telegram.fake.wait_for("answerCallbackQuery", since=since)
    assert answer.params.get("show_alert") != "true"
    card = telegram.flow.cards[-1]
    assert card.journey == Journey(Destination.LIFT, JourneySource.CONTROL)
    assert card.path == tuple(journey_path(first.target, Destination.LIFT, 10))
    caption = edited_caption(edit)
    assert "Journey 🌈 lift me up" in caption and text("journey_control", "en") in caption
    new_ids = track_ids(caption)
    assert len(set(new_ids)) == 10 and not set(new_ids) & set(track_ids(sent.params["caption"]))
    assert new_ids == [t.id for t in card.tracks], "the songs in path order"
    attached = edit.json("media")["media"].removeprefix("attach://")
    assert edit.files[attached] == card.plane_png
    assert journey_row(edit) == [
        "✓ 🌈 Lift",
        "🛌 Wind down",
        "🎯 Focus",
        "🚀 Hype",
        "📍 Stay",
    ]


async def test_regenerate_and_nudges_keep_the_journey_and_stay_ends_it(telegram: Bot) -> None:
    sent = await telegram.ask(private_chat(REQUESTER), REQUESTER, None)
    on_it = await telegram.press(REQUESTER, sent, "Focus")
    journey = telegram.flow.cards[-1].journey

    again = await telegram.press(REQUESTER, on_it, "🔁")
    assert telegram.flow.cards[-1].journey == journey
    assert "Journey 🎯 focus" in edited_caption(again)
    assert not set(track_ids(edited_caption(again))) & set(track_ids(edited_caption(on_it)))

    nudged = await telegram.press(REQUESTER, again, "⚡")
    card = telegram.flow.cards[-1]
    assert card.journey == journey and card.path[0] == card.target
    assert card.target.energy > telegram.flow.cards[-2].target.energy

    plain = await telegram.press(REQUESTER, nudged, "Stay")
    assert telegram.flow.cards[-1].journey is None and telegram.flow.cards[-1].path == ()
    assert "Journey" not in edited_caption(plain)
    assert journey_row(plain) == [
        "🌈 Lift",
        "🛌 Wind down",
        "🎯 Focus",
        "🚀 Hype",
    ]


async def test_someone_elses_journey_press_is_refused_and_changes_nothing(
    telegram: Bot, module_settings
) -> None:
    sent = await telegram.ask(GROUP, REQUESTER, "@aidj_test_bot")
    request_id = telegram.flow.cards[-1].request_id
    since = telegram.fake.mark()
    press = telegram.fake.press(OTHER, sent.result, button(sent, "Hype")["callback_data"])
    await telegram.handled.wait(press, timeout=WAIT_S)
    [answer] = telegram.fake.calls("answerCallbackQuery", since)
    assert answer.params["show_alert"] == "true"
    assert answer.params["text"] == error_text(NotRequesterError("x"), Language.EN)
    assert not telegram.fake.calls("editMessageMedia", since)
    stored = recorded_request(module_settings, request_id)
    assert stored.journey is None and stored.rounds == 1


# ---------------------------------------------------------------- /mood


async def test_mood_with_a_destination_in_the_photos_caption(telegram: Bot) -> None:
    sent = await telegram.ask(GROUP, REQUESTER, "/mood hype gym time")
    request = telegram.flow.requests[-1]
    assert (request.journey, request.caption) == (Destination.HYPE, "gym time")
    card = telegram.flow.cards[-1]
    assert card.journey == Journey(Destination.HYPE, JourneySource.COMMAND)
    assert "Journey 🚀 hype" in sent.params["caption"]
    assert text("journey_command", "en") in sent.params["caption"]
    assert journey_row(sent)[3] == "✓ 🚀 Hype"


async def test_mood_in_korean_as_a_reply_to_a_photo(telegram: Bot) -> None:
    fake = telegram.fake
    chat = private_chat(KOREAN)
    photo = fake.photo_message(chat, KOREAN, make_photo((90, 200, 90)), None)
    since = fake.mark()
    command = fake.text_message(chat, KOREAN, "/mood 기분 전환 비 오는 날", reply_to=photo)
    fake.send_message_update(command)
    sent = await fake.wait_for(
        "sendPhoto", lambda r: r.reply_to == command["message_id"], since=since
    )
    request = telegram.flow.requests[-1]
    assert (request.journey, request.caption) == (Destination.LIFT, "비 오는 날")
    caption = sent.params["caption"]
    assert "여정 🌈 기분 끌어올리기" in caption and text("journey_command", "ko") in caption
    assert journey_row(sent)[0] == "✓ 🌈 기분 업"
    edit = await telegram.press(KOREAN, sent, "그대로")
    assert "여정" not in edited_caption(edit)


async def test_mood_with_other_words_is_all_caption(telegram: Bot) -> None:
    await telegram.ask(private_chat(REQUESTER), REQUESTER, "/mood sunny picnic")
    request = telegram.flow.requests[-1]
    assert (request.journey, request.caption) == (None, "sunny picnic")
    journey = telegram.flow.cards[-1].journey
    assert journey is None or journey.source is JourneySource.CAPTION  # the reader may pick one


async def test_help_names_the_journeys_in_both_languages(telegram: Bot) -> None:
    for sender, words in ((REQUESTER, "🌈 lift me up"), (KOREAN, "🌈 기분 끌어올리기")):
        since = telegram.fake.mark()
        command = telegram.fake.text_message(private_chat(sender), sender, "/help")
        telegram.fake.send_message_update(command)
        reply = await telegram.fake.reply_to(command, since=since)
        assert words in reply.params["text"] and "/mood" in reply.params["text"]


# ---------------------------------------------------------------- the caption, a restart


async def test_the_caption_chooses_a_journey_and_a_restart_keeps_it(
    destination_analyzer, own_settings
) -> None:
    """A caption whose (tiny, arbitrary) destination reading names a destination, with the
    threshold at 0: the card says the caption chose it; after a restart (a new bot and flow
    on the same database) regenerate keeps it."""
    tiny_analyzer = destination_analyzer
    captions = ["cheer me up", "help me sleep", "기분 전환하고 싶어", "I need to focus"]
    readings = [(await tiny_analyzer.analyze(make_photo(), c)).text.destination for c in captions]
    caption, reading = next(
        (c, r) for c, r in zip(captions, readings, strict=True) if r and r.destination
    )
    settings = dataclasses.replace(own_settings, journey_threshold=0.0)

    async with FakeTelegram(TOKEN) as fake:
        storage = Storage(open_database(settings.db_path))
        async with running_bot(MoodService(tiny_analyzer, storage, settings), fake) as bot:
            sent = await bot.ask(private_chat(REQUESTER), REQUESTER, caption)
            card = bot.flow.cards[-1]
        storage.close()
        assert card.journey == Journey(
            reading.destination, JourneySource.CAPTION, reading.confidence, caption
        )
        assert f"“{caption}” ({reading.confidence:.2f})" in sent.params["caption"]

        storage = Storage(open_database(settings.db_path))
        async with running_bot(MoodService(tiny_analyzer, storage, settings), fake) as bot:
            edit = await bot.press(REQUESTER, sent, "🔁")
            again = bot.flow.cards[-1]
            focus = await bot.press(REQUESTER, edit, "Focus")
        storage.close()
    assert again.journey == card.journey and again.path == card.path
    assert f"“{caption}”" in edited_caption(edit)
    assert not set(track_ids(edited_caption(edit))) & set(track_ids(sent.params["caption"]))
    assert "Journey 🎯 focus" in edited_caption(focus)
    assert recorded_request(settings, card.request_id).journey == Journey(
        Destination.FOCUS, JourneySource.CONTROL
    )
