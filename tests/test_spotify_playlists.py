"""Real playlists: created once per request, items replaced on regenerate, cleaned up."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.playlists import playlist_description, playlist_name
from bot import cli_spotify
from core.mood import MoodPoint
from tests.fake_spotify import (
    FakeSpotify,
    Fault,
    log_in,
    options_for,
    sample_card,
    settings_for,
    spotify_db,
)

CAPTION = "missing you on a grey, rainy afternoon in Seoul, again and again"


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        yield server


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


def make_extras(fake: FakeSpotify, config_dir: Path, db) -> SpotifyExtras:
    extras = SpotifyExtras.from_settings(
        settings_for(fake, config_dir), db, options=options_for(fake)
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
        "description": "Scene: Rainy day (87%) · Valence 0.25 → 0.31 · Energy 0.30 → 0.22",
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
    assert fake.state.playlists[playlist_id]["items"] == ["spotify:track:t8", "spotify:track:t9"]


async def test_a_playlist_deleted_in_spotify_is_made_again(fake, config_dir):
    log_in(fake, config_dir)
    db = spotify_db()
    extras = make_extras(fake, config_dir, db)
    await extras.playlist_for(sample_card(3), "")
    (old_id,) = fake.state.playlists
    fake.state.playlists.pop(old_id)  # the owner deleted it in the Spotify app

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
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "HTTP 503 after 3 attempts" in warnings[0].getMessage()


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


def test_cleanup_unfollows_old_playlists_and_marks_them(fake, tmp_path, monkeypatch, capsys):
    config_dir = tmp_path / "config"
    log_in(fake, config_dir)
    db = spotify_db(str(tmp_path / "aidj.db"))
    for request_id, playlist_id, created in (
        (1, "plold", "2020-01-01T00:00:00+00:00"),
        (2, "plnew", "2999-01-01T00:00:00+00:00"),
        (3, "plgone", "2020-01-02T00:00:00+00:00"),  # already deleted in Spotify: 404
    ):
        db["spotify_playlists"].insert(
            {
                "request_id": request_id,
                "playlist_id": playlist_id,
                "url": f"https://open.spotify.com/playlist/{playlist_id}",
                "created_at": created,
                "deleted_at": None,
            }
        )
        if playlist_id != "plgone":
            fake.state.playlists[playlist_id] = {"followed": True, "items": []}
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", fake.state.client_id)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", fake.state.client_secret)
    monkeypatch.setenv("AIDJ_CONFIG_DIR", str(config_dir))
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setattr(cli_spotify, "open_db", lambda path: spotify_db(str(path)))
    args = parse(
        "spotify", "cleanup", "--older-than", "30", "--db", str(tmp_path / "aidj.db"),
        "--api-url", fake.api_prefix, "--accounts-url", fake.accounts_url,
    )  # fmt: skip

    assert args.handler(args) == 0

    calls = [(c.method, c.path) for c in fake.api_requests()]
    assert calls == [
        ("DELETE", "/v1/playlists/plold/followers"),
        ("DELETE", "/v1/playlists/plgone/followers"),
    ]
    assert fake.state.playlists["plold"]["followed"] is False
    assert fake.state.playlists["plnew"]["followed"] is True
    rows = dict(db.execute("select request_id, deleted_at from spotify_playlists").fetchall())
    assert rows[1] is not None and rows[3] is not None and rows[2] is None
    assert "Removed 2 playlist(s)" in capsys.readouterr().out


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
