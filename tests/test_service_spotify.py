"""The flow with Spotify configured: each card leads with a real playlist made through the
(fake) Web API, and regenerate replaces its items instead of making another playlist."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.spotify.extras import SpotifyExtras
from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.flow import PhotoRequest
from core.steering import Action
from tests.conftest import make_photo
from tests.fake_spotify import FakeSpotify, Fault, log_in, options_for


@pytest.fixture
def fake():
    with FakeSpotify() as server:
        yield server


@pytest.fixture
def spotify_service(fake, own_settings, tiny_analyzer, tmp_path):
    """The real flow with Spotify configured against the fake, the owner logged in."""
    config_dir = tmp_path / "config"
    log_in(fake, config_dir)
    settings = dataclasses.replace(
        own_settings,
        spotify_client_id=fake.state.client_id,
        spotify_client_secret=fake.state.client_secret,
        config_dir=config_dir,
    )
    storage = Storage.open(settings.db_path)
    extras = SpotifyExtras.from_settings(settings, storage.spotify, options=options_for(fake))
    assert extras is not None
    yield MoodService(tiny_analyzer, storage, settings, spotify=extras)
    storage.close()


async def test_card_gets_a_playlist_and_regenerate_replaces_its_items(fake, spotify_service):
    service = spotify_service

    request = PhotoRequest("telegram", "c9", "erin", make_photo(), "rainy but happy")
    card = await service.recommend(request)
    (playlist_id,) = fake.state.playlists
    assert card.playlist_url == f"https://open.spotify.com/playlist/{playlist_id}"
    [create] = fake.requests("POST", "/v1/me/playlists")
    assert create.json["name"].startswith("AI DJ")
    [add] = fake.requests("POST", f"/v1/playlists/{playlist_id}/items")
    assert add.json["uris"] == [f"spotify:track:{t.id}" for t in card.tracks]

    again = await service.steer_as_owner(card.request_id, Action.REGENERATE)
    assert again.playlist_url == card.playlist_url
    assert len(fake.state.playlists) == 1, "regenerate reuses the playlist"
    [replace] = fake.requests("PUT", f"/v1/playlists/{playlist_id}/items")
    assert replace.json["uris"] == [f"spotify:track:{t.id}" for t in again.tracks]


async def test_spotify_down_still_answers_without_extras(fake, spotify_service):
    fake.always("POST", "/v1/me/playlists", Fault(status=503))
    card = await spotify_service.recommend(
        PhotoRequest("discord", "c1", "finn", make_photo(), "calm")
    )
    assert card.playlist_url is None
    assert len(card.tracks) == 10
    assert fake.requests("POST", "/v1/me/playlists"), "Spotify was asked and failed"
