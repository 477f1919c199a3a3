"""Real playlists: created once per request (never twice, even when Spotify answers 5xx after
creating it), items replaced on regenerate, cleaned up through the library endpoint."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.playlists import playlist_description, playlist_name
from adapters.storage.database import open_database
from bot import cli_spotify
from core.mood import MoodPoint
from tests.fake_spotify import (
    FakeSpotify,
    Fault,
    cache_for,
    log_in,
    options_for,
    sample_card,
    settings_for,
    spotify_db,
)

CAPTION = "missing you on a grey, rainy afternoon in Seoul, again and again"
OLD_LOGIN = ("playlist-modify-private", "playlist-modify-public")  # what AI DJ asked for before


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        yield server


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


def make_extras(fake: FakeSpotify, config_dir: Path, db) -> SpotifyExtras:
    extras = SpotifyExtras.from_settings(
        settings_for(fake, config_dir), cache_for(db), options=options_for(fake)
    )
    assert extras is not None
    return extras


async def test_first_reply_creates_a_playlist_and_adds_the_tracks(fake, config_dir):
    log_in(fake, config_dir)
    db = spotify_db()
    extras = make_extras(fake, config_dir, db)

    url = await extras.playlist_for(sample_card(7, ("t1", "t2", "t3")), CAPTION)

    (playlist_id,) = fake.state.playlists
    assert url == f"https://open.spotify.com/playlist/{playlist_id}"
    calls = fake.api_requests()
    assert [(c.method, c.path) for c in calls] == [
        ("POST", "/v1/me/playlists"),
        ("POST", f"/v1/playlists/{playlist_id}/items"),
    ]
    assert calls[0].json == {
        "name": "AI DJ · Rainy day · missing you on a grey, rainy afternoon…",
        "public": False,
        "collaborative": False,
        "description": ("Scene: Rainy day (87%) · Valence 0.25 → 0.31 · Energy 0.30 → 0.22 · #7"),
    }
    assert calls[1].json == {"uris": ["spotify:track:t1", "spotify:track:t2", "spotify:track:t3"]}
    for call in calls:
        assert call.authorization is not None
        assert call.authorization.removeprefix("Bearer ") in fake.state.user_tokens
    row = db.execute("select request_id, playlist_id, url, deleted_at from spotify_playlists")
    assert row.fetchall() == [(7, playlist_id, url, None)]


async def test_regenerate_replaces_the_items_of_the_same_playlist(fake, config_dir):
    log_in(fake, config_dir)
    extras = make_extras(fake, config_dir, spotify_db())
    first = await extras.playlist_for(sample_card(7, ("t1", "t2")), CAPTION)
    before = len(fake.api_requests())

    again = await extras.playlist_for(sample_card(7, ("t8", "t9"), round_number=1), CAPTION)

    assert again == first
    (playlist_id,) = fake.state.playlists  # still only one playlist
    calls = fake.api_requests()[before:]
    assert [(c.method, c.path) for c in calls] == [("PUT", f"/v1/playlists/{playlist_id}/items")]
    assert calls[0].json == {"uris": ["spotify:track:t8", "spotify:track:t9"]}
    assert calls[0].authorization and calls[0].authorization.startswith("Bearer ")
    assert fake.state.playlists[playlist_id]["uris"] == ["spotify:track:t8", "spotify:track:t9"]


async def test_a_playlist_the_owner_removed_from_the_library_is_refilled(fake, config_dir):
    """Removing one's own playlist only unfollows it; it still exists and can be filled."""
    log_in(fake, config_dir)
    extras = make_extras(fake, config_dir, spotify_db())
    first = await extras.playlist_for(sample_card(3), "")
    (playlist_id,) = fake.state.playlists
    fake.state.playlists[playlist_id]["in_library"] = False  # "deleted" in the Spotify app

    again = await extras.playlist_for(sample_card(3, ("t5",), round_number=1), "")

    assert again == first
    assert list(fake.state.playlists) == [playlist_id]
    assert fake.state.playlists[playlist_id]["uris"] == ["spotify:track:t5"]


