"""Per-request timings, kept in one place: what each step of a request cost, and how it ended.

A request (a photo, or a press on a card's controls) gets a ``RequestTrace`` for as long as
the flow works on it. The trace rides in a context variable, so the steps deep inside the
flow mark themselves with ``step("analysis")`` (or ``@timed_step("picture")``) without being
handed anything; outside a traced request both do nothing. When the request ends the trace
is reported once: one INFO line (with structured fields for JSON logs) and the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from core.errors import (
    BadCaptionError,
    BadImageError,
    CatalogError,
    DatabaseBusyError,
    ModelLoadError,
    NotRequesterError,
    RateLimitedError,
    UnknownRequestError,
    WorkerError,
)

log = logging.getLogger("aidj.requests")
P = ParamSpec("P")
R = TypeVar("R")

# the order steps are listed in a log line
STEPS = ("download", "analysis", "recommend", "picture", "spotify", "send")

_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (RateLimitedError, "rate_limited"),
    (BadImageError, "bad_image"),
    (BadCaptionError, "bad_caption"),
    (NotRequesterError, "not_allowed"),
    (UnknownRequestError, "unknown_card"),
    (DatabaseBusyError, "database_busy"),
    (WorkerError, "model_worker"),
    (ModelLoadError, "model_worker"),
    (CatalogError, "catalog"),
)

_current: contextvars.ContextVar[RequestTrace | None] = contextvars.ContextVar(
    "aidj_request_trace", default=None
)


@dataclass
class RequestTrace:
    platform: str
    kind: str  # "photo" or "control"
    trace_id: str = field(default_factory=lambda: secrets.token_hex(4))
    request_id: int | None = None
    steps: dict[str, float] = field(default_factory=dict)
    send_failed: bool = False
    started: float = field(default_factory=time.perf_counter)
    # steps running now: how many of each name, and since when the first of them ran
    _open: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False)

    def add(self, name: str, seconds: float) -> None:
        self.steps[name] = self.steps.get(name, 0.0) + seconds

    def enter(self, name: str) -> None:
        count, since = self._open.get(name, (0, time.perf_counter()))
        self._open[name] = (count + 1, since)

    def leave(self, name: str) -> None:
        """Steps of one name that overlap (an album's photos download and are analysed at
        once) count the time any of them ran, not the sum of theirs."""
        count, since = self._open.pop(name)
        if count > 1:
            self._open[name] = (count - 1, since)
        else:
            self.add(name, time.perf_counter() - since)


def current() -> RequestTrace | None:
    return _current.get()


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Time the block into the current request's ``name`` step (nothing outside one)."""
    trace = _current.get()
    if trace is None:
        yield
        return
    trace.enter(name)
    try:
        yield
    finally:
        trace.leave(name)


def timed_step(name: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a coroutine function so each call counts as the ``name`` step."""

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(function)
        async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            with step(name):
                return await function(*args, **kwargs)

        return timed

    return decorate


def outcome_of(error: BaseException | None, trace: RequestTrace) -> str:
    """ "ok", or why the request ended without a card (a metrics label and a log word)."""
    if error is None:
        return "ok"
    if trace.send_failed:
        return "send_failed"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "error"


class Tracer:
    """Opens a trace per request and reports it when the request ends."""

    def __init__(self, report: Callable[[str, str, str, dict[str, float]], None] | None) -> None:
        """``report(platform, kind, outcome, steps)``: e.g. ``Metrics.request_finished``."""
        self._report = report

    @contextlib.contextmanager
    def request(self, platform: str, kind: str) -> Iterator[RequestTrace]:
        trace = RequestTrace(platform, kind)
        token = _current.set(trace)
        error: BaseException | None = None
        try:
            yield trace
        except BaseException as raised:
            error = raised
            raise
        finally:
            _current.reset(token)
            self._finish(trace, outcome_of(error, trace))

    def _finish(self, trace: RequestTrace, outcome: str) -> None:
        total = time.perf_counter() - trace.started
        line = request_line(trace, outcome, total)
        log.info("%s", line, extra={"fields": fields(trace, outcome, total)})
        if self._report is not None:
            self._report(trace.platform, trace.kind, outcome, dict(trace.steps))


def _ordered(trace: RequestTrace) -> list[tuple[str, float]]:
    known = [(name, trace.steps[name]) for name in STEPS if name in trace.steps]
    others = sorted((n, s) for n, s in trace.steps.items() if n not in STEPS)
    return known + others


def request_line(trace: RequestTrace, outcome: str, total: float) -> str:
    """The human log line: id, platform, kind, request number, outcome, step timings."""
    timings = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in _ordered(trace))
    number = f"#{trace.request_id}" if trace.request_id is not None else "#-"
    return (
        f"request {trace.trace_id} {trace.platform} {trace.kind} {number} {outcome} "
        f"in {total * 1000:.0f} ms" + (f": {timings}" if timings else "")
    )


def fields(trace: RequestTrace, outcome: str, total: float) -> dict[str, object]:
    """The same, as fields of a JSON log line."""
    return {
        "event": "request",
        "trace_id": trace.trace_id,
        "platform": trace.platform,
        "kind": trace.kind,
        "request_id": trace.request_id,
        "outcome": outcome,
        "total_ms": round(total * 1000, 1),
        "steps_ms": {name: round(seconds * 1000, 1) for name, seconds in _ordered(trace)},
    }
