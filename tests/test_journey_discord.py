"""Journeys on Discord: the real discord.py client against the fake Discord, on the real flow
with the tiny models.

``/mood`` takes a ``journey`` choice (registered with Korean names for Korean clients); the
card's journey buttons (``core.controls.card_controls``) choose one or go back, only for the
requester; the card says where the songs go and why, and steering it keeps the journey,
after a restart too.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.chat.discord_bot import DiscordBot, DiscordOptions
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.controls import ControlKind
from core.journey import Journey, JourneySource
from core.language import Language
from core.messages import ErrorReply, text_of
from core.mood import Destination
from core.reply import text
from tests.conftest import eventually, make_photo, recorded_request
from tests.control_rows import data_row
from tests.discord_running import running_discord
from tests.fake_discord import EPHEMERAL, FakeDiscord, RecordedRequest
from tests.test_discord_buttons import DEFERRED_UPDATE, MESSAGE, button_ids

TOKEN = "journey-discord-token"
WAIT_S = 5.0


def description(request: RecordedRequest) -> str:
    [embed] = request.embeds
    return embed["description"]


@contextlib.asynccontextmanager
async def running_bot(flow: Any, fake: FakeDiscord, *, sync: bool) -> AsyncIterator[DiscordBot]:
    options = DiscordOptions(token=TOKEN, sync_commands=sync)
    async with running_discord(flow, fake, options) as bot:
        yield bot


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
async def discord_bot(fake: FakeDiscord, module_mood_flow) -> AsyncIterator[DiscordBot]:
    async with running_bot(module_mood_flow, fake, sync=True) as bot:
        yield bot


async def slash_mood(
    fake: FakeDiscord, user: int, journey: str | None, *, locale: str = "en-US", caption: str = ""
) -> RecordedRequest:
    """``/mood photo: [caption:] [journey:]``; the card's follow-up once its controls are on."""
    photo = fake.attachment("journey.jpg", make_photo((30, 90, 200)), "image/jpeg")
    options: list[dict[str, Any]] = [{"name": "photo", "type": 11, "value": photo["id"]}]
    if caption:
        options.append({"name": "caption", "type": 3, "value": caption})
    if journey:
        options.append({"name": "journey", "type": 3, "value": journey})
    interaction = fake.slash_command(
        "mood", user_id=user, options=options, attachments=[photo], locale=locale
    )
    await fake.dispatch("INTERACTION_CREATE", interaction)
    path = f"/webhooks/{fake.application_id}/{interaction['token']}"
    [followup] = await fake.wait_for(
        lambda r: r.method == "POST" and r.path == path, timeout=WAIT_S
    )
    prefix = f"/channels/{fake.channel_id}/messages/{followup.response['id']}/reactions/"
    await fake.wait_for(
        lambda r: r.method == "PUT" and r.path.startswith(prefix), count=5, timeout=WAIT_S
    )
    return followup


async def react(fake: FakeDiscord, user: int, card: RecordedRequest, emoji: str) -> RecordedRequest:
    """``user`` reacts on ``card``; the card's edit."""
    since = len(fake.requests)
    path = f"/channels/{fake.channel_id}/messages/{card.response['id']}"
    payload = fake.reaction_add(user_id=user, message_id=card.response["id"], emoji=emoji)
    await fake.dispatch("MESSAGE_REACTION_ADD", payload)
    [edit] = await fake.wait_for(
        lambda r: r.method == "PATCH" and r.path == path and fake.requests.index(r) >= since,
        timeout=WAIT_S,
    )
    return edit


async def test_mood_registers_a_journey_choice_named_in_both_languages(
    fake: FakeDiscord, discord_bot: DiscordBot
) -> None:
    [sync] = await fake.wait_for(
        lambda r: r.method == "PUT" and r.path == f"/applications/{fake.application_id}/commands"
    )
    mood = next(command for command in sync.json if command["name"] == "mood")
    journey = next(option for option in mood["options"] if option["name"] == "journey")
    assert journey["type"] == 3 and not journey.get("required")
    choices = journey["choices"]
    assert [c["value"] for c in choices] == [d.value for d in Destination]
    assert choices[0]["name"] == "🌈 lift me up"
    assert choices[0]["name_localizations"] == {"ko": "🌈 기분 끌어올리기"}


async def test_mood_with_a_journey_and_a_reaction_that_keeps_it(
    fake: FakeDiscord, discord_bot: DiscordBot, module_settings
) -> None:
    user = fake.snowflake()
    card = await slash_mood(fake, user, "wind_down")
    shown = description(card)
    assert "Journey 🛌 wind down" in shown and text("journey_command", "en") in shown

    edit = await react(fake, user, card, "🔁")
    assert "Journey 🛌 wind down" in description(edit)
    assert description(edit) != shown

    since = len(fake.requests)
    stranger = fake.reaction_add(
        user_id=fake.bystander_id, message_id=card.response["id"], emoji="⚡"
    )
    await fake.dispatch("MESSAGE_REACTION_ADD", stranger)
    await react(fake, user, card, "🌙")  # answered after the stranger's: bounds the wait
    edits = [
        r
        for r in fake.requests[since:]
        if r.method == "PATCH" and r.path.endswith(f"/messages/{card.response['id']}")
    ]
    assert len(edits) == 1, "the stranger's reaction changed nothing"
    request_id = _request_of(module_settings, card)
    # the flow keeps a round once the edit returned: the two presses' rounds, then
    await eventually(lambda: recorded_request(module_settings, request_id).rounds == 3)
    stored = recorded_request(module_settings, request_id)
    assert stored.journey == Journey(Destination.WIND_DOWN, JourneySource.COMMAND)


