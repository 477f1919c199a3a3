"""`aidj run` as an operator sees it: first-run download in the log, /healthz, /metrics and
one log line per request, scraped on 127.0.0.1 while the real Telegram bot (against the fake
Bot API) answers photos through the real model worker process.

One run of ``bot.run.serve`` carries the whole story, since starting the worker is the
expensive part: models missing (fetched from the fake hub) -> 503 while starting -> 200 ->
a photo answered -> a photo over the rate limit -> a photo that is no image -> the worker
killed and restarted -> stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from adapters.chat.telegram_bot import TelegramBot
from adapters.models.hub import HubOptions
from bot.run import serve
from tests.conftest import eventually, make_photo
from tests.fake_hub import FakeHub
from tests.fake_telegram import FakeTelegram, private_chat, user

TOKEN = "424243:ops-token-that-never-reaches-a-log"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(page: dict, name: str, **labels: str) -> float | None:
    return page.get((name, tuple(sorted(labels.items()))))


class Scraper:
    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.base = f"http://127.0.0.1:{port}"

    async def health(self) -> tuple[int, dict]:
        async with self.session.get(f"{self.base}/healthz") as response:
            return response.status, await response.json()

    async def metrics(self) -> dict:
        async with self.session.get(f"{self.base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            return samples(await response.text())


async def until(check, timeout: float = 60.0):
    """Poll the async ``check`` until it returns something truthy; that value."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
        return result


async def test_run_reports_health_metrics_and_one_line_per_request(
    tiny_models, own_settings, tmp_path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    settings = dataclasses.replace(
        own_settings,
        clip_model="tiny/clip",  # not on this machine yet: the first run fetches them
        nli_model="tiny/nli",
        telegram_token=TOKEN,
        health_address=("127.0.0.1", 0),
        rate_limit_per_minute=1,
    )
    stop = asyncio.Event()
    ports: list[int] = []
    with FakeHub({"tiny/clip": tiny_models.clip, "tiny/nli": tiny_models.nli}) as hub:
        async with FakeTelegram(TOKEN) as fake, aiohttp.ClientSession() as session:

            def telegram(flow, settings):
                options = dataclasses.replace(
                    settings.telegram_options(),
                    base_url=fake.base_url,
                    base_file_url=fake.base_file_url,
                )
                bot = TelegramBot(flow, options)
                return [("telegram", bot)]

            hub.pause()  # the download cannot finish before the first scrape
            running = asyncio.create_task(
                serve(
                    settings,
                    stop,
                    make_bots=telegram,
                    on_health_port=ports.append,
                    hub=HubOptions(endpoint=hub.url, cache_dir=tmp_path / "hf"),
                )
            )
            try:
                await eventually(lambda: ports)
                scrape = Scraper(session, ports[0])

                status, body = await scrape.health()
                assert (status, body) == (
                    503,
                    {"status": "unavailable", "parts": {"models": "down"}},
                )
                hub.resume()

                async def healthy():
                    status, body = await scrape.health()
                    return body if status == 200 else None

                body = await until(healthy, timeout=180)
                assert body == {"status": "ok", "parts": {"models": "up", "telegram": "up"}}
                downloads = [r.getMessage() for r in caplog.records if r.name == "aidj.models"]
                assert any(m.startswith("downloading tiny/clip (") for m in downloads)
                assert any("tiny/nli: model.safetensors (" in m for m in downloads)

                # a photo, answered
                alice = user(5001)
                since = fake.mark()
                message = fake.photo_message(private_chat(alice), alice, make_photo(), "신나!")
                fake.send_message_update(message)
                await fake.wait_for("sendPhoto", since=since, timeout=60)

                def request_lines() -> list[logging.LogRecord]:
                    return [r for r in caplog.records if r.name == "aidj.requests"]

                await eventually(lambda: len(request_lines()) == 1)
                line = request_lines()[0].getMessage()
                assert " telegram photo #" in line and " ok in " in line
                for step in ("download", "analysis", "recommend", "picture", "send"):
                    assert f"{step} " in line.split(": ", 1)[1]
                fields = request_lines()[0].fields
                assert fields["outcome"] == "ok" and fields["request_id"] is not None

                # the same user again: over the limit of one a minute
                since = fake.mark()
                fake.send_message_update(
                    fake.photo_message(private_chat(alice), alice, make_photo(), "again")
                )
                await fake.wait_for("sendMessage", since=since, timeout=30)
                # someone else sends bytes that are no picture
                bob = user(5002)
                since = fake.mark()
                fake.send_message_update(
                    fake.photo_message(private_chat(bob), bob, b"not a picture at all", "hm")
                )
                await fake.wait_for("sendMessage", since=since, timeout=60)
                await eventually(lambda: len(request_lines()) == 3)

                page = await until(scrape.metrics)
                assert value(page, "aidj_cards_total", platform="telegram", kind="photo") == 1
                assert (
                    value(page, "aidj_rate_limited_total", platform="telegram", kind="photo") == 1
                )
                failures = "aidj_card_failures_total"
                labels = {"platform": "telegram", "kind": "photo"}
                assert value(page, failures, **labels, reason="bad_image") == 1
                assert value(page, "aidj_request_step_seconds_count", step="analysis") == 2
                assert value(page, "aidj_request_step_seconds_count", step="send") == 1
                assert value(page, "aidj_model_queue_depth") == 0
                assert value(page, "aidj_worker_restarts_total") == 0

                async def batches():
                    return value(await scrape.metrics(), "aidj_worker_batch_size_count")

                assert await until(batches) == 2

                # the worker dies: counted, and served again once restarted
                (worker,) = [
                    p for p in multiprocessing.active_children() if p.name == "aidj-model-worker"
                ]
                worker.kill()

                async def restarted():
                    page = await scrape.metrics()
                    return value(page, "aidj_worker_restarts_total") == 1

                await until(restarted)
                assert (await until(healthy, timeout=180))["parts"]["models"] == "up"
            finally:
                stop.set()
                assert await running == 0
            assert all(TOKEN not in r.getMessage() for r in caplog.records)
