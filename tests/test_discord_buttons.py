"""Buttons on Discord (issue 11, point 1) and the scene choice on them (point 6).

The real discord.py client against the fake Discord (``tests.fake_discord``: presses as
INTERACTION_CREATE type 3, one response per interaction within 3 s, components validated),
on the real flow with the tiny models; each test has its own database, fake and bot, so a
restart is a new ``DiscordBot`` (and a new flow) on the same database file.

A press is always answered once, so "nothing else happened" is proven by the answer: a
refused press's ephemeral reply is its handler's last act.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest

from adapters.chat.discord_bot import DiscordBot, DiscordOptions
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.config import Settings
from bot.service import MoodService
from core.categories import get_category
from core.controls import ControlKind
from core.language import Language
from core.messages import ErrorReply, text_of
from core.steering import Action
from tests.conftest import eventually, make_photo, recorded_request
from tests.control_rows import data_row
from tests.discord_running import running_discord
from tests.fake_discord import EPHEMERAL, FakeDiscord, RecordedRequest
from tests.test_discord_bot import reactions_on, replies_to, track_ids
from tests.test_messages import english_words

TOKEN = "buttons-discord-token"
WAIT_S = 5.0
CLOSE_CALL = make_photo()  # the tiny CLIP reads its best two scenes within 0.10
HANGUL = re.compile(r"[\uac00-\ud7a3]")
DEFERRED_UPDATE, MESSAGE = 6, 4  # interaction callback types


@dataclass
class Server:
    fake: FakeDiscord
    settings: Settings
    analyzer: Any
    bot: DiscordBot | None = None
    storage: Storage | None = None
    running: contextlib.AsyncExitStack | None = None

    async def start(self, settings: Settings | None = None) -> None:
        """A bot (and flow) on ``settings``' database, as a fresh process would start."""
        self.settings = settings or self.settings
        self.storage = Storage(open_database(self.settings.db_path))
        flow = MoodService(self.analyzer, self.storage, self.settings)
        options = DiscordOptions(token=TOKEN, sync_commands=False)
        self.running = contextlib.AsyncExitStack()
        self.bot = await self.running.enter_async_context(running_discord(flow, self.fake, options))

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.aclose()
        if self.storage is not None:
            self.storage.close()
        self.bot = self.storage = self.running = None

    async def ask(self, user: int, caption: str = "rain") -> RecordedRequest:
        """A close-call photo mentioning the bot; the card reply once its reactions are on."""
        fake, channel = self.fake, self.fake.channel_id
        attachment = fake.attachment("photo.jpg", CLOSE_CALL, "image/jpeg", channel_id=channel)
        message = fake.message_create(
            author_id=user, content=caption, attachments=[attachment], mention_bot=True
        )
        await fake.dispatch("MESSAGE_CREATE", message)
        [card] = await fake.wait_for(replies_to(channel, message["id"]), timeout=WAIT_S)
        await fake.wait_for(reactions_on(channel, card.response["id"]), count=5, timeout=WAIT_S)
        return card

    async def press(
        self, user: int, card: RecordedRequest, custom_id: str, locale: str = "en-US"
    ) -> tuple[dict[str, Any], RecordedRequest]:
        """Press a button on ``card``; the interaction and the bot's one response to it."""
        interaction = self.fake.button_press(
            user_id=user, message_id=card.response["id"], custom_id=custom_id, locale=locale
        )
        await self.fake.dispatch("INTERACTION_CREATE", interaction)
        path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
        [answer] = await self.fake.wait_for(
            lambda r: r.method == "POST" and r.path == path, timeout=WAIT_S
        )
        return interaction, answer

    async def card_edit(self, interaction: dict[str, Any]) -> RecordedRequest:
        """The card edited through the interaction (its ``@original``: the card)."""
        path = f"/webhooks/{self.fake.application_id}/{interaction['token']}/messages/@original"
        [edit] = await self.fake.wait_for(
            lambda r: r.method == "PATCH" and r.path == path, timeout=WAIT_S
        )
        return edit

    def request_id(self, card: RecordedRequest) -> int:
        return int(button_ids(card)[0][0].split(":")[1])


