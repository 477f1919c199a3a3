"""A bot running for a test that the test may restart: the running bot stops before the
new one starts on the same database, as on a real restart (two at once would poll one fake
and write one file from two connections, which no deployment of a single bot does)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

Start = Callable[[], AbstractAsyncContextManager[None]]


class RunningBot:
    def __init__(self, start: Start) -> None:
        self._start = start
        self._running = contextlib.AsyncExitStack()

    async def __aenter__(self) -> RunningBot:
        await self._running.enter_async_context(self._start())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._running.aclose()

    @contextlib.asynccontextmanager
    async def restart(self) -> AsyncIterator[None]:
        """Stop the running bot, then run a new one for the block."""
        await self._running.aclose()
        async with self._start():
            yield
