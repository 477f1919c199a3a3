"""CLIP's image tower on ONNX Runtime (``AIDJ_CLIP_RUNTIME=onnxruntime``): exported from the
tiny model at load, the same readings as torch, and clear errors when it cannot be had."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from adapters.models.analyzer import MoodAnalyzer
from adapters.models.clip_backend import ClipSceneScorer
from adapters.models.clip_onnx import OnnxImageTower
from core.errors import ModelLoadError
from core.mood import Reading
from tests.conftest import make_photo

pytest.importorskip(
    "onnxruntime", reason="the onnx extra is not installed: pip install -e '.[onnx]'"
)

PHOTOS = [make_photo((i * 70, 120, 250 - i * 60), size=80) for i in range(3)]


@pytest.fixture(scope="module")
def torch_and_onnx(model_settings) -> tuple[MoodAnalyzer, MoodAnalyzer]:
    options = model_settings.model_options()
    on_onnx = dataclasses.replace(options, clip_runtime="onnxruntime")
    return MoodAnalyzer.load(options), MoodAnalyzer.load(on_onnx)


def test_the_image_tower_runs_on_onnxruntime_with_torch_s_readings(torch_and_onnx):
    on_torch, on_onnx = torch_and_onnx
    assert isinstance(on_onnx.scorer._onnx_tower, OnnxImageTower)
    assert on_torch.scorer._onnx_tower is None
    calls = []
    original = on_onnx.scorer.model.get_image_features
    on_onnx.scorer.model.get_image_features = lambda **kw: calls.append(kw) or original(**kw)
    try:
        for batch in (PHOTOS[:1], PHOTOS):  # one photo and several: the batch axis is free
            items = [(photo, "a calm evening") for photo in batch]
            expected, found = on_torch.analyze_batch(items), on_onnx.analyze_batch(items)
            for want, got in zip(expected, found, strict=True):
                assert isinstance(got, Reading) and isinstance(want, Reading)
                assert got.image.category_id == want.image.category_id
                for category, probability in want.image.distribution.items():
                    assert got.image.distribution[category] == pytest.approx(probability, abs=1e-5)
                assert got.text == want.text  # the caption is torch's either way
    finally:
        del on_onnx.scorer.model.get_image_features
    assert calls == []  # torch's image tower was not run


def test_without_onnxruntime_the_load_says_how_to_get_it(model_settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    with pytest.raises(ModelLoadError, match=r"aidj\[onnx\]"):
        ClipSceneScorer.load(model_settings.clip_model, runtime="onnxruntime")