def button_ids(request: RecordedRequest) -> list[list[str]]:
    """The custom ids of the buttons a message create or edit set, row by row."""
    return [[b["custom_id"] for b in row["components"]] for row in request.json["components"]]


def fake_user(server: Server) -> int:
    """A fresh requester, so one test's presses never count against another's."""
    return server.fake.snowflake()


def card_changes(fake: FakeDiscord, since: int) -> list[RecordedRequest]:
    """Edits of any message, and new channel messages, after ``since``."""
    return [
        r
        for r in fake.requests[since:]
        if r.method == "PATCH" or (r.method == "POST" and r.path.startswith("/channels/"))
    ]


@pytest.fixture
def guild_locale() -> str:
    return "en-US"


@pytest.fixture
async def server(tiny_analyzer, own_settings, guild_locale) -> AsyncIterator[Server]:
    async with FakeDiscord(token=TOKEN, guild_locale=guild_locale) as fake:
        running = Server(fake, own_settings, tiny_analyzer)
        try:
            await running.start()
            yield running
        finally:
            await running.stop()


# ---- the buttons -------------------------------------------------------------------------


async def test_a_card_carries_its_controls_as_buttons_next_to_the_reactions(
    server: Server,
) -> None:
    card = await server.ask(server.fake.snowflake())
    request_id = server.request_id(card)
    rows = button_ids(card)
    steering, scenes = data_row(rows, ControlKind.STEER), data_row(rows, ControlKind.SCENE)
    assert steering == [f"aidj:{request_id}:{action.value}" for action in Action]
    buttons = {b["custom_id"]: b for row in card.json["components"] for b in row["components"]}
    assert [buttons[data]["label"] for data in steering] == [a.emoji for a in Action]
    stored = recorded_request(server.settings, request_id)
    distribution = stored.analysis.reading.image.distribution
    best_two = sorted(distribution, key=distribution.__getitem__, reverse=True)[:2]
    assert scenes == [f"aidj:{request_id}:scene:{scene}" for scene in best_two]
    labels = [buttons[data]["label"] for data in scenes]
    assert labels == [get_category(scene).label(Language.EN) for scene in best_two]
    assert {buttons[data]["style"] for data in scenes} == {discord.ButtonStyle.primary.value}
    assert "Pick one to re-base the playlist." in card.embeds[0]["description"]
    # Discord keeps what it accepted: the card message has the buttons
    assert server.fake.messages[int(card.response["id"])]["components"] == card.json["components"]


@pytest.mark.parametrize(
    ("guild_locale", "caption", "locale"),
    [("en-US", "calm evening", "en-US"), ("ko", "조용한 저녁", "ko")],
)
async def test_a_press_is_acknowledged_first_then_edits_the_card(
    server: Server, caption: str, locale: str
) -> None:
    fake, requester = server.fake, fake_user(server)
    card = await server.ask(requester, caption)
    request_id = server.request_id(card)
    since = len(fake.requests)

    interaction, answer = await server.press(
        requester, card, f"aidj:{request_id}:more_energy", locale
    )
    assert answer.json["type"] == DEFERRED_UPDATE and answer.ok
    edit = await server.card_edit(interaction)
    assert fake.requests.index(answer) < fake.requests.index(edit), "deferred before the work"
    new_ids = track_ids(edit)
    assert len(set(new_ids)) == 10 and not set(new_ids) & set(track_ids(card))
    assert [f.filename for f in edit.files] == ["mood.png"]
    assert button_ids(edit) == button_ids(card), "the buttons stay, the question too"
    description = edit.embeds[0]["description"]
    if locale == "ko":
        assert HANGUL.search(description) and HANGUL.search(edit.embeds[0]["title"])
    else:
        assert not HANGUL.search(description)
    assert [r for r in card_changes(fake, since) if r is not edit] == [], "only the card edit"
    await eventually(lambda: recorded_request(server.settings, request_id).rounds == 2)
    stored = recorded_request(server.settings, request_id)
    assert stored.target.energy > stored.final.energy, "⚡ raised the target"


