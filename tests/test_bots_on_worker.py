"""The wiring `aidj run` uses: the model worker process behind a real chat bot.

The chat suites run the flow in-process for speed; this one goes through
``bot.wiring.service_context(worker=True)``, so the photo crosses into the worker process
and the card comes back to the Telegram bot, as in production.
"""

from __future__ import annotations

import re

from core.steering import Action
from tests.conftest import make_photo
from tests.fake_telegram import private_chat, user
from tests.wired_telegram import wired_telegram

TOKEN = "424242:worker-wiring-token"
TRACK_LINK = re.compile(r'href="https://open\.spotify\.com/track/([A-Za-z0-9]+)"')


async def test_a_photo_goes_through_the_worker_process_and_back(own_settings):
    sender = user(9001)
    async with wired_telegram(own_settings, TOKEN) as fake:
        since = fake.mark()
        message = fake.photo_message(private_chat(sender), sender, make_photo(), "신나는 하루!")
        fake.send_message_update(message)
        sent = await fake.wait_for("sendPhoto", since=since, timeout=60)
        first = TRACK_LINK.findall(sent.params["caption"])
        assert len(set(first)) == 10

        keyboard = sent.json("reply_markup")["inline_keyboard"]
        regenerate = next(
            b for row in keyboard for b in row if b["text"] == Action.REGENERATE.emoji
        )
        since = fake.mark()
        fake.press(sender, sent.result, regenerate["callback_data"])
        edit = await fake.wait_for("editMessageMedia", since=since, timeout=30)
        second = TRACK_LINK.findall(edit.json("media")["caption"])
        assert len(set(second)) == 10 and not set(first) & set(second)
