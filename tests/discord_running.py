"""A real ``DiscordBot`` logged in to the fake Discord, for the length of a block.

discord.py reads its REST base from a class attribute (``discord.http.Route.BASE``), so a
bot talks to the fake only while that points at it; this sets it for the block, starts the
bot, waits until the fake's READY reached it, and undoes both at the end, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord

from adapters.chat.discord_bot import DiscordBot, DiscordOptions
from core.flow import MoodFlow
from tests.fake_discord import FakeDiscord

READY_TIMEOUT_S = 10.0


@contextlib.asynccontextmanager
async def running_discord(
    flow: MoodFlow, fake: FakeDiscord, options: DiscordOptions
) -> AsyncIterator[DiscordBot]:
    """``DiscordBot(flow, options)`` running against ``fake`` until the block ends."""
    original_base = discord.http.Route.BASE
    discord.http.Route.BASE = fake.api_base
    bot = DiscordBot(flow, options)
    try:
        await bot.start()
        async with asyncio.timeout(READY_TIMEOUT_S):
            await bot.wait_until_ready()
        yield bot
    finally:
        await bot.stop()
        discord.http.Route.BASE = original_base
