"""The fake Spotify answers as the February 2026 reference says for development-mode apps,
not more kindly: one test per difference from the pre-2026 API, through the real spotipy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import spotipy
from spotipy.exceptions import SpotifyException

from adapters.spotify.auth import TokenFile, token_path
from adapters.spotify.client import Credentials, app_client, user_client
from tests.fake_spotify import FakeSpotify, log_in, options_for

OLD_LOGIN = ("playlist-modify-private", "playlist-modify-public")  # no library, no reading


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        server.add_track("t1", image_url="https://img/1", playable=False)
        yield server


def owner(fake: FakeSpotify, config_dir: Path, scopes: tuple[str, ...] | None = None):
    """A spotipy client acting as the owner, with only the scopes the login granted."""
    token = log_in(fake, config_dir) if scopes is None else log_in(fake, config_dir, scopes=scopes)
    client = spotipy.Spotify(auth=token["access_token"], requests_timeout=2)
    client.prefix = fake.api_prefix
    return client


def app(fake: FakeSpotify) -> spotipy.Spotify:
    credentials = Credentials(fake.state.client_id, fake.state.client_secret)
    return app_client(credentials, options_for(fake))


def status_of(call) -> int:
    with pytest.raises(SpotifyException) as raised:
        call()
    return raised.value.http_status


def test_unfollowing_through_the_followers_endpoint_is_refused(fake, tmp_path):
    client = owner(fake, tmp_path)
    fake.add_playlist("pl1")

    assert status_of(lambda: client.current_user_unfollow_playlist("pl1")) == 403
    assert fake.state.playlists["pl1"]["in_library"] is True


def test_removing_from_the_library_takes_uris_at_most_40(fake, tmp_path):
    client = owner(fake, tmp_path)
    fake.add_playlist("pl1")

    assert client._delete("me/library", uris="spotify:playlist:pl1") is None  # 200, no body
    assert fake.state.playlists["pl1"]["in_library"] is False
    too_many = ",".join(f"spotify:playlist:p{n}" for n in range(41))
    assert status_of(lambda: client._delete("me/library", uris=too_many)) == 400
    assert status_of(lambda: client._delete("me/library", uris="pl1")) == 400  # an id, no URI


def test_removing_from_the_library_needs_user_library_modify(fake, tmp_path):
    client = owner(fake, tmp_path, scopes=OLD_LOGIN)
    fake.add_playlist("pl1")

    assert status_of(lambda: client._delete("me/library", uris="spotify:playlist:pl1")) == 403
    assert fake.state.playlists["pl1"]["in_library"] is True


def test_a_track_has_no_markets_or_popularity_and_is_playable_only_for_a_market(fake):
    client = app(fake)

    plain = client.track("t1")
    in_korea = client.track("t1", market="KR")

    for removed in ("available_markets", "popularity", "linked_from", "is_playable"):
        assert removed not in plain
    assert in_korea["is_playable"] is False
    assert "available_markets" not in in_korea


def test_a_playlist_counts_its_items_as_items_not_tracks(fake, tmp_path):
    client = owner(fake, tmp_path)

    created = client.current_user_playlist_create("AI DJ", public=False)
    client.playlist_replace_items(created["id"], ["spotify:track:t1"])
    listed = client.current_user_playlists(limit=50)["items"][0]

    assert "tracks" not in created and created["items"]["total"] == 0
    assert "tracks" not in listed and listed["items"]["total"] == 1


def test_a_playlist_removed_from_the_library_can_still_be_filled(fake, tmp_path):
    """Unfollowing one's own playlist does not delete it: replacing its items still works."""
    client = owner(fake, tmp_path)
    fake.add_playlist("pl1")
    client._delete("me/library", uris="spotify:playlist:pl1")

    client.playlist_replace_items("pl1", ["spotify:track:t1"])

    assert fake.state.playlists["pl1"]["uris"] == ["spotify:track:t1"]
    assert status_of(lambda: client.playlist_replace_items("nosuch", [])) == 404


def test_private_playlists_are_listed_only_with_playlist_read_private(fake, tmp_path):
    fake.add_playlist("private1")
    fake.add_playlist("public1", public=True)

    reader = owner(fake, tmp_path / "a")
    old = owner(fake, tmp_path / "b", scopes=OLD_LOGIN)

    assert [p["id"] for p in reader.current_user_playlists()["items"]] == ["public1", "private1"]
    assert [p["id"] for p in old.current_user_playlists()["items"]] == ["public1"]


def test_a_refreshed_token_keeps_the_scopes_the_owner_granted(fake, tmp_path):
    log_in(fake, tmp_path, expires_in=0, scopes=OLD_LOGIN)
    credentials = Credentials(fake.state.client_id, fake.state.client_secret, "http://x/cb")
    cache = TokenFile(token_path(tmp_path))
    client = user_client(credentials, cache, options_for(fake))

    client.current_user_playlist_create("AI DJ", public=False)

    (refresh,) = fake.requests("POST", "/api/token")
    assert refresh.form["grant_type"] == "refresh_token"
    assert set((cache.get_cached_token() or {})["scope"].split()) == set(OLD_LOGIN)
