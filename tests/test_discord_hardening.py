"""The Discord bot in a public server: 429s and refusals from the API, lost edits, hostile
catalog names, presses that arrive together, reaction storms. The real discord.py client
against the fake Discord, on the real flow (tiny models), each test with its own database,
fake and bot.

"Nothing else happened" is proven by the bot's last act for every reaction it handles:
taking the reaction back (it has Manage Messages in the fake guild).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from adapters.chat.discord_bot import DiscordBot, DiscordOptions
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.config import Settings
from bot.service import MoodService
from core.errors import RateLimitedError
from core.language import Language
from core.messages import CaptionProblem, ErrorReply, ImageProblem, text_of
from core.reply import error_text
from tests.conftest import eventually, make_photo, recorded_request
from tests.discord_running import running_discord
from tests.fake_discord import FakeDiscord, RecordedRequest
from tests.test_discord_bot import edits_of, reactions_on, replies_to, track_ids
from tests.test_messages import english_words

TOKEN = "hardening-discord-token"
WAIT_S = 5.0


@dataclass
class Server:
    fake: FakeDiscord
    bot: DiscordBot
    settings: Settings

    async def ask(self, user: int, caption: str = "rain") -> RecordedRequest:
        """A photo mentioning the bot in; the delivered card out, once its controls are on."""
        fake, channel = self.fake, self.fake.channel_id
        attachment = fake.attachment("photo.jpg", make_photo(), "image/jpeg", channel_id=channel)
        message = fake.message_create(
            author_id=user, content=caption, attachments=[attachment], mention_bot=True
        )
        await fake.dispatch("MESSAGE_CREATE", message)
        is_reply = replies_to(channel, message["id"])
        [card] = await fake.wait_for(lambda r: r.ok and is_reply(r), timeout=WAIT_S)
        await fake.wait_for(reactions_on(channel, card.response["id"]), count=5, timeout=WAIT_S)
        return card

    async def react(self, user: int, card: RecordedRequest, emoji: str) -> None:
        payload = self.fake.reaction_add(user_id=user, message_id=card.response["id"], emoji=emoji)
        await self.fake.dispatch("MESSAGE_REACTION_ADD", payload)

    async def taken_back(self, card: RecordedRequest, count: int) -> None:
        """Wait until the bot has removed ``count`` reactions from ``card``: it does that
        last, for every reaction it handled."""
        prefix = f"/channels/{self.fake.channel_id}/messages/{card.response['id']}/reactions/"
        await self.fake.wait_for(
            lambda r: r.method == "DELETE" and r.path.startswith(prefix),
            count=count,
            timeout=WAIT_S,
        )

    def request_id(self, card: RecordedRequest) -> int:
        db = open_database(self.settings.db_path)
        try:
            [(request_id,)] = db.execute(
                "SELECT request_id FROM reply_messages WHERE message_id = ?", [card.response["id"]]
            ).fetchall()
        finally:
            db.close()
        return request_id


@pytest.fixture
def rate_limit() -> int:
    return 1000


@pytest.fixture
def guild_locale() -> str:
    return "en-US"


@pytest.fixture
async def server(tiny_analyzer, own_settings, rate_limit, guild_locale) -> AsyncIterator[Server]:
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=rate_limit)
    db = open_database(settings.db_path)
    flow = MoodService(tiny_analyzer, Storage(db), settings)
    options = DiscordOptions(token=TOKEN, sync_commands=False)
    try:
        async with (
            FakeDiscord(token=TOKEN, guild_locale=guild_locale) as fake,
            running_discord(flow, fake, options) as bot,
        ):
            yield Server(fake, bot, settings)
    finally:
        db.close()


async def test_a_429_on_the_reply_is_waited_out_and_the_card_arrives(server: Server) -> None:
    fake = server.fake
    fake.fail("POST", rf"/channels/{fake.channel_id}/messages", 429, retry_after=0.05)
    card = await server.ask(fake.snowflake())
    assert len(track_ids(card)) == 10
    posts = fake.find("POST", f"/channels/{fake.channel_id}/messages")
    assert [p.status for p in posts] == [429, 200]


async def test_a_429_on_the_edit_after_a_press_is_waited_out(server: Server) -> None:
    fake, user = server.fake, server.fake.snowflake()
    card = await server.ask(user, "calm")
    card_id = card.response["id"]
    fake.fail("PATCH", rf"/channels/\d+/messages/{card_id}", 429, retry_after=0.05)
    await server.react(user, card, "🔁")
    [edit] = await fake.wait_for(
        lambda r: r.ok and edits_of(fake.channel_id, card_id)(r), timeout=WAIT_S
    )
    assert not set(track_ids(edit)) & set(track_ids(card))
    request_id = server.request_id(card)
    await eventually(lambda: recorded_request(server.settings, request_id).rounds == 2)


async def test_an_edit_that_was_refused_changes_nothing(server: Server) -> None:
    fake, user = server.fake, server.fake.snowflake()
    card = await server.ask(user, "calm")
    card_id = card.response["id"]
    request_id = server.request_id(card)
    before = recorded_request(server.settings, request_id)
    fake.fail("PATCH", rf"/channels/\d+/messages/{card_id}", 403, code=50013)
    await server.react(user, card, "🌙")
    await server.taken_back(card, 1)
    after = recorded_request(server.settings, request_id)
    assert (after.target, after.rounds) == (before.target, before.rounds)


async def test_catalog_names_cannot_make_links_or_markup(server: Server) -> None:
    hostile = "[free nitro](https://evil.example) **bold** <@123> `code`"
    service = server.bot.flow
    recommend = service.recommend

    async def with_hostile_names(request: Any, send: Any) -> Any:
        async def hostile_send(card: Any) -> Any:
            tracks = tuple(replace(t, name=hostile) for t in card.tracks)
            return await send(replace(card, tracks=tracks))

        return await recommend(request, hostile_send)

    server.bot.flow = _Wrapped(service, with_hostile_names)
    card = await server.ask(server.fake.snowflake())
    description = card.embeds[0]["description"]
    assert "](https://evil.example)" not in description
    assert "**bold**" not in description and "<@123>" not in description
    assert description.count(r"\[free nitro\]\(https\://evil.example\)") == 10
    assert len(track_ids(card)) == 10, "the real links still work"


async def test_two_presses_at_once_give_two_rounds(server: Server) -> None:
    fake, user = server.fake, server.fake.snowflake()
    card = await server.ask(user, "calm")
    card_id = card.response["id"]
    await asyncio.gather(server.react(user, card, "🔁"), server.react(user, card, "🔁"))
    edits = await fake.wait_for(edits_of(fake.channel_id, card_id), count=2, timeout=WAIT_S)
    shown = [set(track_ids(card)), *(set(track_ids(e)) for e in edits)]
    assert len(set().union(*shown)) == 30, "no press repeated a song"
    request_id = server.request_id(card)
    await eventually(lambda: recorded_request(server.settings, request_id).rounds == 3)


@pytest.mark.parametrize("rate_limit", [1])  # 1 photo, 3 presses a minute
async def test_a_reaction_storm_gets_at_most_one_notice(server: Server) -> None:
    fake, user = server.fake, server.fake.snowflake()
    card = await server.ask(user)
    card_id = card.response["id"]
    mark = len(fake.requests)
    for _ in range(30):
        await server.react(user, card, "⚡")
    await server.taken_back(card, 30)
    later = fake.requests[mark:]
    edits = [r for r in later if r.ok and edits_of(fake.channel_id, card_id)(r)]
    notices = [r for r in later if replies_to(fake.channel_id, card_id)(r)]
    assert len(edits) == 3
    assert len(notices) == 1
    assert notices[0].content.startswith(error_text(RateLimitedError("x", 1), Language.EN)[:20])


async def test_someone_elses_reaction_is_taken_back_without_a_word(server: Server) -> None:
    fake, user = server.fake, server.fake.snowflake()
    card = await server.ask(user)
    mark = len(fake.requests)
    await server.react(fake.bystander_id, card, "🔁")
    await server.taken_back(card, 1)
    later = fake.requests[mark:]
    assert not [r for r in later if r.method == "PATCH" or r.method == "POST"]


class _Wrapped:
    """The service with ``recommend`` replaced (the rest passes through)."""

    def __init__(self, inner: MoodService, recommend: Any) -> None:
        self._inner = inner
        self.recommend = recommend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# ---- a Korean server ---------------------------------------------------------------------


async def refusal(server: Server, caption: str, attachment: dict[str, Any]) -> str:
    """Post ``attachment`` mentioning the bot; the text of the bot's reply."""
    fake = server.fake
    message = fake.message_create(
        author_id=fake.snowflake(), content=caption, attachments=[attachment], mention_bot=True
    )
    await fake.dispatch("MESSAGE_CREATE", message)
    [reply] = await fake.wait_for(replies_to(fake.channel_id, message["id"]), timeout=WAIT_S)
    assert not reply.embeds
    return reply.content


