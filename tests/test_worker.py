"""The model worker process: real tiny models, real processes, real crashes."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal

import pytest

from adapters.models.in_process import InProcessAnalyzer
from adapters.models.worker import ModelWorker
from core.categories import CATEGORY_BY_ID
from core.errors import BadImageError, ModelLoadError, WorkerError
from tests.conftest import make_photo


@pytest.fixture(scope="module")
async def worker(model_settings):
    settings = dataclasses.replace(model_settings, worker_batch_wait_ms=150, worker_batch_size=8)
    async with ModelWorker(settings) as running:
        yield running


async def test_worker_answers_like_the_in_process_analyzer(worker, model_settings):
    photo = make_photo((200, 120, 40))
    caption = "비가 오지만 오늘 좋은 일이 있어서 신나!"
    from_worker = await worker.analyze(photo, caption)
    in_process = await InProcessAnalyzer(model_settings).analyze(photo, caption)
    assert from_worker.image.category_id in CATEGORY_BY_ID
    assert from_worker.image.category_id == in_process.image.category_id
    assert from_worker.image.confidence == pytest.approx(in_process.image.confidence, abs=1e-5)
    assert from_worker.text.valence.label == in_process.text.valence.label
    assert from_worker.text.energy.confidence == pytest.approx(
        in_process.text.energy.confidence, abs=1e-5
    )


async def test_requests_arriving_together_are_batched(worker):
    photos = [make_photo((i * 30, 100, 200 - i * 20)) for i in range(6)]
    readings = await asyncio.gather(
        *(worker.analyze(p, f"caption number {i}") for i, p in enumerate(photos))
    )
    assert len(readings) == 6
    assert all(r.image.category_id in CATEGORY_BY_ID for r in readings)
    assert worker.stats.largest_batch > 1


async def test_bad_image_fails_only_its_own_request(worker):
    good, bad = await asyncio.gather(
        worker.analyze(make_photo(), "good"),
        worker.analyze(b"this is not an image", "bad"),
        return_exceptions=True,
    )
    assert good.image.category_id in CATEGORY_BY_ID
    assert isinstance(bad, BadImageError)
    again = await worker.analyze(make_photo(), "still serving")
    assert again.image.category_id in CATEGORY_BY_ID


async def test_a_killed_worker_is_restarted_and_the_caller_answered(model_settings):
    async with ModelWorker(model_settings) as running:
        first_pid = running.pid
        expected = await running.analyze(make_photo(), "hello")
        os.kill(first_pid, signal.SIGKILL)
        answer = await running.analyze(make_photo(), "hello")
        assert running.pid != first_pid
        assert running.stats.starts == 2
        assert answer.image.category_id == expected.image.category_id


async def test_missing_model_fails_start_with_a_clear_error(model_settings, tmp_path):
    settings = dataclasses.replace(model_settings, clip_model=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match="no-such-model"):
        async with ModelWorker(settings):
            pass


async def test_a_caller_never_hangs(model_settings):
    settings = dataclasses.replace(model_settings, worker_timeout_s=0.001)
    async with ModelWorker(settings) as running:
        with pytest.raises(WorkerError, match="did not answer"):
            await running.analyze(make_photo(), "too slow")


async def test_analyze_after_close_is_a_clear_error(model_settings):
    running = ModelWorker(model_settings)
    await running.start()
    await running.close()
    with pytest.raises(WorkerError, match="not running"):
        await running.analyze(make_photo(), "closed")
