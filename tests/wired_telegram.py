"""The Telegram bot wired as `aidj run` wires it (service_context with the worker or the
model server), against a fake Bot API: for end-to-end tests of the model step."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

from adapters.chat.telegram_bot import TelegramBot
from bot.config import Settings
from bot.wiring import service_context
from tests.fake_telegram import FakeTelegram


@contextlib.asynccontextmanager
async def wired_telegram(settings: Settings, token: str) -> AsyncIterator[FakeTelegram]:
    """A running bot for ``token`` on the real flow built from ``settings``; the fake."""
    settings = dataclasses.replace(settings, telegram_token=token)
    async with (
        FakeTelegram(token) as fake,
        service_context(settings, with_models=True, worker=True) as flow,
    ):
        options = dataclasses.replace(
            settings.telegram_options(), base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        bot = TelegramBot(flow, options)
        await bot.start()
        try:
            yield fake
        finally:
            await bot.stop()