@pytest.mark.parametrize("guild_locale", ["ko"])
async def test_a_too_large_photo_is_refused_entirely_in_korean(server: Server) -> None:
    limit = server.bot.options.max_image_bytes
    big = server.fake.attachment("huge.jpg", make_photo(), "image/jpeg", size=limit + 1)
    text = await refusal(server, "rain", big)  # an English caption: the server's locale wins
    detail = text_of(ImageProblem.TOO_LARGE, Language.KO, limit="10 MB")
    assert text == text_of(ErrorReply.IMAGE, Language.KO, detail=detail)
    assert english_words(text) == [], "no English detail inside a Korean reply"


@pytest.mark.parametrize("guild_locale", ["en-US"])
async def test_a_korean_caption_is_answered_in_korean_in_an_english_server(server: Server) -> None:
    """Discord sends no user locale with a message: the caption's script says more about
    the user than the server's locale does."""
    limit = server.bot.options.max_image_bytes
    big = server.fake.attachment("huge.jpg", make_photo(), "image/jpeg", size=limit + 1)
    text = await refusal(server, "비 오는 날 창가에서", big)
    detail = text_of(ImageProblem.TOO_LARGE, Language.KO, limit="10 MB")
    assert text == text_of(ErrorReply.IMAGE, Language.KO, detail=detail)


@pytest.mark.parametrize("guild_locale", ["ko"])
async def test_a_too_long_caption_is_refused_entirely_in_korean(server: Server) -> None:
    photo = server.fake.attachment("photo.jpg", make_photo(), "image/jpeg")
    text = await refusal(server, "rain " * 120, photo)
    detail = text_of(CaptionProblem.TOO_LONG, Language.KO, length=599, limit=500)
    assert text == text_of(ErrorReply.CAPTION, Language.KO, detail=detail)
    assert english_words(text) == []
