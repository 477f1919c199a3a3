"""The Telegram adapter against the real python-telegram-bot Application and a fake Bot API.

Only ``base_url``/``base_file_url`` point at the fake (``tests.fake_telegram``); getMe,
long polling, update parsing, uploads, file downloads and edits all run unmodified. The
assertions are on what the bot sent (parameters and files) and stay at the contract level
(ten track links, new ids after 🔁, higher target energy after ⚡, others refused).

The bot runs once for the module, on the real flow with the module's own copy of the catalog
(``module_mood_flow``): each test reads only the requests and messages it made itself, so
what other tests did, and their order, cannot change its result. "Nothing happened" is proven
by the bot having finished with the update (``tests.handled_updates``), never by waiting.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from PIL import Image

from adapters.chat.telegram_bot import ALLOWED_UPDATES, TelegramBot, TelegramOptions
from adapters.chat.telegram_render import (
    CAPTION_LIMIT,
    card_caption,
    reaction_action,
    visible_length,
)
from core.controls import Control
from core.errors import ConfigError, NotRequesterError
from core.fit import FitStats, Vote
from core.flow import (
    Actor,
    AlbumRequest,
    CardMessage,
    CardRequest,
    EditCard,
    ImageFetch,
    MoodFlow,
    PhotoRequest,
    Pressed,
    SendCard,
)
from core.language import Language
from core.messages import CaptionProblem, ErrorReply, ImageProblem, text_of
from core.reply import PlaylistCard, error_text
from core.steering import Action
from core.tracks import Track
from tests.card_numbers import final_energy, steered_energy
from tests.conftest import make_photo
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.handled_updates import HandledUpdates
from tests.test_messages import english_words

TOKEN = "123456789:test-telegram-token-never-logged"
MAX_IMAGE_BYTES = 300_000
WAIT_S = 5.0
ALBUM_WAIT_S = 0.2  # an album's photos arrive in one poll here (push_together)
TRACK_LINK = re.compile(r'<a href="https://open\.spotify\.com/track/([A-Za-z0-9]+)">')
HANGUL = re.compile(r"[\uac00-\ud7a3]")
REQUESTER = user(111)
OTHER = user(222)
ADMIN = user(333)
KOREAN = user(444, language_code="ko")
GROUP = group_chat()


def image_refusal(problem: ImageProblem, language: Language = Language.EN, **values: object) -> str:
    """The whole reply to a photo refused for ``problem``."""
    return text_of(ErrorReply.IMAGE, language, detail=text_of(problem, language, **values))


def track_ids(caption: str) -> list[str]:
    return TRACK_LINK.findall(caption)


def edited_caption(request: Recorded) -> str:
    return request.json("media")["caption"]


class RecordingFlow:
    """Passes everything to the flow under test and keeps what went in and came out (the
    downloaded photos too); ``fail_next`` and ``rewrite`` let a test inject a failure or
    an unusual card."""

    def __init__(self, inner: MoodFlow) -> None:
        self.inner = inner
        self.requests: list[CardRequest] = []
        self.images: list[bytes] = []
        self.cards: list[PlaylistCard] = []
        self.fail_next: Exception | None = None
        self.rewrite: Callable[[PlaylistCard], PlaylistCard] | None = None

    async def recommend(self, request: CardRequest, send: SendCard | None = None) -> PlaylistCard:
        self.requests.append(request)
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

        async def keep_and_send(card: PlaylistCard) -> str | None:
            card = self._keep(card)
            return await send(card) if send is not None else None

        if isinstance(request, AlbumRequest):
            images = tuple(self._recorded(image) for image in request.images)
            return await self.inner.recommend(replace(request, images=images), keep_and_send)
        return await self.inner.recommend(
            replace(request, image=self._recorded(request.image)), keep_and_send
        )

    def _recorded(self, image: bytes | ImageFetch) -> ImageFetch:
        """``image``'s fetch, keeping the downloaded bytes (an album's in any order)."""

        async def fetch() -> bytes:
            data = image if isinstance(image, bytes) else await image()
            self.images.append(data)
            return data

        return fetch

    async def steer(
        self, card: CardMessage, action: Action, actor: Actor, edit: EditCard, **options: Any
    ) -> PlaylistCard:
        async def keep_and_edit(new: PlaylistCard) -> None:
            await edit(self._keep(new))

        return await self.inner.steer(card, action, actor, keep_and_edit, **options)

    async def press(
        self, card: CardMessage, control: Control, actor: Actor, edit: EditCard, **options: Any
    ) -> Pressed:
        async def keep_and_edit(new: PlaylistCard) -> None:
            await edit(self._keep(new))

        return await self.inner.press(card, control, actor, keep_and_edit, **options)

    async def vote(self, card: CardMessage, actor: Actor, vote: Vote, *, on: bool = True) -> None:
        await self.inner.vote(card, actor, vote, on=on)

    async def chat_stats(self, platform: str, chat_id: str) -> FitStats:
        return await self.inner.chat_stats(platform, chat_id)

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        return await self.inner.request_for_message(platform, chat_id, message_id)

    async def language_for(
        self, platform: str, user_id: str, locale: str | None, text: str = ""
    ) -> Language:
        return await self.inner.language_for(platform, user_id, locale, text)

    async def prefs(self, actor: Actor, words: str) -> str:
        return await self.inner.prefs(actor, words)

    def _keep(self, card: PlaylistCard) -> PlaylistCard:
        if self.rewrite is not None:
            card, self.rewrite = self.rewrite(card), None
        self.cards.append(card)
        return card


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Harness:
    fake: FakeTelegram
    flow: RecordingFlow
    bot: TelegramBot
    handled: HandledUpdates

    async def ask(
        self, chat: dict[str, Any], sender: dict[str, Any], caption: str | None = "rainy day"
    ) -> tuple[dict[str, Any], Recorded]:
        """Send a photo and wait for the card: (the user's message, the sendPhoto)."""
        message, sent = await self.fake.send_photo(chat, sender, make_photo(), caption)
        await self.remembered(sent)
        return message, sent

    async def remembered(self, sent: Recorded) -> int:
        """The request id the flow linked to the card ``sent`` (which the bot does right
        after Telegram confirms the message, so it may take a moment)."""
        chat, message_id = str(sent.chat_id), str(sent.result["message_id"])
        async with asyncio.timeout(WAIT_S):
            while (
                found := await self.flow.request_for_message("telegram", chat, message_id)
            ) is None:
                await asyncio.sleep(0.01)
        return found


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_records() -> Iterator[_Records]:
    """What PTB, httpx and the adapter log at INFO and above (httpx at its own level), to
    check the token never shows."""
    handler = _Records()
    names = ("telegram", "httpx", "adapters")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    for logger in loggers[0], loggers[2]:
        logger.setLevel(logging.INFO)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def mood_flow(module_mood_flow) -> MoodFlow:
    """The real flow behind the bot: tiny models and the module's own synthetic catalog."""
    return module_mood_flow


@pytest.fixture(scope="module")
async def telegram(mood_flow: MoodFlow, log_records: _Records) -> AsyncIterator[Harness]:
    async with FakeTelegram(TOKEN) as fake:
        flow = RecordingFlow(mood_flow)
        options = TelegramOptions(
            token=TOKEN,
            max_image_bytes=MAX_IMAGE_BYTES,
            base_url=fake.base_url,
            base_file_url=fake.base_file_url,
            album_wait_s=ALBUM_WAIT_S,
        )
        bot = TelegramBot(flow, options)
        handled = HandledUpdates(bot.application)
        await bot.start()
        try:
            yield Harness(fake, flow, bot, handled)
        finally:
            await bot.stop()


# ---- start-up ----------------------------------------------------------------------------


async def test_start_publishes_commands_and_polls_for_controls(telegram: Harness) -> None:
    fake = telegram.fake
    menus = {r.params.get("language_code"): r.json("commands") for r in fake.calls("setMyCommands")}
    assert set(menus) == {None, "ko"}
    for commands in menus.values():
        assert {c["command"] for c in commands} == {"mood", "stats", "prefs", "help", "start"}
    assert HANGUL.search(" ".join(c["description"] for c in menus["ko"]))
    poll = await fake.wait_for("getUpdates", lambda r: "allowed_updates" in r.params)
    assert set(poll.json("allowed_updates")) == set(ALLOWED_UPDATES)
    assert {"message", "callback_query", "message_reaction"} <= set(ALLOWED_UPDATES)


def test_missing_token_is_a_config_error(telegram: Harness) -> None:
    with pytest.raises(ConfigError):
        TelegramBot(telegram.flow, TelegramOptions(token=None))


async def test_rejected_token_is_a_config_error_without_the_token(telegram: Harness) -> None:
    wrong = "999:rejected-token-must-not-show"
    fake = telegram.fake
    bot = TelegramBot(
        telegram.flow,
        TelegramOptions(token=wrong, base_url=fake.base_url, base_file_url=fake.base_file_url),
    )
    with pytest.raises(ConfigError) as raised:
        await bot.start()
    assert "rejected-token" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    await bot.stop()  # harmless after a failed start


# ---- a photo in, a card out --------------------------------------------------------------


async def test_photo_with_caption_gets_a_card(telegram: Harness) -> None:
    fake, flow = telegram.fake, telegram.flow
    since = fake.mark()
    _, sent = await telegram.ask(private_chat(REQUESTER), REQUESTER, "비 오는 날 우울해")

    action = await fake.wait_for("sendChatAction", since=since)
    assert action.params["action"] == "upload_photo"
    assert fake.requests.index(action) < fake.requests.index(sent)
    assert fake.calls("downloadFile", since), "the photo was downloaded from the file URL"
    assert flow.requests[-1].caption == "비 오는 날 우울해"
    assert flow.images[-1] == make_photo()
    assert flow.requests[-1].platform == "telegram"
    assert flow.requests[-1].user_id == str(REQUESTER["id"])

    assert sent.params["parse_mode"] == "HTML"
    assert sent.files["photo"] == flow.cards[-1].plane_png
    caption = sent.params["caption"]
    assert caption.startswith("<b>")
    assert len(track_ids(caption)) == 10
    assert len(set(track_ids(caption))) == 10
    keyboard = sent.json("reply_markup")["inline_keyboard"]
    steering, thumbs = keyboard[:2]  # (a close-call photo adds a row of scenes)
    assert [b["text"] for b in steering] == [a.emoji for a in Action]
    request_id = flow.cards[-1].request_id
    assert [b["callback_data"] for b in steering] == [
        f"aidj:{request_id}:{a.value}" for a in Action
    ]
    assert [(b["text"], b["callback_data"]) for b in thumbs] == [
        ("👍", f"aidj:{request_id}:fit:up"),
        ("👎", f"aidj:{request_id}:fit:down"),
    ]
    assert await telegram.remembered(sent) == request_id


async def test_photo_without_caption_is_image_only(telegram: Harness) -> None:
    _, sent = await telegram.ask(private_chat(REQUESTER), REQUESTER, caption=None)
    assert telegram.flow.requests[-1].caption == ""
    assert len(track_ids(sent.params["caption"])) == 10


async def test_image_sent_as_a_file_gets_a_card(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    message = fake.document_message(
        private_chat(REQUESTER),
        REQUESTER,
        make_photo((200, 120, 40)),
        mime_type="image/jpeg",
        file_name="sunset.jpg",
        caption="golden hour",
    )
    fake.send_message_update(message)
    sent = await fake.wait_for(
        "sendPhoto", lambda r: r.reply_to == message["message_id"], since=since
    )
    assert telegram.flow.requests[-1].caption == "golden hour"
    assert len(track_ids(sent.params["caption"])) == 10


async def test_an_album_is_one_request(telegram: Harness) -> None:
    """Once the bot has finished with both photos of the album, one card answers it
    (``tests/test_telegram_albums.py`` has the rest of albums)."""
    fake = telegram.fake
    since = fake.mark()
    chat = private_chat(REQUESTER)
    first = fake.photo_message(chat, REQUESTER, make_photo(), "trip", media_group_id="album1")
    second = fake.photo_message(chat, REQUESTER, make_photo(), media_group_id="album1")
    updates = fake.push_together([{"message": first}, {"message": second}])
    await telegram.handled.wait(*updates, timeout=WAIT_S)
    [card] = fake.calls("sendPhoto", since)
    assert card.reply_to == first["message_id"]
    request = telegram.flow.requests[-1]
    assert isinstance(request, AlbumRequest) and len(request.images) == 2
    assert request.caption == "trip"


# ---- controls ----------------------------------------------------------------------------


async def test_regenerate_button_edits_in_ten_new_songs(telegram: Harness) -> None:
    fake = telegram.fake
    _, sent = await telegram.ask(private_chat(REQUESTER), REQUESTER)
    first_ids = set(track_ids(sent.params["caption"]))
    card_message = sent.result
    request_id = telegram.flow.cards[-1].request_id

    since = fake.mark()
    fake.press(REQUESTER, card_message, f"aidj:{request_id}:regenerate")
    edit = await fake.wait_for("editMessageMedia", since=since)
    answer = await fake.wait_for("answerCallbackQuery", since=since)
    assert answer.params.get("show_alert") != "true"

    assert edit.int("message_id") == card_message["message_id"]
    media = edit.json("media")
    assert media["type"] == "photo" and media["parse_mode"] == "HTML"
    attached = media["media"].removeprefix("attach://")
    assert edit.files[attached] == telegram.flow.cards[-1].plane_png
    new_ids = track_ids(media["caption"])
    assert len(new_ids) == 10 and len(set(new_ids)) == 10
    assert not first_ids & set(new_ids)
    assert edit.json("reply_markup") == sent.json("reply_markup")
    assert not fake.calls("getChatMember", since), "no admin lookup in a private chat"


async def test_more_energy_raises_the_target(telegram: Harness) -> None:
    fake = telegram.fake
    _, sent = await telegram.ask(private_chat(REQUESTER), REQUESTER, "calm evening")
    before = final_energy(sent.params["caption"])
    request_id = telegram.flow.cards[-1].request_id

    since = fake.mark()
    fake.press(REQUESTER, sent.result, f"aidj:{request_id}:more_energy")
    edit = await fake.wait_for("editMessageMedia", since=since)
    after = steered_energy(edited_caption(edit))
    assert after > before
    assert telegram.flow.cards[-1].target.energy > telegram.flow.cards[-2].target.energy


async def test_someone_elses_press_is_refused_with_an_alert(telegram: Harness) -> None:
    fake = telegram.fake
    caption = "@aidj_test_bot rainy day with friends"
    _, sent = await telegram.ask(GROUP, REQUESTER, caption)
    assert telegram.flow.requests[-1].caption == "rainy day with friends"
    request_id = telegram.flow.cards[-1].request_id

    since = fake.mark()
    press = fake.press(OTHER, sent.result, f"aidj:{request_id}:regenerate")
    await telegram.handled.wait(press, timeout=WAIT_S)
    [answer] = fake.calls("answerCallbackQuery", since)
    assert answer.params["show_alert"] == "true"
    assert answer.params["text"] == error_text(NotRequesterError("x"), Language.EN)
    [member] = fake.calls("getChatMember", since)
    assert member.int("user_id") == OTHER["id"]
    assert not fake.calls("editMessageMedia", since)


async def test_a_group_admin_may_steer(telegram: Harness) -> None:
    fake = telegram.fake
    fake.chat_members[(GROUP["id"], ADMIN["id"])] = "administrator"
    _, sent = await telegram.ask(GROUP, REQUESTER, "/mood sunny picnic")
    assert telegram.flow.requests[-1].caption == "sunny picnic"
    request_id = telegram.flow.cards[-1].request_id

    since = fake.mark()
    fake.press(ADMIN, sent.result, f"aidj:{request_id}:calmer")
    edit = await fake.wait_for("editMessageMedia", since=since)
    assert edit.int("message_id") == sent.result["message_id"]


async def test_reaction_regenerates_the_card(telegram: Harness) -> None:
    fake = telegram.fake
    _, sent = await telegram.ask(private_chat(REQUESTER), REQUESTER)
    first_ids = set(track_ids(sent.params["caption"]))

    since = fake.mark()
    fake.react(REQUESTER, sent.result, new=["🔁"])
    edit = await fake.wait_for("editMessageMedia", since=since)
    assert edit.int("message_id") == sent.result["message_id"]
    new_ids = track_ids(edited_caption(edit))
    assert len(new_ids) == 10 and not first_ids & set(new_ids)
    assert telegram.flow.cards[-1].last_action is Action.REGENERATE


async def test_someone_elses_reaction_changes_nothing(telegram: Harness) -> None:
    fake = telegram.fake
    _, sent = await telegram.ask(GROUP, REQUESTER, "@aidj_test_bot night drive")

    since = fake.mark()
    reaction = fake.react(OTHER, sent.result, new=["⚡"])
    await telegram.handled.wait(reaction, timeout=WAIT_S)
    [member] = fake.calls("getChatMember", since)
    assert member.int("user_id") == OTHER["id"], "the reaction was read and its author looked up"
    assert not fake.calls("editMessageMedia", since)
    assert not fake.calls("sendChatAction", since)
    assert not fake.calls("sendMessage", since), "a refused reaction is not answered in chat"


# ---- commands ----------------------------------------------------------------------------


async def test_mood_command_as_a_reply_to_a_photo(telegram: Harness) -> None:
    fake = telegram.fake
    photo = fake.photo_message(GROUP, OTHER, make_photo((90, 200, 90)), "park")
    since = fake.mark()
    command = fake.text_message(GROUP, REQUESTER, "/mood cheerful", reply_to=photo)
    fake.send_message_update(command)
    sent = await fake.wait_for(
        "sendPhoto", lambda r: r.reply_to == command["message_id"], since=since
    )
    request = telegram.flow.requests[-1]
    assert request.caption == "cheerful"
    assert request.user_id == str(REQUESTER["id"])
    assert telegram.flow.images[-1] == make_photo((90, 200, 90))
    assert len(track_ids(sent.params["caption"])) == 10


async def test_mood_command_without_a_photo_explains(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    command = fake.text_message(private_chat(REQUESTER), REQUESTER, "/mood")
    fake.send_message_update(command)
    reply = await fake.reply_to(command, since=since)
    assert "/mood" in reply.params["text"]


async def test_start_in_korean(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    command = fake.text_message(private_chat(KOREAN), KOREAN, "/start")
    fake.send_message_update(command)
    reply = await fake.reply_to(command, since=since)
    assert HANGUL.search(reply.params["text"])
    assert reply.params["parse_mode"] == "HTML"


async def test_help_in_english_lists_the_controls(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    command = fake.text_message(private_chat(REQUESTER), REQUESTER, "/help")
    fake.send_message_update(command)
    reply = await fake.reply_to(command, since=since)
    assert not HANGUL.search(reply.params["text"])
    assert all(action.emoji in reply.params["text"] for action in Action)


async def test_unknown_command_points_to_help(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    command = fake.text_message(private_chat(REQUESTER), REQUESTER, "/dance")
    fake.send_message_update(command)
    reply = await fake.reply_to(command, since=since)
    assert "/help" in reply.params["text"]


async def test_group_photo_not_for_the_bot_is_ignored(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    photo = fake.photo_message(GROUP, OTHER, make_photo(), "look at this")
    await telegram.handled.wait(fake.send_message_update(photo), timeout=WAIT_S)
    assert not fake.calls("getFile", since)
    assert not fake.calls("sendChatAction", since)
    assert not fake.calls("sendPhoto", since)


# ---- problems ----------------------------------------------------------------------------


async def test_non_image_document_gets_an_error_reply(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    document = fake.document_message(
        private_chat(REQUESTER),
        REQUESTER,
        b"%PDF-1.4 not a picture",
        mime_type="application/pdf",
        file_name="notes.pdf",
    )
    fake.send_message_update(document)
    reply = await fake.reply_to(document, since=since)
    assert reply.params["text"] == image_refusal(ImageProblem.NOT_AN_IMAGE)
    assert not fake.calls("getFile", since)


async def test_oversized_photo_is_refused_before_downloading(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    asked = len(telegram.flow.requests)
    photo = fake.photo_message(
        private_chat(REQUESTER), REQUESTER, make_photo(), "huge", size=MAX_IMAGE_BYTES + 1
    )
    fake.send_message_update(photo)
    reply = await fake.reply_to(photo, since=since)
    assert reply.params["text"] == image_refusal(ImageProblem.TOO_LARGE, limit="292 KB")
    assert not fake.calls("getFile", since)
    assert not fake.calls("downloadFile", since)
    assert len(telegram.flow.requests) == asked


async def test_oversized_photo_in_korean(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    photo = fake.photo_message(
        private_chat(KOREAN), KOREAN, make_photo(), None, size=MAX_IMAGE_BYTES * 2
    )
    fake.send_message_update(photo)
    reply = await fake.reply_to(photo, since=since)
    text = reply.params["text"]
    assert text == image_refusal(ImageProblem.TOO_LARGE, Language.KO, limit="292 KB")
    assert english_words(text) == [], "no English detail inside a Korean reply"


async def test_too_long_caption_in_korean(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    caption = "rain " * 120  # 599 characters of English: the user's Korean setting decides
    photo = fake.photo_message(private_chat(KOREAN), KOREAN, make_photo(), caption)
    fake.send_message_update(photo)
    reply = await fake.reply_to(photo, since=since)
    text = reply.params["text"]
    detail = text_of(CaptionProblem.TOO_LONG, Language.KO, length=599, limit=500)
    assert text == text_of(ErrorReply.CAPTION, Language.KO, detail=detail)
    assert english_words(text) == []


async def test_corrupt_image_gets_the_flows_error(telegram: Harness) -> None:
    fake = telegram.fake
    since = fake.mark()
    broken = fake.document_message(
        private_chat(REQUESTER),
        REQUESTER,
        b"\x89PNG but not really",
        mime_type="image/png",
        file_name="broken.png",
    )
    fake.send_message_update(broken)
    reply = await fake.reply_to(broken, since=since)
    assert reply.params["text"] == image_refusal(ImageProblem.NOT_AN_IMAGE)


async def test_unexpected_failure_is_answered_and_logged_without_the_token(
    telegram: Harness, log_records: _Records
) -> None:
    fake = telegram.fake
    telegram.flow.fail_next = RuntimeError(f"boom near {TOKEN}")
    since = fake.mark()
    photo = fake.photo_message(private_chat(REQUESTER), REQUESTER, make_photo(), "x")
    fake.send_message_update(photo)
    reply = await fake.reply_to(photo, since=since)
    assert reply.params["text"] == error_text(RuntimeError(), Language.EN)
    assert any("RuntimeError" in line for line in log_records.lines)
    assert any("boom near ***" in line for line in log_records.lines), "traceback, masked"
    # and the bot still works
    await telegram.ask(private_chat(REQUESTER), REQUESTER)


async def test_long_titles_are_trimmed_to_the_caption_limit(telegram: Harness) -> None:
    def long_names(card: PlaylistCard) -> PlaylistCard:
        tracks = tuple(
            replace(t, name=f"{t.name} <Live> & Friends " + "la " * 60, artists=("A & B",) * 3)
            for t in card.tracks
        )
        return replace(card, tracks=tracks)

    telegram.flow.rewrite = long_names
    _, sent = await telegram.ask(private_chat(REQUESTER), REQUESTER)
    caption = sent.params["caption"]  # the fake refuses bad HTML and captions over the limit
    assert len(track_ids(caption)) == 10
    assert "&lt;Live&gt; &amp; Friends" in caption


async def test_token_never_reaches_the_logs(telegram: Harness, log_records: _Records) -> None:
    await telegram.ask(private_chat(REQUESTER), REQUESTER)
    secret = TOKEN.split(":", 1)[1]
    assert log_records.lines, "expected some log lines"
    assert not [line for line in log_records.lines if secret in line]


# ---- pure helpers ------------------------------------------------------------------------


async def test_caption_fits_for_any_track_names(mood_flow: MoodFlow) -> None:
    card = await mood_flow.recommend(PhotoRequest("telegram", "1", "1", _png(), "caption"))
    long_tracks = tuple(
        Track(id=f"id{n}", name="가" * 300, artists=("아티스트" * 20,), valence=0.5, energy=0.5)
        for n in range(10)
    )
    caption = card_caption(replace(card, tracks=long_tracks, playlist_url="https://x.y/p?a=1&b=2"))
    assert visible_length(caption) <= CAPTION_LIMIT
    assert len(re.findall(r'href="https://open\.spotify\.com/track/id\d"', caption)) == 10
    assert 'href="https://x.y/p?a=1&amp;b=2"' in caption


def test_callback_data_round_trip_and_reactions() -> None:
    assert Control.parse("aidj:42:more_energy") == Control.steer(42, Action.MORE_ENERGY)
    assert Control.parse("aidj:42:steer:calmer") is None  # steering has only the short form
    for bad in (None, "", "aidj:x:regenerate", "aidj:1:dance", "other:1:regenerate", "aidj:1"):
        assert Control.parse(bad) is None
    assert Control.parse("aidj:7:nosuchkind:x") is None
    assert reaction_action("🔁") is Action.REGENERATE
    assert reaction_action("⚡️") is Action.MORE_ENERGY
    assert reaction_action("🤔") is Action.REGENERATE  # Telegram's reaction set lacks 🔁
    assert reaction_action("👎") is None  # a vote ("did it fit?"), not a new set of songs
    assert reaction_action("❤") is None


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()
