"""Our retry policy for Spotify calls, and the one error the rest of the bot sees.

Why our own and not spotipy's: spotipy's urllib3 retry turns an exhausted 5xx into a fake
"429 Max Retries" and drops the Retry-After header, and it sleeps for as long as Spotify
asks (rate-limit bans can be hours). Here a 429 waits for Retry-After only up to a cap,
5xx / timeouts / connection errors retry a bounded number of times with a short backoff,
and everything else gives up at once. The result is ``SpotifyUnavailable``, whose message
carries a status and a reason code only: never a token, a URL query or a response body.

A call that is not idempotent (creating a playlist, appending items) is never simply sent
again after an answer that leaves open whether Spotify did it (a 5xx, a read timeout, a
dropped connection): a ``recover`` step first finds out or repairs (look the playlist up,
replace the items), and without one the call gives up. A 429 or a connect timeout means
Spotify did nothing, so those are retried as usual.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from spotipy.exceptions import SpotifyException, SpotifyOauthError

log = logging.getLogger(__name__)
T = TypeVar("T")

_SAFE_CODE = re.compile(r"^[a-z_]{1,40}$")  # OAuth error codes like invalid_grant


class SpotifyUnavailable(Exception):
    """Spotify could not help with ``what`` this time; the message is safe to log.

    ``refused``: Spotify answered and said no (a 4xx other than 429, or the accounts service
    rejecting the login), so trying again later will not help; otherwise it did not answer
    usefully (5xx, 429, timeouts, no connection)."""

    def __init__(
        self, what: str, reason: str, status: int | None = None, *, refused: bool = False
    ) -> None:
        super().__init__(f"Spotify {what}: {reason}")
        self.what = what
        self.reason = reason
        self.status = status
        self.refused = refused


@dataclass(frozen=True)
class Failure:
    """What went wrong with one attempt, in the terms the policy decides on."""

    kind: str  # rate_limited, unreached, server, timeout, connection, client, auth
    reason: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "unreached", "server", "timeout", "connection")

    @property
    def refused(self) -> bool:
        return self.kind in ("client", "auth")

    @property
    def may_have_acted(self) -> bool:
        """Whether Spotify may have done what was asked despite the failure."""
        return self.kind in ("server", "timeout", "connection")


def classify(error: BaseException) -> Failure | None:
    """The failure an exception from spotipy/requests stands for; None if it is not one
    (a programming error, which should surface rather than be retried)."""
    if isinstance(error, SpotifyException):
        status = error.http_status
        if status == 429:
            wait = _retry_after(error.headers)
            return Failure("rate_limited", "HTTP 429", status, wait)
        if status is not None and status >= 500:
            return Failure("server", f"HTTP {status}", status)
        return Failure("client", f"HTTP {status}", status)
    if isinstance(error, SpotifyOauthError):
        code = getattr(error, "error", None)
        detail = code if isinstance(code, str) and _SAFE_CODE.match(code) else "rejected"
        return Failure("auth", f"authorization failed ({detail})")
    if isinstance(error, requests.exceptions.ConnectTimeout):  # never reached Spotify
        return Failure("unreached", "connect timed out")
    if isinstance(error, requests.exceptions.Timeout):
        return Failure("timeout", "timed out")
    if isinstance(error, requests.exceptions.RequestException):
        return Failure("connection", "connection failed")
    return None


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (Spotify sends whole seconds); None if absent or
    not a number (an HTTP date is not worth parsing for a chat reply)."""
    if not headers:
        return None
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries; ``sleep`` is injectable so tests can see the waits. ``on_attempt``
    hears of every attempt: ``(what, status)``, status "ok", an HTTP status, or the failure
    kind (timeout, connection, unreached, auth; "error" for anything unexpected)."""

    max_retries: int = 2
    backoff_s: float = 0.25
    retry_after_cap_s: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    on_attempt: Callable[[str, str], None] | None = field(default=None, compare=False)

    def call(
        self,
        what: str,
        function: Callable[[], T],
        *,
        idempotent: bool = True,
        recover: Callable[[], T | None] | None = None,
    ) -> T:
        """``function()``, retried per the policy; raises SpotifyUnavailable on giving up.

        For a non-idempotent call, after a failure that may have acted, ``recover()`` runs
        before anything else: its result (not None) is the call's result; None means it was
        not done, so the call is retried as usual. Without ``recover`` it gives up there.
        ``recover`` may raise SpotifyUnavailable itself (then that is the outcome).
        """
        attempt = 0
        while True:
            try:
                result = function()
            except Exception as error:
                failure = classify(error)
                self._tell(what, _status_label(failure))
                if failure is None:
                    raise
            else:
                self._tell(what, "ok")
                return result
            if not idempotent and failure.may_have_acted:
                if recover is None:  # raised outside `except`: no chained upstream message
                    raise SpotifyUnavailable(what, failure.reason, failure.status)
                log.debug("Spotify %s: %s; checking whether it was done", what, failure.reason)
                recovered = recover()
                if recovered is not None:
                    return recovered
            wait = self._wait(failure, attempt)
            if wait is None:
                why = self._why(failure, attempt + 1)
                raise SpotifyUnavailable(what, why, failure.status, refused=failure.refused)
            attempt += 1
            log.debug("Spotify %s: %s; retry %d in %.2f s", what, failure.reason, attempt, wait)
            self.sleep(wait)

    def _tell(self, what: str, status: str) -> None:
        if self.on_attempt is not None:
            self.on_attempt(what, status)

    def _wait(self, failure: Failure, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not failure.retryable or attempt >= self.max_retries:
            return None
        if failure.kind == "rate_limited" and failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= self.retry_after_cap_s else None
        return self.backoff_s * (2**attempt)

    def _why(self, failure: Failure, attempts: int) -> str:
        if (failure.retry_after or 0) > self.retry_after_cap_s:
            return (
                f"rate limited, Retry-After {failure.retry_after:g} s is over the "
                f"{self.retry_after_cap_s:g} s cap"
            )
        return failure.reason if attempts == 1 else f"{failure.reason} after {attempts} attempts"


def _status_label(failure: Failure | None) -> str:
    if failure is None:
        return "error"
    return str(failure.status) if failure.status is not None else failure.kind


def describe(error: BaseException) -> str:
    """A log-safe one-liner for any error the facades catch."""
    if isinstance(error, SpotifyUnavailable):
        return error.reason
    failure = classify(error)
    return failure.reason if failure else f"unexpected {type(error).__name__}"
