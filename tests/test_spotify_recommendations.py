"""Legacy /recommendations: used when it works, the local catalog whenever it does not."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest

from adapters.spotify.legacy_recommendations import LegacyRecommender, seed_genres
from adapters.spotify.resilience import RetryPolicy
from core.mood import MoodPoint
from core.recommend import artist_keys
from core.tracks import Track, TrackFilter
from tests.fake_spotify import (
    FakeSpotify,
    Fault,
    catalog_track,
    options_for,
    settings_for,
    track_object,
)

TARGET = MoodPoint(0.31, 0.22)
GENRES = ("acoustic", "indie-poptimism", "sad", "piano", "indie", "singer-songwriter", "chill")
PATH = "/v1/recommendations"


class Catalog:
    """The local catalog's stand-in (a TrackSource): records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[MoodPoint, tuple[str, ...], int, set[str]]] = []
        self.avoided: list[TrackFilter | None] = []

    async def recommend(
        self,
        target: MoodPoint,
        genres: tuple[str, ...],
        n: int,
        exclude: set[str],
        *,
        avoid: TrackFilter | None = None,
    ) -> list[Track]:
        self.calls.append((target, genres, n, set(exclude)))
        self.avoided.append(avoid)
        return [catalog_track(f"cat{i}") for i in range(n)]


class SleepSpy:
    """The policy's clock: returns at once, and remembers each wait it was asked for with
    how many /recommendations calls the fake had answered by then (where the wait fell)."""

    def __init__(self, fake: FakeSpotify) -> None:
        self._fake = fake
        self.waits: list[float] = []
        self.calls_before: list[int] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.calls_before.append(len(self._fake.requests("GET", PATH)))


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        server.state.recommendations = [
            track_object(f"sp{i}", name=f"Rec {i}", image_url=f"https://img/{i}") for i in range(6)
        ]
        yield server


def recommender(fake, tmp_path, catalog, **policy) -> LegacyRecommender:
    options = options_for(fake, **policy)
    made = LegacyRecommender.from_settings(
        settings_for(fake, tmp_path, recommender="spotify"), catalog, options=options
    )
    assert made is not None
    return made


async def test_recommendations_map_to_tracks_at_the_target(fake, tmp_path):
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog)

    tracks = await rec.recommend(TARGET, GENRES, 3, {"sp0"})

    assert [t.id for t in tracks] == ["sp1", "sp2", "sp3"]  # sp0 was already shown
    assert all((t.valence, t.energy) == (0.31, 0.22) for t in tracks)
    assert tracks[0].name == "Rec 1" and tracks[0].artists == ("Artist",)
    assert tracks[0].album_art_url == "https://img/1?300"
    (call,) = fake.requests("GET", PATH)
    assert call.query == {
        "seed_genres": "acoustic,sad,piano,indie,singer-songwriter",  # valid seeds, max 5
        "target_valence": "0.31",
        "target_energy": "0.22",
        "limit": "4",
    }
    assert call.authorization and call.authorization.startswith("Bearer app")
    assert catalog.calls == []


@pytest.mark.parametrize("status", [403, 404])
async def test_removed_endpoint_falls_back_to_the_catalog_with_one_warning(
    fake, tmp_path, caplog, status
):
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog)
    fake.always("GET", PATH, Fault(status=status))

    with caplog.at_level(logging.WARNING):
        tracks = await rec.recommend(TARGET, GENRES, 4, {"x"})

    assert [t.id for t in tracks] == ["cat0", "cat1", "cat2", "cat3"]
    assert catalog.calls == [(TARGET, GENRES, 4, {"x"})]
    assert len(fake.requests("GET", PATH)) == 1  # a 4xx is not retried
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.getMessage() == (
        f"Spotify recommendations unavailable (HTTP {status}); using the local catalog"
    )


async def test_429_waits_for_retry_after_then_retries(fake, tmp_path):
    sleep = SleepSpy(fake)
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog, sleep=sleep)
    fake.script("GET", PATH, Fault(status=429, retry_after=1))

    tracks = await rec.recommend(TARGET, GENRES, 2, set())

    assert [t.id for t in tracks] == ["sp0", "sp1"]
    assert len(fake.requests("GET", PATH)) == 2
    assert sleep.waits == [1.0]
    assert sleep.calls_before == [1], "the wait fell between the refused call and the retry"
    assert catalog.calls == []


