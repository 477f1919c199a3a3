"""The configured models on this machine: found in the cache quietly, else downloaded loudly.

Every command that loads the models first turns the settings' model ids into local folders
here (``prepare``), so a download is never silent (the loaders would fetch a missing model
without a word) and the worker process loads from disk, never from the network. The
download runs in a daemon thread: an owner who stops `aidj run` during a long first download
is not kept waiting for it (the hub client resumes the partial file next time).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from adapters.models.download_progress import LineProgress, TerminalProgress
from adapters.models.hub import (
    DEFAULT_HUB,
    DownloadProgress,
    HubOptions,
    ModelRef,
    cached_model,
    download_model,
)
from bot.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def model_refs(settings: Settings) -> tuple[ModelRef, ModelRef]:
    """CLIP and NLI as configured, with the setting and flag that name each."""
    return (
        ModelRef("CLIP", settings.clip_model, "AIDJ_CLIP_MODEL", "--clip-model"),
        ModelRef("NLI", settings.nli_model, "AIDJ_NLI_MODEL", "--nli-model"),
    )


def quiet_http_logs() -> None:
    """The hub's HTTP client logs every request at INFO; keep a download's log to its own
    lines, unless the operator chose a level for those loggers."""
    for name in ("httpx", "httpx2"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def default_progress() -> DownloadProgress:
    """For a command: bars on a terminal, plain lines on stderr otherwise."""
    if sys.stderr.isatty():
        return TerminalProgress(sys.stderr)
    return LineProgress(lambda line: print(line, file=sys.stderr, flush=True))


def prepare(
    settings: Settings, progress: DownloadProgress | None = None, hub: HubOptions = DEFAULT_HUB
) -> Settings:
    """``settings`` with each hub model id replaced by its folder in the cache, downloading
    those not there yet. Local folders are left as they are (the loader reports a missing
    one). With a model server, nothing: its replicas load the models, this process does not."""
    if settings.model_server is not None:
        return settings
    local: dict[str, str] = {}
    for field, ref in zip(("clip_model", "nli_model"), model_refs(settings), strict=True):
        if ref.is_local:
            continue
        folder = cached_model(ref.model, hub)
        if folder is None:
            folder = download_model(ref, progress or default_progress(), hub)
        else:
            log.debug("%s model %s: %s", ref.kind, ref.model, folder)
        local[field] = str(folder)
    return dataclasses.replace(settings, **local)  # type: ignore[arg-type]  # str fields


async def prepare_async(
    settings: Settings, progress: DownloadProgress | None = None, hub: HubOptions = DEFAULT_HUB
) -> Settings:
    """``prepare`` off the event loop; cancelling it abandons a download in progress."""
    return await in_daemon_thread(prepare, settings, progress, hub)


async def in_daemon_thread(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a daemon thread: unlike ``asyncio.to_thread``, one that is
    still running never keeps the process from exiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            result = function(*args)
        except BaseException as error:
            answer = functools.partial(future.set_exception, error)
        else:
            answer = functools.partial(future.set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, answer)

    threading.Thread(target=run, name="aidj-models", daemon=True).start()
    return await future
