"""The platform-neutral mood flow: photo + caption -> analysis -> tracks -> a card.

This is the one place that strings the steps together, for both chat platforms and the
command line: rate limit, ask the model reader, take the base from the anchor table (moved
by the chat's taste for that scene, ``core.taste``), tune, recommend from the track source
(excluding what this request already showed and what the requester left out with
``/prefs``; on a journey, one song per point of the path toward its destination), record it
all, and add the Spotify extras when configured. Every query goes through the storage
gateway, which runs it on the database's own thread, so the event loop never waits on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from adapters.storage.catalog_source import CatalogSource
from adapters.storage.gateway import Storage
from adapters.storage.request_log import StoredRequest
from bot.album_reading import read_album
from bot.config import Settings
from bot.prefs import answer_prefs
from bot.trace import timed_step
from bot.votes import FitVotes
from core.albums import Album, pick_album
from core.captions import normalize_caption
from core.categories import get_category
from core.controls import Control, ControlKind
from core.errors import (
    BadCaptionError,
    BadImageError,
    NotForAlbumsError,
    NotRequesterError,
    SceneNotOfferedError,
    UnknownRequestError,
)
from core.fit import FitStats, StatsScope, Vote
from core.flow import (
    Acknowledge,
    Actor,
    AlbumRequest,
    CardMessage,
    CardRequest,
    EditCard,
    PhotoRequest,
    Pressed,
    SendCard,
)
from core.journey import (
    FEEDBACK_PREFIX,
    STAY,
    Journey,
    JourneySource,
    journey_from_caption,
    journey_path,
)
from core.keyed_locks import KeyedLocks
from core.language import Language, reply_language
from core.mood import Analysis, Destination, MoodPoint, Reading
from core.paths import pick_along
from core.ratelimit import SlidingWindowLimiter
from core.reply import PlaylistCard
from core.scene_choice import chosen_reading, keep_nudges, offered_scenes
from core.steering import Action, steer
from core.taste import NO_TASTE, chat_taste, with_taste
from core.tracks import Track, TrackFilter, TrackSource, recommend_from
from core.tuning import place

log = logging.getLogger(__name__)

_STEER_RATE_FACTOR = 3  # pressing a control is cheap; allow more of those than photos
OWNER_PLATFORM = "cli"  # the owner at a terminal: not rate limited, may steer anything
_EXEMPT_PLATFORMS = frozenset({OWNER_PLATFORM})


class MoodReader(Protocol):
    async def analyze(self, image: bytes, caption: str) -> Reading: ...


class SpotifyExtrasLike(Protocol):
    async def enrich(self, tracks: list[Track]) -> list[Track]: ...

    async def playlist_for(self, card: PlaylistCard, caption: str) -> str | None: ...


class MoodService:
    """Implements ``core.flow.MoodFlow``."""

    def __init__(
        self,
        reader: MoodReader | None,
        storage: Storage,
        settings: Settings,
        *,
        spotify: SpotifyExtrasLike | None = None,
        tracks: TrackSource | None = None,
        render_plane: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``tracks``: where cards' tracks come from (default: the local catalog);
        ``clock``: the time a chat's presses are aged against (default: now, in UTC)."""
        self._reader = reader
        self._clock = clock or (lambda: datetime.now(UTC))
        self._storage = storage
        self._settings = settings
        self._spotify = spotify
        self._tracks = tracks or CatalogSource(storage)
        self._render_plane = render_plane
        self._request_locks = KeyedLocks()
        self._photo_limiter = SlidingWindowLimiter(settings.rate_limit_per_minute)
        self._steer_limiter = SlidingWindowLimiter(
            settings.rate_limit_per_minute * _STEER_RATE_FACTOR
        )
        self._votes = FitVotes(
            storage, lambda user: self._limit(self._steer_limiter, user), OWNER_PLATFORM
        )

    # -- MoodFlow ----------------------------------------------------------------------

    async def read(self, image: bytes, caption: str) -> Analysis:
        """What the photo and caption say, placed on the mood plane; nothing is recorded
        (`aidj analyze`)."""
        return await self._analyze(image, normalize_caption(caption))

    async def recommend(self, request: CardRequest, send: SendCard | None = None) -> PlaylistCard:
        if isinstance(request, AlbumRequest) and len(request.images) == 1:
            request = _single(request)  # an album of one photo is a normal card
        caption = normalize_caption(request.caption)
        user = (request.platform, request.user_id)
        self._limit(self._photo_limiter, user)  # an album counts once: it is one card
        request_id: int | None = None
        try:
            prefs = await self._storage.user_prefs(request.platform, request.user_id)
            language = prefs.reply_language(request.locale, caption)
            analysis, album = await self._read_request(request, caption)
            journey = (
                self._first_journey(request.journey, analysis, caption)
                if isinstance(request, PhotoRequest)
                else None  # an album's path is its photos'
            )
            request_id = await self._storage.record_request(
                analysis,
                platform=request.platform,
                chat_id=request.chat_id,
                user_id=request.user_id,
                language=language,
                caption=caption,
                journey=journey,
                album=album,
            )
            path = self._path(analysis.final, journey)
            tracks = await self._pick_tracks(
                request_id, analysis.seed_genres, analysis.final, path, prefs.avoid(), album
            )
            await self._storage.record_shown(request_id, _ids(tracks), 0)
            card = await self._card(
                request_id,
                analysis,
                analysis.final,
                tracks,
                language,
                caption,
                journey=journey,
                path=path,
                album=album,
            )
            message_id = await send(card) if send is not None else None
        except BaseException as error:
            if not isinstance(error, (BadImageError, BadCaptionError)):
                self._photo_limiter.refund(user)  # not the user's doing: it costs them nothing
            if request_id is not None:
                await self._storage.forget_request(request_id)
            raise
        if message_id is not None:
            await self._storage.link_message(
                request.platform, request.chat_id, message_id, card.request_id
            )
        return card

    async def steer(
        self,
        card: CardMessage,
        action: Action,
        actor: Actor,
        edit: EditCard,
        *,
        claimed_request: int | None = None,
        acknowledge: Acknowledge | None = None,
    ) -> PlaylistCard:
        request_id = await self._request_of(card, claimed_request)
        return await self._steer(request_id, action, actor, edit, acknowledge)

    async def press(
        self,
        card: CardMessage,
        control: Control,
        actor: Actor,
        edit: EditCard,
        *,
        acknowledge: Acknowledge | None = None,
    ) -> Pressed:
        request_id = await self._request_of(card, control.request_id)
        action, vote = control.action, control.vote
        if action is not None:
            return Pressed(await self._steer(request_id, action, actor, edit, acknowledge))
        if control.kind is ControlKind.SCENE:
            return Pressed(
                await self._choose_scene(request_id, control.value, actor, edit, acknowledge)
            )
        if control.kind is ControlKind.JOURNEY:
            return Pressed(
                await self._choose_journey(request_id, control.value, actor, edit, acknowledge)
            )
        if vote is not None:
            return await self._votes.press(await self._stored(request_id), actor, vote)
        raise UnknownRequestError(f"no such control: {control.kind}")

    async def vote(self, card: CardMessage, actor: Actor, vote: Vote, *, on: bool = True) -> None:
        stored = await self._stored(await self._request_of(card, None))
        await self._votes.react(stored, actor, vote, on=on)

    async def chat_stats(self, platform: str, chat_id: str) -> FitStats:
        return await self._storage.fit_stats(StatsScope(platform=platform, chat_id=chat_id))

    async def prefs(self, actor: Actor, words: str) -> str:
        return await answer_prefs(self._storage, actor, words)

    async def language_for(
        self, platform: str, user_id: str, locale: str | None, text: str = ""
    ) -> Language:
        try:
            prefs = await self._storage.user_prefs(platform, user_id)
        except Exception as error:  # wording a failure must not fail: the app's language
            log.warning("could not read %s user prefs: %s", platform, type(error).__name__)
            return reply_language(locale, text)
        return prefs.reply_language(locale, text)

    async def steer_as_owner(
        self, request_id: int, action: Action, edit: EditCard | None = None
    ) -> PlaylistCard:
        """Steer any request by its id: for the bot's owner at the command line."""
        owner = Actor(platform=OWNER_PLATFORM, chat_id=OWNER_PLATFORM, user_id="owner")
        return await self._steer(request_id, action, owner, edit, None)

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        return await self._storage.request_for_message(platform, chat_id, message_id)

    # -- controls ------------------------------------------------------------------------

    async def _request_of(self, card: CardMessage, claimed_request: int | None) -> int:
        """The request posted as ``card``; a control's claim must name that one."""
        request_id = await self.request_for_message(card.platform, card.chat_id, card.message_id)
        if request_id is None:
            raise UnknownRequestError("that message is not one of my playlists")
        if claimed_request is not None and claimed_request != request_id:
            log.warning(
                "a control named request #%s on request #%s's card", claimed_request, request_id
            )
            raise NotRequesterError("that control does not belong to this playlist")
        return request_id

    # -- steering ------------------------------------------------------------------------

    async def _steer(
        self,
        request_id: int,
        action: Action,
        actor: Actor,
        edit: EditCard | None,
        acknowledge: Acknowledge | None,
    ) -> PlaylistCard:
        """Regenerate or nudge: the same analysis, a moved target, new tracks (a journey
        stays on its way, from the moved target; an album moves every photo's point)."""

        async def step(stored: StoredRequest) -> _Round:
            nudge = self._settings.nudge_step
            target = steer(stored.target, action, nudge)
            album = stored.album.steered(action, nudge) if stored.album else None
            return _Round(
                stored.analysis, target, action.value, stored.journey, action=action, album=album
            )

        return await self._press(request_id, actor, edit, acknowledge, step)

    async def _choose_scene(
        self,
        request_id: int,
        scene: str,
        actor: Actor,
        edit: EditCard | None,
        acknowledge: Acknowledge | None,
    ) -> PlaylistCard:
        """The user's pick between the two scenes a close-call card offers: the base becomes
        that scene's anchor, the caption's reading is applied to it again, and the nudges
        made so far are kept as offsets (``core.scene_choice``)."""

        def check(stored: StoredRequest) -> None:
            offered = self._offered(stored.analysis, stored.album)
            if stored.scene_choice is not None or scene not in offered:
                raise SceneNotOfferedError(f"request #{request_id} does not offer {scene!r}")

        async def step(stored: StoredRequest) -> _Round:
            reading = chosen_reading(stored.analysis.reading, scene)
            analysis = await self._place(reading, (stored.platform, stored.chat_id))
            target = keep_nudges(stored.analysis, stored.target, analysis)
            return _Round(analysis, target, f"scene:{scene}", stored.journey, rebased=True)

        return await self._press(request_id, actor, edit, acknowledge, step, check)

    async def _choose_journey(
        self,
        request_id: int,
        value: str,
        actor: Actor,
        edit: EditCard | None,
        acknowledge: Acknowledge | None,
    ) -> PlaylistCard:
        """A journey button: new songs along the path from the card's target to that
        destination (the one already taken: new songs along the same path), or back to
        one point (``STAY``)."""
        destination = _destination_of(value)

        def check(stored: StoredRequest) -> None:
            if stored.album is not None and stored.album.is_arc:
                raise NotForAlbumsError(f"request #{request_id} is an album: no journey")

        async def step(stored: StoredRequest) -> _Round:
            journey = stored.journey
            if destination is None:
                journey = None
            elif journey is None or journey.destination is not destination:
                journey = Journey(destination, JourneySource.CONTROL)
            return _Round(
                stored.analysis,
                stored.target,
                FEEDBACK_PREFIX + value,
                journey,
                album=stored.album,  # one photo left of an album: its skipped ones stay named
            )

        return await self._press(request_id, actor, edit, acknowledge, step, check)

    async def _press(
        self,
        request_id: int,
        actor: Actor,
        edit: EditCard | None,
        acknowledge: Acknowledge | None,
        step: Callable[[StoredRequest], Awaitable[_Round]],
        check: Callable[[StoredRequest], None] | None = None,
    ) -> PlaylistCard:
        """One press: checked, acknowledged, then computed (``step``), delivered and kept
        while holding the request's lock, so presses that arrive together give distinct
        rounds and add up. ``check`` refuses a press the request no longer allows; it runs
        again under the lock, against the request as the previous press left it."""
        stored = await self._stored(request_id)
        _authorize(stored, actor)
        if check is not None:
            check(stored)
        user = (actor.platform, actor.user_id)
        self._limit(self._steer_limiter, user)
        try:
            if acknowledge is not None:
                await acknowledge()
            async with self._request_locks.hold(request_id):
                stored = await self._stored(request_id)  # as the previous press left it
                if check is not None:
                    check(stored)
                made = await step(stored)
                path = self._path(made.target, made.journey)
                # the card is the requester's: their /prefs, whoever pressed
                prefs = await self._storage.user_prefs(stored.platform, stored.user_id)
                tracks = await self._pick_tracks(
                    request_id,
                    made.analysis.seed_genres,
                    made.target,
                    path,
                    prefs.avoid(),
                    made.album,
                )
                card = await self._card(
                    request_id,
                    made.analysis,
                    made.target,
                    tracks,
                    stored.language,
                    stored.caption,
                    round_number=stored.rounds,
                    action=made.action,
                    chosen=made.rebased or stored.scene_choice is not None,
                    journey=made.journey,
                    path=path,
                    album=made.album,
                )
                if edit is not None:
                    await edit(card)
                kept = await self._storage.commit_round(
                    request_id,
                    round=stored.rounds,
                    target=made.target,
                    track_ids=_ids(tracks),
                    user_id=actor.user_id,
                    action=made.feedback,
                    rebased=made.analysis if made.rebased else None,
                    journey=made.journey,
                    album=made.album,
                )
        except BaseException:
            self._steer_limiter.refund(user)  # the press never reached the user
            raise
        if not kept:
            log.warning("request #%s was steered elsewhere at the same time", request_id)
        return card

    def _offered(self, analysis: Analysis, album: Album | None = None) -> tuple[str, ...]:
        """The scenes a card of ``analysis`` asks the user to choose between (none when the
        photo was clear, nor for an album: its photos are many, the card has one choice)."""
        if album is not None:
            return ()
        distribution = analysis.reading.image.distribution
        return offered_scenes(distribution, self._settings.scene_choice_margin) or ()

    async def _stored(self, request_id: int) -> StoredRequest:
        stored = await self._storage.stored_request(request_id)
        if stored is None:
            raise UnknownRequestError(f"no request #{request_id}")
        return stored

    # -- steps ---------------------------------------------------------------------------

    async def _read_request(
        self, request: CardRequest, caption: str
    ) -> tuple[Analysis, Album | None]:
        """A photo's analysis; or an album's, with the analysis of its first photo read.
        Each photo is placed with the chat's taste for its scene."""
        chat = (request.platform, request.chat_id)
        if isinstance(request, AlbumRequest):

            async def place_photo(reading: Reading) -> Analysis:
                return await self._place(reading, chat)

            album = await read_album(request.images, caption, self._model().analyze, place_photo)
            return album.photos[0].analysis, album
        image = request.image if isinstance(request.image, bytes) else await request.image()
        return await self._analyze(image, caption, chat), None

    async def _analyze(
        self, image: bytes, caption: str, chat: tuple[str, str] | None = None
    ) -> Analysis:
        """Read the photo and caption, then place the reading: base from the anchor table,
        moved by ``chat``'s taste for the scene (when a chat asks), tuned by the caption."""
        return await self._place(await self._model().analyze(image, caption), chat)

    def _model(self) -> MoodReader:
        if self._reader is None:
            raise RuntimeError("this MoodService was built without a model reader")
        return self._reader

    async def _place(self, reading: Reading, chat: tuple[str, str] | None) -> Analysis:
        """``reading`` on the plane: its scene's base from the anchor table, moved by
        ``chat``'s taste for that scene (when a chat asks), tuned by the caption."""
        category = get_category(reading.image.category_id)
        base, source = await self._storage.base_for(category)
        if chat is None:
            return place(reading, base, source, self._settings.delta_max)
        base, taste = with_taste(base, await self._chat_taste(chat, category.id))
        return replace(place(reading, base, source, self._settings.delta_max), taste=taste)

    async def _chat_taste(self, chat: tuple[str, str], category_id: str) -> MoodPoint:
        """How far the chat's presses on this scene move its base (``core.taste``)."""
        rule = self._settings.taste_rule()
        if not rule.enabled:
            return NO_TASTE
        presses = await self._storage.chat_nudges(*chat, category_id)
        return chat_taste(presses, self._clock(), rule)

    async def _card(
        self,
        request_id: int,
        analysis: Analysis,
        target: MoodPoint,
        tracks: list[Track],
        language: Language,
        caption: str,
        *,
        round_number: int = 0,
        action: Action | None = None,
        chosen: bool = False,
        journey: Journey | None = None,
        path: tuple[MoodPoint, ...] = (),
        album: Album | None = None,
    ) -> PlaylistCard:
        """The card for ``analysis`` (an album's: its first photo's, ``album`` its photos);
        ``chosen``: the user picked its scene, so it offers no scenes to choose between any
        more; ``journey``: its songs follow ``path``."""
        if self._spotify is not None:
            tracks = await self._spotify.enrich(tracks)
        # the picture's line: a journey's path, or an album's arc through its photos' points
        drawn = tuple(album.targets) if album is not None and album.is_arc else path
        plane = (
            await self._plane(analysis, target, tracks, language, drawn)
            if self._render_plane
            else None
        )
        card = PlaylistCard(
            request_id=request_id,
            language=language,
            analysis=analysis,
            target=target,
            tracks=tuple(tracks),
            delta_max=self._settings.delta_max,
            plane_png=plane,
            round=round_number,
            last_action=action,
            scene_choices=() if chosen else self._offered(analysis, album),
            scene_chosen=chosen,
            journey=journey,
            path=path,
            album=album,
        )
        if self._spotify is not None:
            url = await self._spotify.playlist_for(card, caption)
            if url:
                card = replace(card, playlist_url=url)
        return card

    def _first_journey(
        self, asked: Destination | None, analysis: Analysis, caption: str
    ) -> Journey | None:
        """A new request's journey: the one asked for with it, else the caption's when its
        destination reading passes the threshold."""
        if asked is not None:
            return Journey(asked, JourneySource.COMMAND)
        threshold = self._settings.journey_threshold
        if threshold is None:
            return None
        return journey_from_caption(analysis.reading.text.destination, caption, threshold)

    def _path(self, target: MoodPoint, journey: Journey | None) -> tuple[MoodPoint, ...]:
        """A journey's targets, one per song, from ``target`` on; none without a journey."""
        if journey is None:
            return ()
        return tuple(journey_path(target, journey.destination, self._settings.recommend_count))

    @timed_step("recommend")
    async def _pick_tracks(
        self,
        request_id: int,
        genres: tuple[str, ...],
        target: MoodPoint,
        path: tuple[MoodPoint, ...] = (),
        avoid: TrackFilter | None = None,
        album: Album | None = None,
    ) -> list[Track]:
        """The next card's tracks, none that an earlier card of this request showed, none
        the requester left out: the nearest to ``target``, or one per point of a journey's
        ``path``, in order, or an album's along its photos (``core.albums``)."""
        exclude = await self._storage.shown_ids(request_id)
        count = self._settings.recommend_count
        if album is not None and album.is_arc:
            return await pick_album(self._tracks, album.photos, count, exclude, avoid)
        if path:
            return await pick_along(self._tracks, path, genres, exclude, avoid=avoid)
        return await recommend_from(self._tracks, target, genres, count, exclude, avoid)

    @timed_step("picture")
    async def _plane(
        self,
        analysis: Analysis,
        target: MoodPoint,
        tracks: list[Track],
        language: Language,
        path: tuple[MoodPoint, ...] = (),
    ) -> bytes:
        from adapters.render.mood_plane import render_mood_plane

        anchors = await self._storage.anchor_points()
        return await asyncio.to_thread(
            render_mood_plane,
            anchors,
            analysis.base,
            target,
            tracks,
            language,
            analysis.reading.image.category_id,
            path=path,
        )

    def _limit(self, limiter: SlidingWindowLimiter, user: tuple[str, str]) -> None:
        if user[0] not in _EXEMPT_PLATFORMS:
            limiter.check(user)