@pytest.mark.parametrize(("locale", "language"), [("en-US", Language.EN), ("ko", Language.KO)])
async def test_someone_elses_press_is_refused_ephemerally_and_a_moderator_may_steer(
    server: Server, locale: str, language: Language
) -> None:
    fake = server.fake
    card = await server.ask(fake_user(server), "party")
    request_id = server.request_id(card)
    since = len(fake.requests)

    _, answer = await server.press(fake.bystander_id, card, f"aidj:{request_id}:regenerate", locale)
    assert answer.json["type"] == MESSAGE
    assert answer.json["data"]["flags"] & EPHEMERAL
    refusal = answer.json["data"]["content"]
    assert refusal == text_of(ErrorReply.NOT_REQUESTER, language)
    if language is Language.KO:
        assert not english_words(refusal)
    assert card_changes(fake, since) == []
    assert recorded_request(server.settings, request_id).rounds == 1

    interaction, answer = await server.press(
        fake.moderator_id, card, f"aidj:{request_id}:calmer", locale
    )
    assert answer.json["type"] == DEFERRED_UPDATE
    edit = await server.card_edit(interaction)
    assert len(set(track_ids(edit))) == 10


async def test_buttons_keep_working_after_a_restart(server: Server) -> None:
    requester = fake_user(server)
    card = await server.ask(requester, "road trip")
    request_id = server.request_id(card)
    await server.stop()
    await server.start()  # a new process: a new client that never saw the card

    interaction, answer = await server.press(requester, card, f"aidj:{request_id}:regenerate")
    assert answer.json["type"] == DEFERRED_UPDATE
    edit = await server.card_edit(interaction)
    assert not set(track_ids(edit)) & set(track_ids(card))
    assert button_ids(edit) == button_ids(card)
    await eventually(lambda: recorded_request(server.settings, request_id).rounds == 2)


async def test_a_press_on_a_message_that_is_not_a_card_is_refused(
    server: Server, catalog_template, tmp_path
) -> None:
    requester = fake_user(server)
    card = await server.ask(requester, "snow")
    request_id = server.request_id(card)
    await server.stop()
    fresh = tmp_path / "fresh" / "aidj.db"  # the bot restarted on another database
    fresh.parent.mkdir()
    shutil.copyfile(catalog_template, fresh)
    await server.start(dataclasses.replace(server.settings, db_path=fresh))
    since = len(server.fake.requests)

    _, answer = await server.press(requester, card, f"aidj:{request_id}:regenerate", "ko")
    assert answer.json["type"] == MESSAGE and answer.json["data"]["flags"] & EPHEMERAL
    assert answer.json["data"]["content"] == text_of(ErrorReply.UNKNOWN_REQUEST, Language.KO)
    assert card_changes(server.fake, since) == []


async def test_presses_past_the_rate_limit_are_refused_ephemerally(
    server: Server, own_settings
) -> None:
    await server.stop()
    await server.start(dataclasses.replace(own_settings, rate_limit_per_minute=1))
    requester = fake_user(server)
    card = await server.ask(requester, "rain")
    request_id = server.request_id(card)
    for _ in range(3):  # a control is allowed three times the photo rate
        interaction, answer = await server.press(requester, card, f"aidj:{request_id}:regenerate")
        assert answer.json["type"] == DEFERRED_UPDATE
        await server.card_edit(interaction)
    since = len(server.fake.requests)
    _, answer = await server.press(requester, card, f"aidj:{request_id}:regenerate")
    assert answer.json["type"] == MESSAGE and answer.json["data"]["flags"] & EPHEMERAL
    assert answer.json["data"]["content"].startswith("Easy there!")
    assert card_changes(server.fake, since) == []


