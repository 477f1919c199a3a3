"""/prefs and each chat's taste through the real python-telegram-bot against the fake Bot API.

The bot runs on the real flow (tiny models, a database of the test's own: a copy of the
synthetic catalog, where every third track is explicit), so what a user sets with /prefs
must show in the next card they get, and in no one else's; a chat's presses on the buttons
must move its next card of the same scene, and no other chat's. "Restart" is what `aidj run`
does after a stop: a new bot and a new service on the same database file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.chat.telegram_bot import TelegramBot, TelegramOptions
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from adapters.storage.track_search import fetch_tracks
from bot.config import Settings
from bot.service import MoodService
from core.language import Language
from core.messages import ErrorReply, Hint, ImageProblem, PrefsReply, template, text_of
from core.recommend import artist_keys
from core.steering import Action
from tests.conftest import card_rounds, eventually, make_photo
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.restarts import RunningBot

TOKEN = "123456789:prefs-test-token"
TRACK_LINK = re.compile(r'<a href="https://open\.spotify\.com/track/([A-Za-z0-9]+)">')
HANGUL = re.compile(r"[\uac00-\ud7a3]")
MENTION = "@aidj_test_bot"
ALICE = user(501)
BOB = user(502)
MINJI = user(503, language_code="ko")
ADMIN = user(504)
GROUP = group_chat(-1005000000001, "Rainy club")
OTHER_GROUP = group_chat(-1005000000002, "Other club")
TUNED_EN = "Tuned to this chat: energy "
TUNED_KO = "이 채팅 취향 반영: 에너지 "


@dataclass
class Chat:
    """The fake Telegram and what the running bot keeps (its database file)."""

    fake: FakeTelegram
    settings: Settings

    async def command(self, chat: dict[str, Any], sender: dict[str, Any], text: str) -> str:
        """Send a command and return the bot's text reply to it."""
        since = self.fake.mark()
        message = self.fake.text_message(chat, sender, text)
        self.fake.send_message_update(message)
        return (await self.fake.reply_to(message, since=since)).params["text"]

    async def card(self, chat: dict[str, Any], sender: dict[str, Any]) -> Recorded:
        """The card for the test photo (always the same scene) sent in ``chat``."""
        caption = MENTION if chat["type"] != "private" else None
        _, sent = await self.fake.send_photo(chat, sender, make_photo(), caption)
        return sent

    async def press(self, sender: dict[str, Any], card: Recorded, action: Action) -> Recorded:
        """Press the ``action`` button under ``card`` (once the bot has linked the card to
        its request, right after Telegram confirmed it); the edit with the new card."""
        await eventually(lambda: self.linked(card))
        [data] = [
            button["callback_data"]
            for row in card.json("reply_markup")["inline_keyboard"]
            for button in row
            if button["text"] == action.emoji
        ]
        rounds = self.rounds(card)
        assert rounds is not None
        since = self.fake.mark()
        self.fake.press(sender, card.result, data)
        edit = await self.fake.wait_for("editMessageMedia", since=since)
        # the press is kept once the edit has returned: the next card may count it
        await eventually(lambda: self.rounds(card) > rounds)
        return edit

    def linked(self, card: Recorded) -> bool:
        return self.rounds(card) is not None

    def rounds(self, card: Recorded) -> int | None:
        """The cards shown so far for ``card``'s request (None: not linked to one yet)."""
        return card_rounds(self.settings, "telegram", card.chat_id, card.result["message_id"])

    def tracks(self, caption: str) -> list[tuple[str, frozenset[str], bool]]:
        """Each track of a card: (id, artist keys, marked explicit in the catalog)."""
        ids = TRACK_LINK.findall(caption)
        db = open_database(self.settings.db_path)
        try:
            explicit = dict(db.execute("SELECT id, explicit FROM tracks").fetchall())
            found = fetch_tracks(db, ids)
        finally:
            db.close()
        assert len(found) == len(ids) == 10
        return [(t.id, artist_keys(t.artists), explicit[t.id] == 1) for t in found]


