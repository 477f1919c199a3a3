"""`/healthz` and `/metrics` for a process manager and Prometheus, on a local address.

``Health`` knows the parts `aidj run` needs (each chat bot, the model worker) and asks each
whether it is up right now; ``/healthz`` answers 200 when all are, 503 otherwise, with a
JSON body naming each part's state. ``/metrics`` is the Prometheus text format of a
``Metrics`` registry. Off unless AIDJ_HEALTH_ADDRESS is set; meant for 127.0.0.1 or a private
network (there is no authentication, and nothing secret is served).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Health:
    """The parts and their probes; a probe that raises counts as down."""

    def __init__(self) -> None:
        self._parts: dict[str, Callable[[], bool]] = {}

    def watch(self, part: str, is_up: Callable[[], bool]) -> None:
        """Add ``part``, or replace its probe (e.g. once the part exists)."""
        self._parts[part] = is_up

    def status(self) -> tuple[bool, dict[str, str]]:
        """Whether every part is up (False with none), and each part's state."""
        states = {name: "up" if _probe(is_up) else "down" for name, is_up in self._parts.items()}
        healthy = bool(states) and all(state == "up" for state in states.values())
        return healthy, states


def _probe(is_up: Callable[[], bool]) -> bool:
    try:
        return bool(is_up())
    except Exception:
        return False


class HealthServer:
    """``async with HealthServer(health, registry, host, port)``; ``port`` 0 picks a free
    one (``bound_port`` tells which)."""

    def __init__(self, health: Health, registry: CollectorRegistry, host: str, port: int) -> None:
        self._health = health
        self._registry = registry
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.bound_port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, parts = self._health.status()
        body = {"status": "ok" if healthy else "unavailable", "parts": parts}
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps(body),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        payload = generate_latest(self._registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
