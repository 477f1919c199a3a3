"""The operations pieces one by one: /healthz states, request traces, JSON log lines,
settings, Spotify call counts, download progress lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from types import SimpleNamespace

import aiohttp
import pytest
from prometheus_client import generate_latest

from adapters.models.download_progress import LineProgress
from adapters.models.hub import HubFile
from adapters.spotify.legacy_recommendations import LegacyRecommender
from adapters.storage.gateway import Storage
from bot import trace as trace_module
from bot.config import load_settings
from bot.health import Health, HealthServer
from bot.logs import JsonFormatter, RedactingFilter
from bot.metrics import Metrics
from bot.observed import ObservedFlow, TimedReader
from bot.service import MoodService
from bot.trace import Tracer, step
from core.errors import ConfigError
from core.flow import Actor, AlbumRequest, CardMessage, PhotoRequest
from core.mood import MoodPoint
from core.steering import Action
from tests.conftest import REPO, make_photo
from tests.fake_spotify import (
    FakeSpotify,
    Fault,
    catalog_track,
    options_for,
    settings_for,
    track_object,
)
from tests.test_run_operations import samples, value

# ---- /healthz ----------------------------------------------------------------------------


async def test_healthz_names_the_part_that_is_down() -> None:
    health = Health()
    up = {"telegram": True, "models": True}
    health.watch("telegram", lambda: up["telegram"])
    health.watch("models", lambda: up["models"])
    health.watch("discord", lambda: 1 / 0)  # a probe that fails counts as down
    async with HealthServer(health, Metrics().registry, "127.0.0.1", 0) as server:
        url = f"http://127.0.0.1:{server.bound_port}/healthz"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                assert response.status == 503
                assert await response.json() == {
                    "status": "unavailable",
                    "parts": {"telegram": "up", "models": "up", "discord": "down"},
                }
            health.watch("discord", lambda: True)
            async with session.get(url) as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            up["models"] = False
            async with session.get(url) as response:
                assert response.status == 503
                assert (await response.json())["parts"]["models"] == "down"


def test_no_part_yet_is_not_healthy() -> None:
    assert Health().status() == (False, {})


# ---- traces ------------------------------------------------------------------------------


@pytest.fixture
def traced(own_settings, tiny_analyzer):
    """The real flow on this test's own database, traced into fresh metrics."""
    storage = Storage.open(own_settings.db_path)
    metrics = Metrics()
    service = MoodService(TimedReader(tiny_analyzer), storage, own_settings)
    yield ObservedFlow(service, Tracer(metrics.request_finished)), metrics
    storage.close()


async def test_a_card_that_cannot_be_delivered_counts_as_send_failed(traced, caplog) -> None:
    flow, metrics = traced
    caplog.set_level(logging.INFO, logger="aidj.requests")

    async def broken_send(card):
        raise ConnectionResetError("the chat API went away")

    async def fetch() -> bytes:
        return make_photo()

    request = PhotoRequest("discord", "c1", "u1", fetch, "rainy")
    with pytest.raises(ConnectionResetError):
        await flow.recommend(request, broken_send)
    page = samples(generate_latest(metrics.registry).decode())
    labels = {"platform": "discord", "kind": "photo"}
    assert value(page, "aidj_card_failures_total", **labels, reason="send_failed") == 1
    assert value(page, "aidj_cards_total", **labels) is None
    (record,) = caplog.records
    assert record.fields["outcome"] == "send_failed"
    assert set(record.fields["steps_ms"]) >= {"download", "analysis", "recommend", "send"}


async def test_a_steered_card_is_counted_as_a_control(traced) -> None:
    flow, metrics = traced
    edits = []

    async def send(card):
        return "m1"

    async def edit(card):
        edits.append(card)

    first = await flow.recommend(PhotoRequest("telegram", "c1", "u1", make_photo(), "hi"), send)
    actor = Actor("telegram", "c1", "u1")
    steered = await flow.steer(CardMessage("telegram", "c1", "m1"), Action.CALMER, actor, edit)
    assert steered.request_id == first.request_id and edits == [steered]
    page = samples(generate_latest(metrics.registry).decode())
    assert value(page, "aidj_cards_total", platform="telegram", kind="control") == 1
    assert value(page, "aidj_cards_total", platform="telegram", kind="photo") == 1
    assert value(page, "aidj_request_step_seconds_count", step="send") == 2


async def test_an_album_is_one_photo_card_with_its_downloads_timed(traced, caplog) -> None:
    flow, metrics = traced
    caplog.set_level(logging.INFO, logger="aidj.requests")
    fetched: list[int] = []

    def fetch(number: int):
        async def download() -> bytes:
            fetched.append(number)
            return make_photo((40 * number, 90, 160))

        return download

    request = AlbumRequest("telegram", "c1", "u1", (fetch(1), fetch(2), fetch(3)), "trip")
    card = await flow.recommend(request)
    assert card.album is not None and len(card.album.photos) == 3
    assert sorted(fetched) == [1, 2, 3]
    page = samples(generate_latest(metrics.registry).decode())
    assert value(page, "aidj_cards_total", platform="telegram", kind="photo") == 1
    assert value(page, "aidj_request_step_seconds_count", step="download") == 1
    (record,) = caplog.records
    assert record.fields["request_id"] == card.request_id
    assert set(record.fields["steps_ms"]) >= {"download", "analysis", "recommend", "picture"}