async def test_a_korean_caption_gets_a_korean_card_in_an_english_server(server: Server) -> None:
    """The server's locale (en-US here) is only a guess about who posted: a caption in
    Hangul says more, so the card and its language on record are Korean."""
    card = await server.ask(fake_user(server), "비 오는 날 창가에서")
    [embed] = card.embeds
    assert HANGUL.search(embed["title"]) and HANGUL.search(embed["description"])
    stored = recorded_request(server.settings, server.request_id(card))
    assert stored.language is Language.KO


# ---- the scene choice on Discord ---------------------------------------------------------


@pytest.mark.parametrize(
    ("guild_locale", "caption", "language"),
    [("en-US", "beach day", Language.EN), ("ko", "바다 보러 가는 길", Language.KO)],
)
async def test_a_scene_button_rebases_the_card_and_goes_away(
    server: Server, caption: str, language: Language
) -> None:
    requester = fake_user(server)
    card = await server.ask(requester, caption)
    request_id = server.request_id(card)
    scenes = data_row(button_ids(card), ControlKind.SCENE)
    second = get_category(scenes[1].split(":")[3])

    interaction, answer = await server.press(
        requester, card, scenes[1], "ko" if language is Language.KO else "en-US"
    )
    assert answer.json["type"] == DEFERRED_UPDATE
    edit = await server.card_edit(interaction)
    [embed] = edit.embeds
    assert second.name(language) in embed["title"]
    assert ("직접 고름" if language is Language.KO else "your pick") in embed["description"]
    assert data_row(button_ids(edit), ControlKind.SCENE) == [], "the scene buttons are gone"
    assert len(set(track_ids(edit))) == 10 and not set(track_ids(edit)) & set(track_ids(card))
    await eventually(
        lambda: recorded_request(server.settings, request_id).scene_choice == second.id
    )


async def test_a_scene_pick_by_someone_else_is_refused(server: Server) -> None:
    card = await server.ask(fake_user(server), "sunset walk")
    request_id = server.request_id(card)
    scenes = data_row(button_ids(card), ControlKind.SCENE)
    since = len(server.fake.requests)
    _, answer = await server.press(server.fake.bystander_id, card, scenes[0])
    assert answer.json["type"] == MESSAGE and answer.json["data"]["flags"] & EPHEMERAL
    assert answer.json["data"]["content"] == text_of(ErrorReply.NOT_REQUESTER, Language.EN)
    assert card_changes(server.fake, since) == []
    assert recorded_request(server.settings, request_id).scene_choice is None


# ---- the fake keeps Discord's rules ------------------------------------------------------


async def test_the_fake_refuses_a_second_response_and_invalid_components(server: Server) -> None:
    fake = server.fake
    requester = fake_user(server)
    card = await server.ask(requester)
    interaction, _ = await server.press(
        requester, card, f"aidj:{server.request_id(card)}:regenerate"
    )
    await server.card_edit(interaction)
    button = {"type": 2, "style": 2, "label": "x", "custom_id": "a"}
    callback = f"{fake.api_base}/interactions/{interaction['id']}/{interaction['token']}/callback"
    messages = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(callback, json={"type": DEFERRED_UPDATE}) as response:
            assert response.status == 400 and (await response.json())["code"] == 40060
        for components in (
            [{"type": 1, "components": [button]}] * 6,  # six rows
            [{"type": 1, "components": [button, button]}],  # the same custom id twice
            [{"type": 1, "components": [{**button, "custom_id": "a" * 101}]}],
            [{"type": 1, "components": [{"type": 2, "style": 2, "custom_id": "b"}]}],  # no label
        ):
            body = {"content": "x", "components": components}
            async with session.post(messages, json=body, headers=headers) as response:
                assert response.status == 400 and (await response.json())["code"] == 50035
