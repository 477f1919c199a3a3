"""The models on a GPU (``AIDJ_DEVICE=cuda``, and what a Serve replica given one runs).

CI and the development machine have no GPU, so these skip there; they run on a lent GPU
machine (``python -m pytest tests/test_model_device.py``), with the tiny offline models.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from adapters.models.analyzer import MoodAnalyzer
from adapters.models.worker import ModelWorker
from core.errors import BadImageError
from core.mood import Reading
from tests.conftest import make_photo

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA device here: the GPU path runs only on a machine with one",
)

CAPTIONS = ("비가 오지만 오늘 좋은 일이 있어서 신나!", "a calm quiet evening", "")


def _items() -> list[tuple[bytes, str]]:
    photos = [make_photo((i * 60, 90, 200 - i * 50), size=96) for i in range(3)]
    return [*zip(photos, CAPTIONS, strict=True), (b"not an image", "bad")]


def _assert_same(on_cpu: Reading, on_gpu: Reading) -> None:
    assert on_gpu.image.category_id == on_cpu.image.category_id
    for key, value in on_cpu.image.distribution.items():
        assert on_gpu.image.distribution[key] == pytest.approx(value, abs=1e-4)
    for cpu_axis, gpu_axis in (
        (on_cpu.text.valence, on_gpu.text.valence),
        (on_cpu.text.energy, on_gpu.text.energy),
    ):
        assert gpu_axis.label == cpu_axis.label
        assert gpu_axis.confidence == pytest.approx(cpu_axis.confidence, abs=1e-4)


def test_readings_on_the_gpu_match_the_cpu(model_settings):
    options = model_settings.model_options()
    on_cpu = MoodAnalyzer.load(options)
    on_gpu = MoodAnalyzer.load(dataclasses.replace(options, device="cuda"))
    assert next(on_gpu.reader.model.parameters()).device.type == "cuda"
    assert next(on_gpu.scorer.model.parameters()).device.type == "cuda"
    cpu_results = on_cpu.analyze_batch(_items())
    gpu_results = on_gpu.analyze_batch(_items())
    for cpu_result, gpu_result in zip(cpu_results[:3], gpu_results[:3], strict=True):
        assert isinstance(cpu_result, Reading) and isinstance(gpu_result, Reading)
        _assert_same(cpu_result, gpu_result)
    assert isinstance(gpu_results[3], BadImageError)  # bad input fails alone, as on the CPU


async def test_the_worker_process_runs_the_models_on_the_gpu(model_settings):
    options = model_settings.model_options()
    photo, caption = _items()[0]
    expected = MoodAnalyzer.load(options).analyze_batch([(photo, caption)])[0]
    assert isinstance(expected, Reading)
    async with ModelWorker(dataclasses.replace(options, device="cuda")) as worker:
        _assert_same(expected, await worker.analyze(photo, caption))


def test_doctor_names_the_gpu_and_points_at_it_when_unused(model_settings):
    from bot.doctor import FAIL, OK, WARN, Context, Finding, check_python

    def python(device: str) -> list[Finding]:
        settings = dataclasses.replace(model_settings, device=device)
        return check_python(Context(settings, bots=False, environ={}))

    name = torch.cuda.get_device_name(0)
    (on_gpu,) = python("cuda")
    assert on_gpu.status == OK and name in on_gpu.detail
    (on_cpu,) = python("cpu")
    assert on_cpu.status == WARN and name in on_cpu.detail and "AIDJ_DEVICE=cuda" in on_cpu.fix
    (missing,) = python(f"cuda:{torch.cuda.device_count()}")  # one past the last GPU
    assert missing.status == FAIL
