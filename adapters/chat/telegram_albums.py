"""Telegram media groups gathered into one request.

Telegram sends an album as separate messages, one update each, sharing a ``media_group_id``
(the caption usually on one of them). They often come in one getUpdates batch, but may be
split over polls (or arrive as separate webhook calls), and nothing marks the last one. So
the photos of a group are collected until no new one has joined for a quiet window
(``AIDJ_TELEGRAM_ALBUM_WAIT_S``): the handler of the group's first photo waits and then
answers for all of them, the handlers of the others only add their photo and return. A
photo that arrives after its group was answered is ignored rather than answered with a
second card of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from telegram import Message

log = logging.getLogger(__name__)

DEFAULT_QUIET_S = 1.5
_MEMORY = 256  # answered groups remembered, to recognise their late photos

Sleep = Callable[[float], Awaitable[None]]
_Key = tuple[int, str]


class MediaGroups:
    """The media groups being collected; ``sleep`` is how a quiet window is waited out
    (``asyncio.sleep``; a test may hold it until it has delivered every photo)."""

    def __init__(self, quiet_s: float = DEFAULT_QUIET_S, *, sleep: Sleep = asyncio.sleep) -> None:
        self._quiet_s = quiet_s
        self._sleep = sleep
        self._open: dict[_Key, list[Message]] = {}
        self._answered: OrderedDict[_Key, None] = OrderedDict()

    async def gather(self, message: Message) -> list[Message] | None:
        """Add ``message`` to its group. The call that opened the group returns the whole
        group in message order, once no photo joined for a quiet window; every other call
        returns None at once (its photo is answered with the group)."""
        assert message.media_group_id is not None
        key = (message.chat.id, message.media_group_id)
        members = self._open.get(key)
        if members is not None:
            members.append(message)
            return None
        if key in self._answered:
            log.info("a photo of an album that was already answered came late; ignored")
            return None
        members = self._open[key] = [message]
        try:
            seen = 0
            while len(members) != seen:
                seen = len(members)
                await self._sleep(self._quiet_s)
        finally:
            del self._open[key]
            self._answered[key] = None
            while len(self._answered) > _MEMORY:
                self._answered.popitem(last=False)
        return sorted(members, key=lambda member: member.message_id)
