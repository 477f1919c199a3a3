"""What every chat bot offers the runner: start, then stop, in one shared event loop, and
whether it is connected (for the health endpoint)."""

from __future__ import annotations

from typing import Protocol


class ChatBot(Protocol):
    @property
    def connected(self) -> bool:
        """Whether the bot is connected to its platform now (approximate: see each bot)."""
        ...

    async def start(self) -> None:
        """Connect and begin handling updates; return once running (raise ConfigError for a
        missing or rejected token)."""
        ...

    async def stop(self) -> None:
        """Finish what is in progress and disconnect; safe to call twice."""
        ...
