"""Building spotipy clients the way AI DJ needs them.

- Our retry policy only: each client gets a plain ``requests.Session`` (no urllib3 status
  retries) and ``retries=0, status_retries=0``; see ``resilience`` for why.
- Short, configurable timeouts, so a slow Spotify delays a chat reply by seconds at most.
- Tokens never on disk except the owner's (``auth.TokenFile``): the app token from client
  credentials stays in memory (spotipy would otherwise write ``.cache`` into the CWD).
- The API prefix and the accounts URL are options, so tests can point at a fake server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import requests
import spotipy
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOAuth

from adapters.spotify.auth import owner_oauth
from adapters.spotify.resilience import RetryPolicy

if TYPE_CHECKING:
    from bot.config import Settings

DEFAULT_API_PREFIX = "https://api.spotify.com/v1/"  # spotipy sets this in Spotify.__init__
DEFAULT_ACCOUNTS_URL = SpotifyOAuth.OAUTH_TOKEN_URL.removesuffix("/api/token")


@dataclass(frozen=True)
class SpotifyOptions:
    """Knobs that are not in Settings; the defaults suit a chat bot."""

    api_prefix: str = DEFAULT_API_PREFIX
    accounts_url: str = DEFAULT_ACCOUNTS_URL
    requests_timeout: float = 3.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    market: str | None = None  # e.g. "KR": availability then means playable there
    public_playlists: bool = False


@dataclass(frozen=True)
class Credentials:
    """The app's id and secret (kept out of repr) and its registered redirect URI."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    redirect_uri: str = ""


def credentials_from(settings: Settings) -> Credentials | None:
    """The app credentials, or None when Spotify is not configured (then nothing of it runs)."""
    if not (settings.spotify_client_id and settings.spotify_client_secret):
        return None
    return Credentials(
        settings.spotify_client_id, settings.spotify_client_secret, settings.spotify_redirect_uri
    )


def app_client(credentials: Credentials, options: SpotifyOptions) -> spotipy.Spotify:
    """A client-credentials client: catalog reads (track details, recommendations)."""
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
    credentials: Credentials, cache: CacheHandler, options: SpotifyOptions
) -> spotipy.Spotify:
    """A client acting as the owner (playlists), refreshing the token stored in ``cache``."""
    auth = owner_oauth(
        credentials.client_id,
        credentials.client_secret,
        credentials.redirect_uri,
        cache,
        accounts_url=options.accounts_url,
        requests_timeout=options.requests_timeout,
        session=requests.Session(),
    )
    return _client(auth, options)


class DemoteHandledErrors(logging.Filter):
    """spotipy logs every HTTP error at ERROR before raising it; we handle those (retry,
    fall back) and log the outcome once, so its line is demoted to DEBUG: a removed
    endpoint answering 404 is expected, not an error for whoever reads the bot's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and str(record.msg).startswith("HTTP Error for"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            # the level check already passed at ERROR; redo it at DEBUG
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def _demote_spotipy_errors() -> None:
    logger = logging.getLogger("spotipy.client")
    if not any(isinstance(f, DemoteHandledErrors) for f in logger.filters):
        logger.addFilter(DemoteHandledErrors())


def _client(auth: object, options: SpotifyOptions) -> spotipy.Spotify:
    _demote_spotipy_errors()
    client = spotipy.Spotify(
        auth_manager=auth,
        requests_session=requests.Session(),  # no urllib3 retry adapter at all
        requests_timeout=options.requests_timeout,
        retries=0,
        status_retries=0,
    )
    client.prefix = options.api_prefix
    return client
