"""No token or secret in any log line or error message, even with every logger at DEBUG."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import pytest

from adapters.redaction import MASK, RedactingFilter
from adapters.spotify.extras import SpotifyExtras
from adapters.spotify.legacy_recommendations import LegacyRecommender
from adapters.spotify.login import login
from adapters.spotify.playlists import PlaylistMaker
from adapters.spotify.resilience import SpotifyUnavailable
from adapters.spotify.track_details import TrackDetails
from bot.logs import configure_logging, remove_redaction
from core.mood import MoodPoint
from tests.fake_spotify import (
    FakeSpotify,
    Fault,
    authorize_url_in,
    browser,
    cache_for,
    catalog_track,
    log_in,
    options_for,
    sample_card,
    settings_for,
    spotify_db,
    track_object,
)
from tests.test_spotify_recommendations import Catalog


@pytest.fixture
def fake() -> Iterator[FakeSpotify]:
    with FakeSpotify() as server:
        server.add_track("t1", image_url="https://img/1")
        server.state.recommendations = [track_object("sp1")]
        yield server


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)
    for handler in root.handlers:
        remove_redaction(handler)


def test_the_filter_masks_secrets_and_token_shapes():
    redactor = RedactingFilter(["s3cr3t-value", "", None, "ab"])  # empty/short ones ignored
    cases = {
        "client secret s3cr3t-value here": f"client secret {MASK} here",
        "Headers: {'Authorization': 'Bearer BQDx9_f-abc.def'}": (
            f"Headers: {{'Authorization': 'Bearer {MASK}'}}"
        ),
        "{'Authorization': 'Basic Y2lkOnNlY3JldA=='}": f"{{'Authorization': 'Basic {MASK}'}}",
        "Body: {'refresh_token': 'AQD-xyz', 'grant_type': 'refresh_token'}": (
            f"Body: {{'refresh_token': '{MASK}', 'grant_type': 'refresh_token'}}"
        ),
        '{"access_token":"BQ123","expires_in":3600}': (
            f'{{"access_token":"{MASK}","expires_in":3600}}'
        ),
        "grant_type=authorization_code&code=AQBcode&redirect_uri=x": (
            f"grant_type=authorization_code&code={MASK}&redirect_uri=x"
        ),
        "Basic setup done, status code 404": "Basic setup done, status code 404",  # untouched
    }
    for raw, expected in cases.items():
        assert redactor.redact(raw) == expected


def test_the_filter_rewrites_args_and_tracebacks():
    redactor = RedactingFilter(["hunter22"])
    try:
        raise RuntimeError("password hunter22 leaked")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "token %s", ("hunter22",), sys.exc_info()
        )
    assert redactor.filter(record) is True
    formatted = logging.Formatter().format(record)
    assert "hunter22" not in formatted
    assert "token ***" in formatted and "password *** leaked" in formatted


def test_configure_logging_filters_every_root_handler_once(restore_root_logging):
    extra = logging.NullHandler()
    logging.getLogger().addHandler(extra)
    try:
        configure_logging(logging.INFO, ["abcdef"])
        second = configure_logging(logging.DEBUG, ["ghijkl"])
        for handler in logging.getLogger().handlers:
            mine = [f for f in handler.filters if isinstance(f, RedactingFilter)]
            assert mine == [second]
        assert logging.getLogger().level == logging.DEBUG
    finally:
        logging.getLogger().removeHandler(extra)


async def test_no_secret_reaches_logs_or_errors_in_the_whole_flow(
    fake, tmp_path, caplog, capsys, restore_root_logging
):
    caplog.set_level(logging.DEBUG)
    for name in ("spotipy", "spotipy.client", "spotipy.oauth2", "urllib3", "adapters"):
        caplog.set_level(logging.DEBUG, logger=name)
    config_dir = tmp_path / "config"
    settings = settings_for(fake, config_dir, recommender="spotify")
    configure_logging(logging.DEBUG, settings.secrets)
    options = options_for(fake)
    errors: list[str] = []

    # the owner logs in (token request body carries the code, then the tokens come back)
    from adapters.spotify.auth import TokenFile, token_path
    from adapters.spotify.client import credentials_from

    credentials = credentials_from(settings)
    assert credentials is not None
    shown: list[str] = []
    login(
        credentials,
        TokenFile(token_path(config_dir)),
        options,
        paste=True,
        say=shown.append,
        read_line=lambda _: browser(authorize_url_in(shown[0])),
    )
    stored = json.loads(token_path(config_dir).read_text())
    stored["expires_at"] = 0  # force a refresh on the next call: refresh_token in a body
    token_path(config_dir).write_text(json.dumps(stored))

    # a reply: details, playlist, regenerate, then a recommendation that falls back
    db = spotify_db()
    extras = SpotifyExtras.from_settings(settings, cache_for(db), options=options)
    assert extras is not None and extras.details and extras.playlists
    await extras.enrich([catalog_track("t1")])
    assert await extras.playlist_for(sample_card(1), "caption") is not None
    assert await extras.playlist_for(sample_card(1, ("t9",), round_number=1), "caption")
    fake.always("GET", "/v1/recommendations", Fault(status=404))
    legacy = LegacyRecommender.from_settings(settings, Catalog(), options=options)
    assert legacy is not None
    await legacy.recommend(MoodPoint(0.3, 0.3), ("sad",), 1, set())

    # errors that reach our code: a rejected client secret, a failing API, a revoked login
    bad = settings_for(fake, tmp_path / "other", spotify_client_secret="wrong-" + "x" * 20)
    bad_credentials = credentials_from(bad)
    assert bad_credentials is not None
    from adapters.spotify.client import app_client, user_client

    with pytest.raises(SpotifyUnavailable) as rejected:
        TrackDetails(
            app_client(bad_credentials, options), cache_for(db), policy=options.policy
        )._fetch("t1")
    errors.append(str(rejected.value))
    fake.always("PUT", "/v1/playlists/" + next(iter(fake.state.playlists)) + "/items", Fault(500))
    maker = PlaylistMaker(
        user_client(credentials, TokenFile(token_path(config_dir)), options),
        cache_for(db),
        policy=options.policy,
    )
    with pytest.raises(SpotifyUnavailable) as failing:
        maker.playlist_for(sample_card(1, ("t2",)), "caption")
    errors.append(str(failing.value))
    fake.state.refresh_tokens.clear()
    stored = json.loads(token_path(config_dir).read_text())
    stored["expires_at"] = 0
    token_path(config_dir).write_text(json.dumps(stored))
    with pytest.raises(SpotifyUnavailable) as revoked:
        PlaylistMaker(
            user_client(credentials, TokenFile(token_path(config_dir)), options),
            cache_for(db),
            policy=options.policy,
        ).playlist_for(sample_card(2), "")
    errors.append(str(revoked.value))

    tokens = fake.state.app_tokens | fake.state.user_tokens | fake.state.refresh_tokens
    assert len(fake.state.refresh_tokens) == 0 and len(tokens) >= 3
    all_refresh = {stored["refresh_token"]}
    basic = base64.b64encode(f"{fake.state.client_id}:{fake.state.client_secret}".encode())
    secrets = {
        fake.state.client_secret,
        bad_credentials.client_secret,
        basic.decode(),
        *tokens,
        *all_refresh,
    }
    captured = "\n".join(
        [caplog.text, *(r.getMessage() for r in caplog.records), *errors, capsys.readouterr().err]
    )
    leaked = sorted(s for s in secrets if s in captured)
    assert leaked == []
    # the test means something: spotipy did log credentials, and they were masked
    assert f"Bearer {MASK}" in caplog.text and f"Basic {MASK}" in caplog.text
    assert f"'refresh_token': '{MASK}'" in caplog.text
    assert errors == [
        "Spotify track details: authorization failed (invalid_client)",
        "Spotify playlist replace: HTTP 500 after 3 attempts",
        "Spotify playlist create: authorization failed (invalid_grant)",
    ]


def test_the_library_alone_keeps_tokens_out_of_debug_logs(fake, tmp_path, caplog):
    """No CLI, no configure_logging: the Spotify client guards spotipy's own loggers."""
    from adapters.spotify.auth import TokenFile, token_path
    from adapters.spotify.client import app_client, credentials_from, user_client

    for handler in logging.getLogger().handlers:
        assert not any(isinstance(f, RedactingFilter) for f in handler.filters)
    caplog.set_level(logging.DEBUG)
    settings = settings_for(fake, tmp_path)
    credentials = credentials_from(settings)
    assert credentials is not None
    stored = log_in(fake, tmp_path, expires_in=0)  # the first call refreshes it
    options = options_for(fake)

    owner = user_client(credentials, TokenFile(token_path(tmp_path)), options)
    owner.current_user_playlist_create("AI DJ", public=False)
    app_client(credentials, options).track("t1")

    assert [r.form["grant_type"] for r in fake.requests("POST", "/api/token")] == [
        "refresh_token",
        "client_credentials",
    ]
    assert "refresh_token" in caplog.text  # spotipy did log the refresh request's body
    basic = base64.b64encode(f"{fake.state.client_id}:{fake.state.client_secret}".encode())
    secrets = {
        stored["refresh_token"],
        fake.state.client_secret,
        basic.decode(),
        *fake.state.user_tokens,
        *fake.state.app_tokens,
    }
    captured = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert sorted(s for s in secrets if s in captured) == []


async def test_a_handled_spotify_error_is_one_warning_at_info_level(fake, tmp_path):
    """spotipy's own ERROR line for a 404 it raises is demoted, even with a plain handler."""
    lines: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record)

    handler = Collect()  # level NOTSET, like a basic StreamHandler
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        fake.always("GET", "/v1/recommendations", Fault(status=404))
        legacy = LegacyRecommender.from_settings(
            settings_for(fake, tmp_path, recommender="spotify"),
            Catalog(),
            options=options_for(fake),
        )
        assert legacy is not None
        await legacy.recommend(MoodPoint(0.3, 0.3), ("sad",), 1, set())
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)

    spotify_lines = [r for r in lines if r.name.startswith(("spotipy", "adapters"))]
    assert [(r.levelname, r.getMessage()) for r in spotify_lines] == [
        ("WARNING", "Spotify recommendations unavailable (HTTP 404); using the local catalog")
    ]
