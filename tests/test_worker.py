"""The model worker process: real tiny models, real processes, real crashes."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import queue
import select
import signal
import subprocess
import sys

import pytest

from adapters.models.in_process import InProcessAnalyzer
from adapters.models.worker import ModelWorker, _answer_batch
from core.categories import CATEGORY_BY_ID
from core.errors import BadCaptionError, BadImageError, ModelLoadError, WorkerError
from core.messages import CaptionProblem, ImageProblem
from core.mood import Reading
from tests.conftest import REPO, make_photo
from tests.unnormalized_analyzer import UnnormalizedAnalyzer


@pytest.fixture(scope="module")
async def worker(model_settings):
    settings = dataclasses.replace(model_settings, worker_batch_wait_ms=150, worker_batch_size=8)
    async with ModelWorker(settings.model_options()) as running:
        yield running


async def test_worker_answers_like_the_in_process_analyzer(worker, model_settings):
    photo = make_photo((200, 120, 40))
    caption = "비가 오지만 오늘 좋은 일이 있어서 신나!"
    from_worker = await worker.analyze(photo, caption)
    in_process = await InProcessAnalyzer(model_settings.model_options()).analyze(photo, caption)
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
    assert bad.problem is ImageProblem.NOT_AN_IMAGE  # the code survives the process boundary
    again = await worker.analyze(make_photo(), "still serving")
    assert again.image.category_id in CATEGORY_BY_ID


async def test_a_killed_worker_is_restarted_and_the_caller_answered(model_settings):
    async with ModelWorker(model_settings.model_options()) as running:
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
        async with ModelWorker(settings.model_options()):
            pass


async def test_a_caller_never_hangs(model_settings):
    settings = dataclasses.replace(model_settings, worker_timeout_s=0.001)
    async with ModelWorker(settings.model_options()) as running:
        with pytest.raises(WorkerError, match="did not answer"):
            await running.analyze(make_photo(), "too slow")


async def test_analyze_after_close_is_a_clear_error(model_settings):
    running = ModelWorker(model_settings.model_options())
    await running.start()
    await running.close()
    with pytest.raises(WorkerError, match="not running"):
        await running.analyze(make_photo(), "closed")


async def test_an_item_that_breaks_its_batch_fails_alone(model_settings):
    """A lone surrogate makes the real NLI tokenizer raise; the other 7 still get readings."""
    settings = dataclasses.replace(model_settings, worker_batch_wait_ms=2000, worker_batch_size=8)
    captions = [f"caption number {i}" for i in range(8)]
    captions[3] = "broken emoji \ud83d"
    async with ModelWorker(settings.model_options(), UnnormalizedAnalyzer.load) as running:
        results = await asyncio.gather(
            *(running.analyze(make_photo((i * 30, 90, 90)), c) for i, c in enumerate(captions)),
            return_exceptions=True,
        )
        assert running.stats.largest_batch == 8  # the poison was batched with the others
        again = await running.analyze(make_photo(), "still serving")
    assert isinstance(results[3], WorkerError) and "TypeError" in str(results[3])
    readings = results[:3] + results[4:]
    assert all(isinstance(r, Reading) for r in readings), readings
    assert all(r.image.category_id in CATEGORY_BY_ID for r in readings)
    assert isinstance(again, Reading)


class _RefusingAnalyzer(UnnormalizedAnalyzer):
    """Raises a user-facing error for a whole batch that holds the caption "refuse"."""

    def analyze_batch(self, items):
        if any(caption == "refuse" for _, caption in items):
            raise BadCaptionError(CaptionProblem.TOO_LONG, length=7, limit=6)
        return super().analyze_batch(items)


def test_a_failing_item_keeps_its_own_error(model_settings):
    """Run one by one, each item gets its reading, or the AIDJError / WorkerError it raised."""
    analyzer = _RefusingAnalyzer.load(model_settings.model_options())
    batch = [(1, make_photo(), "fine"), (2, make_photo(), "refuse"), (3, make_photo(), "\ud83d")]
    answers: queue.Queue = queue.Queue()
    _answer_batch(analyzer, batch, answers)
    messages = [answers.get_nowait() for _ in batch]
    assert answers.empty()
    results = {request_id: result for _, request_id, result, _ in messages}
    assert isinstance(results[1], Reading)
    assert isinstance(results[2], BadCaptionError)
    assert results[2].values == {"length": 7, "limit": 6}
    assert isinstance(results[3], WorkerError) and "TypeError" in str(results[3])


async def test_a_broken_emoji_caption_gets_a_reading(worker):
    broken, good = await asyncio.gather(
        worker.analyze(make_photo(), "\ud83d"),
        worker.analyze(make_photo((10, 200, 10)), "batched with it"),
    )
    assert isinstance(broken, Reading) and broken.text.valence.scores
    assert isinstance(good, Reading)


# Run by the next test in a fresh interpreter: it fills the request pipe of a stopped worker,
# kills it, waits until every request is answered (by the restarted worker, or with an error
# when the restart fails), then runs until SIGTERM like `aidj run`.
_CRASH_UNDER_LOAD = """
import asyncio, io, os, random, signal, sys
from PIL import Image
from adapters.models.worker import ModelWorker
from bot.config import load_settings
from core.mood import Reading

def noise_png(seed):  # incompressible: one request is larger than a pipe's buffer
    pixels = random.Random(seed).randbytes(300 * 300 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (300, 300), pixels).save(buffer, format="PNG")
    return buffer.getvalue()

async def main():
    clip, nli, restart = sys.argv[1], sys.argv[2], sys.argv[3] == "restart"
    settings = load_settings(
        {}, dotenv=False, clip_model=clip, nli_model=nli, torch_threads=1, worker_timeout_s=240
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with ModelWorker(settings.model_options()) as worker:
        first = worker.pid
        os.kill(first, signal.SIGSTOP)  # it reads nothing more: the request pipe fills up
        calls = [worker.analyze(noise_png(i), f"request {i}") for i in range(20)]
        tasks = [asyncio.create_task(call) for call in calls]
        await asyncio.sleep(0)  # every task has put its request on the queue
        if not restart:
            os.unlink(clip)  # a symlink: the next worker cannot load CLIP
        os.kill(first, signal.SIGKILL)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        readings = sum(isinstance(result, Reading) for result in results)
        print("answered", readings, "starts", worker.stats.starts, flush=True)
        await stop.wait()

if __name__ == "__main__":  # the spawned worker imports this file too
    asyncio.run(main())
"""


def _read_line(stream, timeout_s: float) -> str:
    """One line from a child's stdout, or "" if none came within the (liveness) bound."""
    readable, _, _ = select.select([stream], [], [], timeout_s)
    return stream.readline() if readable else ""


@pytest.mark.parametrize(
    ("restart", "expected"),
    [("restart", "answered 20 starts 2"), ("no-restart", "answered 0 starts 1")],
    ids=["restarted", "restart-fails"],
)
def test_the_process_exits_after_a_crash_with_requests_in_flight(
    tiny_models, tmp_path, restart, expected
):
    script = tmp_path / "crash_under_load.py"
    script.write_text(_CRASH_UNDER_LOAD)
    clip = tmp_path / "clip"
    clip.symlink_to(tiny_models.clip, target_is_directory=True)
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(script), str(clip), str(tiny_models.nli), restart],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    try:
        line = _read_line(child.stdout, timeout_s=300)
        assert line.strip() == expected, stderr_path.read_text()
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the process did not exit within 30 s of SIGTERM after a worker crash")
        assert child.returncode == 0, stderr_path.read_text()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