async def test_a_playlist_spotify_no_longer_knows_is_made_again(fake, config_dir):
    log_in(fake, config_dir)
    db = spotify_db()
    extras = make_extras(fake, config_dir, db)
    await extras.playlist_for(sample_card(3), "")
    (old_id,) = fake.state.playlists
    fake.state.playlists.pop(old_id)  # PUT /items now answers 404

    url = await extras.playlist_for(sample_card(3, ("t5",), round_number=1), "")

    (new_id,) = fake.state.playlists
    assert new_id != old_id
    assert url == f"https://open.spotify.com/playlist/{new_id}"
    stored = db.execute("select playlist_id from spotify_playlists where request_id = 3")
    assert stored.fetchall() == [(new_id,)]


async def test_spotify_failing_means_no_playlist_and_one_warning(fake, config_dir, caplog):
    log_in(fake, config_dir)
    extras = make_extras(fake, config_dir, spotify_db())
    fake.always("POST", "/v1/me/playlists", Fault(status=503))

    with caplog.at_level(logging.WARNING):
        url = await extras.playlist_for(sample_card(), CAPTION)

    assert url is None
    assert len(fake.requests("POST", "/v1/me/playlists")) == 3  # 1 try + 2 retries
    assert len(fake.requests("GET", "/v1/me/playlists")) == 3  # looked before each retry
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "HTTP 503 after 3 attempts" in warnings[0].getMessage()


async def test_a_5xx_after_creating_adopts_that_playlist_instead_of_making_two(fake, config_dir):
    log_in(fake, config_dir)
    db = spotify_db()
    extras = make_extras(fake, config_dir, db)
    fake.add_playlist("plother", "AI DJ · Rainy day", "Scene: Rainy day (87%) · #70")
    fake.script("POST", "/v1/me/playlists", Fault(status=500, acted=True))

    url = await extras.playlist_for(sample_card(7, ("t1", "t2")), "")

    (playlist_id,) = [p for p in fake.state.playlists if p != "plother"]
    assert url == f"https://open.spotify.com/playlist/{playlist_id}"
    assert [(c.method, c.path) for c in fake.api_requests()] == [
        ("POST", "/v1/me/playlists"),
        ("GET", "/v1/me/playlists"),
        ("POST", f"/v1/playlists/{playlist_id}/items"),
    ]
    assert fake.state.playlists[playlist_id]["uris"] == ["spotify:track:t1", "spotify:track:t2"]
    assert fake.state.playlists["plother"]["uris"] == []
    stored = db.execute("select playlist_id from spotify_playlists where request_id = 7")
    assert stored.fetchall() == [(playlist_id,)]


async def test_a_5xx_before_creating_looks_then_creates_once(fake, config_dir):
    log_in(fake, config_dir)
    extras = make_extras(fake, config_dir, spotify_db())
    fake.script("POST", "/v1/me/playlists", Fault(status=502))

    url = await extras.playlist_for(sample_card(7), "")

    (playlist_id,) = fake.state.playlists
    assert url == f"https://open.spotify.com/playlist/{playlist_id}"
    assert [(c.method, c.path) for c in fake.api_requests()][:3] == [
        ("POST", "/v1/me/playlists"),
        ("GET", "/v1/me/playlists"),
        ("POST", "/v1/me/playlists"),
    ]


async def test_a_login_that_cannot_list_playlists_gives_up_after_a_5xx(fake, config_dir, caplog):
    """An older login lacks playlist-read-private: no way to look, so no second create."""
    log_in(fake, config_dir, scopes=OLD_LOGIN)
    extras = make_extras(fake, config_dir, spotify_db())
    fake.script("POST", "/v1/me/playlists", Fault(status=500, acted=True))

    with caplog.at_level(logging.WARNING):
        url = await extras.playlist_for(sample_card(7), "")

    assert url is None
    assert [(c.method, c.path) for c in fake.api_requests()] == [("POST", "/v1/me/playlists")]
    assert len(fake.state.playlists) == 1
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "HTTP 500" in warning.getMessage()


