"""The Telegram bot in a public chat: flood control, faults, forged and concurrent presses,
storms. The real PTB Application against the fake Bot API, on the real flow (tiny models),
with a database, a fake server and a bot of each test's own.

"Nothing happened" is always proven by an event that did happen: the bot having finished
with the updates in question (``tests.handled_updates``). A later /help being answered would
prove nothing: the bot handles updates concurrently, so an earlier one may still be running.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.chat.telegram_bot import TelegramBot, TelegramOptions
from adapters.chat.telegram_retry import RetryAfterLimiter
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.config import Settings
from bot.service import MoodService
from core.errors import NotRequesterError, RateLimitedError
from core.reply import error_text
from tests.card_numbers import final_energy, steered_energy
from tests.conftest import eventually, make_photo, recorded_request
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.handled_updates import HandledUpdates

TOKEN = "123456789:hardening-token"
TRACK_LINK = re.compile(r'href="https://open\.spotify\.com/track/([A-Za-z0-9]+)"')
REQUESTER = user(111)
OTHER = user(222)
ADMIN_OF_B = user(333)
GROUP_A = group_chat(-1001000000001, "A")
GROUP_B = group_chat(-1001000000002, "B")


def track_ids(caption: str) -> list[str]:
    return TRACK_LINK.findall(caption)


def edited_caption(request: Recorded) -> str:
    return request.json("media")["caption"]


@dataclass
class Bot:
    fake: FakeTelegram
    settings: Settings
    waits: list[float]  # what the flood-control limiter was asked to sleep
    handled: HandledUpdates

    async def ask(
        self, chat: dict[str, Any], sender: dict[str, Any], caption: str | None = "@aidj_test_bot"
    ) -> tuple[dict[str, Any], Recorded]:
        """A photo in, the delivered card out."""
        return await self.fake.send_photo(chat, sender, make_photo(), caption)

    def request_id_of(self, sent: Recorded) -> int:
        keyboard = sent.json("reply_markup")["inline_keyboard"]
        return int(keyboard[0][0]["callback_data"].split(":")[1])


@pytest.fixture
def rate_limit() -> int:
    return 1000


@pytest.fixture
async def bot(tiny_analyzer, own_settings, rate_limit) -> AsyncIterator[Bot]:
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=rate_limit)
    db = open_database(settings.db_path)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with FakeTelegram(TOKEN) as fake:
        telegram = TelegramBot(
            MoodService(tiny_analyzer, Storage(db), settings),
            TelegramOptions(token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url),
            rate_limiter=RetryAfterLimiter(sleep=sleep),
        )
        handled = HandledUpdates(telegram.application)
        await telegram.start()
        try:
            yield Bot(fake, settings, waits, handled)
        finally:
            await telegram.stop()
            db.close()


# ---- flood control and faults ---------------------------------------------------------------


async def test_a_429_on_send_photo_is_waited_out_and_the_card_arrives(bot: Bot) -> None:
    bot.fake.fail("sendPhoto", 429, retry_after=7)
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER)
    assert len(track_ids(sent.params["caption"])) == 10
    assert bot.waits == [7.0]
    refused = [r for r in bot.fake.calls("sendPhoto") if not r.ok]
    assert [r.error for r in refused] == [429]
    assert recorded_request(bot.settings, bot.request_id_of(sent)).rounds == 1


async def test_a_429_on_get_file_is_waited_out_too(bot: Bot) -> None:
    bot.fake.fail("getFile", 429, retry_after=2, times=2)
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER)
    assert len(track_ids(sent.params["caption"])) == 10
    assert bot.waits == [2.0, 2.0]


@pytest.mark.parametrize("rate_limit", [1])
async def test_a_card_that_never_got_through_costs_the_user_nothing(bot: Bot) -> None:
    """Flood control that outlasts the retries: the user is told, nothing is kept, and their
    one photo a minute is still free."""
    fake = bot.fake
    fake.fail("sendPhoto", 429, retry_after=1, times=4)  # the first try and three retries
    since = fake.mark()
    photo = fake.photo_message(private_chat(REQUESTER), REQUESTER, make_photo(), "hello")
    fake.send_message_update(photo)
    reply = await fake.reply_to(photo, since=since)
    assert reply.params["text"] == error_text(RuntimeError(), "en")
    assert bot.waits == [1.0, 1.0, 1.0]
    db = open_database(bot.settings.db_path)
    assert db["requests"].count == 0
    db.close()
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER)
    assert len(track_ids(sent.params["caption"])) == 10


async def test_a_flood_wait_longer_than_the_bound_is_not_waited(bot: Bot) -> None:
    fake = bot.fake
    fake.fail("sendPhoto", 429, retry_after=3600)
    since = fake.mark()
    photo = fake.photo_message(private_chat(REQUESTER), REQUESTER, make_photo(), "x")
    fake.send_message_update(photo)
    await fake.reply_to(photo, since=since)
    assert bot.waits == []


async def test_a_429_on_the_edit_after_a_press_is_retried(bot: Bot) -> None:
    fake = bot.fake
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER, "calm")
    request_id = bot.request_id_of(sent)
    fake.fail("editMessageMedia", 429, retry_after=5)
    since = fake.mark()
    fake.press(REQUESTER, sent.result, f"aidj:{request_id}:more_energy")
    edit = await fake.wait_for("editMessageMedia", lambda r: r.ok, since=since)
    assert steered_energy(edited_caption(edit)) > final_energy(sent.params["caption"])
    assert bot.waits == [5.0]
    await eventually(lambda: recorded_request(bot.settings, request_id).rounds == 2)


async def test_a_press_whose_edit_never_arrived_changes_nothing(bot: Bot) -> None:
    """The stored target and the 'already shown' songs move only when the user sees them:
    the next regenerate after a lost edit shows songs from beyond the first card only."""
    fake = bot.fake
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER, "calm")
    request_id = bot.request_id_of(sent)
    before = recorded_request(bot.settings, request_id)
    fake.fail("editMessageMedia", 502, times=1)
    since = fake.mark()
    fake.press(REQUESTER, sent.result, f"aidj:{request_id}:calmer")
    failed = await fake.wait_for("editMessageMedia", since=since)
    assert failed.error == 502
    # the press is answered at once, and once more when it failed: then the bot is done
    await fake.wait_for_all("answerCallbackQuery", 2, since=since)
    after = recorded_request(bot.settings, request_id)
    assert (after.target, after.rounds) == (before.target, before.rounds)

    since = fake.mark()
    fake.press(REQUESTER, sent.result, f"aidj:{request_id}:regenerate")
    edit = await fake.wait_for("editMessageMedia", lambda r: r.ok, since=since)
    lost = set(track_ids(failed.json("media")["caption"]))
    shown = set(track_ids(edited_caption(edit)))
    assert shown & lost, "the songs of the lost edit were never shown, so they may come"
    assert not shown & set(track_ids(sent.params["caption"]))


# ---- who may steer which card ---------------------------------------------------------------


async def test_an_admin_of_another_group_cannot_steer_a_card_by_forged_data(bot: Bot) -> None:
    fake = bot.fake
    fake.chat_members[(GROUP_B["id"], ADMIN_OF_B["id"])] = "administrator"
    _, card_a = await bot.ask(GROUP_A, REQUESTER, "@aidj_test_bot rain")
    _, card_b = await bot.ask(GROUP_B, ADMIN_OF_B, "@aidj_test_bot sun")
    request_a = bot.request_id_of(card_a)

    since = fake.mark()
    note = fake.text_message(GROUP_B, ADMIN_OF_B, "just a message")
    for pressed_on in (card_b.result, note):  # B's own card, and any message in B
        fake.press(ADMIN_OF_B, pressed_on, f"aidj:{request_a}:calmer")
    answers = await fake.wait_for_all("answerCallbackQuery", 2, since=since)
    refusal = error_text(NotRequesterError("x"), "en")
    assert all(a.params.get("show_alert") == "true" for a in answers)
    assert refusal in {a.params.get("text") for a in answers}
    assert not fake.calls("editMessageMedia", since)
    assert recorded_request(bot.settings, request_a).rounds == 1
    assert recorded_request(bot.settings, bot.request_id_of(card_b)).rounds == 1


async def test_buttons_that_are_not_ours_are_answered(bot: Bot) -> None:
    fake = bot.fake
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER)
    since = fake.mark()
    ids = [fake.press(REQUESTER, sent.result, data) for data in ("regen:42", "aidj:1", "x")]
    answers = await fake.wait_for_all("answerCallbackQuery", len(ids), since=since)
    assert len({a.params["callback_query_id"] for a in answers}) == 3
    assert not fake.calls("editMessageMedia", since)


async def test_a_strangers_reaction_shows_no_activity(bot: Bot) -> None:
    fake = bot.fake
    _, sent = await bot.ask(GROUP_A, REQUESTER, "@aidj_test_bot rain")
    since = fake.mark()
    reactions = (
        fake.react(OTHER, sent.result, new=["🔥"]),
        fake.react(REQUESTER, sent.result, ["🔥"]),
    )
    await bot.handled.wait(*reactions)
    edit = await fake.wait_for("editMessageMedia", since=since)  # the requester's
    actions = fake.calls("sendChatAction", since)
    assert len(actions) == 1, "only the accepted reaction showed activity"
    assert fake.requests.index(actions[0]) < fake.requests.index(edit)
    assert len(fake.calls("editMessageMedia", since)) == 1


# ---- presses that arrive together -------------------------------------------------------------


async def test_two_presses_in_one_poll_give_two_rounds_and_two_steps(bot: Bot) -> None:
    fake = bot.fake
    _, sent = await bot.ask(private_chat(REQUESTER), REQUESTER, "calm")
    request_id = bot.request_id_of(sent)
    first = set(track_ids(sent.params["caption"]))
    again = "regenerate"

    since = fake.mark()
    fake.push_together(
        [fake.press_update(REQUESTER, sent.result, f"aidj:{request_id}:{again}") for _ in "ab"]
    )
    edits = await fake.wait_for_all("editMessageMedia", 2, since=since)
    assert any(len(poll.result) == 2 for poll in fake.calls("getUpdates", since))
    second, third = (set(track_ids(edited_caption(e))) for e in edits)
    assert len(first | second | third) == 30, "no press repeated a song"

    start = recorded_request(bot.settings, request_id).target.energy
    since = fake.mark()
    fake.push_together(
        [fake.press_update(REQUESTER, sent.result, f"aidj:{request_id}:calmer") for _ in range(2)]
    )
    await fake.wait_for_all("editMessageMedia", 2, since=since)
    expected = max(0.0, start - 2 * bot.settings.nudge_step)
    await eventually(lambda: recorded_request(bot.settings, request_id).rounds == 5)
    assert recorded_request(bot.settings, request_id).target.energy == pytest.approx(expected)


# ---- storms -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate_limit", [1])  # 1 photo, 3 presses a minute
async def test_a_reaction_storm_gets_at_most_one_notice(bot: Bot) -> None:
    fake = bot.fake
    chat = private_chat(REQUESTER)
    _, sent = await bot.ask(chat, REQUESTER)
    since = fake.mark()
    emojis = ["🔥", "😴"]
    storm = fake.push_together(
        [
            fake.reaction_update(REQUESTER, sent.result, [emojis[n % 2]], [emojis[(n + 1) % 2]])
            for n in range(40)
        ]
    )
    card_id = sent.result["message_id"]
    await bot.handled.wait(*storm, timeout=15)
    notices = [r for r in fake.calls("sendMessage", since) if r.reply_to == card_id]
    assert len(notices) == 1
    assert notices[0].params["text"].startswith(error_text(RateLimitedError("x", 1), "en")[:20])
    assert len([e for e in fake.calls("editMessageMedia", since) if e.ok]) == 3


@pytest.mark.parametrize("rate_limit", [1])
async def test_photos_over_the_limit_are_not_downloaded_and_answered_once(bot: Bot) -> None:
    fake = bot.fake
    chat = private_chat(REQUESTER)
    await bot.ask(chat, REQUESTER)
    since = fake.mark()
    photos = [fake.photo_message(chat, REQUESTER, make_photo(), "again") for _ in range(3)]
    await bot.handled.wait(*fake.push_together([{"message": photo} for photo in photos]))
    asked = {photo["message_id"] for photo in photos}
    notices = [r for r in fake.calls("sendMessage", since) if r.reply_to in asked]
    assert len(notices) == 1
    assert notices[0].params["text"].startswith(error_text(RateLimitedError("x", 1), "en")[:20])
    assert not fake.calls("getFile", since) and not fake.calls("downloadFile", since)
