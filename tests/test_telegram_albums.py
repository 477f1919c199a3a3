"""Telegram albums (media groups) through the real python-telegram-bot against the fake Bot
API, on the real flow with the tiny models and a database, fake server and bot of each
test's own: one card for the group, its photos in message order, the arc in the picture,
steering after a restart, a group split over two polls, addressing in groups, refusals.

"Nothing happened" is proven by the bot having finished with the updates in question
(``tests.handled_updates``). A group split over two polls is held open by the test itself
(``MediaGroups``'s ``sleep``) until every photo was delivered, so no timing decides it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from adapters.chat.telegram_albums import MediaGroups
from adapters.chat.telegram_bot import TelegramBot, TelegramOptions
from adapters.chat.telegram_render import CAPTION_LIMIT, visible_length
from adapters.render.mood_plane import render_mood_plane
from adapters.storage.gateway import Storage
from bot.config import Settings
from bot.service import MoodService
from core.errors import NotRequesterError
from core.flow import AlbumRequest
from core.language import Language
from core.reply import PlaylistCard, error_text, summary_lines
from core.steering import Action
from tests.conftest import make_photo, recorded_request
from tests.fake_telegram import FakeTelegram, Recorded, group_chat, private_chat, user
from tests.handled_updates import HandledUpdates
from tests.test_telegram_bot import RecordingFlow

TOKEN = "123456789:album-token"
MAX_IMAGE_BYTES = 300_000
QUIET_S = 0.5  # the whole group comes in one poll (push_together) unless a test holds it
WAIT_S = 10.0
TRACK_LINK = re.compile(r'href="https://open\.spotify\.com/track/([A-Za-z0-9]+)"')
REQUESTER = user(111)
OTHER = user(222)
KOREAN = user(444, language_code="ko")
GROUP = group_chat()
COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 200, 40), (120, 40, 160)]


def track_ids(caption: str) -> list[str]:
    return TRACK_LINK.findall(caption)


def visible(caption: str) -> str:
    """What Telegram shows of an HTML caption."""
    return html.unescape(re.sub(r"<[^>]+>", "", caption))


def photo(number: int) -> bytes:
    return make_photo(COLOURS[number % len(COLOURS)])


class HeldOpen:
    """A quiet window that ends when the test says: ``MediaGroups``'s ``sleep``."""

    def __init__(self) -> None:
        self.waiting = asyncio.Event()  # a group is waiting for its window to pass
        self.gate = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waiting.set()
        await self.gate.wait()


@dataclass
class Running:
    fake: FakeTelegram
    flow: RecordingFlow
    service: MoodService
    handled: HandledUpdates

    def album(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        count: int,
        captions: dict[int, str] | None = None,
        group: str = "g1",
        **sizes: int,
    ) -> list[dict[str, Any]]:
        """``count`` photo messages of one media group (not sent yet); ``captions`` by
        index; ``size<i>`` claims a file size for photo ``i``."""
        return [
            self.fake.photo_message(
                chat,
                sender,
                photo(index),
                (captions or {}).get(index),
                media_group_id=group,
                size=sizes.get(f"size{index}"),
            )
            for index in range(count)
        ]

    async def answered(self, messages: list[dict[str, Any]], updates: list[int]) -> Recorded:
        """The one card the album got, once the bot has finished with all its updates."""
        await self.handled.wait(*updates, timeout=WAIT_S)
        cards = [
            r
            for r in self.fake.calls("sendPhoto")
            if r.reply_to in {m["message_id"] for m in messages}
        ]
        assert len(cards) == 1, f"{len(cards)} cards for one album"
        return cards[0]


@contextlib.asynccontextmanager
async def running(
    fake: FakeTelegram, settings: Settings, analyzer: Any, sleep: HeldOpen | None = None
) -> AsyncIterator[Running]:
    """A bot on the real flow over ``settings``' database (a restart: call it again)."""
    storage = Storage.open(settings.db_path)
    service = MoodService(analyzer, storage, settings)
    flow = RecordingFlow(service)
    options = TelegramOptions(
        token=TOKEN,
        max_image_bytes=MAX_IMAGE_BYTES,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        album_wait_s=QUIET_S,
    )
    groups = MediaGroups(QUIET_S, sleep=sleep) if sleep is not None else None
    bot = TelegramBot(flow, options, media_groups=groups)
    handled = HandledUpdates(bot.application)
    await bot.start()
    try:
        yield Running(fake, flow, service, handled)
    finally:
        await bot.stop()
        storage.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake, own_settings, tiny_analyzer) -> AsyncIterator[Running]:
    async with running(fake, own_settings, tiny_analyzer) as started:
        yield started


