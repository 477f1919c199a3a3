"""The Discord adapter against the real discord.py client and a fake Discord (REST + gateway).

Only ``discord.http.Route.BASE`` is pointed at the fake; login, the gateway handshake, event
parsing, uploads, interactions and webhooks all run unmodified. The assertions are on what the
bot sent (payloads and files) and stay at the contract level (ten track links, new ids after
🔁, higher target energy after ⚡).

The bot runs once for the module, on the real flow with the module's own copy of the catalog
(``module_mood_flow``); each test has a requester of its own and reads only the requests and
messages it made, so other tests, and their order, cannot change its result.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import discord
import pytest

from adapters.chat.discord_bot import DiscordBot, DiscordOptions
from bot.service import MoodService
from core.categories import get_category
from core.errors import ConfigError
from core.flow import MoodFlow
from core.language import Language
from core.messages import ErrorReply, ImageProblem, text_of
from core.reply import error_text
from core.steering import Action
from tests.card_numbers import final_energy, steered_energy
from tests.conftest import eventually, make_photo, recorded_request
from tests.discord_running import running_discord
from tests.fake_discord import EPHEMERAL, FakeDiscord, RecordedRequest

TOKEN = "test-discord-token-that-must-never-be-logged"
MAX_IMAGE_BYTES = 300_000
WAIT_S = 5.0
TRACK_LINK = re.compile(r"\]\(https://open\.spotify\.com/track/([A-Za-z0-9]+)\)")
EMOJIS = [action.emoji for action in Action]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def track_ids(request: RecordedRequest) -> list[str]:
    [embed] = request.embeds
    return TRACK_LINK.findall(embed["description"])


def is_post_to(channel_id: int) -> Any:
    return lambda r: r.method == "POST" and r.path == f"/channels/{channel_id}/messages"


def replies_to(channel_id: int, message_id: str) -> Any:
    def match(r: RecordedRequest) -> bool:
        reference = r.payload.get("message_reference") or {}
        return is_post_to(channel_id)(r) and str(reference.get("message_id")) == message_id

    return match


def reactions_on(channel_id: int, message_id: str) -> Any:
    prefix = f"/channels/{channel_id}/messages/{message_id}/reactions/"
    return lambda r: r.method == "PUT" and r.path.startswith(prefix) and r.path.endswith("/@me")


def edits_of(channel_id: int, message_id: str) -> Any:
    path = f"/channels/{channel_id}/messages/{message_id}"
    return lambda r: r.method == "PATCH" and r.path == path


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_records() -> Iterator[_Records]:
    """Everything discord.py and the adapter log, at DEBUG, to check the token never shows."""
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("discord", "adapters")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def mood_flow(module_mood_flow) -> MoodFlow:
    """The real flow behind the bot: tiny models and the module's own synthetic catalog."""
    return module_mood_flow


@pytest.fixture(scope="module")
async def discord_bot(
    fake: FakeDiscord, mood_flow: MoodFlow, log_records: _Records
) -> AsyncIterator[DiscordBot]:
    options = DiscordOptions(
        token=TOKEN,
        max_image_bytes=MAX_IMAGE_BYTES,
        enabled_channel_ids=frozenset({fake.enabled_channel_id}),
    )
    async with running_discord(mood_flow, fake, options) as bot:
        yield bot


@pytest.fixture
def user(fake: FakeDiscord) -> int:
    """A fresh requester per test, so a real flow's per-user rate limit never trips."""
    return fake.snowflake()


async def send_photo(
    fake: FakeDiscord,
    *,
    author_id: int,
    caption: str = "",
    mention: bool = True,
    dm: bool = False,
    channel_id: int | None = None,
) -> tuple[dict[str, Any], RecordedRequest]:
    """Post a photo message; returns it and the bot's card reply, once its controls are on."""
    channel = fake.dm_channel_id if dm else (channel_id or fake.channel_id)
    attachment = fake.attachment("photo.jpg", make_photo(), "image/jpeg", channel_id=channel)
    message = fake.message_create(
        author_id=author_id,
        content=caption,
        attachments=[attachment],
        channel_id=channel,
        dm=dm,
        mention_bot=mention and not dm,
    )
    await fake.dispatch("MESSAGE_CREATE", message)
    [card] = await fake.wait_for(replies_to(channel, message["id"]), timeout=WAIT_S)
    await fake.wait_for(reactions_on(channel, card.response["id"]), count=5, timeout=WAIT_S)
    return message, card