@contextlib.asynccontextmanager
async def running(fake: FakeTelegram, settings: Settings, analyzer) -> AsyncIterator[None]:
    """The bot as `aidj run` runs it, until the block ends (then it stops, as on a restart)."""
    storage = Storage.open(settings.db_path)
    bot = TelegramBot(
        MoodService(analyzer, storage, settings),
        TelegramOptions(token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url),
    )
    await bot.start()
    try:
        yield
    finally:
        await bot.stop()
        storage.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake, own_settings, tiny_analyzer) -> AsyncIterator[RunningBot]:
    async with RunningBot(lambda: running(fake, own_settings, tiny_analyzer)) as running_bot:
        yield running_bot


@pytest.fixture
def chat(fake, own_settings, bot) -> Chat:
    return Chat(fake, own_settings)


@pytest.fixture
def restart(bot: RunningBot):
    """Stop the running bot and start a new one on the same database (a context manager)."""
    return bot.restart


# ---- /prefs ------------------------------------------------------------------------------


async def test_prefs_shows_the_settings_in_the_users_language(chat: Chat) -> None:
    english = await chat.command(private_chat(ALICE), ALICE, "/prefs")
    assert english.startswith("Your settings") and not HANGUL.search(english)
    assert text_of(PrefsReply.LANGUAGE_AUTO, Language.EN) in english
    korean = await chat.command(private_chat(MINJI), MINJI, "/prefs")
    assert korean.startswith("내 설정")
    in_group = await chat.command(GROUP, ALICE, f"/prefs{MENTION} show")
    assert in_group == english


async def test_a_chosen_language_answers_and_makes_the_users_cards(chat: Chat) -> None:
    before = await chat.card(private_chat(ALICE), ALICE)
    assert not HANGUL.search(before.params["caption"])
    reply = await chat.command(private_chat(ALICE), ALICE, "/prefs language ko")
    assert reply == text_of(
        PrefsReply.LANGUAGE_SET, Language.KO, chosen=text_of(PrefsReply.LANGUAGE_KO, Language.KO)
    )
    assert HANGUL.search((await chat.card(private_chat(ALICE), ALICE)).params["caption"])
    assert HANGUL.search((await chat.card(GROUP, ALICE)).params["caption"])  # everywhere
    # Bob's cards, even in the same group, stay in his app's language
    assert not HANGUL.search((await chat.card(GROUP, BOB)).params["caption"])
    # and back: Minji (Korean app) chooses English
    await chat.command(private_chat(MINJI), MINJI, "/prefs language en")
    assert not HANGUL.search((await chat.card(private_chat(MINJI), MINJI)).params["caption"])


async def test_a_chosen_language_words_refusals_and_hints_too(chat: Chat) -> None:
    """What the bot words itself (a photo it cannot read, a message without one) follows
    /prefs as the cards do, not the user's app."""
    await chat.command(private_chat(ALICE), ALICE, "/prefs language ko")
    for sender, language in ((ALICE, Language.KO), (BOB, Language.EN)):
        since = chat.fake.mark()
        broken = chat.fake.photo_message(private_chat(sender), sender, b"not a picture", None)
        chat.fake.send_message_update(broken)
        refusal = (await chat.fake.reply_to(broken, since=since)).params["text"]
        assert refusal == text_of(
            ErrorReply.IMAGE, language, detail=text_of(ImageProblem.NOT_AN_IMAGE, language)
        )
        hint = await chat.command(private_chat(sender), sender, "just words, no photo")
        assert hint == text_of(Hint.TEXT_ONLY, language)


