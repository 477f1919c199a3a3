"""Honouring Telegram's flood control: a 429 is waited out and the call made again.

Why a PTB rate limiter rather than try/except around each call: every Bot API call of the
bot goes through it (sendPhoto, getFile, the edit after a press, answerCallbackQuery), so
none can forget it. It only reacts to ``RetryAfter`` (PTB's documented "react only if
necessary" approach) and does not throttle: a chat bot mostly answers the updates it gets,
and throttling every group to 20 messages a minute would slow every reply in a busy group.
A 429 is safe to repeat (Telegram did nothing with the call), unlike a 5xx after which a
message may already have been sent, so nothing else is retried here. Waits are bounded:
a ``retry_after`` longer than ``max_wait_s``, or more than ``max_retries`` in a row, is
raised to the caller, which then tells the user and keeps nothing of the request.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class RetryAfterLimiter(BaseRateLimiter[None]):
    def __init__(
        self, *, max_retries: int = 3, max_wait_s: float = 30.0, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.max_retries = max_retries
        self.max_wait_s = max_wait_s
        self._sleep = sleep  # injectable, so tests need not wait for real

    async def initialize(self) -> None:
        """Nothing to set up: the limiter keeps no state between calls."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait_s = retry_seconds(error)
                if retries >= self.max_retries or wait_s > self.max_wait_s:
                    log.warning("Telegram flood control on %s: giving up (%g s)", endpoint, wait_s)
                    raise
                retries += 1
                log.info("Telegram flood control on %s: retrying in %g s", endpoint, wait_s)
                await self._sleep(wait_s)


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB gives it as an int or a timedelta."""
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
