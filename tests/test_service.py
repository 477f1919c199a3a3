"""The platform-neutral flow end to end: tiny models, a synthetic catalog, real SQLite.

Each test has a database of its own (``own_settings``). Cards are "posted" by a ``send``
that answers a message id, as the chat adapters do, so steering goes through the message.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from adapters.storage.request_log import RequestLog
from bot.service import MoodService
from core.categories import get_category
from core.errors import (
    BadImageError,
    DatabaseBusyError,
    NotRequesterError,
    RateLimitedError,
    UnknownRequestError,
)
from core.flow import Actor, CardMessage, PhotoRequest
from core.reply import PlaylistCard
from core.steering import Action
from tests.conftest import make_photo, recorded_request
from tests.flow_chat import Chat


@pytest.fixture
def analyzer(tiny_analyzer):
    return tiny_analyzer


@pytest.fixture
def service(analyzer, own_settings):
    db = open_database(own_settings.db_path)
    yield MoodService(analyzer, Storage(db), own_settings)
    db.close()


def request(user: str = "alice", caption: str = "rainy but happy", **extra) -> PhotoRequest:
    fields = dict(platform="telegram", chat_id="c1", user_id=user, image=make_photo(),
                  caption=caption)  # fmt: skip
    fields.update(extra)
    return PhotoRequest(**fields)


def owner(user: str = "alice", chat: str = "c1", **extra) -> Actor:
    return Actor(platform="telegram", chat_id=chat, user_id=user, **extra)


@pytest.fixture
def chat() -> Chat:
    return Chat()


async def test_first_card_has_ten_tracks_from_the_scene_near_the_target(service):
    card = await service.recommend(request())
    analysis = card.analysis
    genres = set(get_category(analysis.reading.image.category_id).seed_genres)
    assert len(card.tracks) == 10
    assert all(genres & set(track.genres) for track in card.tracks)
    assert len({track.artists for track in card.tracks}) == 10, "no artist twice"
    assert card.target == analysis.final
    assert analysis.base_source == "anchors"
    assert card.plane_png is not None and card.plane_png.startswith(b"\x89PNG")
    assert card.round == 0


async def test_regenerate_never_repeats_and_survives_a_restart(
    service, analyzer, own_settings, chat
):
    card, message = await chat.post(service, request())
    again = await service.steer(message, Action.REGENERATE, owner(), chat.edit)
    first_ids = {t.id for t in card.tracks}
    second_ids = {t.id for t in again.tracks}
    assert len(second_ids) == 10 and not first_ids & second_ids
    assert again.round == 1 and again.target == card.target
    assert chat.edits == [again]

    db = open_database(own_settings.db_path)  # a new process would start like this
    restarted = MoodService(analyzer, Storage(db), own_settings)
    third = await restarted.steer(message, Action.REGENERATE, owner(), chat.edit)
    assert not {t.id for t in third.tracks} & (first_ids | second_ids)
    assert third.round == 2
    db.close()


async def test_nudges_move_the_target_by_the_step(service, own_settings, chat):
    card, message = await chat.post(service, request(caption=""))
    louder = await service.steer(message, Action.MORE_ENERGY, owner(), chat.edit)
    step = own_settings.nudge_step
    assert louder.target.energy == pytest.approx(min(1.0, card.target.energy + step))
    assert louder.target.valence == card.target.valence
    sadder = await service.steer(message, Action.SADDER, owner(), chat.edit)
    assert sadder.target.valence == pytest.approx(max(0.0, card.target.valence - step))
    assert sadder.target.energy == louder.target.energy, "nudges accumulate"
    assert sadder.last_action is Action.SADDER


async def test_only_the_requester_or_an_admin_of_its_chat_steers(service, chat):
    _, message = await chat.post(service, request(user="alice"))
    with pytest.raises(NotRequesterError):
        await service.steer(message, Action.REGENERATE, owner("mallory"), chat.edit)
    by_admin = await service.steer(message, Action.CALMER, owner("mod", is_admin=True), chat.edit)
    assert by_admin.round == 1


async def test_an_admin_of_another_chat_cannot_steer_the_card(service, own_settings, chat):
    """A chat admin's rights end at their chat: a press that names another chat's card
    (forged, or by the same user id elsewhere) is refused and changes nothing."""
    card, message = await chat.post(service, request(user="alice", chat_id="group-a"))
    elsewhere = CardMessage("telegram", "group-b", message.message_id)
    admin_of_b = owner("mod", "group-b", is_admin=True)
    with pytest.raises(UnknownRequestError):  # the card is looked up where it was pressed
        await service.steer(elsewhere, Action.CALMER, admin_of_b, chat.edit)
    with pytest.raises(NotRequesterError):  # and on the card itself B's admin rights stop
        await service.steer(message, Action.CALMER, admin_of_b, chat.edit)
    stored = recorded_request(own_settings, card.request_id)
    assert (stored.target, stored.rounds) == (card.target, 1)
    assert chat.edits == []


async def test_a_button_naming_another_request_is_refused(service, own_settings, chat):
    mine, my_message = await chat.post(service, request(user="alice"))
    theirs, _ = await chat.post(service, request(user="bob"))
    with pytest.raises(NotRequesterError):
        await service.steer(
            my_message, Action.CALMER, owner("alice"), chat.edit, claimed_request=theirs.request_id
        )
    for card in (mine, theirs):
        assert recorded_request(own_settings, card.request_id).rounds == 1
    steered = await service.steer(
        my_message, Action.CALMER, owner("alice"), chat.edit, claimed_request=mine.request_id
    )
    assert steered.request_id == mine.request_id


async def test_a_message_that_is_not_a_card_is_a_clear_error(service, chat):
    with pytest.raises(UnknownRequestError):
        await service.steer(
            CardMessage("telegram", "c1", "nope"), Action.REGENERATE, owner(), chat.edit
        )


async def test_presses_that_arrive_together_give_distinct_rounds_and_add_up(
    service, own_settings, chat
):
    card, message = await chat.post(service, request(caption=""))
    regenerated = await asyncio.gather(
        *(service.steer(message, Action.REGENERATE, owner(), chat.edit) for _ in range(3))
    )
    rounds = [card.tracks, *(c.tracks for c in regenerated)]
    ids = [t.id for tracks in rounds for t in tracks]
    assert len(ids) == 40 and len(set(ids)) == 40, "no press showed another's songs"
    assert sorted(c.round for c in regenerated) == [1, 2, 3]

    calmer = await asyncio.gather(
        *(service.steer(message, Action.CALMER, owner(), chat.edit) for _ in range(2))
    )
    expected = max(0.0, card.target.energy - 2 * own_settings.nudge_step)
    assert min(c.target.energy for c in calmer) == pytest.approx(expected), "two steps"
    assert recorded_request(own_settings, card.request_id).target.energy == pytest.approx(expected)


async def test_a_press_whose_card_was_not_delivered_changes_nothing(analyzer, own_settings, chat):
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=1)  # 3 presses a minute
    db = open_database(settings.db_path)
    service = MoodService(analyzer, Storage(db), settings, render_plane=False)
    card, message = await chat.post(service, request(caption=""))
    chat.fail_edits = 5
    for _ in range(5):
        with pytest.raises(ConnectionError):
            await service.steer(message, Action.CALMER, owner(), chat.edit)
    stored = recorded_request(settings, card.request_id)
    assert (stored.target, stored.rounds) == (card.target, 1), "nothing kept"
    assert RequestLog(db).shown_ids(card.request_id) == {t.id for t in card.tracks}
    delivered = await service.steer(message, Action.CALMER, owner(), chat.edit)
    assert delivered.round == 1, "and the failed presses did not use up the rate limit"
    assert delivered.target.energy < card.target.energy
    db.close()


async def test_a_card_that_could_not_be_sent_is_not_kept_nor_counted(analyzer, own_settings):
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=1)
    db = open_database(settings.db_path)
    service = MoodService(analyzer, Storage(db), settings, render_plane=False)
    before = db["requests"].count

    async def undeliverable(card: PlaylistCard) -> str:
        raise ConnectionError("429 after every retry")

    for _ in range(3):
        with pytest.raises(ConnectionError):
            await service.recommend(request(user="carol"), undeliverable)
    assert db["requests"].count == before
    assert db["shown_tracks"].count == 0
    card = await service.recommend(request(user="carol"))  # the limit of 1 is still free
    assert len(card.tracks) == 10
    db.close()


async def test_the_photo_is_fetched_only_within_the_rate_limit(analyzer, own_settings):
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=1)
    db = open_database(settings.db_path)
    service = MoodService(analyzer, Storage(db), settings, render_plane=False)
    fetched: list[str] = []

    def photo(label: str):
        async def fetch() -> bytes:
            fetched.append(label)
            return make_photo()

        return request(user="erin", image=fetch)

    await service.recommend(photo("first"))
    with pytest.raises(RateLimitedError):
        await service.recommend(photo("second"))
    assert fetched == ["first"]
    db.close()


async def test_a_broken_emoji_in_the_caption_still_gets_a_card(service, own_settings):
    card = await service.recommend(request(caption="rainy \ud83d day\x00  \u1100\u1161"))
    stored = recorded_request(own_settings, card.request_id)
    assert stored.caption == "rainy \ufffd day \uac00"
    assert len(card.tracks) == 10


async def test_a_database_locked_by_an_import_is_a_clear_busy_error(analyzer, own_settings):
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=1)
    db = open_database(settings.db_path)
    db.execute("PRAGMA busy_timeout = 50")
    service = MoodService(analyzer, Storage(db), settings, render_plane=False)
    importer = open_database(own_settings.db_path)
    importer.conn.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long import would
    try:
        with pytest.raises(DatabaseBusyError):
            await service.recommend(request(user="frank"))
    finally:
        importer.conn.rollback()
        importer.close()
    card = await service.recommend(request(user="frank"))  # the failure did not count
    assert len(card.tracks) == 10
    db.close()


async def test_the_owner_steers_any_request_by_its_id(service):
    card = await service.recommend(request(user="alice", chat_id="somewhere"))
    again = await service.steer_as_owner(card.request_id, Action.REGENERATE)
    assert again.round == 1 and not {t.id for t in again.tracks} & {t.id for t in card.tracks}
    with pytest.raises(UnknownRequestError):
        await service.steer_as_owner(999_999, Action.REGENERATE)


async def test_reply_messages_lead_back_to_their_request(service, chat):
    card, message = await chat.post(service, request())
    found = await service.request_for_message("telegram", "c1", message.message_id)
    assert found == card.request_id
    assert await service.request_for_message("telegram", "c1", "m-none") is None


async def test_bad_image_records_nothing(service, own_settings):
    db = open_database(own_settings.db_path)
    before = db["requests"].count
    with pytest.raises(BadImageError):
        await service.recommend(request(image=b"not an image"))
    assert db["requests"].count == before
    db.close()


async def test_the_request_is_recorded_with_what_was_read(service, own_settings):
    card = await service.recommend(request(user="bob", caption="  calm evening  "))
    stored = recorded_request(own_settings, card.request_id)
    assert (stored.platform, stored.user_id, stored.caption) == ("telegram", "bob", "calm evening")
    assert stored.analysis.final == card.analysis.final
    assert stored.rounds == 1


async def test_language_follows_locale_then_caption(service):
    korean = await service.recommend(request(caption="비가 와도 좋아"))
    english_locale = await service.recommend(request(caption="비가 와도 좋아", locale="en"))
    assert korean.language == "ko"
    assert english_locale.language == "en"


async def test_rate_limit_per_user(analyzer, own_settings):
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=2)
    db = open_database(settings.db_path)
    limited = MoodService(analyzer, Storage(db), settings, render_plane=False)
    await limited.recommend(request(user="carol"))
    await limited.recommend(request(user="carol"))
    with pytest.raises(RateLimitedError) as caught:
        await limited.recommend(request(user="carol"))
    assert 0 < caught.value.retry_after <= 60
    await limited.recommend(request(user="dave"))  # others are not affected
    db.close()


async def test_a_catalog_without_the_scene_genres_is_searched_whole(
    analyzer, flow_settings, tmp_path
):
    from adapters.storage.catalog_import import store_tracks
    from tests.catalog_factory import make_track

    db = open_database(tmp_path / "narrow.db")
    store_tracks(db, [make_track(f"t{i}", i / 40, 0.5, genres=("polka",)) for i in range(40)])
    narrow = MoodService(analyzer, Storage(db), flow_settings, render_plane=False)
    card = await narrow.recommend(request())
    assert len(card.tracks) == 10
    assert all(track.genres == ("polka",) for track in card.tracks)
    db.close()