async def test_a_5xx_on_create_with_the_lookup_failing_too_gives_up(fake, config_dir):
    log_in(fake, config_dir)
    extras = make_extras(fake, config_dir, spotify_db())
    fake.script("POST", "/v1/me/playlists", Fault(status=500, acted=True))
    fake.always("GET", "/v1/me/playlists", Fault(status=503))

    assert await extras.playlist_for(sample_card(7), "") is None

    assert len(fake.requests("POST", "/v1/me/playlists")) == 1  # never created blindly
    assert len(fake.state.playlists) == 1


async def test_a_5xx_after_adding_items_replaces_them_instead_of_adding_twice(fake, config_dir):
    log_in(fake, config_dir)
    extras = make_extras(fake, config_dir, spotify_db())
    fake.script("POST", "/v1/playlists/{id}/items", Fault(status=500, acted=True))

    url = await extras.playlist_for(sample_card(7, ("t1", "t2")), "")

    (playlist_id,) = fake.state.playlists
    assert url is not None
    assert fake.state.playlists[playlist_id]["uris"] == ["spotify:track:t1", "spotify:track:t2"]
    assert [(c.method, c.path) for c in fake.api_requests()] == [
        ("POST", "/v1/me/playlists"),
        ("POST", f"/v1/playlists/{playlist_id}/items"),
        ("PUT", f"/v1/playlists/{playlist_id}/items"),
    ]


async def test_without_a_login_there_are_no_playlists_and_no_requests(fake, config_dir):
    extras = make_extras(fake, config_dir, spotify_db())  # no log_in

    assert extras.playlists is None
    assert await extras.playlist_for(sample_card(), CAPTION) is None
    assert fake.recorded == []


def test_name_and_description_follow_the_card():
    card = sample_card(target=MoodPoint(0.46, 0.22), language="ko")
    assert playlist_name(card, "") == "AI DJ · 비 오는 날"
    assert playlist_name(card, "  비가   와요  ") == "AI DJ · 비 오는 날 · 비가 와요"
    description = playlist_description(card)
    assert "장면: 비 오는 날 (87%)" in description
    assert "0.25 → 0.31" in description
    assert "조정됨: 밝기 0.46 · 에너지 0.22" in description  # steered away from final


def stored(db, request_id: int, playlist_id: str, created: str) -> None:
    db["spotify_playlists"].insert(
        {
            "request_id": request_id,
            "playlist_id": playlist_id,
            "url": f"https://open.spotify.com/playlist/{playlist_id}",
            "created_at": created,
            "deleted_at": None,
        }
    )


@pytest.fixture
def cleanup_env(fake, tmp_path, monkeypatch):
    """`aidj spotify cleanup` pointed at the fake, with an empty database; returns a runner."""
    config_dir = tmp_path / "config"
    db_path = tmp_path / "aidj.db"
    db = open_database(db_path)  # the app database, as `aidj spotify cleanup` opens it
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", fake.state.client_id)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", fake.state.client_secret)
    monkeypatch.setenv("AIDJ_CONFIG_DIR", str(config_dir))
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(days: int = 30) -> int:
        args = parse(
            "spotify", "cleanup", "--older-than", str(days), "--db", str(db_path),
            "--api-url", fake.api_prefix, "--accounts-url", fake.accounts_url,
        )  # fmt: skip
        return args.handler(args)

    return config_dir, db, run


def deleted(db) -> dict[int, bool]:
    rows = db.execute("select request_id, deleted_at from spotify_playlists").fetchall()
    return {request_id: when is not None for request_id, when in rows}


