"""`aidj run`: both chat bots in one process, sharing one model worker.

Whichever platforms have tokens in the environment are started; the process runs until
SIGINT/SIGTERM, then stops the bots before the worker so no reply is cut off mid-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from adapters.chat.protocol import ChatBot
from bot.config import Settings
from bot.logs import configure_logging
from bot.wiring import service_context

log = logging.getLogger(__name__)


async def run_forever(settings: Settings) -> int:
    configure_logging(logging.INFO, settings.secrets)
    if not (settings.discord_token or settings.telegram_token):
        log.error("set DISCORD_TOKEN and/or TELEGRAM_TOKEN (see README: Running the bots)")
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with service_context(settings, with_models=True, worker=True) as flow:
        bots: list[ChatBot] = []
        if settings.telegram_token:
            from adapters.chat.telegram_bot import TelegramBot

            bots.append(TelegramBot(flow, settings.telegram_options()))
        if settings.discord_token:
            from adapters.chat.discord_bot import DiscordBot

            bots.append(DiscordBot(flow, settings.discord_options()))
        started = []
        try:
            for chat_bot in bots:
                await chat_bot.start()
                started.append(chat_bot)
                log.info("%s started", type(chat_bot).__name__)
            await stop.wait()
        finally:
            for chat_bot in reversed(started):
                with contextlib.suppress(Exception):
                    await chat_bot.stop()
    return 0