# ---- one card per album ------------------------------------------------------------------


async def test_a_media_group_in_one_poll_is_one_card_in_photo_order(bot: Running) -> None:
    fake = bot.fake
    since = fake.mark()
    messages = bot.album(private_chat(KOREAN), KOREAN, 3, {1: "비 오는 날 여행"})
    shuffled = [messages[2], messages[0], messages[1]]  # the handlers start in this order
    updates = fake.push_together({"message": m} for m in shuffled)
    sent = await bot.answered(messages, updates)

    assert sent.reply_to == messages[0]["message_id"]
    [request] = bot.flow.requests
    assert isinstance(request, AlbumRequest) and request.caption == "비 오는 날 여행"
    assert len(fake.calls("getFile", since)) == 3
    card = bot.flow.cards[-1]
    assert card.album is not None and [p.position for p in card.album.photos] == [1, 2, 3]
    for album_photo, index in zip(card.album.photos, range(3), strict=True):
        alone = await bot.service.read(photo(index), "비 오는 날 여행")
        assert album_photo.analysis == alone, "photo i of the card is the i-th message's"

    caption = sent.params["caption"]
    ids = track_ids(caption)
    assert len(ids) == 10 and len(set(ids)) == 10
    assert [t.id for t in card.tracks] == ids
    assert all(line in visible(caption) for line in summary_lines(card))
    assert summary_lines(card)[0].startswith("1 ") and " → 3 " in summary_lines(card)[0]
    keyboard = sent.json("reply_markup")["inline_keyboard"]
    assert [b["callback_data"] for b in keyboard[0]] == [
        f"aidj:{card.request_id}:{a.value}" for a in Action
    ]

    assert sent.files["photo"] == card.plane_png
    anchors = await bot.service._storage.anchor_points()
    arc = [album_photo.target for album_photo in card.album.photos]
    scene = card.analysis.reading.image.category_id
    inputs = (anchors, card.analysis.base, card.target, card.tracks, card.language, scene)
    assert card.plane_png == render_mood_plane(*inputs, path=arc), "the arc, songs numbered"


async def test_steering_an_album_after_a_restart(fake, own_settings, tiny_analyzer) -> None:
    async with running(fake, own_settings, tiny_analyzer) as first:
        messages = first.album(private_chat(REQUESTER), REQUESTER, 3, {0: "road trip"})
        updates = fake.push_together({"message": m} for m in messages)
        sent = await first.answered(messages, updates)
        card = first.flow.cards[-1]
    assert card.album is not None

    async with running(fake, own_settings, tiny_analyzer) as again:  # a new process
        since = fake.mark()
        fake.press(REQUESTER, sent.result, f"aidj:{card.request_id}:more_energy")
        edit = await fake.wait_for("editMessageMedia", since=since, timeout=WAIT_S)
        louder = again.flow.cards[-1]
        assert louder.album is not None and edit.int("message_id") == sent.result["message_id"]
        for before, after in zip(card.album.photos, louder.album.photos, strict=True):
            assert after.target.energy == pytest.approx(
                min(1.0, before.target.energy + own_settings.nudge_step)
            )
        caption = edit.json("media")["caption"]
        assert "Steered to valence" in caption and len(track_ids(caption)) == 10
        assert not set(track_ids(caption)) & set(track_ids(sent.params["caption"]))
        attached = edit.json("media")["media"].removeprefix("attach://")
        assert edit.files[attached] == louder.plane_png

        since = fake.mark()
        fake.press(REQUESTER, sent.result, f"aidj:{card.request_id}:regenerate")
        edit = await fake.wait_for("editMessageMedia", since=since, timeout=WAIT_S)
        assert again.flow.cards[-1].album == louder.album, "regenerate keeps the arc"
    stored = recorded_request(own_settings, card.request_id)
    assert stored.album == louder.album and stored.rounds == 3


