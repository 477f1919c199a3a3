""" "Did it fit?" on Telegram: the real python-telegram-bot against the fake Bot API, on the
real flow with the tiny models.

👍 / 👎 buttons (anyone in the chat; pressing again changes or takes back the vote; the
answer is a popup, the card is not edited), 👍 / 👎 reactions (removing one takes the vote
back; 👎 no longer means new songs), a press from another chat refused, /stats in English and
Korean, and votes that outlive a restart of the bot and its database connection.

Each test uses chats of its own (``fresh_group``, users with new ids), so the module's shared
bot and database never mix one test's votes into another's stats. "Nothing happened" is
proven by the bot having finished with the update (``tests.handled_updates``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.chat.telegram_bot import TelegramBot, TelegramOptions
from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.categories import get_category
from core.fit import MIN_VOTES, VoteCount
from core.flow import MoodFlow
from core.language import Language
from core.messages import ErrorReply, FitNotice, StatsText, text_of
from tests.conftest import make_photo, recorded_request
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.handled_updates import HandledUpdates
from tests.test_messages import english_words

TOKEN = "123456789:test-fit-telegram-token"
WAIT_S = 5.0
_ids = itertools.count(7001)


def fresh_user(language: str = "en") -> dict[str, Any]:
    return user(next(_ids), language_code=language)


def fresh_group() -> dict[str, Any]:
    return group_chat(chat_id=-1003000000000 - next(_ids))


@dataclass
class Harness:
    fake: FakeTelegram
    flow: MoodFlow
    handled: HandledUpdates

    async def card(self, chat: dict[str, Any], sender: dict[str, Any]) -> tuple[Recorded, int]:
        """A photo in, the card out: its sendPhoto and its request id (from its buttons)."""
        caption = "@aidj_test_bot rainy day" if chat["type"] != "private" else "rainy day"
        _, sent = await self.fake.send_photo(chat, sender, make_photo(), caption)
        thumbs = sent.json("reply_markup")["inline_keyboard"][-1]
        return sent, int(thumbs[0]["callback_data"].split(":")[1])

    async def press(self, sender: dict[str, Any], card: Recorded, data: str) -> Recorded:
        """Press a button on ``card``; the answer to the press once the bot is done."""
        since = self.fake.mark()
        update = self.fake.press(sender, card.result, data)
        await self.handled.wait(update, timeout=WAIT_S)
        [answer] = self.fake.calls("answerCallbackQuery", since)
        assert not self.fake.calls("editMessageMedia", since), "a vote leaves the card as it is"
        assert not self.fake.calls("editMessageReplyMarkup", since)
        return answer

    async def react(
        self, sender: dict[str, Any], card: Recorded, new: list[str], old: list[str]
    ) -> int:
        """Change ``sender``'s reactions on ``card``; the fake's position before it."""
        since = self.fake.mark()
        await self.handled.wait(self.fake.react(sender, card.result, new, old), timeout=WAIT_S)
        return since

    async def stats(self, chat: dict[str, Any], sender: dict[str, Any]) -> str:
        """What /stats answers in ``chat``."""
        since = self.fake.mark()
        command = self.fake.text_message(chat, sender, "/stats")
        self.fake.send_message_update(command)
        reply = await self.fake.reply_to(command, since=since)
        assert "parse_mode" not in reply.params, "plain text: scene names need no escaping"
        return reply.params["text"]

    async def votes(self, chat: dict[str, Any]) -> VoteCount:
        return (await self.flow.chat_stats("telegram", str(chat["id"]))).votes


@pytest.fixture(scope="module")
async def telegram(module_mood_flow: MoodFlow) -> AsyncIterator[Harness]:
    async with FakeTelegram(TOKEN) as fake:
        options = TelegramOptions(
            token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        bot = TelegramBot(module_mood_flow, options)
        handled = HandledUpdates(bot.application)
        await bot.start()
        try:
            yield Harness(fake, module_mood_flow, handled)
        finally:
            await bot.stop()


# ---- buttons -----------------------------------------------------------------------------


async def test_anyone_in_the_group_votes_changes_and_takes_back_with_a_popup(
    telegram: Harness,
) -> None:
    group, requester, member = fresh_group(), fresh_user(), fresh_user()
    card, request_id = await telegram.card(group, requester)

    since = telegram.fake.mark()
    up = await telegram.press(member, card, f"aidj:{request_id}:fit:up")
    assert up.params["text"] == text_of(FitNotice.NOTED, Language.EN, vote="👍")
    assert up.params.get("show_alert") != "true"
    assert not telegram.fake.calls("getChatMember", since), "no admin lookup for a vote"
    assert await telegram.votes(group) == VoteCount(up=1)

    down = await telegram.press(member, card, f"aidj:{request_id}:fit:down")
    assert down.params["text"] == text_of(FitNotice.CHANGED, Language.EN, vote="👎")
    mine = await telegram.press(requester, card, f"aidj:{request_id}:fit:up")
    assert mine.params["text"] == text_of(FitNotice.NOTED, Language.EN, vote="👍")
    assert await telegram.votes(group) == VoteCount(up=1, down=1)

    again = await telegram.press(member, card, f"aidj:{request_id}:fit:down")
    assert again.params["text"] == text_of(FitNotice.WITHDRAWN, Language.EN, vote="👎")
    assert await telegram.votes(group) == VoteCount(up=1)


async def test_the_popup_is_in_the_pressers_language(telegram: Harness) -> None:
    korean = fresh_user("ko")
    card, request_id = await telegram.card(private_chat(korean), korean)
    answer = await telegram.press(korean, card, f"aidj:{request_id}:fit:down")
    assert answer.params["text"] == "고마워요, 👎 기록했어요"


async def test_a_press_from_another_chat_is_refused_and_counts_nowhere(telegram: Harness) -> None:
    group, other, requester = fresh_group(), fresh_group(), fresh_user()
    card, request_id = await telegram.card(group, requester)
    # the same button data, pressed under a message of another chat (Telegram names the
    # message the button was under: there it is not this card)
    elsewhere = Recorded("sendPhoto", {}, {}, result={**card.result, "chat": other})
    answer = await telegram.press(requester, elsewhere, f"aidj:{request_id}:fit:up")
    assert answer.params["show_alert"] == "true"
    assert answer.params["text"] == text_of(ErrorReply.UNKNOWN_REQUEST, Language.EN)
    assert await telegram.votes(group) == VoteCount()
    assert await telegram.votes(other) == VoteCount()


# ---- reactions ---------------------------------------------------------------------------


async def test_a_thumb_reaction_votes_and_removing_it_takes_the_vote_back(
    telegram: Harness,
) -> None:
    group, requester, member = fresh_group(), fresh_user(), fresh_user()
    card, _ = await telegram.card(group, requester)

    since = await telegram.react(member, card, new=["👍"], old=[])
    assert await telegram.votes(group) == VoteCount(up=1)
    assert not telegram.fake.calls("getChatMember", since), "no admin lookup for a vote"
    assert not telegram.fake.calls("sendMessage", since), "a vote is not answered in chat"

    # the requester, who could steer: 👎 is their vote, not new songs
    since = await telegram.react(requester, card, new=["👎"], old=[])
    assert await telegram.votes(group) == VoteCount(up=1, down=1)
    assert not telegram.fake.calls("editMessageMedia", since)
    assert not telegram.fake.calls("sendChatAction", since)

    await telegram.react(member, card, new=["👎"], old=["👍"])
    assert await telegram.votes(group) == VoteCount(down=2)
    await telegram.react(member, card, new=[], old=["👎"])
    assert await telegram.votes(group) == VoteCount(down=1)


async def test_other_reactions_still_steer(telegram: Harness) -> None:
    requester = fresh_user()
    card, _ = await telegram.card(private_chat(requester), requester)
    since = telegram.fake.mark()
    telegram.fake.react(requester, card.result, new=["🤔"])
    edit = await telegram.fake.wait_for("editMessageMedia", since=since)
    assert edit.int("message_id") == card.result["message_id"]
    assert await telegram.votes(private_chat(requester)) == VoteCount()


# ---- /stats ------------------------------------------------------------------------------


async def test_stats_in_english_count_cards_votes_scenes_and_nudges(
    telegram: Harness, module_settings
) -> None:
    group, requester, member = fresh_group(), fresh_user(), fresh_user()
    card, request_id = await telegram.card(group, requester)
    await telegram.card(group, member)
    await telegram.press(member, card, f"aidj:{request_id}:fit:up")
    since = telegram.fake.mark()
    telegram.fake.press(requester, card.result, f"aidj:{request_id}:more_energy")
    await telegram.fake.wait_for("editMessageMedia", since=since)

    lines = (await telegram.stats(group, member)).splitlines()
    assert lines[0] == text_of(StatsText.HEADER, Language.EN, cards=2)
    assert lines[1].startswith("Did it fit? 👍 1 · 👎 0: 100% fit (95% range ")
    assert text_of(StatsText.TOO_FEW, Language.EN, min=MIN_VOTES) in lines
    scene = get_category(recorded_request(module_settings, request_id).category_id)
    assert any(line.startswith(f"• {scene.name_en}: ") and "👍 1 👎 0" in line for line in lines)
    assert lines[-1] == "Most pressed: ⚡ more energy ×1"


async def test_stats_in_korean(telegram: Harness, module_settings) -> None:
    korean = fresh_user("ko")
    chat = private_chat(korean)
    card, request_id = await telegram.card(chat, korean)
    await telegram.press(korean, card, f"aidj:{request_id}:fit:down")
    text = await telegram.stats(chat, korean)
    assert text.startswith(text_of(StatsText.HEADER, Language.KO, cards=1))
    scene = get_category(recorded_request(module_settings, request_id).category_id)
    assert f"• {scene.name_ko}: 플레이리스트 1개, 👍 0 👎 1 (적중률 0%)" in text
    assert text_of(StatsText.NO_NUDGES, Language.KO) in text
    assert set(english_words(text)) <= {"AI", "DJ"}, text


async def test_stats_before_any_card_say_how_to_start(telegram: Harness) -> None:
    for language in Language:
        person = fresh_user(language.value)
        text = await telegram.stats(private_chat(person), person)
        assert text == text_of(StatsText.NOTHING_YET, language)


# ---- a restart ---------------------------------------------------------------------------


async def test_votes_outlive_a_restart(tiny_analyzer, own_settings) -> None:
    """The bot and its database connection go down between the vote and the next press: the
    stats still count the vote, and pressing 👍 again takes it back (read from disk)."""
    person = fresh_user()
    chat = private_chat(person)
    async with FakeTelegram(TOKEN) as fake:
        options = TelegramOptions(
            token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url
        )

        async def running() -> tuple[TelegramBot, Harness, Storage]:
            storage = Storage.open(own_settings.db_path)
            flow = MoodService(tiny_analyzer, storage, own_settings)
            bot = TelegramBot(flow, options)
            handled = HandledUpdates(bot.application)
            await bot.start()
            return bot, Harness(fake, flow, handled), storage

        bot, first, storage = await running()
        card, request_id = await first.card(chat, person)
        await first.press(person, card, f"aidj:{request_id}:fit:up")
        await bot.stop()
        storage.close()

        bot, second, storage = await running()
        try:
            assert "👍 1 · 👎 0" in await second.stats(chat, person)
            answer = await second.press(person, card, f"aidj:{request_id}:fit:up")
            assert answer.params["text"] == text_of(FitNotice.WITHDRAWN, Language.EN, vote="👍")
            assert await second.votes(chat) == VoteCount()
        finally:
            await bot.stop()
            storage.close()