async def test_retry_after_over_the_cap_falls_back_without_waiting(fake, tmp_path, caplog):
    sleep = SleepSpy(fake)
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog, sleep=sleep, retry_after_cap_s=2.0)
    fake.always("GET", PATH, Fault(status=429, retry_after=30))

    with caplog.at_level(logging.WARNING):
        tracks = await rec.recommend(TARGET, GENRES, 2, set())

    assert [t.id for t in tracks] == ["cat0", "cat1"]
    assert len(fake.requests("GET", PATH)) == 1
    assert sleep.waits == []
    assert "Retry-After 30 s is over the 2 s cap" in caplog.text


async def test_server_error_then_success(fake, tmp_path):
    sleep = SleepSpy(fake)
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog, sleep=sleep)
    fake.script("GET", PATH, Fault(status=500))

    tracks = await rec.recommend(TARGET, GENRES, 2, set())

    assert [t.id for t in tracks] == ["sp0", "sp1"]
    assert len(fake.requests("GET", PATH)) == 2
    assert sleep.waits == [0.01]  # the short backoff, not a Retry-After
    assert sleep.calls_before == [1]
    assert catalog.calls == []


async def test_timeouts_retry_then_fall_back(fake, tmp_path):
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog)
    fake.always("GET", PATH, Fault(delay=0.6))  # requests_timeout is 0.3 s

    tracks = await rec.recommend(TARGET, GENRES, 2, set())

    assert [t.id for t in tracks] == ["cat0", "cat1"]
    assert len(fake.requests("GET", PATH)) == 3


async def test_no_connection_falls_back(fake, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/"
    catalog = Catalog()
    options = replace(options_for(fake), api_prefix=dead)
    rec = LegacyRecommender.from_settings(
        settings_for(fake, tmp_path, recommender="spotify"), catalog, options=options
    )
    assert rec is not None

    tracks = await rec.recommend(TARGET, GENRES, 1, set())

    assert [t.id for t in tracks] == ["cat0"]
    assert len(catalog.calls) == 1


async def test_too_few_recommendations_are_topped_up_from_the_catalog(fake, tmp_path):
    fake.state.recommendations = fake.state.recommendations[:2]
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog)

    tracks = await rec.recommend(TARGET, GENRES, 4, {"old"})

    assert [t.id for t in tracks] == ["sp0", "sp1", "cat0", "cat1"]
    assert catalog.calls == [(TARGET, GENRES, 2, {"old", "sp0", "sp1"})]


def test_only_opted_in_and_configured_settings_make_one(fake, tmp_path):
    from bot.config import load_settings

    configured_catalog = settings_for(fake, tmp_path, recommender="catalog")
    assert LegacyRecommender.from_settings(configured_catalog, Catalog()) is None
    no_credentials = load_settings({}, dotenv=False, recommender="spotify")
    assert LegacyRecommender.from_settings(no_credentials, Catalog()) is None


def test_seed_genres_keep_spotify_seeds_in_order():
    assert seed_genres(("indie-poptimism", "sad", "sad", "r-n-b", "permanent-wave")) == [
        "sad",
        "r-n-b",
    ]


def test_policy_gives_up_at_once_on_client_errors():
    from spotipy.exceptions import SpotifyException

    from adapters.spotify.resilience import SpotifyUnavailable

    attempts: list[int] = []

    def forbidden() -> None:
        attempts.append(1)
        raise SpotifyException(403, -1, "https://api/v1/x?secret=1:\n no", headers={})

    with pytest.raises(SpotifyUnavailable) as raised:
        RetryPolicy(sleep=lambda s: None).call("thing", forbidden)
    assert attempts == [1]
    assert str(raised.value) == "Spotify thing: HTTP 403"  # no URL, no upstream text
    assert raised.value.__cause__ is None and raised.value.__context__ is None


async def test_a_listeners_filter_leaves_out_spotifys_explicit_tracks_and_skipped_artists(
    fake, tmp_path
):
    fake.state.recommendations = [
        track_object("sp0", explicit=True),
        track_object("sp1", artists=("Skipped One",)),
        track_object("sp2"),
        track_object("sp3", artists=("Guest", "SKIPPED one")),  # any credited artist counts
    ]
    catalog = Catalog()
    rec = recommender(fake, tmp_path, catalog)
    avoid = TrackFilter(artists=artist_keys(["skipped one"]), no_explicit=True)

    tracks = await rec.recommend(TARGET, GENRES, 3, set(), avoid=avoid)

    assert [t.id for t in tracks] == ["sp2", "cat0", "cat1"]
    assert catalog.avoided == [avoid]  # the top-up leaves the same out
    plain = await recommender(fake, tmp_path, Catalog()).recommend(TARGET, GENRES, 3, set())
    assert [t.id for t in plain] == ["sp0", "sp1", "sp2"]