async def test_a_group_split_over_two_polls_is_still_one_card(
    fake, own_settings, tiny_analyzer
) -> None:
    held = HeldOpen()
    async with running(fake, own_settings, tiny_analyzer, sleep=held) as bot:
        messages = bot.album(private_chat(REQUESTER), REQUESTER, 3, {0: "sunset walk"})
        first = fake.push_together([{"message": messages[0]}])
        await asyncio.wait_for(held.waiting.wait(), WAIT_S)  # the group is open
        rest = fake.push_together({"message": m} for m in messages[1:])  # the next poll
        await bot.handled.wait(*rest, timeout=WAIT_S)  # both joined the open group
        held.gate.set()
        await bot.answered(messages, first + rest)
        card = bot.flow.cards[-1]
        assert card.album is not None and len(card.album.photos) == 3

        since = fake.mark()  # a straggler after the album was answered gets no card of its own
        late = fake.photo_message(private_chat(REQUESTER), REQUESTER, photo(3), media_group_id="g1")
        await bot.handled.wait(fake.send_message_update(late), timeout=WAIT_S)
        assert not fake.calls("sendPhoto", since) and not fake.calls("getFile", since)


# ---- groups, refusals --------------------------------------------------------------------


async def test_in_a_group_any_photo_of_the_album_may_address_the_bot(bot: Running) -> None:
    fake = bot.fake
    messages = bot.album(GROUP, REQUESTER, 3, {2: "@aidj_test_bot night out"})
    updates = fake.push_together({"message": m} for m in messages)
    sent = await bot.answered(messages, updates)
    assert sent.reply_to == messages[0]["message_id"]
    assert bot.flow.requests[-1].caption == "night out"

    since = fake.mark()
    ignored = bot.album(GROUP, OTHER, 2, {0: "look at these"}, group="g2")
    updates = fake.push_together({"message": m} for m in ignored)
    await bot.handled.wait(*updates, timeout=WAIT_S)
    assert not fake.calls("getFile", since) and not fake.calls("sendPhoto", since)


async def test_someone_elses_press_on_an_album_is_refused(bot: Running) -> None:
    fake = bot.fake
    messages = bot.album(GROUP, REQUESTER, 2, {0: "/mood beach day"})
    sent = await bot.answered(messages, fake.push_together({"message": m} for m in messages))
    card = bot.flow.cards[-1]
    since = fake.mark()
    press = fake.press(OTHER, sent.result, f"aidj:{card.request_id}:calmer")
    await bot.handled.wait(press, timeout=WAIT_S)
    [answer] = fake.calls("answerCallbackQuery", since)
    assert answer.params["show_alert"] == "true"
    assert answer.params["text"] == error_text(NotRequesterError("x"), Language.EN)
    assert not fake.calls("editMessageMedia", since)


async def test_a_photo_too_large_is_skipped_without_downloading(bot: Running) -> None:
    fake = bot.fake
    since = fake.mark()
    messages = bot.album(
        private_chat(REQUESTER), REQUESTER, 3, {0: "city"}, size1=MAX_IMAGE_BYTES + 1
    )
    sent = await bot.answered(messages, fake.push_together({"message": m} for m in messages))
    assert len(fake.calls("getFile", since)) == 2, "the oversized photo was never fetched"
    card = bot.flow.cards[-1]
    assert card.album is not None and [p.position for p in card.album.photos] == [1, 3]
    assert "Skipped: photo 2 (too large)" in visible(sent.params["caption"])


async def test_ten_photos_in_korean_fit_the_caption_with_all_of_it_shown(bot: Running) -> None:
    def long_names(card: PlaylistCard) -> PlaylistCard:
        tracks = tuple(
            replace(t, name="아주 긴 노래 제목 (라이브) " * 12, artists=("<밴드> & 친구들",))
            for t in card.tracks
        )
        return replace(card, tracks=tracks)

    fake = bot.fake
    bot.flow.rewrite = long_names
    messages = bot.album(
        private_chat(KOREAN), KOREAN, 10, {4: "비가 오지만 오늘 좋은 일이 있어서 신나!"}
    )
    sent = await bot.answered(messages, fake.push_together({"message": m} for m in messages))
    card = bot.flow.cards[-1]
    assert card.album is not None and len(card.album.photos) == 10
    caption = sent.params["caption"]  # the fake refuses a caption over 1024 characters
    assert visible_length(caption) <= CAPTION_LIMIT
    assert all(line in visible(caption) for line in summary_lines(card))
    assert summary_lines(card)[0].count(" → ") == 9
    assert len(track_ids(caption)) == 10
    assert caption.count("&lt;밴드&gt; &amp; 친구들") == 10
