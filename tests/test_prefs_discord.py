"""/prefs and each chat's taste through the real discord.py client against the fake Discord.

As on Telegram (tests/test_prefs_telegram.py): the real flow with the tiny models and a
database of the test's own (every third catalog track explicit); /prefs is a slash command
group whose subcommands reach the same flow, answered ephemerally; a channel's reactions
tune its next card of the same scene; "restart" is a new client and service on the same
database file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from adapters.chat.discord_bot import DiscordOptions
from adapters.chat.discord_render import help_text
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from adapters.storage.track_search import fetch_tracks
from bot.config import Settings
from bot.service import MoodService
from core.language import Language
from core.messages import ErrorReply, ImageProblem, PrefsReply, template, text_of
from core.recommend import artist_keys
from tests.conftest import card_rounds, eventually
from tests.discord_running import running_discord
from tests.fake_discord import MANAGE_MESSAGES, MEMBER_PERMISSIONS, FakeDiscord, RecordedRequest
from tests.restarts import RunningBot
from tests.test_discord_bot import TRACK_LINK, edits_of, replies_to, send_photo

TOKEN = "prefs-test-discord-token"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TUNED_EN = "Tuned to this chat: energy "
WAIT_S = 5.0


@dataclass
class Chat:
    fake: FakeDiscord
    settings: Settings

    async def prefs(
        self,
        user_id: int,
        subcommand: str,
        *,
        locale: str = "en-US",
        permissions: int = MEMBER_PERMISSIONS,
        dm: bool = False,
        **values: str,
    ) -> str:
        """``/prefs <subcommand> name:value...``; the bot's (ephemeral) answer."""
        sub: dict[str, Any] = {"name": subcommand, "type": 1}
        if values:
            sub["options"] = [{"name": k, "type": 3, "value": v} for k, v in values.items()]
        interaction = self.fake.slash_command(
            "prefs", user_id=user_id, options=[sub], locale=locale, permissions=permissions, dm=dm
        )
        await self.fake.dispatch("INTERACTION_CREATE", interaction)
        path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
        [callback] = await self.fake.wait_for(
            lambda r: r.method == "POST" and r.path == path, timeout=WAIT_S
        )
        assert callback.json["type"] == 4 and callback.json["data"]["flags"] & 64  # ephemeral
        assert callback.json["data"]["allowed_mentions"]["parse"] == []
        return callback.json["data"]["content"]

    async def kept(self, channel_id: int, card_id: object, *, presses: int) -> None:
        """Until the card's request has kept ``presses`` presses (each is kept once its edit
        has returned, so the next card may count it)."""
        await eventually(
            lambda: card_rounds(self.settings, "discord", channel_id, card_id) == presses + 1
        )

    async def card(self, user_id: int, *, dm: bool = False) -> RecordedRequest:
        """The card for the test photo (always the same scene), once its controls are on."""
        return (await send_photo(self.fake, author_id=user_id, dm=dm))[1]

    def tracks(self, card: RecordedRequest) -> list[tuple[str, frozenset[str], bool]]:
        ids = TRACK_LINK.findall(description(card))
        db = open_database(self.settings.db_path)
        try:
            explicit = dict(db.execute("SELECT id, explicit FROM tracks").fetchall())
            found = fetch_tracks(db, ids)
        finally:
            db.close()
        assert len(found) == len(ids) == 10
        return [(t.id, artist_keys(t.artists), explicit[t.id] == 1) for t in found]


def description(card: RecordedRequest) -> str:
    return card.embeds[0]["description"]


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, settings: Settings, analyzer) -> AsyncIterator[None]:
    storage = Storage.open(settings.db_path)
    flow = MoodService(analyzer, storage, settings)
    try:
        async with running_discord(flow, fake, DiscordOptions(token=TOKEN)):
            yield
    finally:
        storage.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    original = discord.http.Route.BASE
    async with FakeDiscord(token=TOKEN) as server:
        discord.http.Route.BASE = server.api_base
        try:
            yield server
        finally:
            discord.http.Route.BASE = original


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


async def test_prefs_is_synced_with_its_subcommands(chat: Chat) -> None:
    fake = chat.fake
    path = f"/applications/{fake.application_id}/commands"
    [sync] = await fake.wait_for(lambda r: r.method == "PUT" and r.path == path, timeout=WAIT_S)
    [prefs] = [command for command in sync.json if command["name"] == "prefs"]
    subcommands = {option["name"]: option for option in prefs["options"]}
    assert set(subcommands) == {"show", "language", "skip", "unskip", "explicit", "reset"}
    [language] = subcommands["language"]["options"]
    assert {choice["value"] for choice in language["choices"]} == {"ko", "en", "auto"}


async def test_a_chosen_language_answers_and_makes_the_users_cards(chat: Chat) -> None:
    alice, bob = chat.fake.snowflake(), chat.fake.snowflake()
    shown = await chat.prefs(alice, "show")
    assert shown.startswith("Your settings") and not HANGUL.search(shown)
    assert (await chat.prefs(alice, "show", locale="ko")).startswith("내 설정")
    reply = await chat.prefs(alice, "language", value="ko")
    assert reply == text_of(
        PrefsReply.LANGUAGE_SET, Language.KO, chosen=text_of(PrefsReply.LANGUAGE_KO, Language.KO)
    )
    assert HANGUL.search(description(await chat.card(alice)))  # the server speaks English
    assert not HANGUL.search(description(await chat.card(bob)))


