"""The one owner of the database connection: every query runs on its single thread.

Why one thread rather than a lock handed around: the flow, the Spotify extras and the CLI
all share one SQLite connection. With a lock each of them had to be given, forgetting it
once silently removed the synchronisation. Here nothing outside this class ever touches the
connection: repositories (``RequestLog``, the anchor and catalog queries, ``SpotifyCache``)
run on the gateway's thread, one call at a time, reached through typed methods. SQLite's
"database is locked" (another process importing a catalog) comes out as the user-facing
``DatabaseBusyError``, whichever caller met it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from adapters.storage.anchors_store import anchor_points, base_for
from adapters.storage.chat_taste import chat_nudges, reset_chat_taste
from adapters.storage.database import busy_as_user_error, open_database
from adapters.storage.fit_log import FitLog
from adapters.storage.prefs_store import update_user_prefs, user_prefs
from adapters.storage.request_log import RequestLog, StoredRequest
from adapters.storage.spotify_cache import SpotifyCache
from adapters.storage.track_search import nearest
from core.albums import Album
from core.categories import MoodCategory
from core.fit import FitStats, StatsScope, Vote
from core.journey import Journey
from core.language import Language
from core.mood import Analysis, BaseSource, MoodPoint
from core.prefs import UserPrefs
from core.taste import Press
from core.tracks import Track, TrackFilter

T = TypeVar("T")


class Storage:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aidj-db")
        self._thread_id: int | None = None
        self._requests = RequestLog(db)
        self._fit = FitLog(db)
        self.spotify = SpotifyCache(db, self.call_blocking)

    @classmethod
    def open(cls, path: Path | str) -> Storage:
        """The database at ``path``, migrated, behind its gateway."""
        return cls(open_database(path))

    def close(self) -> None:
        """Finish the queries in progress, then close the connection (on its own thread)."""
        self._thread.submit(self._db.close).result()
        self._thread.shutdown(wait=True)

    # ---- running work on the database's thread ---------------------------------------------

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._thread.submit(self._guarded, work))

    def call_blocking(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the database's thread and wait for it: for synchronous callers on
        other threads (spotipy runs in worker threads), never from the event loop."""
        if threading.get_ident() == self._thread_id:
            return self._guarded(work)  # already on it (a repository calling another)
        return self._thread.submit(self._guarded, work).result()

    def _guarded(self, work: Callable[[], T]) -> T:
        self._thread_id = threading.get_ident()
        with busy_as_user_error():
            return work()

    # ---- requests --------------------------------------------------------------------------

    async def record_request(
        self,
        analysis: Analysis,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        language: Language,
        caption: str,
        journey: Journey | None = None,
        album: Album | None = None,
    ) -> int:
        return await self._run(
            lambda: self._requests.record_request(
                analysis,
                platform=platform,
                chat_id=chat_id,
                user_id=user_id,
                language=language,
                caption=caption,
                journey=journey,
                album=album,
            )
        )

    async def stored_request(self, request_id: int) -> StoredRequest | None:
        return await self._run(lambda: self._requests.get(request_id))

    async def record_shown(self, request_id: int, track_ids: Sequence[str], round: int) -> None:
        await self._run(lambda: self._requests.record_shown(request_id, track_ids, round))

    async def shown_ids(self, request_id: int) -> set[str]:
        return await self._run(lambda: self._requests.shown_ids(request_id))

    async def commit_round(
        self,
        request_id: int,
        *,
        round: int,
        target: MoodPoint,
        track_ids: Sequence[str],
        user_id: str,
        action: str,
        rebased: Analysis | None = None,
        journey: Journey | None = None,
        album: Album | None = None,
    ) -> bool:
        """A delivered press (``RequestLog.commit_round``; ``rebased``: a scene choice;
        ``journey``: the request's journey from now on)."""
        return await self._run(
            lambda: self._requests.commit_round(
                request_id,
                round=round,
                target=target,
                track_ids=track_ids,
                user_id=user_id,
                action=action,
                rebased=rebased,
                journey=journey,
                album=album,
            )
        )

    async def forget_request(self, request_id: int) -> None:
        await self._run(lambda: self._requests.forget(request_id))

    async def link_message(
        self, platform: str, chat_id: str, message_id: str, request_id: int
    ) -> None:
        await self._run(
            lambda: self._requests.link_message(platform, chat_id, message_id, request_id)
        )

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        return await self._run(
            lambda: self._requests.request_for_message(platform, chat_id, message_id)
        )

    async def nudge_counts(
        self,
        *,
        platform: str | None = None,
        chat_id: str | None = None,
        since: datetime | None = None,
    ) -> dict[str, int]:
        """Presses per control action on the requests in scope, most first
        (``RequestLog.nudge_counts``)."""
        return await self._run(
            lambda: self._requests.nudge_counts(platform=platform, chat_id=chat_id, since=since)
        )

    # ---- "did it fit?" ---------------------------------------------------------------------

    async def vote_of(self, request_id: int, platform: str, user_id: str) -> Vote | None:
        return await self._run(lambda: self._fit.vote_of(request_id, platform, user_id))

    async def change_vote(
        self, request_id: int, platform: str, user_id: str, vote: Vote | None
    ) -> Vote | None:
        """Set (None: take back) a user's vote; the vote it replaced."""
        return await self._run(lambda: self._fit.change_vote(request_id, platform, user_id, vote))

    async def toggle_vote(
        self, request_id: int, platform: str, user_id: str, vote: Vote
    ) -> tuple[Vote | None, Vote | None]:
        """A 👍 / 👎 press: the same vote again takes it back. The vote before and after."""
        return await self._run(lambda: self._fit.toggle_vote(request_id, platform, user_id, vote))

    async def withdraw_vote(self, request_id: int, platform: str, user_id: str, vote: Vote) -> bool:
        """Take back a user's vote if it is ``vote``; whether it was."""
        return await self._run(lambda: self._fit.withdraw_vote(request_id, platform, user_id, vote))

    async def fit_stats(self, scope: StatsScope) -> FitStats:
        """Cards, fit rate per scene and the most pressed controls over ``scope``."""
        return await self._run(lambda: self._fit.stats(scope, self._requests))

    # ---- anchors and catalog ---------------------------------------------------------------

    async def base_for(self, category: MoodCategory) -> tuple[MoodPoint, BaseSource]:
        """The category's base point and where it came from (anchor table or defaults)."""
        return await self._run(lambda: base_for(self._db, category))

    async def anchor_points(self) -> dict[str, MoodPoint]:
        return await self._run(lambda: anchor_points(self._db))

    async def nearest_tracks(
        self,
        target: MoodPoint,
        genres: Sequence[str],
        n: int,
        exclude: Collection[str],
        *,
        avoid: TrackFilter | None = None,
    ) -> list[Track]:
        """The catalog's nearest tracks (``track_search.nearest``: raises when none of the
        genres has a track)."""
        return await self._run(lambda: nearest(self._db, target, genres, n, exclude, avoid=avoid))

    # ---- each user's prefs, each chat's taste ----------------------------------------------

    async def user_prefs(self, platform: str, user_id: str) -> UserPrefs:
        return await self._run(lambda: user_prefs(self._db, platform, user_id))

    async def update_user_prefs(
        self, platform: str, user_id: str, change: Callable[[UserPrefs], UserPrefs]
    ) -> UserPrefs:
        """Change a user's prefs in one transaction (``prefs_store.update_user_prefs``)."""
        return await self._run(lambda: update_user_prefs(self._db, platform, user_id, change))

    async def chat_nudges(self, platform: str, chat_id: str, category_id: str) -> list[Press]:
        """The chat's nudges on cards of the scene since its last taste reset, newest first."""
        return await self._run(lambda: chat_nudges(self._db, platform, chat_id, category_id))

    async def reset_chat_taste(self, platform: str, chat_id: str) -> None:
        await self._run(lambda: reset_chat_taste(self._db, platform, chat_id))