def test_cleanup_removes_old_playlists_from_the_library_and_marks_them(fake, cleanup_env, capsys):
    config_dir, db, run = cleanup_env
    log_in(fake, config_dir)
    stored(db, 1, "plold", "2020-01-01T00:00:00+00:00")
    stored(db, 2, "plnew", "2999-01-01T00:00:00+00:00")
    stored(db, 3, "plgone", "2020-01-02T00:00:00+00:00")  # already removed by the owner
    fake.add_playlist("plold")
    fake.add_playlist("plnew")

    assert run() == 0

    (call,) = fake.api_requests()
    assert (call.method, call.path) == ("DELETE", "/v1/me/library")
    assert call.query == {"uris": "spotify:playlist:plold,spotify:playlist:plgone"}
    assert fake.state.playlists["plold"]["in_library"] is False
    assert fake.state.playlists["plnew"]["in_library"] is True
    assert deleted(db) == {1: True, 2: False, 3: True}
    assert "Removed 2 playlist(s)" in capsys.readouterr().out


def test_cleanup_sends_at_most_40_playlists_a_call(fake, cleanup_env):
    config_dir, db, run = cleanup_env
    log_in(fake, config_dir)
    for n in range(45):
        stored(db, n, f"pl{n}", f"2020-01-01T00:00:{n:02d}+00:00")
        fake.add_playlist(f"pl{n}")

    assert run() == 0

    calls = fake.api_requests()
    sent = [uri for call in calls for uri in call.query["uris"].split(",")]
    assert [len(call.query["uris"].split(",")) for call in calls] == [40, 5]
    assert sent == [f"spotify:playlist:pl{n}" for n in range(45)]
    assert not any(p["in_library"] for p in fake.state.playlists.values())
    assert all(deleted(db).values())


def test_cleanup_names_a_refusal_as_refused(fake, cleanup_env, capsys):
    config_dir, db, run = cleanup_env
    log_in(fake, config_dir)
    stored(db, 1, "plold", "2020-01-01T00:00:00+00:00")
    fake.always("DELETE", "/v1/me/library", Fault(status=403, message="Forbidden"))

    assert run() == 1

    assert len(fake.api_requests()) == 1  # a refusal is not retried
    err = capsys.readouterr().err
    assert "refused" in err and "HTTP 403" in err
    assert "unavailable" not in err
    assert deleted(db) == {1: False}


def test_cleanup_leaves_the_rest_for_later_when_spotify_is_down(fake, cleanup_env, capsys):
    config_dir, db, run = cleanup_env
    log_in(fake, config_dir)
    for n in range(41):
        stored(db, n, f"pl{n}", f"2020-01-01T00:00:{n:02d}+00:00")
    fake.script("DELETE", "/v1/me/library", *[Fault(status=503)] * 3)

    assert run() == 1

    err = capsys.readouterr().err
    assert "41 left for a later run" in err and "HTTP 503 after 3 attempts" in err
    assert not any(deleted(db).values())


def test_cleanup_with_an_older_login_asks_to_log_in_again(fake, cleanup_env):
    from core.errors import ConfigError

    config_dir, db, run = cleanup_env
    log_in(fake, config_dir, scopes=OLD_LOGIN)
    stored(db, 1, "plold", "2020-01-01T00:00:00+00:00")

    with pytest.raises(ConfigError, match=r"user-library-modify.*aidj spotify login"):
        run()
    assert fake.recorded == []


def test_cleanup_without_login_is_a_config_error(fake, tmp_path, monkeypatch):
    from core.errors import ConfigError

    monkeypatch.setenv("SPOTIFY_CLIENT_ID", fake.state.client_id)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", fake.state.client_secret)
    monkeypatch.setenv("AIDJ_CONFIG_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    args = parse("spotify", "cleanup", "--older-than", "1")
    with pytest.raises(ConfigError, match="aidj spotify login"):
        args.handler(args)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aidj")
    cli_spotify.register(parser.add_subparsers())
    return parser.parse_args(argv)