async def test_skipped_artists_and_explicit_tracks_leave_the_users_cards(chat: Chat, restart):
    first = chat.tracks((await chat.card(private_chat(ALICE), ALICE)).params["caption"])
    assert any(explicit for *_, explicit in first)  # the catalog gives explicit tracks here
    clean = [keys for _, keys, explicit in first if not explicit]
    skipped = sorted(clean[0])[0]  # a clean track's artist: only the skip can remove it
    reply = await chat.command(private_chat(ALICE), ALICE, f"/prefs skip {skipped.upper()}")
    assert reply == text_of(PrefsReply.SKIPPED, Language.EN, artist=skipped.upper())
    reply = await chat.command(private_chat(ALICE), ALICE, "/prefs explicit off")
    assert reply == text_of(PrefsReply.EXPLICIT_OFF, Language.EN)

    card = await chat.card(private_chat(ALICE), ALICE)
    assert_avoids(chat.tracks(card.params["caption"]), skipped)
    edited = await chat.press(ALICE, card, Action.REGENERATE)  # steering keeps to them too
    assert_avoids(chat.tracks(edited.json("media")["caption"]), skipped)
    # Bob asks for the same photo and gets what Alice first got: her prefs are hers
    bobs = chat.tracks((await chat.card(private_chat(BOB), BOB)).params["caption"])
    assert [track for track, *_ in bobs] == [track for track, *_ in first]

    async with restart():
        shown = await chat.command(private_chat(ALICE), ALICE, "/prefs")
        assert skipped.upper() in shown
        assert text_of(PrefsReply.EXPLICIT_LEFT_OUT, Language.EN) in shown
        again = await chat.card(private_chat(ALICE), ALICE)
        assert_avoids(chat.tracks(again.params["caption"]), skipped)
        await chat.command(private_chat(ALICE), ALICE, f"/prefs unskip {skipped}")
        await chat.command(private_chat(ALICE), ALICE, "/prefs explicit on")
        back = chat.tracks((await chat.card(private_chat(ALICE), ALICE)).params["caption"])
        assert [track for track, *_ in back] == [track for track, *_ in first]


def assert_avoids(tracks: list[tuple[str, frozenset[str], bool]], artist: str) -> None:
    assert not any(explicit for *_, explicit in tracks)
    assert not any(artist in keys for _, keys, _ in tracks)


@pytest.mark.parametrize(
    ("sender", "words", "language"),
    [
        (ALICE, "language fr", Language.EN),
        (ALICE, "skip", Language.EN),
        (MINJI, "volume 11", Language.KO),
        (MINJI, "explicit maybe", Language.KO),
    ],
)
async def test_bad_prefs_get_the_usage(chat: Chat, sender, words, language) -> None:
    reply = await chat.command(private_chat(sender), sender, f"/prefs {words}")
    assert reply == template(PrefsReply.USAGE, language)
    shown = await chat.command(private_chat(sender), sender, "/prefs")
    assert text_of(PrefsReply.NO_ARTISTS, language) in shown  # nothing was changed


# ---- each chat's taste -------------------------------------------------------------------


async def test_presses_tune_that_chats_cards_across_a_restart_until_an_admin_resets(
    chat: Chat, restart
) -> None:
    card = await chat.card(GROUP, ALICE)
    assert TUNED_EN not in card.params["caption"]
    for _ in range(5):
        await chat.press(ALICE, card, Action.CALMER)

    tuned = (await chat.card(GROUP, BOB)).params["caption"]  # anyone's card in that chat
    assert f"{TUNED_EN}-0.10" in tuned  # five 🌙 of 0.15, bounded to 0.1
    assert f"{TUNED_KO}-0.10" in (await chat.card(GROUP, MINJI)).params["caption"]
    assert TUNED_EN not in (await chat.card(OTHER_GROUP, ALICE)).params["caption"]
    assert TUNED_EN not in (await chat.card(private_chat(ALICE), ALICE)).params["caption"]

    async with restart():
        assert f"{TUNED_EN}-0.10" in (await chat.card(GROUP, BOB)).params["caption"]
        refused = await chat.command(GROUP, BOB, "/prefs reset")
        assert refused == text_of(PrefsReply.RESET_TASTE_KEPT, Language.EN)
        assert TUNED_EN in (await chat.card(GROUP, BOB)).params["caption"]

        chat.fake.chat_members[(GROUP["id"], ADMIN["id"])] = "administrator"
        done = await chat.command(GROUP, ADMIN, "/prefs reset")
        assert done == text_of(PrefsReply.RESET_WITH_TASTE, Language.EN)
        assert TUNED_EN not in (await chat.card(GROUP, BOB)).params["caption"]


async def test_in_a_private_chat_the_user_resets_its_taste(chat: Chat) -> None:
    card = await chat.card(private_chat(MINJI), MINJI)
    for _ in range(5):
        await chat.press(MINJI, card, Action.HAPPIER)
    assert (
        "이 채팅 취향 반영: 밝기 +"
        in (await chat.card(private_chat(MINJI), MINJI)).params["caption"]
    )
    reply = await chat.command(private_chat(MINJI), MINJI, "/prefs reset")
    assert reply == text_of(PrefsReply.RESET_WITH_TASTE, Language.KO)
    assert "취향 반영" not in (await chat.card(private_chat(MINJI), MINJI)).params["caption"]
