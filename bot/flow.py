"""The contract between chat adapters and the platform-neutral mood flow.

Adapters (Discord, Telegram) only translate platform events into these requests and render
the ``PlaylistCard`` they get back; everything about moods lives behind ``MoodFlow``.
Errors come back as ``core.errors.AIDJError`` subclasses whose text the adapter shows via
``core.reply.error_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.reply import PlaylistCard
from core.steering import Action


@dataclass(frozen=True)
class PhotoRequest:
    platform: str  # "discord" or "telegram"
    chat_id: str
    user_id: str
    image: bytes
    caption: str
    locale: str | None = None  # the user's locale / language code, when the platform says


@dataclass(frozen=True)
class Actor:
    """Who pressed a control: only the requester or a chat admin may steer."""

    platform: str
    chat_id: str
    user_id: str
    is_admin: bool = False
    locale: str | None = None


class MoodFlow(Protocol):
    async def recommend(self, request: PhotoRequest) -> PlaylistCard:
        """Analyse, tune, recommend and record; the first card for a photo."""
        ...

    async def steer(self, request_id: int, action: Action, actor: Actor) -> PlaylistCard:
        """Regenerate or nudge an earlier request; raises NotRequesterError for others."""
        ...

    async def remember_message(
        self, request_id: int, platform: str, chat_id: str, message_id: str
    ) -> None:
        """Link the bot's reply message to its request, so controls on it work after restart."""
        ...

    async def request_for_message(self, platform: str, chat_id: str, message_id: str) -> int | None:
        """The request a reply message belongs to, or None if it is not one of ours."""
        ...