async def test_mood_with_a_journey_in_korean(fake: FakeDiscord, discord_bot: DiscordBot) -> None:
    card = await slash_mood(fake, fake.snowflake(), "hype", locale="ko")
    shown = description(card)
    assert "여정 🚀 텐션 올리기" in shown and text("journey_command", "ko") in shown


async def test_mood_without_a_journey_makes_none(
    fake: FakeDiscord, discord_bot: DiscordBot
) -> None:
    card = await slash_mood(fake, fake.snowflake(), None)
    assert "Journey" not in description(card)


async def press(
    fake: FakeDiscord, user: int, card: RecordedRequest, custom_id: str, locale: str
) -> tuple[dict[str, Any], RecordedRequest]:
    """Press a button on ``card``; the interaction and the bot's one answer to it."""
    interaction = fake.button_press(
        user_id=user, message_id=card.response["id"], custom_id=custom_id, locale=locale
    )
    await fake.dispatch("INTERACTION_CREATE", interaction)
    path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
    [answer] = await fake.wait_for(lambda r: r.method == "POST" and r.path == path, timeout=WAIT_S)
    return interaction, answer


async def card_edit(fake: FakeDiscord, interaction: dict[str, Any]) -> RecordedRequest:
    """The card edited through the press (its ``@original`` is the card)."""
    path = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/@original"
    [edit] = await fake.wait_for(lambda r: r.method == "PATCH" and r.path == path, timeout=WAIT_S)
    return edit


def journey_labels(request: RecordedRequest) -> list[str]:
    return [
        button["label"]
        for row in request.json["components"]
        for button in row["components"]
        if ":journey:" in button["custom_id"]
    ]


@pytest.mark.parametrize(
    ("locale", "language", "lift", "stay"),
    [
        ("en-US", Language.EN, "🌈 lift me up", "Stay"),
        ("ko", Language.KO, "🌈 기분 끌어올리기", "그대로"),
    ],
)
async def test_journey_buttons_choose_and_end_a_journey_for_the_requester_only(
    fake: FakeDiscord, discord_bot: DiscordBot, module_settings, locale, language, lift, stay
) -> None:
    user = fake.snowflake()
    card = await slash_mood(fake, user, None, locale=locale)
    request_id = _request_of(module_settings, card)
    journey_ids = data_row(button_ids(card), ControlKind.JOURNEY)
    assert journey_ids == [f"aidj:{request_id}:journey:{d.value}" for d in Destination]

    since = len(fake.requests)
    _, answer = await press(fake, fake.bystander_id, card, journey_ids[0], locale)
    assert answer.json["type"] == MESSAGE and answer.json["data"]["flags"] & EPHEMERAL
    assert answer.json["data"]["content"] == text_of(ErrorReply.NOT_REQUESTER, language)
    assert not [r for r in fake.requests[since:] if r.method == "PATCH"]
    assert recorded_request(module_settings, request_id).journey is None

    interaction, answer = await press(fake, user, card, journey_ids[0], locale)
    assert answer.json["type"] == DEFERRED_UPDATE
    edit = await card_edit(fake, interaction)
    shown = description(edit)
    assert lift in shown and text("journey_control", language) in shown
    labels = journey_labels(edit)
    assert labels[0].startswith("✓ ") and labels[-1].endswith(stay) and len(labels) == 5

    interaction, _ = await press(fake, user, edit, f"aidj:{request_id}:journey:stay", locale)
    back = await card_edit(fake, interaction)
    assert lift not in description(back) and len(journey_labels(back)) == 4
    await eventually(lambda: recorded_request(module_settings, request_id).rounds == 3)
    assert recorded_request(module_settings, request_id).journey is None


async def test_a_restart_keeps_the_journey(tiny_analyzer, own_settings) -> None:
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=1000)
    async with FakeDiscord(token=TOKEN) as server:
        user = server.snowflake()
        storage = Storage(open_database(settings.db_path))
        async with running_bot(MoodService(tiny_analyzer, storage, settings), server, sync=False):
            card = await slash_mood(server, user, "focus")
        storage.close()

        storage = Storage(open_database(settings.db_path))
        async with running_bot(MoodService(tiny_analyzer, storage, settings), server, sync=False):
            edit = await react(server, user, card, "🔁")
        storage.close()
    assert "Journey 🎯 focus" in description(edit)
    request_id = _request_of(settings, card)
    assert recorded_request(settings, request_id).rounds == 2


def _request_of(settings, card: RecordedRequest) -> int:
    db = open_database(settings.db_path)
    try:
        [(request_id,)] = db.execute(
            "SELECT request_id FROM reply_messages WHERE message_id = ?", [card.response["id"]]
        ).fetchall()
    finally:
        db.close()
    return request_id
