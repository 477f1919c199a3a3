"""Telegram webhook mode and a self-hosted Bot API server, as `aidj run` builds the bot.

The bot comes from ``bot.run.chat_bots`` with settings read from environment variables, and
``TELEGRAM_API_BASE`` points it at the fake Bot API (``tests.fake_telegram``), as it would at
a self-hosted telegram-bot-api. In webhook mode PTB's own web server listens on 127.0.0.1 and
the test plays Telegram (and the reverse proxy before it): it POSTs updates there, signed
with the secret the bot gave setWebhook, or not. A refused request is proven to change
nothing by a later signed update being handled with nothing received before it
(``tests.handled_updates``), never by waiting.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram.error import Conflict

from adapters.chat.telegram_bot import ALLOWED_UPDATES, TelegramBot
from bot.config import Settings, load_settings
from bot.run import chat_bots
from core.errors import ConfigError
from core.flow import MoodFlow
from tests.conftest import make_photo
from tests.fake_telegram import FakeTelegram, private_chat, user
from tests.handled_updates import HandledUpdates

TOKEN = "123456789:webhook-test-token-never-logged"
SECRET = "s3cret_webhook-token_that-never-shows"
WEBHOOK_URL = "https://aidj.example.test/hooks/telegram"
WAIT_S = 10.0
PERSON = user(7001)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def flow(own_settings: Settings, tiny_analyzer: Any) -> Iterator[MoodFlow]:
    """The real flow on this test's own database."""
    from adapters.storage.database import open_database
    from adapters.storage.gateway import Storage
    from bot.service import MoodService

    storage = Storage(open_database(own_settings.db_path))
    yield MoodService(tiny_analyzer, storage, own_settings)
    storage.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


def settings_for(fake: FakeTelegram, **env: str) -> Settings:
    return load_settings(
        {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_BASE": fake.root_url, **env}, dotenv=False
    )


def telegram_bot(flow: MoodFlow, settings: Settings) -> TelegramBot:
    """The Telegram bot `aidj run` would start with these settings."""
    [(name, bot)] = chat_bots(flow, settings)
    assert name == "telegram" and isinstance(bot, TelegramBot)
    return bot


class Webhook:
    """The bot in webhook mode, and where a reverse proxy would forward Telegram's POSTs."""

    def __init__(self, bot: TelegramBot, port: int) -> None:
        self.bot = bot
        self.address = f"http://127.0.0.1:{port}/hooks/telegram"  # the URL's path, unchanged
        self.handled = HandledUpdates(bot.application)


@pytest.fixture
async def webhook(fake: FakeTelegram, flow: MoodFlow) -> AsyncIterator[Webhook]:
    port = free_port()
    settings = settings_for(
        fake,
        AIDJ_TELEGRAM_WEBHOOK_URL=WEBHOOK_URL,
        AIDJ_TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        AIDJ_TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    running = Webhook(telegram_bot(flow, settings), port)
    await running.bot.start()
    try:
        yield running
    finally:
        await running.bot.stop()


async def test_webhook_mode_sets_the_webhook_and_answers_signed_updates(
    fake: FakeTelegram, webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    [registered] = fake.calls("setWebhook")
    assert registered.params["url"] == WEBHOOK_URL
    assert registered.params["secret_token"] == SECRET
    assert registered.json("allowed_updates") == list(ALLOWED_UPDATES)
    assert fake.webhook is not None  # the fake keeps it, as Telegram does
    assert not fake.calls("getUpdates")  # Telegram pushes; nobody polls
    assert webhook.bot.connected

    # Telegram delivers a photo, with the secret it was given
    since = fake.mark()
    message = fake.photo_message(private_chat(PERSON), PERSON, make_photo(), "sunny walk")
    update_id, status = await fake.deliver(
        webhook.address, {"message": message}, secret=fake.webhook["secret_token"]
    )
    assert status == 200
    card = await fake.wait_for(
        "sendPhoto", lambda r: r.ok and r.reply_to == message["message_id"], since=since
    )
    assert card.params["caption"].count("open.spotify.com/track/") == 10
    await webhook.handled.wait(update_id)

    # while the webhook is set, Telegram refuses to be polled as well (409 Conflict)
    with pytest.raises(Conflict):
        await webhook.bot.application.bot.get_updates(timeout=0)
    assert all(SECRET not in line for line in caplog.messages)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_a_request_without_the_right_secret_is_refused_and_changes_nothing(
    fake: FakeTelegram, webhook: Webhook, secret: str | None
) -> None:
    since = fake.mark()
    forged = fake.photo_message(private_chat(PERSON), PERSON, make_photo(), "let me in")
    forged_id, status = await fake.deliver(webhook.address, {"message": forged}, secret=secret)
    assert status == 403  # PTB's webhook server refuses it before parsing

    signed = fake.text_message(private_chat(PERSON), PERSON, "/help")
    signed_id, status = await fake.deliver(webhook.address, {"message": signed}, secret=SECRET)
    assert status == 200
    await webhook.handled.wait(signed_id)
    await fake.reply_to(signed, since=since)

    # updates are taken in order: the forged one would have been received before the signed
    assert webhook.handled.received == {signed_id}
    assert forged_id not in webhook.handled.received
    assert not fake.calls("getFile", since)  # its photo was never even fetched
    assert not fake.calls("sendPhoto", since)
    assert [r.reply_to for r in fake.calls("sendMessage", since)] == [signed["message_id"]]


async def test_polling_against_a_self_hosted_bot_api_deletes_a_webhook_left_set(
    fake: FakeTelegram, flow: MoodFlow, webhook: Webhook
) -> None:
    await webhook.bot.stop()  # a webhook deployment goes away, its webhook stays set
    assert fake.webhook is not None

    bot = telegram_bot(flow, settings_for(fake))  # TELEGRAM_API_BASE only: polling
    handled = HandledUpdates(bot.application)
    since = fake.mark()
    await bot.start()
    try:
        await fake.wait_for("deleteWebhook", since=since)
        assert fake.webhook is None
        message = fake.text_message(private_chat(PERSON), PERSON, "/start")
        update_id = fake.send_message_update(message)
        await handled.wait(update_id, timeout=WAIT_S)
        reply = await fake.reply_to(message, since=since)
        assert reply.ok
        polls = fake.calls("getUpdates", since)
        assert polls and all(poll.ok for poll in polls)
    finally:
        await bot.stop()


async def test_a_taken_listen_port_is_a_config_error(fake: FakeTelegram, flow: MoodFlow) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = settings_for(
            fake,
            AIDJ_TELEGRAM_WEBHOOK_URL=WEBHOOK_URL,
            AIDJ_TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            AIDJ_TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
        bot = telegram_bot(flow, settings)
        with pytest.raises(ConfigError, match=f"Telegram webhook on 127.0.0.1:{port}"):
            await bot.start()
    assert not bot.connected
    await bot.stop()  # safe after a failed start
