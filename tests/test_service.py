"""The platform-neutral flow end to end: tiny models, a synthetic catalog, real SQLite."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.storage.database import open_database
from bot.flow import Actor, PhotoRequest
from bot.service import MoodService
from core.categories import get_category
from core.errors import BadImageError, NotRequesterError, RateLimitedError, UnknownRequestError
from core.steering import Action
from tests.conftest import make_photo, recorded_request


@pytest.fixture
def analyzer(tiny_analyzer):
    return tiny_analyzer


@pytest.fixture
def service(analyzer, flow_settings):
    db = open_database(flow_settings.db_path)
    yield MoodService(analyzer, db, flow_settings)
    db.close()


def request(user: str = "alice", caption: str = "rainy but happy", **extra) -> PhotoRequest:
    fields = dict(platform="telegram", chat_id="c1", user_id=user, image=make_photo(),
                  caption=caption)  # fmt: skip
    fields.update(extra)
    return PhotoRequest(**fields)


def owner(user: str = "alice", **extra) -> Actor:
    return Actor(platform="telegram", chat_id="c1", user_id=user, **extra)


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


async def test_regenerate_never_repeats_and_survives_a_restart(service, analyzer, flow_settings):
    card = await service.recommend(request())
    again = await service.steer(card.request_id, Action.REGENERATE, owner())
    first_ids = {t.id for t in card.tracks}
    second_ids = {t.id for t in again.tracks}
    assert len(second_ids) == 10 and not first_ids & second_ids
    assert again.round == 1 and again.target == card.target

    db = open_database(flow_settings.db_path)  # a new process would start like this
    restarted = MoodService(analyzer, db, flow_settings)
    third = await restarted.steer(card.request_id, Action.REGENERATE, owner())
    assert not {t.id for t in third.tracks} & (first_ids | second_ids)
    assert third.round == 2
    db.close()


async def test_nudges_move_the_target_by_the_step(service, flow_settings):
    card = await service.recommend(request(caption=""))
    louder = await service.steer(card.request_id, Action.MORE_ENERGY, owner())
    assert louder.target.energy == pytest.approx(
        min(1.0, card.target.energy + flow_settings.nudge_step)
    )
    assert louder.target.valence == card.target.valence
    sadder = await service.steer(card.request_id, Action.SADDER, owner())
    assert sadder.target.valence == pytest.approx(
        max(0.0, card.target.valence - flow_settings.nudge_step)
    )
    assert sadder.target.energy == louder.target.energy, "nudges accumulate"
    assert sadder.last_action is Action.SADDER


async def test_only_the_requester_or_an_admin_steers(service):
    card = await service.recommend(request(user="alice"))
    with pytest.raises(NotRequesterError):
        await service.steer(card.request_id, Action.REGENERATE, owner("mallory"))
    by_admin = await service.steer(card.request_id, Action.CALMER, owner("mod", is_admin=True))
    assert by_admin.round == 1


async def test_unknown_request_is_a_clear_error(service):
    with pytest.raises(UnknownRequestError):
        await service.steer(999_999, Action.REGENERATE, owner())


async def test_reply_messages_lead_back_to_their_request(service):
    card = await service.recommend(request())
    await service.remember_message(card.request_id, "telegram", "c1", "m42")
    assert await service.request_for_message("telegram", "c1", "m42") == card.request_id
    assert await service.request_for_message("telegram", "c1", "m43") is None


async def test_bad_image_records_nothing(service, flow_settings):
    db = open_database(flow_settings.db_path)
    before = db["requests"].count
    with pytest.raises(BadImageError):
        await service.recommend(request(image=b"not an image"))
    assert db["requests"].count == before
    db.close()


async def test_the_request_is_recorded_with_what_was_read(service, flow_settings):
    card = await service.recommend(request(user="bob", caption="  calm evening  "))
    stored = recorded_request(flow_settings, card.request_id)
    assert (stored.platform, stored.user_id, stored.caption) == ("telegram", "bob", "calm evening")
    assert stored.analysis.final == card.analysis.final
    assert stored.rounds == 1


async def test_language_follows_locale_then_caption(service):
    korean = await service.recommend(request(caption="비가 와도 좋아"))
    english_locale = await service.recommend(request(caption="비가 와도 좋아", locale="en"))
    assert korean.language == "ko"
    assert english_locale.language == "en"


async def test_rate_limit_per_user(analyzer, flow_settings):
    settings = dataclasses.replace(flow_settings, rate_limit_per_minute=2)
    db = open_database(flow_settings.db_path)
    limited = MoodService(analyzer, db, settings, render_plane=False)
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
    narrow = MoodService(analyzer, db, flow_settings, render_plane=False)
    card = await narrow.recommend(request())
    assert len(card.tracks) == 10
    assert all(track.genres == ("polka",) for track in card.tracks)
    db.close()
