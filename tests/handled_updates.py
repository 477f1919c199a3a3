"""Which Telegram updates the bot has finished with, to prove that something did *not* happen.

Why: the bot handles updates concurrently (``CONCURRENT_UPDATES``), so a later update being
answered says nothing about an earlier one, and a handler that decides to do nothing leaves
no request at the fake. PTB runs an update's handler groups one after another, awaiting the
bot's handler (group 0, blocking) before the next group; a handler in the last group therefore
runs only once the bot is done with that update, whatever it decided. Nothing in the product
changes: the probe is added through PTB's public ``add_handler``.

``received`` is what reached the application at all (a probe in the first group): PTB takes
updates off its queue in order and starts each one's groups in that order, so once a later
update is handled, every update queued before it has been received. A webhook request that
was refused never gets there.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

LAST_GROUP = 1_000_000  # after every group the bot uses (it registers in group 0)
FIRST_GROUP = -LAST_GROUP  # before it


class HandledUpdates:
    """Records the id of every update once the bot's own handling of it has returned."""

    def __init__(self, application: Application) -> None:
        self._done: set[int] = set()
        self.received: set[int] = set()
        self._changed = asyncio.Condition()
        application.add_handler(TypeHandler(Update, self._receive), group=FIRST_GROUP)
        application.add_handler(TypeHandler(Update, self._record), group=LAST_GROUP)

    async def _receive(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.received.add(update.update_id)

    async def _record(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._changed:
            self._done.add(update.update_id)
            self._changed.notify_all()

    async def wait(self, *update_ids: int, timeout: float = 5.0) -> None:
        """Return once the bot has finished with every one of ``update_ids``."""
        wanted = set(update_ids)
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: wanted <= self._done)
        except TimeoutError:
            missing = sorted(wanted - self._done)
            raise AssertionError(f"updates {missing} not handled within {timeout} s") from None
