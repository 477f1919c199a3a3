"""The async face of the Spotify extras: album art and a real playlist per reply.

spotipy is synchronous (requests), so every call runs in a worker thread and the chat event
loop never waits on Spotify. Nothing here raises to the caller: when Spotify fails, the
reply goes out without the extras (tracks unchanged, no playlist URL) and one warning line
says why, in words that never include a token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from adapters.spotify.auth import LOOKUP_SCOPE, TokenFile, token_path
from adapters.spotify.client import (
    SpotifyConfig,
    SpotifyOptions,
    app_client,
    credentials_from,
    user_client,
)
from adapters.spotify.playlists import PlaylistMaker
from adapters.spotify.resilience import describe
from adapters.spotify.track_details import TrackDetails
from adapters.storage.spotify_cache import SpotifyCache
from core.reply import PlaylistCard
from core.tracks import Track

log = logging.getLogger(__name__)


class SpotifyExtras:
    """Implements ``bot.service.SpotifyExtrasLike``."""

    def __init__(self, details: TrackDetails | None, playlists: PlaylistMaker | None) -> None:
        self.details = details
        self.playlists = playlists

    @classmethod
    def from_settings(
        cls,
        settings: SpotifyConfig,
        cache: SpotifyCache,
        *,
        options: SpotifyOptions | None = None,
    ) -> SpotifyExtras | None:
        """None without SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET: the bot then runs
        exactly as without Spotify. Playlists also need `aidj spotify login` to have run;
        without it only the track details are on. ``cache``: the storage gateway's."""
        credentials = credentials_from(settings)
        if credentials is None:
            return None
        options = options or SpotifyOptions()
        details = TrackDetails(
            app_client(credentials, options),
            cache,
            policy=options.policy,
            market=settings.spotify_market,
        )
        token_file = TokenFile(token_path(settings.config_dir))
        playlists = None
        if token_file.has_login():
            can_look_up = not token_file.missing([LOOKUP_SCOPE])
            if not can_look_up:
                log.info(
                    "the Spotify login predates %s: after a failed create the reply goes "
                    "without a playlist; run `aidj spotify login` again to fix that",
                    LOOKUP_SCOPE,
                )
            playlists = PlaylistMaker(
                user_client(credentials, token_file, options),
                cache,
                policy=options.policy,
                public=options.public_playlists,
                can_look_up=can_look_up,
            )
        else:
            log.info("Spotify playlists are off until the owner runs `aidj spotify login`")
        return cls(details, playlists)

    async def enrich(self, tracks: Sequence[Track]) -> list[Track]:
        """``tracks`` with album art where Spotify has it; unchanged if it cannot help."""
        if self.details is None or not tracks:
            return list(tracks)
        try:
            return await asyncio.to_thread(self.details.enrich, tracks)
        except Exception as error:
            log.warning("Spotify track details failed (%s); replying without", describe(error))
            return list(tracks)

    async def playlist_for(self, card: PlaylistCard, caption: str) -> str | None:
        """The playlist URL for this request (created, or its items replaced), or None."""
        if self.playlists is None:
            return None
        try:
            return await asyncio.to_thread(self.playlists.playlist_for, card, caption)
        except Exception as error:
            log.warning("Spotify playlist unavailable (%s); replying without", describe(error))
            return None
