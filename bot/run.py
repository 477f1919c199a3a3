"""`aidj run`: both chat bots in one process, sharing one model worker.

Whichever platforms have tokens in the environment are started; the process runs until
SIGINT/SIGTERM, then stops the bots before the worker so no reply is cut off mid-way.

On the way up: the health server first (when AIDJ_HEALTH_ADDRESS is set, so a process manager
sees "starting" as 503 rather than nothing), then the models (a first run downloads them,
with progress in the log; a stop signal meanwhile ends the run at once), the worker, the bots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from adapters.chat.protocol import ChatBot
from adapters.models.download_progress import LineProgress
from adapters.models.hub import DEFAULT_HUB, HubOptions
from bot.config import Settings
from bot.health import Health, HealthServer
from bot.logs import configure_logging
from bot.metrics import Metrics
from bot.models import prepare_async, quiet_http_logs
from bot.observed import ObservedFlow
from bot.trace import Tracer
from bot.wiring import service_context
from core.flow import MoodFlow

log = logging.getLogger(__name__)
T = TypeVar("T")


BotFactory = Callable[[MoodFlow, Settings], list[tuple[str, ChatBot]]]


def chat_bots(flow: MoodFlow, settings: Settings) -> list[tuple[str, ChatBot]]:
    """Every bot whose token is set, by name."""
    bots: list[tuple[str, ChatBot]] = []
    if settings.telegram_token:
        from adapters.chat.telegram_bot import TelegramBot

        bots.append(("telegram", TelegramBot(flow, settings.telegram_options())))
    if settings.discord_token:
        from adapters.chat.discord_bot import DiscordBot

        bots.append(("discord", DiscordBot(flow, settings.discord_options())))
    return bots


async def run_forever(settings: Settings) -> int:
    configure_logging(logging.INFO, settings.secrets, json_lines=settings.log_format == "json")
    quiet_http_logs()
    if not (settings.discord_token or settings.telegram_token):
        log.error("set DISCORD_TOKEN and/or TELEGRAM_TOKEN (see README: Running the bots)")
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return await serve(settings, stop)


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    make_bots: BotFactory = chat_bots,
    metrics: Metrics | None = None,
    health: Health | None = None,
    on_health_port: Callable[[int], None] | None = None,
    hub: HubOptions = DEFAULT_HUB,
) -> int:
    """Run the bots ``make_bots`` builds until ``stop`` is set. ``on_health_port`` is told
    the health server's port once it listens (AIDJ_HEALTH_ADDRESS may ask for port 0);
    ``hub``: where missing models come from (default: the hub client's settings)."""
    metrics = metrics or Metrics()
    health = health or Health()
    health.watch("models", lambda: False)  # until the worker is up
    async with contextlib.AsyncExitStack() as stack:
        if settings.health_address is not None:
            host, port = settings.health_address
            server = await stack.enter_async_context(
                HealthServer(health, metrics.registry, host, port)
            )
            assert server.bound_port is not None
            log.info(
                "health and metrics on http://%s:%d (/healthz, /metrics)", host, server.bound_port
            )
            if on_health_port is not None:
                on_health_port(server.bound_port)
        progress = LineProgress.to_log(logging.getLogger("aidj.models"))
        prepared = await _unless_stopped(prepare_async(settings, progress, hub), stop)
        if prepared is None:
            log.info("stopped before the models were ready")
            return 0
        service = await stack.enter_async_context(
            service_context(prepared, with_models=True, worker=True, metrics=metrics, health=health)
        )
        flow = ObservedFlow(service, Tracer(metrics.request_finished))
        bots = make_bots(flow, settings)
        for name, chat_bot in bots:
            health.watch(name, _connected(chat_bot))
        started: list[ChatBot] = []
        try:
            for name, chat_bot in bots:
                await chat_bot.start()
                started.append(chat_bot)
                log.info("%s bot started", name)
            await stop.wait()
        finally:
            for chat_bot in reversed(started):
                with contextlib.suppress(Exception):
                    await chat_bot.stop()
    return 0


def _connected(chat_bot: ChatBot) -> Callable[[], bool]:
    return lambda: chat_bot.connected


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None if ``stop`` is set first (``work`` is then cancelled)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task.done():
        return task.result()
    task.cancel()
    return None
