"""One asyncio lock per key, created on first use and gone when nobody holds or waits on it.

Why: presses on one card must run one after another (each sees what the last one kept),
while presses on different cards run side by side; a lock per request id does both, and
dropping idle locks keeps memory bounded however many cards there are.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold ``key``'s lock for the block; others asking for the same key wait in turn."""
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """Keys with a holder or a waiter (idle keys are forgotten)."""
        return len(self._locks)
