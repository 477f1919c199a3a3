"""The contract between chat adapters and the platform-neutral mood flow.

Adapters (Discord, Telegram) only translate platform events into these requests and deliver
the ``PlaylistCard`` they get back; everything about moods lives behind ``MoodFlow``.
Errors come back as ``core.errors.AIDJError`` subclasses whose text the adapter shows via
``core.reply.error_text``.

Why the flow calls the adapter back to deliver: what a card changes (a request counted
against the rate limit, the tracks it showed, a nudged target) must only stand once the user
has the card. The flow hands the card to ``send``/``edit`` and keeps its changes only when
that returns; when delivery fails (a chat API that stays at 429, a 5xx) it takes them back,
so the next card neither skips songs the user never saw nor costs them a photo.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from core.controls import Control
from core.errors import BadImageError
from core.fit import FitStats, Vote
from core.language import Language
from core.mood import Destination
from core.reply import PlaylistCard
from core.steering import Action

ImageFetch = Callable[[], Awaitable[bytes]]
SendCard = Callable[[PlaylistCard], Awaitable[str | None]]  # the posted message's id
EditCard = Callable[[PlaylistCard], Awaitable[None]]
Acknowledge = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class PhotoRequest:
    platform: str  # "discord", "telegram" or "cli"
    chat_id: str
    user_id: str
    # the bytes, or how to download them: the flow checks the rate limit before fetching,
    # so a user over the limit costs the bot no download
    image: bytes | ImageFetch
    caption: str
    # the user's locale / language code when the platform says, else the adapter's best
    # guess (a Discord server's, ``core.language.chat_locale_hint``)
    locale: str | None = None
    # a journey asked for with the request (``/mood lift``); else the caption may choose one
    journey: Destination | None = None


@dataclass(frozen=True)
class AlbumRequest:
    """Several photos of one post (a Telegram media group, a Discord message's attachments)
    with one caption: one card whose playlist follows the photos in order (``core.albums``).

    ``images`` are in the post's order, at most ``core.albums.MAX_PHOTOS``. An adapter that
    already knows a photo is unusable (too big, not an image) gives a fetch that raises its
    ``BadImageError``: the flow skips that photo and the card says so. A request with one
    image is answered as a ``PhotoRequest``. The album counts once against the rate limit."""

    platform: str
    chat_id: str
    user_id: str
    images: tuple[bytes | ImageFetch, ...]
    caption: str
    locale: str | None = None


CardRequest = PhotoRequest | AlbumRequest


def album_fetch(checked_fetch: Callable[[], ImageFetch]) -> ImageFetch:
    """An album photo's fetch: ``checked_fetch()`` (which checks the photo on sight and
    says how to download it), or, when that refuses it with ``BadImageError``, a fetch that
    raises the refusal, so the flow skips that photo and names it (``AlbumRequest``)."""
    try:
        return checked_fetch()
    except BadImageError as error:
        refusal = error

        async def refuse() -> bytes:
            raise refusal

        return refuse


@dataclass(frozen=True)
class Actor:
    """Who pressed a control: only the requester, or an admin of the chat the request was
    made in, may steer. ``is_admin`` speaks of ``chat_id``, the chat the press came from."""

    platform: str
    chat_id: str
    user_id: str
    is_admin: bool = False
    locale: str | None = None
    private: bool = False  # a one-to-one chat with the bot (a Telegram private chat, a DM)


@dataclass(frozen=True)
class CardMessage:
    """A posted card: the message its controls were pressed on."""

    platform: str
    chat_id: str
    message_id: str


@dataclass(frozen=True)
class Pressed:
    """What a control press gave: a new card (already delivered through ``edit``), and/or a
    short notice for the presser (a Telegram popup, a Discord ephemeral reply). A press
    that answers with a notice does not call ``acknowledge`` first: a Telegram callback
    query takes one answer only."""

    card: PlaylistCard | None = None
    notice: str | None = None


class MoodFlow(Protocol):
    async def recommend(self, request: CardRequest, send: SendCard | None = None) -> PlaylistCard:
        """Analyse, tune, recommend, record; ``send`` posts the first card and returns the
        message id its controls live on. If ``send`` raises, nothing is kept or counted."""
        ...

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
        """Regenerate or nudge the request posted as ``card``, one press at a time.

        The request is the one linked to the message, never one named by the client
        (``claimed_request``, from a button's data, must match it). Refuses with
        NotRequesterError anyone but the requester or an admin of the request's chat, and
        UnknownRequestError a message that is not a card. ``acknowledge`` runs once the
        press is accepted (before any work); ``edit`` delivers the new card, and the press
        counts only if it returns."""
        ...

    async def press(
        self,
        card: CardMessage,
        control: Control,
        actor: Actor,
        edit: EditCard,
        *,
        acknowledge: Acknowledge | None = None,
    ) -> Pressed:
        """Any button on a card (``core.controls``): steering goes to ``steer`` (with the
        control's request id as the claim), other kinds to their own step (a journey button
        moves the songs toward its destination, or back to one point). Same refusals as
        ``steer``; ``acknowledge`` runs once the press is accepted. A 👍 / 👎 press (FIT)
        toggles the presser's vote and answers with a notice; anyone in the request's chat
        may press it."""
        ...

    async def vote(self, card: CardMessage, actor: Actor, vote: Vote, *, on: bool = True) -> None:
        """A "did it fit?" reaction added (``on``: the actor's vote on the card's request is
        now ``vote``) or removed (not ``on``: taken back if it is still ``vote``). Anyone in
        the request's chat may vote; NotInChatError refuses anyone else, and
        UnknownRequestError a message that is not a card. (A 👍 / 👎 *button* is a ``press``.)"""
        ...

    async def chat_stats(self, platform: str, chat_id: str) -> FitStats:
        """Cards made in one chat, its fit rate overall and per scene, the most pressed
        controls (``/stats``)."""
        ...

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        """The request a reply message belongs to, or None if it is not one of ours."""
        ...

    async def language_for(
        self, platform: str, user_id: str, locale: str | None, text: str = ""
    ) -> Language:
        """The language to answer ``user_id`` in: their ``/prefs`` choice, else as their app's
        ``locale`` and ``text`` (a caption, a command) suggest. Never raises: an adapter asks
        it to word a failure, which may be the database's own."""
        ...

    async def prefs(self, actor: Actor, words: str) -> str:
        """``/prefs <words>`` from ``actor`` (``core.prefs``): change or show their settings;
        the reply to show them, in their language (a usage text for words that are not a
        command). ``reset`` also forgets the chat's taste when ``actor`` is an admin of
        ``actor.chat_id`` or the chat is private."""
        ...
