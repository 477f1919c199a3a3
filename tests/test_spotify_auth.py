"""The owner's login and token file: 0600, atomic, refreshed silently, never prompting."""

from __future__ import annotations

import argparse
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from adapters.spotify.auth import TokenFile, token_path, write_private_json
from adapters.spotify.client import Credentials
from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.login import LoginError, can_listen, login
from bot import cli_spotify
from bot.config import load_settings
from tests.fake_spotify import (
    FakeSpotify,
    authorize_url_in,
    browser,
    cache_for,
    log_in,
    options_for,
    sample_card,
    settings_for,
    spotify_db,
)


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        yield server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- token file ---------------------------------------------------------------------------


def test_token_file_is_written_0600_atomically(tmp_path):
    path = tmp_path / "new" / "spotify-token.json"
    path.parent.mkdir()
    path.write_text("{}")
    os.chmod(path, 0o644)  # an old, too-open file is replaced, not reused
    cache = TokenFile(path)

    cache.save_token_to_cache({"access_token": "a", "refresh_token": "r"})

    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == {"access_token": "a", "refresh_token": "r"}
    assert os.listdir(path.parent) == ["spotify-token.json"]  # no temp file left
    assert cache.get_cached_token() == {"access_token": "a", "refresh_token": "r"}
    assert cache.has_login()


def test_token_folder_is_created_private(tmp_path):
    path = tmp_path / "config" / "aidj" / "spotify-token.json"
    write_private_json(path, {"refresh_token": "r"})
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_a_broken_token_file_is_no_login(tmp_path):
    path = tmp_path / "spotify-token.json"
    path.write_text("{not json")
    assert TokenFile(path).get_cached_token() is None
    assert not TokenFile(path).has_login()
    assert not TokenFile(tmp_path / "missing.json").has_login()


# -- login --------------------------------------------------------------------------------


def test_login_by_pasting_the_redirect_via_the_cli(fake, tmp_path, monkeypatch, capsys):
    config_dir = tmp_path / "config"
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", fake.state.client_id)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", fake.state.client_secret)
    monkeypatch.setenv("AIDJ_CONFIG_DIR", str(config_dir))
    monkeypatch.chdir(tmp_path)
    printed: list[str] = []

    def paste(prompt: str) -> str:
        printed.append(capsys.readouterr().out)
        return browser(authorize_url_in(printed[-1]))

    monkeypatch.setattr("builtins.input", paste)
    args = parse("spotify", "login", "--paste", "--accounts-url", fake.accounts_url)

    assert args.handler(args) == 0

    path = token_path(config_dir)
    assert mode(path) == 0o600
    saved = json.loads(path.read_text())
    assert saved["refresh_token"] in fake.state.refresh_tokens
    assert saved["access_token"] in fake.state.user_tokens
    (exchange,) = fake.requests("POST", "/api/token")
    assert exchange.form["grant_type"] == "authorization_code"
    out = printed[0] + capsys.readouterr().out
    asked = parse_qs(urlparse(authorize_url_in(printed[0])).query)["scope"][0].split()
    assert sorted(asked) == [
        "playlist-modify-private",  # create, fill, replace
        "playlist-modify-public",
        "playlist-read-private",  # find a playlist whose creation answered 5xx
        "user-library-modify",  # cleanup: DELETE /me/library
    ]
    assert set(saved["scope"].split()) == set(asked)
    assert "Logged in." in out
    for secret in (fake.state.client_secret, saved["access_token"], saved["refresh_token"]):
        assert secret not in out


def test_login_with_the_local_callback_server(fake, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    credentials = Credentials(
        fake.state.client_id, fake.state.client_secret, f"http://127.0.0.1:{port}/callback"
    )
    assert can_listen(credentials.redirect_uri)
    cache = TokenFile(tmp_path / "spotify-token.json")
    shown = threading.Event()
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        shown.set()

    worker = threading.Thread(
        target=login,
        args=(credentials, cache, options_for(fake)),
        kwargs={"say": say, "timeout_s": 10, "read_line": pytest.fail},
    )
    worker.start()
    assert shown.wait(5)
    redirect = browser(authorize_url_in(lines[0]))
    page = None
    for _ in range(50):  # the callback server may need a moment to bind
        try:
            page = requests.get(redirect, timeout=5)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    worker.join(10)

    assert page is not None and page.status_code == 200 and "connected" in page.text
    assert not worker.is_alive()
    assert cache.has_login()
    assert mode(cache.path) == 0o600


def test_a_redirect_from_another_login_is_refused(fake, tmp_path):
    credentials = Credentials(fake.state.client_id, fake.state.client_secret, "https://x/cb")
    cache = TokenFile(tmp_path / "spotify-token.json")
    forged = "https://x/cb?code=abc&state=someone-elses"

    with pytest.raises(LoginError, match="state mismatch"):
        login(credentials, cache, options_for(fake), read_line=lambda _: forged, say=print)
    assert not cache.path.exists()
    assert fake.requests("POST", "/api/token") == []


def test_login_without_credentials_is_a_config_error(tmp_path, monkeypatch):
    from core.errors import ConfigError

    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    args = parse("spotify", "login", "--paste")
    with pytest.raises(ConfigError, match="SPOTIFY_CLIENT_ID"):
        args.handler(args)


# -- the bot with a stored login ----------------------------------------------------------


async def test_an_expired_token_is_refreshed_and_saved_0600(fake, tmp_path):
    config_dir = tmp_path / "config"
    old = log_in(fake, config_dir, expires_in=0)
    extras = SpotifyExtras.from_settings(
        settings_for(fake, config_dir), cache_for(spotify_db()), options=options_for(fake)
    )
    assert extras is not None

    assert await extras.playlist_for(sample_card(), "") is not None

    (refresh,) = fake.requests("POST", "/api/token")
    assert refresh.form["grant_type"] == "refresh_token"
    path = token_path(config_dir)
    saved = json.loads(path.read_text())
    assert saved["access_token"] != old["access_token"]
    assert saved["refresh_token"] == old["refresh_token"]  # kept when not rotated
    assert mode(path) == 0o600
    create = fake.requests("POST", "/v1/me/playlists")[0]
    assert create.authorization == f"Bearer {saved['access_token']}"


async def test_a_revoked_login_never_prompts_and_gives_no_playlist(fake, tmp_path, monkeypatch):
    config_dir = tmp_path / "config"
    token = log_in(fake, config_dir, expires_in=0)
    fake.state.refresh_tokens.discard(token["refresh_token"])  # revoked in Spotify
    monkeypatch.setattr("builtins.input", pytest.fail)
    extras = SpotifyExtras.from_settings(
        settings_for(fake, config_dir), cache_for(spotify_db()), options=options_for(fake)
    )
    assert extras is not None

    assert await extras.playlist_for(sample_card(), "") is None
    assert fake.api_requests() == []


def test_not_configured_means_no_extras(tmp_path):
    bare = load_settings({}, dotenv=False, config_dir=tmp_path)
    assert SpotifyExtras.from_settings(bare, cache_for(spotify_db())) is None
    id_only = load_settings({}, dotenv=False, config_dir=tmp_path, spotify_client_id="abc")
    assert SpotifyExtras.from_settings(id_only, cache_for(spotify_db())) is None


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aidj")
    cli_spotify.register(parser.add_subparsers())
    return parser.parse_args(argv)
