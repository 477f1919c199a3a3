"""Two `aidj run` processes sharing one Discord bot: shards 0/2 and 1/2 against the fake.

Each client is the real discord.py ``AutoShardedClient`` with the shards its settings name
(``AIDJ_DISCORD_SHARDS``), and each has a flow and a database of its own, as two processes on
two machines would. The fake routes every guild event to the connection of the shard Discord
assigns the guild, and DMs to shard 0, so the assertions show what a deployment relies on:
each process answers only its own guilds, a card's controls come back to the process that
posted it (whose database knows the card), and the slash commands are synced once. Two
processes on one machine may instead share one database file (WAL): the last test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from adapters.chat.discord_bot import DiscordBot
from bot.config import Settings, load_settings
from core.flow import MoodFlow
from tests.conftest import make_photo
from tests.fake_discord import FakeDiscord, FakeGuild

TOKEN = "test-discord-token-for-two-shards"
WAIT_S = 10.0


@dataclasses.dataclass
class Process:
    """What one `aidj run` process holds: its bot and its own flow (own database)."""

    bot: DiscordBot
    flow: MoodFlow

    async def card_for(self, channel_id: int, message_id: str) -> int | None:
        return await self.flow.request_for_message("discord", str(channel_id), message_id)


@pytest.fixture
def discord_at_fake() -> Iterator[None]:
    """REST at the fake; and the gateway, which a client with a fixed shard count takes from
    ``DEFAULT_GATEWAY`` instead of asking ``GET /gateway/bot``."""
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
async def fake(discord_at_fake: None) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        discord.http.Route.BASE = server.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
        yield server


@contextlib.asynccontextmanager
async def two_processes(
    settings: Settings, tiny_analyzer: Any, databases: tuple[Path, Path]
) -> AsyncIterator[tuple[Process, Process]]:
    """The processes running shards 0/2 and 1/2, each with its own connection to its
    database file (the same file twice: two processes on one machine sharing it)."""
    from adapters.storage.database import open_database
    from adapters.storage.gateway import Storage
    from bot.service import MoodService

    running: list[Process] = []
    async with contextlib.AsyncExitStack() as stack:
        for shard, database in zip(("0/2", "1/2"), databases, strict=True):
            if not database.exists():
                shutil.copyfile(settings.db_path, database)  # the catalog, copied
            storage = stack.enter_context(contextlib.closing(Storage(open_database(database))))
            flow = MoodService(tiny_analyzer, storage, settings)
            env = {"DISCORD_TOKEN": TOKEN, "AIDJ_DISCORD_SHARDS": shard}
            options = load_settings(env, dotenv=False).discord_options()
            process = Process(DiscordBot(flow, options), flow)
            stack.push_async_callback(process.bot.stop)
            await process.bot.start()
            running.append(process)
        async with asyncio.timeout(WAIT_S):
            for process in running:
                await process.bot.wait_until_ready()
        yield running[0], running[1]


@pytest.fixture
def guilds(fake: FakeDiscord) -> tuple[FakeGuild, FakeGuild]:
    """Two guilds, one per shard of two."""
    on_0 = fake.add_guild(shard=(0, 2), name="on shard 0")
    return on_0, fake.add_guild(shard=(1, 2), name="on shard 1")


@pytest.fixture
async def processes(
    fake: FakeDiscord,
    guilds: tuple[FakeGuild, FakeGuild],
    own_settings: Settings,
    tiny_analyzer: Any,
    tmp_path: Path,
) -> AsyncIterator[tuple[Process, Process, FakeGuild, FakeGuild]]:
    """The two processes, each with a database file of its own (as on two machines)."""
    databases = (tmp_path / "shard-0.db", tmp_path / "shard-1.db")
    async with two_processes(own_settings, tiny_analyzer, databases) as (first, second):
        yield first, second, *guilds


def replies_to(channel_id: int, message_id: str) -> Any:
    def match(r: Any) -> bool:
        reference = r.payload.get("message_reference") or {}
        return (
            r.method == "POST"
            and r.path == f"/channels/{channel_id}/messages"
            and str(reference.get("message_id")) == message_id
        )

    return match


async def photo_card(
    fake: FakeDiscord, channel_id: int, author_id: int, *, dm: bool = False
) -> tuple[dict[str, Any], str]:
    """A photo that mentions the bot in ``channel_id`` (or a DM): the message and the id of
    the card that answered it, once its controls are on."""
    photo = fake.attachment("photo.jpg", make_photo(), "image/jpeg", channel_id=channel_id)
    message = fake.message_create(
        author_id=author_id,
        content="late night drive",
        attachments=[photo],
        channel_id=channel_id,
        dm=dm,
        mention_bot=not dm,
    )
    await fake.dispatch("MESSAGE_CREATE", message)
    [card] = await fake.wait_for(replies_to(channel_id, message["id"]), timeout=WAIT_S)
    card_id = card.response["id"]
    prefix = f"/channels/{channel_id}/messages/{card_id}/reactions/"
    await fake.wait_for(
        lambda r: r.method == "PUT" and r.path.startswith(prefix), count=5, timeout=WAIT_S
    )
    return message, card_id


async def test_each_process_identifies_its_shard_and_gets_only_its_guilds(
    fake: FakeDiscord, processes: tuple[Process, Process, FakeGuild, FakeGuild]
) -> None:
    first, second, guild_0, guild_1 = processes
    assert sorted(identify["shard"] for identify in fake.identifies) == [[0, 2], [1, 2]]
    assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
    first_guilds = {guild.id for guild in first.bot.client.guilds}
    second_guilds = {guild.id for guild in second.bot.client.guilds}
    assert guild_0.id in first_guilds and guild_0.id not in second_guilds
    assert guild_1.id in second_guilds and guild_1.id not in first_guilds
    assert not first_guilds & second_guilds
    assert first_guilds | second_guilds == {guild.id for guild in fake.guilds}
    # the commands belong to the application: the process with shard 0 syncs them
    assert first.bot.syncs_commands and not second.bot.syncs_commands
    await fake.wait_for(
        lambda r: r.method == "PUT" and r.path == f"/applications/{fake.application_id}/commands"
    )


async def test_each_process_answers_its_own_guilds_and_steers_its_own_cards(
    fake: FakeDiscord, processes: tuple[Process, Process, FakeGuild, FakeGuild]
) -> None:
    first, second, guild_0, guild_1 = processes
    author = fake.snowflake()

    _, card_0 = await photo_card(fake, guild_0.channel_id, author)
    _, card_1 = await photo_card(fake, guild_1.channel_id, author)
    # each card is known to the process (and the database) of its guild's shard only
    assert await first.card_for(guild_0.channel_id, card_0) is not None
    assert await second.card_for(guild_0.channel_id, card_0) is None
    assert await second.card_for(guild_1.channel_id, card_1) is not None
    assert await first.card_for(guild_1.channel_id, card_1) is None

    # a control on the shard-1 guild's card reaches the process that posted it, which edits
    reaction = fake.reaction_add(
        user_id=author, message_id=card_1, emoji="🔁", channel_id=guild_1.channel_id
    )
    await fake.dispatch("MESSAGE_REACTION_ADD", reaction)
    [edit] = await fake.wait_for(
        lambda r: (
            r.method == "PATCH" and r.path == f"/channels/{guild_1.channel_id}/messages/{card_1}"
        ),
        timeout=WAIT_S,
    )
    assert edit.embeds and edit.ok


async def test_direct_messages_reach_the_process_with_shard_zero(
    fake: FakeDiscord, processes: tuple[Process, Process, FakeGuild, FakeGuild]
) -> None:
    first, second, _, _ = processes
    _, card = await photo_card(fake, fake.dm_channel_id, fake.snowflake(), dm=True)
    assert await first.card_for(fake.dm_channel_id, card) is not None
    assert await second.card_for(fake.dm_channel_id, card) is None


async def test_two_processes_on_one_machine_may_share_one_database_file(
    fake: FakeDiscord,
    guilds: tuple[FakeGuild, FakeGuild],
    own_settings: Settings,
    tiny_analyzer: Any,
) -> None:
    guild_0, guild_1 = guilds
    shared = own_settings.db_path
    async with two_processes(own_settings, tiny_analyzer, (shared, shared)) as (first, second):
        author = fake.snowflake()
        (_, card_0), (_, card_1) = await asyncio.gather(  # both at once: concurrent writers
            photo_card(fake, guild_0.channel_id, author),
            photo_card(fake, guild_1.channel_id, author),
        )
        request_0 = await first.card_for(guild_0.channel_id, card_0)
        request_1 = await second.card_for(guild_1.channel_id, card_1)
        assert request_0 is not None and request_1 is not None and request_0 != request_1
        # one file: each process sees the other's cards too (WAL, one machine)
        assert await second.card_for(guild_0.channel_id, card_0) == request_0
        assert await first.card_for(guild_1.channel_id, card_1) == request_1

        reaction = fake.reaction_add(
            user_id=author, message_id=card_0, emoji="⚡", channel_id=guild_0.channel_id
        )
        await fake.dispatch("MESSAGE_REACTION_ADD", reaction)
        path = f"/channels/{guild_0.channel_id}/messages/{card_0}"
        [edit] = await fake.wait_for(
            lambda r: r.method == "PATCH" and r.path == path, timeout=WAIT_S
        )
        assert edit.ok and edit.embeds
