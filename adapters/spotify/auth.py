"""The owner's Spotify token: where it lives, how it is written, who may prompt for it.

The refresh token is as good as the owner's password for playlists, so it lives outside the
repository (``Settings.config_dir``), in a file only the owner can read (0600), written
atomically (temp file in the same folder, then ``os.replace``) so a crash mid-write never
leaves a half token. The bot itself must never prompt: ``OwnerOAuth`` raises instead of
asking for a login, which only ``aidj spotify login`` does.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spotipy.cache_handler import CacheHandler
from spotipy.exceptions import SpotifyOauthError
from spotipy.oauth2 import SpotifyOAuth

log = logging.getLogger(__name__)

TOKEN_FILE_NAME = "spotify-token.json"
# Creating, filling and replacing playlists; private ones by default, public on request.
PLAYLIST_SCOPES = ("playlist-modify-private", "playlist-modify-public")
# Listing the owner's (private) playlists: finding one whose creation answered 5xx.
LOOKUP_SCOPE = "playlist-read-private"
# DELETE /me/library (cleanup). Spotify's reference is unclear whether a playlist URI needs
# this or a playlist-modify scope; asking for both costs the owner nothing.
CLEANUP_SCOPES = ("user-library-modify",)
# What `aidj spotify login` asks for: everything above. Each client asks spotipy only for what
# it uses, so a login made by an older AI DJ keeps working where it still can.
SCOPES = (*PLAYLIST_SCOPES, LOOKUP_SCOPE, *CLEANUP_SCOPES)


def token_path(config_dir: Path) -> Path:
    return Path(config_dir) / TOKEN_FILE_NAME


class TokenFile(CacheHandler):
    """A spotipy cache handler that keeps the token in one 0600 JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def get_cached_token(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("Spotify token file %s is unreadable; run `aidj spotify login`", self.path)
            return None
        return data if isinstance(data, dict) else None

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        """Write atomically with 0600; failures are logged, not raised, because spotipy
        calls this mid-request and a refreshed token in memory still works."""
        try:
            write_private_json(self.path, token_info)
        except OSError as error:
            log.warning("cannot save the Spotify token to %s (%s)", self.path, error.strerror)

    def has_login(self) -> bool:
        """Whether a login happened: a refresh token is what lets the bot act later."""
        token = self.get_cached_token()
        return bool(token and token.get("refresh_token"))

    def granted(self) -> frozenset[str]:
        """The scopes the stored login was granted (none without a login)."""
        scope = (self.get_cached_token() or {}).get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    def missing(self, scopes: Sequence[str]) -> list[str]:
        """Those of ``scopes`` the stored login lacks: `aidj spotify login` again adds them."""
        granted = self.granted()
        return [scope for scope in scopes if scope not in granted]


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` so that no other user can ever read it, atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class OwnerOAuth(SpotifyOAuth):
    """Authorization-code auth for the bot: refreshes silently, never prompts."""

    def get_auth_response(self, open_browser: bool | None = None) -> str:
        raise SpotifyOauthError(
            "no Spotify login; run `aidj spotify login`", error="login_required"
        )


def owner_oauth(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    cache: CacheHandler,
    *,
    accounts_url: str,
    requests_timeout: float,
    session: Any,
    scopes: Sequence[str] = SCOPES,
    state: str | None = None,
) -> OwnerOAuth:
    """An OwnerOAuth pointed at ``accounts_url`` (the real one in product, a fake in tests).

    ``scopes``: what a login asks for, or what a client needs; spotipy treats a stored token
    that lacks any of them as no login at all."""
    oauth = OwnerOAuth(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        scope=list(scopes),
        state=state,
        cache_handler=cache,
        requests_session=session,
        requests_timeout=requests_timeout,
        open_browser=False,
    )
    base = accounts_url.rstrip("/")
    oauth.OAUTH_TOKEN_URL = f"{base}/api/token"
    oauth.OAUTH_AUTHORIZE_URL = f"{base}/authorize"
    return oauth
