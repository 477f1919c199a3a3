"""Votes ("did it fit?") for ``MoodService``: who may vote on a card, the vote kept, the popup.

Why not the steering rules: a vote changes nothing about the card, and a playlist shared in
a group is meant for everyone there, so anyone in the chat the request was made in may rate
it (one vote per person per request), while steering stays with the requester and admins.
Nobody outside that chat may, which also keeps one chat's stats out of another's reach.
A button press toggles (the same button again takes the vote back, the other one changes
it); a reaction sets the vote and removing it takes it back.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.storage.gateway import Storage
from adapters.storage.request_log import StoredRequest
from core.errors import NotInChatError
from core.fit import Vote
from core.fit_text import vote_notice
from core.flow import Actor, Pressed
from core.language import Language

Limit = Callable[[tuple[str, str]], None]  # raises RateLimitedError for a (platform, user)


class FitVotes:
    def __init__(self, storage: Storage, limit: Limit, owner_platform: str) -> None:
        """``limit``: the rate limit controls share; ``owner_platform``: the owner's (the
        command line's), who may vote anywhere."""
        self._storage = storage
        self._limit = limit
        self._owner = owner_platform

    async def press(self, stored: StoredRequest, actor: Actor, vote: Vote) -> Pressed:
        """A 👍 / 👎 button: toggled, answered with a popup in the presser's language."""
        self._check(stored, actor)
        before, after = await self._storage.toggle_vote(
            stored.id, actor.platform, actor.user_id, vote
        )
        language = Language.of(actor.locale) if actor.locale else stored.language
        return Pressed(notice=vote_notice(before, after, language))

    async def react(self, stored: StoredRequest, actor: Actor, vote: Vote, *, on: bool) -> None:
        """A 👍 / 👎 reaction added (``on``) or removed."""
        self._check(stored, actor)
        if on:
            await self._storage.change_vote(stored.id, actor.platform, actor.user_id, vote)
        else:
            await self._storage.withdraw_vote(stored.id, actor.platform, actor.user_id, vote)

    def _check(self, stored: StoredRequest, actor: Actor) -> None:
        if actor.platform != self._owner and (actor.platform, actor.chat_id) != (
            stored.platform,
            stored.chat_id,
        ):
            raise NotInChatError("only people in the playlist's chat can rate it")
        self._limit((actor.platform, actor.user_id))