async def test_a_chosen_language_words_refusals_and_help_too(chat: Chat) -> None:
    """What the bot words itself (a photo it cannot read, /help) follows /prefs as the cards
    do, not the server's or the client's language."""
    fake = chat.fake
    alice, bob = fake.snowflake(), fake.snowflake()
    await chat.prefs(alice, "language", value="ko")
    for user_id, language in ((alice, Language.KO), (bob, Language.EN)):
        broken = fake.attachment("photo.jpg", b"not a picture", "image/jpeg")
        message = fake.message_create(author_id=user_id, attachments=[broken], mention_bot=True)
        await fake.dispatch("MESSAGE_CREATE", message)
        [reply] = await fake.wait_for(replies_to(fake.channel_id, message["id"]), timeout=WAIT_S)
        assert reply.content == text_of(
            ErrorReply.IMAGE, language, detail=text_of(ImageProblem.NOT_AN_IMAGE, language)
        )
        interaction = fake.slash_command("help", user_id=user_id, locale="en-US")
        await fake.dispatch("INTERACTION_CREATE", interaction)
        path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
        [callback] = await fake.wait_for(
            lambda r, path=path: r.method == "POST" and r.path == path, timeout=WAIT_S
        )
        assert callback.json["data"]["content"] == help_text(language)


async def test_skipped_artists_and_explicit_tracks_leave_the_users_cards(chat: Chat) -> None:
    alice, bob = chat.fake.snowflake(), chat.fake.snowflake()
    first = chat.tracks(await chat.card(alice))
    assert any(explicit for *_, explicit in first)
    skipped = sorted(next(keys for _, keys, explicit in first if not explicit))[0]
    reply = await chat.prefs(alice, "skip", artist=skipped.title(), locale="ko")
    assert reply == text_of(PrefsReply.SKIPPED, Language.KO, artist=skipped.title())
    assert await chat.prefs(alice, "explicit", value="off") == text_of(
        PrefsReply.EXPLICIT_OFF, Language.EN
    )
    tracks = chat.tracks(await chat.card(alice))
    assert not any(explicit for *_, explicit in tracks)
    assert not any(skipped in keys for _, keys, _ in tracks)
    bobs = chat.tracks(await chat.card(bob))
    assert [track for track, *_ in bobs] == [track for track, *_ in first]


@pytest.mark.parametrize(
    ("subcommand", "options", "locale", "language"),
    [
        ("language", {"value": "fr"}, "en-US", Language.EN),  # a value outside the choices
        ("explicit", {"value": "sometimes"}, "ko", Language.KO),
        ("skip", {"artist": "   "}, "ko", Language.KO),
    ],
)
async def test_bad_values_get_the_usage(chat: Chat, subcommand, options, locale, language) -> None:
    user = chat.fake.snowflake()
    reply = await chat.prefs(user, subcommand, locale=locale, **options)
    assert reply == template(PrefsReply.USAGE, language)
    shown = await chat.prefs(user, "show", locale=locale)
    assert text_of(PrefsReply.NO_ARTISTS, language) in shown
    assert text_of(PrefsReply.EXPLICIT_ALLOWED, language) in shown


# ---- each chat's taste -------------------------------------------------------------------


async def test_reactions_tune_that_channels_cards_until_a_moderator_resets(
    chat: Chat, restart
) -> None:
    fake = chat.fake
    requester = fake.requester_id
    card = await chat.card(requester)
    card_id = card.response["id"]
    for pressed in range(1, 6):
        reaction = fake.reaction_add(user_id=requester, message_id=card_id, emoji="🌙")
        await fake.dispatch("MESSAGE_REACTION_ADD", reaction)
        await fake.wait_for(edits_of(fake.channel_id, card_id), count=pressed, timeout=WAIT_S)
    await chat.kept(fake.channel_id, card_id, presses=5)

    assert f"{TUNED_EN}-0.10" in description(await chat.card(fake.bystander_id))
    assert TUNED_EN not in description(await chat.card(requester, dm=True))

    async with restart():
        assert f"{TUNED_EN}-0.10" in description(await chat.card(fake.bystander_id))
        kept = await chat.prefs(fake.bystander_id, "reset")
        assert kept == text_of(PrefsReply.RESET_TASTE_KEPT, Language.EN)
        assert TUNED_EN in description(await chat.card(fake.bystander_id))
        moderator = MEMBER_PERMISSIONS | MANAGE_MESSAGES
        done = await chat.prefs(fake.moderator_id, "reset", permissions=moderator, locale="ko")
        assert done == text_of(PrefsReply.RESET_WITH_TASTE, Language.KO)
        assert TUNED_EN not in description(await chat.card(fake.bystander_id))


async def test_in_a_dm_the_user_resets_its_taste(chat: Chat) -> None:
    fake = chat.fake
    user = fake.snowflake()
    card = await chat.card(user, dm=True)
    card_id = card.response["id"]
    for pressed in range(1, 6):
        reaction = fake.reaction_add(user_id=user, message_id=card_id, emoji="⚡", dm=True)
        await fake.dispatch("MESSAGE_REACTION_ADD", reaction)
        await fake.wait_for(edits_of(fake.dm_channel_id, card_id), count=pressed, timeout=WAIT_S)
    await chat.kept(fake.dm_channel_id, card_id, presses=5)
    assert TUNED_EN + "+" in description(await chat.card(user, dm=True))
    reply = await chat.prefs(user, "reset", dm=True)
    assert reply == text_of(PrefsReply.RESET_WITH_TASTE, Language.EN)
    assert TUNED_EN not in description(await chat.card(user, dm=True))