@dataclass(frozen=True)
class _Round:
    """What a press makes of a stored request: the next card's analysis, target and journey,
    what the press is logged as, and whether it re-based the analysis on a chosen scene
    (which is then kept with the request)."""

    analysis: Analysis
    target: MoodPoint
    feedback: str
    journey: Journey | None
    action: Action | None = None
    rebased: bool = False
    album: Album | None = None  # an album's photos, moved as the press moved them


def _destination_of(value: str) -> Destination | None:
    """A journey button's destination (None: ``STAY``); any other value is not a control of
    this version's."""
    if value == STAY:
        return None
    try:
        return Destination(value)
    except ValueError:
        raise UnknownRequestError(f"no such journey: {value!r}") from None


def _single(request: AlbumRequest) -> PhotoRequest:
    return PhotoRequest(
        platform=request.platform,
        chat_id=request.chat_id,
        user_id=request.user_id,
        image=request.images[0],
        caption=request.caption,
        locale=request.locale,
    )


def _ids(tracks: list[Track]) -> list[str]:
    return [track.id for track in tracks]


def _authorize(stored: StoredRequest, actor: Actor) -> None:
    """The requester, or an admin of the chat the request was made in; the owner always.
    ``actor.is_admin`` speaks of the actor's chat, so it counts only in the request's."""
    if actor.platform == OWNER_PLATFORM:
        return
    same_chat = (actor.platform, actor.chat_id) == (stored.platform, stored.chat_id)
    if same_chat and (actor.is_admin or actor.user_id == stored.user_id):
        return
    raise NotRequesterError("only the requester or a chat admin can steer this playlist")
