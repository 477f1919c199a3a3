"""Track details: album art fetched one track at a time, cached, never blocking a reply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from adapters.spotify.client import app_client
from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.track_details import TrackDetails, TrackInfo, pick_image
from bot.config import load_settings
from core.errors import ConfigError
from tests.fake_spotify import (
    FakeSpotify,
    Fault,
    cache_for,
    catalog_track,
    options_for,
    settings_for,
    spotify_db,
)

ART = "https://i.scdn.co/image/"


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        for n in (1, 2, 3):
            server.add_track(f"t{n}", image_url=f"{ART}{n}", playable=n != 3)
        yield server


def extras_for(
    fake: FakeSpotify, tmp_path, db, market: str | None = None, **policy
) -> SpotifyExtras:
    settings = settings_for(fake, tmp_path / "config", spotify_market=market)
    extras = SpotifyExtras.from_settings(
        settings, cache_for(db), options=options_for(fake, **policy)
    )
    assert extras is not None and extras.details is not None
    return extras


async def test_enrich_fills_album_art_and_caches_each_track_once(fake, tmp_path):
    db = spotify_db()
    extras = extras_for(fake, tmp_path, db)
    tracks = [catalog_track("t2"), catalog_track("t1"), catalog_track("t3")]

    enriched = await extras.enrich(tracks)

    assert [t.id for t in enriched] == ["t2", "t1", "t3"]
    assert [t.album_art_url for t in enriched] == [f"{ART}2?300", f"{ART}1?300", f"{ART}3?300"]
    assert enriched[0] == replace(tracks[0], album_art_url=f"{ART}2?300")  # nothing else moved
    assert sorted(c.path for c in fake.api_requests()) == [
        "/v1/tracks/t1",
        "/v1/tracks/t2",
        "/v1/tracks/t3",
    ]
    assert all(c.method == "GET" and c.authorization for c in fake.api_requests())
    assert all(c.query == {} for c in fake.api_requests())  # no SPOTIFY_MARKET, no market
    cached = dict(db.execute("select track_id, available from spotify_tracks").fetchall())
    assert cached == {"t1": None, "t2": None, "t3": None}  # Spotify no longer says
    seen = len(fake.recorded)

    again = await extras.enrich(tracks)

    assert again == enriched
    assert len(fake.recorded) == seen  # no HTTP at all, not even a token request


async def test_with_a_market_availability_means_playable_there(fake, tmp_path):
    db = spotify_db()
    extras = extras_for(fake, tmp_path, db, market="KR")

    await extras.enrich([catalog_track("t1"), catalog_track("t3")])

    assert {c.path: c.query for c in fake.api_requests()} == {
        "/v1/tracks/t1": {"market": "KR"},
        "/v1/tracks/t3": {"market": "KR"},
    }
    cached = dict(db.execute("select track_id, available from spotify_tracks").fetchall())
    assert cached == {"t1": 1, "t3": 0}


def test_spotify_market_is_a_two_letter_country_code():
    assert load_settings({"SPOTIFY_MARKET": " kr "}, dotenv=False).spotify_market == "KR"
    assert load_settings({}, dotenv=False).spotify_market is None
    for wrong in ("Korea", "K1", "from_token"):
        with pytest.raises(ConfigError, match="SPOTIFY_MARKET"):
            load_settings({"SPOTIFY_MARKET": wrong}, dotenv=False)


async def test_a_track_spotify_does_not_know_is_cached_as_unavailable(fake, tmp_path):
    db = spotify_db()
    extras = extras_for(fake, tmp_path, db)

    enriched = await extras.enrich([catalog_track("nosuchtrack")])
    await extras.enrich([catalog_track("nosuchtrack")])

    assert enriched[0].album_art_url is None
    assert len(fake.requests("GET", "/v1/tracks/nosuchtrack")) == 1
    assert extras.details.cached(["nosuchtrack"]) == {
        "nosuchtrack": TrackInfo(album_art_url=None, available=False)
    }


async def test_a_server_error_is_retried(fake, tmp_path):
    extras = extras_for(fake, tmp_path, spotify_db())
    fake.script("GET", "/v1/tracks/t1", Fault(status=500))

    enriched = await extras.enrich([catalog_track("t1")])

    assert enriched[0].album_art_url == f"{ART}1?300"
    assert len(fake.requests("GET", "/v1/tracks/t1")) == 2


async def test_timeouts_retry_a_bounded_number_of_times_then_give_up(fake, tmp_path, caplog):
    db = spotify_db()
    extras = extras_for(fake, tmp_path, db)
    fake.always("GET", "/v1/tracks/t1", Fault(delay=0.6))  # longer than the 0.3 s timeout
    tracks = [catalog_track("t1"), catalog_track("t2")]

    with caplog.at_level(logging.WARNING):
        enriched = await extras.enrich(tracks)

    assert enriched == tracks  # unchanged: the reply goes out without album art
    assert len(fake.requests("GET", "/v1/tracks/t1")) == 3  # 1 try + 2 retries
    assert fake.requests("GET", "/v1/tracks/t2") == []  # stopped at the first failure
    assert db.execute("select count(*) from spotify_tracks").fetchone() == (0,)
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "timed out after 3 attempts" in warning.getMessage()


def test_track_details_work_synchronously_too(fake):
    """The CLI path: no event loop, the client used directly."""
    options = options_for(fake)
    details = TrackDetails(
        app_client(settings_credentials(fake), options),
        cache_for(spotify_db()),
        policy=options.policy,
    )
    (track,) = details.enrich([catalog_track("t1")])
    assert track.album_art_url == f"{ART}1?300"


def test_pick_image_prefers_about_300_px():
    images = [
        {"url": "big", "width": 640, "height": 640},
        {"url": "mid", "width": 300, "height": 300},
        {"url": "small", "width": 64, "height": 64},
    ]
    assert pick_image(images) == "mid"
    assert pick_image(images[2:]) == "small"
    assert pick_image([]) is None


def settings_credentials(fake: FakeSpotify):
    from adapters.spotify.client import Credentials

    return Credentials(fake.state.client_id, fake.state.client_secret)