# ---- tests -------------------------------------------------------------------------------


async def test_login_identifies_with_intents_and_syncs_commands(
    fake: FakeDiscord, discord_bot: DiscordBot
) -> None:
    [identify] = fake.identifies
    intents = discord.Intents._from_value(identify["intents"])
    assert intents.message_content and intents.reactions and intents.guild_messages
    assert identify["shard"] == [0, 1]  # AutoShardedClient, shard count from /gateway/bot
    assert fake.gateway_queries[0]["encoding"] == "json"
    if fake.gateway_queries[0].get("compress") == "zlib-stream":  # discord.py without zstd
        assert fake.gateway_compression[0] == "zlib-stream"
    [sync] = await fake.wait_for(
        lambda r: r.method == "PUT" and r.path == f"/applications/{fake.application_id}/commands"
    )
    commands = {command["name"]: command for command in sync.json}
    assert set(commands) == {"mood", "stats", "prefs", "help"}
    options = {option["name"]: option for option in commands["mood"]["options"]}
    assert options["photo"]["type"] == 11 and options["photo"]["required"]
    assert options["caption"]["type"] == 3 and not options["caption"].get("required")


async def test_a_rejected_token_is_a_config_error(
    fake: FakeDiscord, discord_bot: DiscordBot, mood_flow: MoodFlow
) -> None:
    other = DiscordBot(mood_flow, DiscordOptions(token="not-the-token"))
    with pytest.raises(ConfigError):
        await other.start()
    await other.stop()  # a no-op after a failed start
    with pytest.raises(ConfigError):
        await DiscordBot(mood_flow, DiscordOptions()).start()  # no token at all


async def test_photo_with_caption_mentioning_the_bot_gets_a_card(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int, mood_flow: MoodFlow, module_settings
) -> None:
    mark = len(fake.requests)
    message, card = await send_photo(fake, author_id=user, caption="rainy but hopeful")
    channel = fake.channel_id

    # typing shows while the photo is fetched and read, then the card replies to the message
    photo_path = message["attachments"][0]["url"].removeprefix(fake.base_url)
    [download] = fake.find("GET", photo_path)
    fetched_at = fake.requests.index(download)
    typing = fake.find("POST", f"/channels/{channel}/typing")
    assert any(mark <= fake.requests.index(t) < fetched_at for t in typing)
    assert fetched_at < fake.requests.index(card)

    assert card.multipart
    [embed] = card.embeds
    ids = track_ids(card)
    assert len(ids) == 10 and len(set(ids)) == 10
    assert embed["title"]
    assert embed["image"]["url"] == "attachment://mood.png"
    [upload] = card.files
    assert upload.filename == "mood.png" and upload.data.startswith(b"\x89PNG")
    assert str(card.json["message_reference"]["message_id"]) == message["id"]

    reactions = await fake.wait_for(reactions_on(channel, card.response["id"]), count=5)
    assert [r.path.split("/")[-2] for r in reactions] == EMOJIS

    # the request is recorded with the caption stripped of the mention, and the card
    # message leads back to it
    request_id = await mood_flow.request_for_message("discord", str(channel), card.response["id"])
    assert request_id is not None
    stored = recorded_request(module_settings, request_id)
    assert stored.caption == "rainy but hopeful"
    assert stored.platform == "discord" and stored.user_id == str(user)


