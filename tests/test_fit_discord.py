"""Did it fit? on Discord: the real discord.py client against the fake Discord (REST and
gateway), on the real flow with the tiny models.

A 👍 or 👎 reaction from anyone in the channel is a vote, removing it takes the vote back,
the bot leaves vote reactions in place (they are the visible vote) and does not add them
itself; ``/stats`` answers with the channel's numbers in the user's language.

A vote leaves no trace at Discord, so the tests wait for it in the database (the flow's own
``chat_stats``). The vote handler's last step is that write, so once it shows, the handler
has done everything it was going to do (no reaction of it will be removed later).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from adapters.chat.discord_bot import DiscordBot, DiscordOptions
from core.fit import VoteCount
from core.fit_text import stats_text
from core.flow import MoodFlow
from core.language import Language
from core.messages import StatsText, text_of
from tests.discord_running import running_discord
from tests.fake_discord import FakeDiscord, RecordedRequest
from tests.test_discord_bot import EMOJIS, reactions_on, send_photo
from tests.test_messages import english_words

TOKEN = "test-discord-fit-token"
WAIT_S = 5.0


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
async def discord_bot(fake: FakeDiscord, module_mood_flow: MoodFlow) -> AsyncIterator[DiscordBot]:
    async with running_discord(module_mood_flow, fake, DiscordOptions(token=TOKEN)) as bot:
        yield bot


async def votes_become(
    flow: MoodFlow, channel_id: int, check: Callable[[VoteCount], bool]
) -> VoteCount:
    """The channel's votes, once ``check`` holds for them (the bot writes them a moment after
    the gateway event)."""
    async with asyncio.timeout(WAIT_S):
        while not check(votes := (await flow.chat_stats("discord", str(channel_id))).votes):
            await asyncio.sleep(0.01)
    return votes


async def slash_stats(fake: FakeDiscord, channel_id: int, locale: str) -> RecordedRequest:
    interaction = fake.slash_command(
        "stats", user_id=fake.bystander_id, locale=locale, channel_id=channel_id
    )
    await fake.dispatch("INTERACTION_CREATE", interaction)
    path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
    [callback] = await fake.wait_for(lambda r: r.method == "POST" and r.path == path)
    return callback


async def test_thumb_reactions_from_anyone_vote_and_removing_takes_back(
    fake: FakeDiscord, discord_bot: DiscordBot, module_mood_flow: MoodFlow
) -> None:
    channel = fake.enabled_channel_id  # this test's own channel in this module
    _, card = await send_photo(fake, author_id=fake.requester_id, channel_id=channel)
    card_id = card.response["id"]
    added = [r.path.split("/")[-2] for r in fake.requests if reactions_on(channel, card_id)(r)]
    assert added == EMOJIS, "the bot adds the five controls, no thumbs"

    for voter, emoji in ((fake.bystander_id, "👍"), (fake.requester_id, "👎🏽")):
        event = fake.reaction_add(
            user_id=voter, message_id=card_id, emoji=emoji, channel_id=channel
        )
        await fake.dispatch("MESSAGE_REACTION_ADD", event)
    await votes_become(module_mood_flow, channel, lambda v: v == VoteCount(up=1, down=1))
    assert not [r for r in fake.requests if r.method == "DELETE" and card_id in r.path], (
        "a vote stays where the voter put it"
    )
    assert not fake.find("PATCH", f"/channels/{channel}/messages/{card_id}")

    change = fake.reaction_add(
        user_id=fake.bystander_id, message_id=card_id, emoji="👎", channel_id=channel
    )
    await fake.dispatch("MESSAGE_REACTION_ADD", change)
    await votes_become(module_mood_flow, channel, lambda v: v == VoteCount(down=2))

    taken_back = fake.reaction_remove(
        user_id=fake.requester_id, message_id=card_id, emoji="👎🏽", channel_id=channel
    )
    await fake.dispatch("MESSAGE_REACTION_REMOVE", taken_back)
    await votes_become(module_mood_flow, channel, lambda v: v == VoteCount(down=1))


async def test_stats_in_english_and_korean(
    fake: FakeDiscord, discord_bot: DiscordBot, module_mood_flow: MoodFlow
) -> None:
    channel = fake.channel_id
    _, card = await send_photo(fake, author_id=fake.requester_id, caption="sunny afternoon")
    up = fake.reaction_add(user_id=fake.moderator_id, message_id=card.response["id"], emoji="👍")
    await fake.dispatch("MESSAGE_REACTION_ADD", up)
    await votes_become(module_mood_flow, channel, lambda v: v.up >= 1)
    stats = await module_mood_flow.chat_stats("discord", str(channel))

    english = await slash_stats(fake, channel, "en-US")
    assert english.json["type"] == 4
    text = english.json["data"]["content"]
    assert text == stats_text(stats, Language.EN)
    assert text.startswith(text_of(StatsText.HEADER, Language.EN, cards=stats.cards))
    assert "👍 1" in text

    korean = (await slash_stats(fake, channel, "ko")).json["data"]["content"]
    assert korean == stats_text(stats, Language.KO)
    assert set(english_words(korean)) <= {"AI", "DJ"}, korean


async def test_stats_in_a_channel_without_cards(fake: FakeDiscord, discord_bot: DiscordBot) -> None:
    for language, locale in ((Language.EN, "en-GB"), (Language.KO, "ko")):
        callback = await slash_stats(fake, fake.snowflake(), locale)
        assert callback.json["data"]["content"] == text_of(StatsText.NOTHING_YET, language)
