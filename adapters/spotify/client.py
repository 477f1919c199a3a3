"""Building spotipy clients the way AI DJ needs them.

- Our retry policy only: each client gets a plain ``requests.Session`` (no urllib3 status
  retries) and ``retries=0, status_retries=0``; see ``resilience`` for why.
- Short, configurable timeouts, so a slow Spotify delays a chat reply by seconds at most.
- Tokens never on disk except the owner's (``auth.TokenFile``): the app token from client
  credentials stays in memory (spotipy would otherwise write ``.cache`` into the CWD).
- Tokens never in logs either, with or without the CLI's logging setup (``logs``).
- The API prefix and the accounts URL are options, so tests can point at a fake server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import requests
import spotipy
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOAuth

from adapters.spotify.auth import PLAYLIST_SCOPES, owner_oauth
from adapters.spotify.logs import guard_spotipy_logs
from adapters.spotify.resilience import RetryPolicy

DEFAULT_API_PREFIX = "https://api.spotify.com/v1/"  # spotipy sets this in Spotify.__init__
DEFAULT_ACCOUNTS_URL = SpotifyOAuth.OAUTH_TOKEN_URL.removesuffix("/api/token")


class SpotifyConfig(Protocol):
    """The owner's Spotify settings, as the app's settings object provides them."""

    @property
    def spotify_client_id(self) -> str | None: ...
    @property
    def spotify_client_secret(self) -> str | None: ...
    @property
    def spotify_redirect_uri(self) -> str: ...
    @property
    def spotify_market(self) -> str | None: ...
    @property
    def config_dir(self) -> Path: ...  # where `aidj spotify login` keeps the token
    @property
    def recommender(self) -> str: ...  # "spotify" opts into the legacy recommendations


@dataclass(frozen=True)
class SpotifyOptions:
    """Knobs that are not in Settings; the defaults suit a chat bot."""

    api_prefix: str = DEFAULT_API_PREFIX
    accounts_url: str = DEFAULT_ACCOUNTS_URL
    requests_timeout: float = 3.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    public_playlists: bool = False


@dataclass(frozen=True)
class Credentials:
    """The app's id and secret (kept out of repr) and its registered redirect URI."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    redirect_uri: str = ""


def credentials_from(settings: SpotifyConfig) -> Credentials | None:
    """The app credentials, or None when Spotify is not configured (then nothing of it runs)."""
    if not (settings.spotify_client_id and settings.spotify_client_secret):
        return None
    return Credentials(
        settings.spotify_client_id, settings.spotify_client_secret, settings.spotify_redirect_uri
    )


def app_client(credentials: Credentials, options: SpotifyOptions) -> spotipy.Spotify:
    """A client-credentials client: catalog reads (track details, recommendations)."""
    guard_spotipy_logs(credentials.client_id, credentials.client_secret)
    auth = SpotifyClientCredentials(
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        requests_session=requests.Session(),
        requests_timeout=options.requests_timeout,
        cache_handler=MemoryCacheHandler(),
    )
    auth.OAUTH_TOKEN_URL = f"{options.accounts_url.rstrip('/')}/api/token"
    return _client(auth, options)


def user_client(
    credentials: Credentials,
    cache: CacheHandler,
    options: SpotifyOptions,
    scopes: Sequence[str] = PLAYLIST_SCOPES,
) -> spotipy.Spotify:
    """A client acting as the owner, refreshing the token stored in ``cache``; ``scopes``:
    what its calls need (the stored login must have granted them)."""
    guard_spotipy_logs(credentials.client_id, credentials.client_secret)
    auth = owner_oauth(
        credentials.client_id,
        credentials.client_secret,
        credentials.redirect_uri,
        cache,
        accounts_url=options.accounts_url,
        requests_timeout=options.requests_timeout,
        session=requests.Session(),
        scopes=scopes,
    )
    return _client(auth, options)


def _client(auth: object, options: SpotifyOptions) -> spotipy.Spotify:
    client = spotipy.Spotify(
        auth_manager=auth,
        requests_session=requests.Session(),  # no urllib3 retry adapter at all
        requests_timeout=options.requests_timeout,
        retries=0,
        status_retries=0,
    )
    client.prefix = options.api_prefix
    return client