async def test_regenerate_edits_the_card_with_ten_new_tracks(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    _, card = await send_photo(fake, author_id=user, caption="sunny day")
    channel, card_id = fake.channel_id, card.response["id"]
    reaction = fake.reaction_add(user_id=user, message_id=card_id, emoji="🔁")
    await fake.dispatch("MESSAGE_REACTION_ADD", reaction)

    [edit] = await fake.wait_for(edits_of(channel, card_id), timeout=WAIT_S)
    new_ids = track_ids(edit)
    assert len(new_ids) == 10 and len(set(new_ids)) == 10
    assert not set(new_ids) & set(track_ids(card))
    assert edit.multipart and [f.filename for f in edit.files] == ["mood.png"]
    assert edit.embeds[0]["image"]["url"] == "attachment://mood.png"
    # the press is taken back so the control can be used again
    await fake.wait_for(
        lambda r: (
            r.method == "DELETE"
            and r.path.startswith(f"/channels/{channel}/messages/{card_id}/reactions/")
            and r.path.endswith(f"/{user}")
        ),
        timeout=WAIT_S,
    )


async def test_more_energy_raises_the_target_energy(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    _, card = await send_photo(fake, author_id=user, caption="calm evening")
    channel, card_id = fake.channel_id, card.response["id"]
    reaction = fake.reaction_add(user_id=user, message_id=card_id, emoji="⚡")
    await fake.dispatch("MESSAGE_REACTION_ADD", reaction)

    [edit] = await fake.wait_for(edits_of(channel, card_id), timeout=WAIT_S)
    before = final_energy(card.embeds[0]["description"])
    after = steered_energy(edit.embeds[0]["description"])
    assert after > before
    assert len(track_ids(edit)) == 10


async def test_someone_elses_reaction_is_ignored_but_a_moderator_may_steer(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    _, card = await send_photo(fake, author_id=user, caption="party")
    channel, card_id = fake.channel_id, card.response["id"]

    stranger = fake.reaction_add(user_id=fake.bystander_id, message_id=card_id, emoji="🔁")
    await fake.dispatch("MESSAGE_REACTION_ADD", stranger)
    await fake.wait_for(
        lambda r: r.method == "DELETE" and r.path.endswith(f"/{fake.bystander_id}"),
        timeout=WAIT_S,
    )
    assert not fake.find("PATCH", f"/channels/{channel}/messages/{card_id}")

    moderator = fake.reaction_add(user_id=fake.moderator_id, message_id=card_id, emoji="🌙")
    await fake.dispatch("MESSAGE_REACTION_ADD", moderator)
    [edit] = await fake.wait_for(edits_of(channel, card_id), timeout=WAIT_S)
    assert len(track_ids(edit)) == 10


async def test_non_image_attachment_gets_a_friendly_error(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    notes = fake.attachment(
        "notes.txt", b"not a photo", "text/plain", channel_id=fake.dm_channel_id
    )
    message = fake.message_create(author_id=user, attachments=[notes], dm=True)
    await fake.dispatch("MESSAGE_CREATE", message)

    [reply] = await fake.wait_for(replies_to(fake.dm_channel_id, message["id"]), timeout=WAIT_S)
    assert reply.content == text_of(
        ErrorReply.IMAGE, Language.EN, detail=text_of(ImageProblem.NOT_AN_IMAGE, Language.EN)
    )
    assert not reply.embeds and not reply.files
    assert not fake.find("GET", notes["url"].removeprefix(fake.base_url))
    assert not fake.find("PUT", prefix=f"/channels/{fake.dm_channel_id}/messages/")


async def test_oversized_photo_is_refused_before_download(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    big = fake.attachment(
        "huge.png",
        make_photo(),
        "image/png",
        size=MAX_IMAGE_BYTES + 1,
        channel_id=fake.enabled_channel_id,
    )
    message = fake.message_create(
        author_id=user, attachments=[big], channel_id=fake.enabled_channel_id
    )
    await fake.dispatch("MESSAGE_CREATE", message)

    [reply] = await fake.wait_for(
        replies_to(fake.enabled_channel_id, message["id"]), timeout=WAIT_S
    )
    assert reply.content == text_of(
        ErrorReply.IMAGE,
        Language.EN,
        detail=text_of(ImageProblem.TOO_LARGE, Language.EN, limit="292 KB"),
    )
    assert not fake.find("GET", big["url"].removeprefix(fake.base_url))


async def test_photo_in_an_enabled_channel_works_without_a_mention(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    _, card = await send_photo(
        fake, author_id=user, mention=False, channel_id=fake.enabled_channel_id
    )
    assert len(track_ids(card)) == 10


async def test_unaddressed_and_bot_messages_are_ignored(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    """Why the later card bounds the wait: discord.py starts a task per gateway event, in the
    order the events arrive, and ``on_message`` decides to ignore a message before its first
    ``await``; so an ignored message's task is over in its first step, before the later
    message's task has even begun (let alone made the round trips its card needs)."""
    ignored = [
        fake.message_create(  # a photo in a normal channel without a mention
            author_id=user,
            attachments=[fake.attachment("a.jpg", make_photo(), "image/jpeg")],
        ),
        fake.message_create(  # another bot mentioning us with a photo
            author_id=fake.bystander_id,
            attachments=[fake.attachment("b.jpg", make_photo(), "image/jpeg")],
            mention_bot=True,
            bot_author=True,
        ),
        fake.message_create(author_id=user, content="!play something", dm=True),
    ]
    for message in ignored:
        await fake.dispatch("MESSAGE_CREATE", message)
    # a message that is answered, sent after them, bounds the wait
    await send_photo(fake, author_id=user, dm=True, caption="ok")
    for message in ignored:
        channel = int(message["channel_id"])
        assert not [r for r in fake.requests if replies_to(channel, message["id"])(r)]


async def test_slash_mood_defers_then_follows_up_with_a_steerable_card(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    photo = fake.attachment("slash.jpg", make_photo((200, 120, 40)), "image/jpeg")
    interaction = fake.slash_command(
        "mood",
        user_id=user,
        options=[
            {"name": "photo", "type": 11, "value": photo["id"]},
            {"name": "caption", "type": 3, "value": "road trip"},
        ],
        attachments=[photo],
    )
    await fake.dispatch("INTERACTION_CREATE", interaction)

    callback_path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
    [callback] = await fake.wait_for(
        lambda r: r.method == "POST" and r.path == callback_path, timeout=WAIT_S
    )
    assert callback.json["type"] == 5  # deferred: "AI DJ is thinking..."
    followup_path = f"/webhooks/{fake.application_id}/{interaction['token']}"
    [followup] = await fake.wait_for(
        lambda r: r.method == "POST" and r.path == followup_path, timeout=WAIT_S
    )
    assert fake.requests.index(callback) < fake.requests.index(followup)
    assert len(set(track_ids(followup))) == 10
    assert [f.filename for f in followup.files] == ["mood.png"]
    assert followup.embeds[0]["image"]["url"] == "attachment://mood.png"

    channel, card_id = fake.channel_id, followup.response["id"]
    await fake.wait_for(reactions_on(channel, card_id), count=5, timeout=WAIT_S)
    reaction = fake.reaction_add(user_id=user, message_id=card_id, emoji="🔁")
    await fake.dispatch("MESSAGE_REACTION_ADD", reaction)
    [edit] = await fake.wait_for(edits_of(channel, card_id), timeout=WAIT_S)
    assert not set(track_ids(edit)) & set(track_ids(followup))


async def test_slash_mood_error_is_in_the_users_language(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    notes = fake.attachment("notes.pdf", b"%PDF-1.4", "application/pdf")
    interaction = fake.slash_command(
        "mood",
        user_id=user,
        options=[{"name": "photo", "type": 11, "value": notes["id"]}],
        attachments=[notes],
        locale="ko",
    )
    await fake.dispatch("INTERACTION_CREATE", interaction)
    followup_path = f"/webhooks/{fake.application_id}/{interaction['token']}"
    [followup] = await fake.wait_for(
        lambda r: r.method == "POST" and r.path == followup_path, timeout=WAIT_S
    )
    assert HANGUL.search(followup.content or "")
    assert not followup.embeds


# ---- albums: several images in one message, /mood with photo2..photo4 -----------------

ALBUM_COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 200, 40)]


async def linked(flow: MoodService, channel: int, message_id: str) -> int:
    """The request the flow linked to the card (right after Discord confirmed it)."""
    async with asyncio.timeout(WAIT_S):
        while (
            found := await flow.request_for_message("discord", str(channel), message_id)
        ) is None:
            await asyncio.sleep(0.01)
    return found


async def test_several_images_in_one_message_are_one_album_card(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int, mood_flow: MoodService, module_settings
) -> None:
    channel = fake.channel_id
    photos = [make_photo(colour) for colour in ALBUM_COLOURS[:3]]
    images = [
        fake.attachment(f"p{n}.jpg", data, "image/jpeg", channel_id=channel)
        for n, data in enumerate(photos)
    ]
    notes = fake.attachment("notes.txt", b"not a photo", "text/plain", channel_id=channel)
    attachments = [images[0], notes, images[1], images[2]]  # a file that is no photo: left out
    message = fake.message_create(
        author_id=user, content="road trip in the rain", attachments=attachments, mention_bot=True
    )
    await fake.dispatch("MESSAGE_CREATE", message)
    [card] = await fake.wait_for(replies_to(channel, message["id"]), timeout=WAIT_S)

    request_id = await linked(mood_flow, channel, card.response["id"])
    stored = recorded_request(module_settings, request_id)
    assert stored.album is not None and [p.position for p in stored.album.photos] == [1, 2, 3]
    for photo, data in zip(stored.album.photos, photos, strict=True):
        alone = await mood_flow.read(data, "road trip in the rain")
        assert photo.analysis == alone, "the album follows the attachments' order"
    for image in images:
        assert fake.find("GET", image["url"].removeprefix(fake.base_url))
    assert not fake.find("GET", notes["url"].removeprefix(fake.base_url))

    [embed] = card.embeds
    assert embed["title"] == "AI DJ · 3 photos"
    ids = track_ids(card)
    assert len(ids) == 10 and len(set(ids)) == 10
    [upload] = card.files
    assert upload.filename == "mood.png" and upload.data.startswith(b"\x89PNG")
    scenes = " → ".join(
        f"{p.position} {get_category(p.analysis.reading.image.category_id).name(Language.EN)}"
        for p in stored.album.photos
    )
    assert embed["description"].startswith(scenes + "\n"), "the photos' scenes, in order"


async def test_an_album_card_is_steered_by_its_buttons_and_only_by_its_requester(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int, mood_flow: MoodService, module_settings
) -> None:
    channel = fake.channel_id
    images = [
        fake.attachment(f"s{n}.png", make_photo(colour), "image/png", channel_id=channel)
        for n, colour in enumerate(ALBUM_COLOURS[:2])
    ]
    message = fake.message_create(author_id=user, attachments=images, mention_bot=True)
    await fake.dispatch("MESSAGE_CREATE", message)
    [card] = await fake.wait_for(replies_to(channel, message["id"]), timeout=WAIT_S)
    request_id = await linked(mood_flow, channel, card.response["id"])
    louder = f"aidj:{request_id}:{Action.MORE_ENERGY.value}"

    async def press(presser: int) -> dict[str, Any]:
        interaction = fake.button_press(
            user_id=presser, message_id=card.response["id"], custom_id=louder
        )
        await fake.dispatch("INTERACTION_CREATE", interaction)
        path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
        [answer] = await fake.wait_for(
            lambda r: r.method == "POST" and r.path == path, timeout=WAIT_S
        )
        return {"interaction": interaction, "answer": answer}

    refused = await press(fake.bystander_id)
    assert refused["answer"].json["data"]["flags"] & EPHEMERAL, "someone else: told privately"
    assert recorded_request(module_settings, request_id).rounds == 1, "and nothing changed"

    pressed = await press(user)
    token = pressed["interaction"]["token"]
    path = f"/webhooks/{fake.application_id}/{token}/messages/@original"
    [edit] = await fake.wait_for(lambda r: r.method == "PATCH" and r.path == path, timeout=WAIT_S)
    assert "Steered to valence" in edit.embeds[0]["description"]
    assert edit.embeds[0]["title"] == "AI DJ · 2 photos"
    await eventually(lambda: recorded_request(module_settings, request_id).rounds == 2)
    steered = recorded_request(module_settings, request_id).album  # kept once delivered
    assert steered is not None
    step = module_settings.nudge_step
    for photo in steered.photos:
        assert photo.target.energy == pytest.approx(min(1.0, photo.analysis.final.energy + step))


async def test_slash_mood_takes_more_photos_and_skips_one_too_large(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int, mood_flow: MoodService, module_settings
) -> None:
    [sync] = fake.find("PUT", f"/applications/{fake.application_id}/commands")
    [mood] = [command for command in sync.json if command["name"] == "mood"]
    extra = {o["name"]: o for o in mood["options"] if o["name"] in ("photo2", "photo3", "photo4")}
    assert len(extra) == 3
    assert all(o["type"] == 11 and not o.get("required") for o in extra.values())

    first = fake.attachment("a.jpg", make_photo(ALBUM_COLOURS[0]), "image/jpeg")
    second = fake.attachment("b.jpg", make_photo(ALBUM_COLOURS[1]), "image/jpeg")
    big = fake.attachment("c.png", make_photo(), "image/png", size=MAX_IMAGE_BYTES + 1)
    interaction = fake.slash_command(
        "mood",
        user_id=user,
        options=[
            {"name": "photo", "type": 11, "value": first["id"]},
            {"name": "photo2", "type": 11, "value": second["id"]},
            {"name": "photo3", "type": 11, "value": big["id"]},
            {"name": "caption", "type": 3, "value": "sunny picnic"},
        ],
        attachments=[first, second, big],
    )
    await fake.dispatch("INTERACTION_CREATE", interaction)
    followup_path = f"/webhooks/{fake.application_id}/{interaction['token']}"
    [followup] = await fake.wait_for(
        lambda r: r.method == "POST" and r.path == followup_path, timeout=WAIT_S
    )
    assert not fake.find("GET", big["url"].removeprefix(fake.base_url)), "never downloaded"
    [embed] = followup.embeds
    assert embed["title"] == "AI DJ · 2 photos"
    assert "Skipped: photo 3 (too large)" in embed["description"]
    assert len(track_ids(followup)) == 10
    request_id = await linked(mood_flow, fake.channel_id, followup.response["id"])
    stored = recorded_request(module_settings, request_id)
    assert stored.album is not None and [p.position for p in stored.album.photos] == [1, 2]
    assert stored.caption == "sunny picnic"


async def test_the_fake_refuses_an_embed_over_discords_limits(
    fake: FakeDiscord, discord_bot: DiscordBot
) -> None:
    channel = discord_bot.client.get_partial_messageable(fake.channel_id)
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(embed=discord.Embed(title="t", description="x" * 4097))
    assert refused.value.status == 400 and refused.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(title="t" * 257))
    sent = await channel.send(embed=discord.Embed(title="t" * 256, description="x" * 4096))
    assert sent.embeds[0].description == "x" * 4096


async def test_help_answers_ephemerally(fake: FakeDiscord, discord_bot: DiscordBot) -> None:
    interaction = fake.slash_command("help", user_id=fake.bystander_id)
    await fake.dispatch("INTERACTION_CREATE", interaction)
    callback_path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
    [callback] = await fake.wait_for(
        lambda r: r.method == "POST" and r.path == callback_path, timeout=WAIT_S
    )
    assert callback.json["type"] == 4
    assert callback.json["data"]["flags"] & 64  # ephemeral
    assert "/mood" in callback.json["data"]["content"]


async def test_the_token_is_never_logged(
    fake: FakeDiscord, discord_bot: DiscordBot, log_records: _Records
) -> None:
    assert fake.identifies[0]["token"] == TOKEN  # it did go over the (fake) wire
    assert log_records.lines  # discord.py logged at DEBUG while the tests ran
    assert not [line for line in log_records.lines if TOKEN in line]


PLAYLIST = "https://open.spotify.com/playlist/37i9dQZF1DX0"


class _FailingFlow:
    """Wraps the flow so ``recommend`` fails with an internal (non-user) error."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def recommend(self, request: Any, send: Any = None) -> Any:
        raise RuntimeError("internal detail that must not reach the chat")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _PlaylistFlow(_FailingFlow):
    """Wraps the flow so its cards carry a Spotify playlist link."""

    async def recommend(self, request: Any, send: Any) -> Any:
        async def with_playlist(card: Any) -> Any:
            return await send(replace(card, playlist_url=PLAYLIST))

        return await self._inner.recommend(request, with_playlist)


async def test_a_playlist_link_goes_first_and_into_the_message_text(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    flow = discord_bot.flow
    discord_bot.flow = _PlaylistFlow(flow)
    try:
        _, card = await send_photo(fake, author_id=user, dm=True, caption="with a playlist")
    finally:
        discord_bot.flow = flow
    playlist = PLAYLIST
    assert card.content == playlist  # Discord unfurls it into a playable Spotify embed
    description = card.embeds[0]["description"]
    assert description.index(playlist) < description.index("open.spotify.com/track/")
    assert len(track_ids(card)) == 10


async def test_unexpected_errors_get_the_generic_reply_and_the_bot_keeps_going(
    fake: FakeDiscord, discord_bot: DiscordBot, user: int
) -> None:
    flow = discord_bot.flow
    discord_bot.flow = _FailingFlow(flow)
    try:
        attachment = fake.attachment(
            "photo.jpg", make_photo(), "image/jpeg", channel_id=fake.dm_channel_id
        )
        message = fake.message_create(author_id=user, attachments=[attachment], dm=True)
        await fake.dispatch("MESSAGE_CREATE", message)
        [reply] = await fake.wait_for(replies_to(fake.dm_channel_id, message["id"]), timeout=WAIT_S)
    finally:
        discord_bot.flow = flow
    assert reply.content == error_text(RuntimeError(), Language.EN)
    _, card = await send_photo(fake, author_id=user, dm=True, caption="again")
    assert len(track_ids(card)) == 10