def test_a_step_outside_a_request_records_nothing(caplog) -> None:
    caplog.set_level(logging.INFO, logger="aidj.requests")
    with step("analysis"):
        pass
    tracer = Tracer(None)
    with tracer.request("cli", "photo") as trace, step("analysis"):
        pass
    assert list(trace.steps) == ["analysis"]
    assert len(caplog.records) == 1  # the traced request only


def test_overlapping_steps_of_one_name_count_the_time_any_of_them_ran(monkeypatch) -> None:
    """An album's photos are analysed at once: the analysis step is their span, not the sum
    of their times (which would exceed the request's own)."""
    now = [0.0]
    monkeypatch.setattr(trace_module, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    with Tracer(None).request("telegram", "photo") as trace:
        first, second = step("analysis"), step("analysis")
        first.__enter__()
        now[0] = 1.0
        second.__enter__()
        now[0] = 3.0
        first.__exit__(None, None, None)
        now[0] = 4.0
        second.__exit__(None, None, None)
        now[0] = 5.0
        with step("analysis"):  # and one after them adds its own
            now[0] = 6.0
    assert trace.steps == {"analysis": 5.0}


# ---- log lines ---------------------------------------------------------------------------


def test_json_lines_carry_the_fields_and_keep_secrets_out(caplog) -> None:
    secret = "123456:very-secret-telegram-token"
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter([secret]))
    caplog.set_level(logging.INFO)
    loggers = [logging.getLogger("aidj.requests"), logging.getLogger("tests.json_lines")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with Tracer(None).request("telegram", "photo") as trace:
            trace.request_id = 7
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{secret}/getMe failed")
        except RuntimeError:
            loggers[1].exception("polling failed for %s", secret)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    request_line, error_line = (json.loads(line) for line in records)
    assert request_line["event"] == "request" and request_line["outcome"] == "ok"
    assert request_line["request_id"] == 7
    assert request_line["platform"] == "telegram" and request_line["level"] == "INFO"
    assert request_line["message"].startswith(f"request {request_line['trace_id']} telegram")
    assert error_line["message"] == "polling failed for ***"
    assert "RuntimeError" in error_line["exception"] and secret not in error_line["exception"]
    assert all(secret not in line for line in records)


def test_aidj_run_logs_json_lines_when_asked(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIDJ_", "DISCORD", "TELE"))}
    env.update(PYTHONPATH=str(REPO), AIDJ_LOG_FORMAT="json")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and "TELEGRAM_TOKEN" in entry["message"]


# ---- settings ----------------------------------------------------------------------------


def test_the_health_address_and_log_format_are_checked() -> None:
    read = load_settings(
        {"AIDJ_HEALTH_ADDRESS": "127.0.0.1:9108", "AIDJ_LOG_FORMAT": "json"}, dotenv=False
    )
    assert (read.health_address, read.log_format) == (("127.0.0.1", 9108), "json")
    assert load_settings({"AIDJ_HEALTH_ADDRESS": "[::1]:9"}, dotenv=False).health_address == (
        "::1",
        9,
    )
    assert load_settings({}, dotenv=False).health_address is None
    for bad in ("9108", "localhost:http", "host:70000"):
        with pytest.raises(ConfigError, match="AIDJ_HEALTH_ADDRESS must be a host:port"):
            load_settings({"AIDJ_HEALTH_ADDRESS": bad}, dotenv=False)
    with pytest.raises(ConfigError, match="AIDJ_LOG_FORMAT must be 'text' or 'json'"):
        load_settings({"AIDJ_LOG_FORMAT": "xml"}, dotenv=False)


# ---- Spotify calls -----------------------------------------------------------------------


async def test_spotify_attempts_are_counted_by_status(tmp_path) -> None:
    metrics = Metrics()
    with FakeSpotify() as fake:
        fake.state.recommendations = [track_object(f"sp{i}") for i in range(3)]
        fake.script("GET", "/v1/recommendations", Fault(status=503), Fault(status=429))
        options = options_for(fake, on_attempt=metrics.spotify_call)
        settings = settings_for(fake, tmp_path, recommender="spotify")

        def catalog(target, genres, n, exclude):
            return [catalog_track(f"c{i}") for i in range(n)]

        recommender = LegacyRecommender.from_settings(settings, catalog, options=options)
        assert recommender is not None
        tracks = await recommender.recommend(MoodPoint(0.5, 0.5), ("pop",), 3, set())
    assert [t.id for t in tracks] == ["sp0", "sp1", "sp2"]
    page = samples(generate_latest(metrics.registry).decode())
    for status in ("503", "429", "ok"):
        assert value(page, "aidj_spotify_calls_total", call="recommendations", status=status) == 1


# ---- download progress -------------------------------------------------------------------


def test_a_large_file_reports_its_share_at_most_every_so_often() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = LineProgress(lines.append, every_s=10.0, clock=lambda: now[0])
    weights = HubFile("model.safetensors", 1000)
    bar = progress.bar("org/model", weights)(total=1000, initial=0)
    for _ in range(4):  # 4 s apart: a line at 12 s (the third), none at 4, 8, 16
        now[0] += 4
        bar.update(250)
    assert lines == ["org/model: model.safetensors 75% of 1.0 kB"]
    resumed = progress.bar("org/model", weights)(total=1000, initial=600)
    now[0] += 10
    resumed.update(100)
    assert lines[-1] == "org/model: model.safetensors 70% of 1.0 kB"
