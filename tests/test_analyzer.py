"""MoodAnalyzer: per-item errors in place, one CLIP and one NLI pass for the rest."""

from __future__ import annotations

import dataclasses
import io
import threading
from typing import Any

import pytest
import torch
from PIL import Image

from adapters.images import load_image
from adapters.models.analyzer import (
    MAX_PREPARATION_THREADS,
    MoodAnalyzer,
    preparation_threads_for,
)
from adapters.models.options import ModelOptions
from bot.config import load_settings
from core.categories import CATEGORY_BY_ID
from core.errors import BadCaptionError, BadImageError, ModelLoadError
from core.mood import Reading
from tests.fixtures_models import tiny_models  # noqa: F401  (session fixture)
from tests.photos import photo_like, strip_png

KOREAN = "비가 오지만 오늘 좋은 일이 있어서 신나!"
CAPTION_LIMIT = 40


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (60, 45)) -> bytes:
    image = Image.new("RGB", size, color)
    image.paste((255 - color[0], 255 - color[1], 255 - color[2]), (0, 0, size[0] // 3, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def settings(tiny_models) -> ModelOptions:  # noqa: F811
    return load_settings(
        {"AIDJ_JOURNEY_THRESHOLD": "0.5"},  # the destination reading too
        dotenv=False,
        clip_model=str(tiny_models.clip),
        nli_model=str(tiny_models.nli),
        max_caption_chars=CAPTION_LIMIT,
    ).model_options()


@pytest.fixture(scope="module")
def analyzer(settings) -> MoodAnalyzer:
    return MoodAnalyzer.load(settings)


class Counter:
    """Counts calls of a model method and keeps their arguments (test instrumentation only)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.count = 0
        self.args: list[tuple[Any, ...]] = []
        self.kwargs: list[dict[str, Any]] = []
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            self.args.append(args)
            self.kwargs.append(kwargs)
            return original(*args, **kwargs)

        self._owner, self._name = owner, name
        setattr(owner, name, counted)

    def __enter__(self) -> Counter:
        return self

    def __exit__(self, *exc: object) -> None:
        delattr(self._owner, self._name)


def test_mixed_batch_keeps_errors_in_place_and_reads_the_rest(analyzer):
    good = [jpeg((200, 40, 40)), jpeg((40, 40, 200)), jpeg((30, 160, 60))]
    corrupt = jpeg((90, 90, 90))[:150]
    items = [
        (good[0], KOREAN),
        (corrupt, "this one is broken"),
        (good[1], ""),
        (b"", "empty upload"),
        (good[2], "x" * (CAPTION_LIMIT + 1)),
        (good[2], "rainy but happy"),
    ]
    with (
        Counter(analyzer.scorer.model, "get_image_features") as clip,
        Counter(analyzer.reader.model, "forward") as nli,
    ):
        results = analyzer.analyze_batch(items)
    assert [type(result) for result in results] == [
        Reading,
        BadImageError,
        Reading,
        BadImageError,
        BadCaptionError,
        Reading,
    ]
    assert "corrupt" in str(results[1]).lower() and "empty" in str(results[3]).lower()
    assert clip.count == 1  # the three good items share one CLIP pass
    # and NLI passes, grouped by length: the 12 axis pairs of the two captions, then their
    # 10 destination pairs in passes of their own, not a pass each
    assert sum(call["input_ids"].shape[0] for call in nli.kwargs) == 12 + 10
    assert nli.count <= 3 + 2
    for result in (results[0], results[2], results[5]):
        assert result.image.category_id in CATEGORY_BY_ID
    assert results[2].text.valence.direction == 0 and results[2].text.valence.scores == {}
    assert results[0].text.valence.scores  # a real caption was read by the model


def test_batched_readings_equal_single_readings(analyzer):
    items = [(jpeg((200, 40, 40)), KOREAN), (jpeg((40, 40, 200)), "rainy but happy")]
    together = analyzer.analyze_batch(items)
    for (data, caption), batched in zip(items, together, strict=True):
        alone = analyzer.analyze_batch([(data, caption)])[0]
        assert batched.image.category_id == alone.image.category_id
        assert batched.image.confidence == pytest.approx(alone.image.confidence, abs=1e-5)
        for batched_axis, alone_axis in (
            (batched.text.valence, alone.text.valence),
            (batched.text.energy, alone.text.energy),
        ):
            assert batched_axis.label == alone_axis.label
            assert batched_axis.confidence == pytest.approx(alone_axis.confidence, abs=1e-5)


def test_photos_decoded_on_several_threads_read_the_same_in_order(analyzer, settings):
    """What a GPU replica does (``preparation_threads_for``); bad items keep their places."""
    on_threads = MoodAnalyzer(analyzer.scorer, analyzer.reader, settings, preparation_threads=3)
    items = [
        (jpeg((200, 40, 40)), KOREAN),
        (b"not a picture", "bad"),
        (jpeg((40, 40, 200)), "rainy but happy"),
        (jpeg((30, 160, 60)), "x" * (CAPTION_LIMIT + 1)),
        (jpeg((90, 90, 20)), ""),
    ]
    threads: set[str] = set()
    original = analyzer._prepare  # whose thread each item is prepared on

    def recording(item: tuple[bytes, str]) -> object:
        threads.add(threading.current_thread().name)
        return original(item)

    on_threads._prepare = recording  # type: ignore[method-assign]
    together, alone = on_threads.analyze_batch(items), analyzer.analyze_batch(items)
    assert [type(result) for result in together] == [
        Reading,
        BadImageError,
        Reading,
        BadCaptionError,
        Reading,
    ]
    assert [str(result) for result in together] == [str(result) for result in alone]
    assert threads and all(name.startswith("aidj-prepare") for name in threads)


def test_photos_are_decoded_one_at_a_time_on_the_cpu():
    assert preparation_threads_for("cpu") == 1  # a hostile batch peaks at one picture
    assert 1 <= preparation_threads_for("cuda") <= MAX_PREPARATION_THREADS


def test_same_input_same_answer(analyzer):
    items = [(jpeg((120, 80, 200)), KOREAN)]
    assert analyzer.analyze_batch(items) == analyzer.analyze_batch(items)


def test_too_long_caption_is_a_caption_error_naming_the_limit(analyzer):
    result = analyzer.analyze_batch([(jpeg((10, 10, 10)), "가" * (CAPTION_LIMIT + 5))])[0]
    assert isinstance(result, BadCaptionError)
    assert f"({CAPTION_LIMIT + 5} characters)" in str(result)
    assert f"limit is {CAPTION_LIMIT}" in str(result)


def test_caption_limit_counts_the_stripped_text(analyzer):
    padded = "   " + "a" * CAPTION_LIMIT + "\n\n  "
    assert isinstance(analyzer.analyze_batch([(jpeg((10, 10, 10)), padded)])[0], Reading)


def test_image_limits_come_from_the_settings(settings):
    strict = dataclasses.replace(settings, max_image_bytes=100, torch_threads=0)
    analyzer = MoodAnalyzer.load(strict)
    result = analyzer.analyze_batch([(jpeg((10, 10, 10)), "hi")])[0]
    assert isinstance(result, BadImageError) and "too large" in str(result)


def test_all_bad_batch_runs_no_model(analyzer):
    with (
        Counter(analyzer.scorer.model, "get_image_features") as clip,
        Counter(analyzer.reader.model, "forward") as nli,
    ):
        results = analyzer.analyze_batch([(b"", "a"), (b"not an image", "b")])
    assert all(isinstance(result, BadImageError) for result in results)
    assert (clip.count, nli.count) == (0, 0)
    assert analyzer.analyze_batch([]) == []


def test_torch_threads_setting_is_applied(settings):
    before = torch.get_num_threads()
    try:
        MoodAnalyzer.load(dataclasses.replace(settings, torch_threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_quantize_int8_setting_loads_both_models_in_int8(settings):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    def int8_layers(model: Any) -> int:
        return sum(isinstance(module, DynamicInt8Linear) for module in model.modules())

    fp32 = MoodAnalyzer.load(settings)
    assert int8_layers(fp32.reader.model) == int8_layers(fp32.scorer.model) == 0
    quantized = MoodAnalyzer.load(dataclasses.replace(settings, quantize="int8"))
    assert int8_layers(quantized.reader.model) > 0
    assert int8_layers(quantized.scorer.model.vision_model) > 0
    # the text tower only encoded the category prompts at load, in fp32, before quantising
    assert int8_layers(quantized.scorer.model.text_model) == 0
    assert torch.equal(quantized.scorer.category_embeddings, fp32.scorer.category_embeddings)
    result = quantized.analyze_batch([(jpeg((10, 200, 10)), KOREAN)])[0]
    assert isinstance(result, Reading) and result.text.valence.scores
    assert sum(result.image.distribution.values()) == pytest.approx(1.0, abs=1e-5)


def test_a_missing_model_fails_the_load_clearly(settings, tmp_path):
    with pytest.raises(ModelLoadError, match="AIDJ_NLI_MODEL"):
        MoodAnalyzer.load(dataclasses.replace(settings, nli_model=str(tmp_path / "gone")))


def test_a_broken_emoji_is_read_not_raised(analyzer):
    """A lone surrogate (half an emoji) is read as U+FFFD instead of failing the batch."""
    photo = jpeg((120, 80, 200))
    broken, plain = analyzer.analyze_batch([(photo, "rainy \ud83d day"), (photo, "rainy day")])
    assert isinstance(broken, Reading) and isinstance(plain, Reading)
    assert broken.text.valence.scores  # the model read the caption
    alone = analyzer.analyze_batch([(photo, "rainy \ud83d day")])
    assert alone == analyzer.analyze_batch([(photo, "rainy \ufffd day")])


def test_clip_is_handed_the_centre_square_whatever_the_aspect_ratio(analyzer):
    items = [(strip_png(1, 30_000), "a strip"), (jpeg((1, 2, 3)), "")]
    with Counter(analyzer.scorer, "score") as score:
        results = analyzer.analyze_batch(items)
    assert all(isinstance(result, Reading) for result in results)
    (images,) = score.args[0]
    # not 1x30000, which CLIP's processor would first scale to 32 x 960000 (224 x 6.7M in full)
    assert [image.size for image in images] == [(1, 1), (45, 45)]


@pytest.mark.parametrize("size", [(1280, 960), (960, 1280), (1600, 1200)])
def test_preparing_the_square_leaves_the_scores_of_a_photo_essentially_unchanged(
    analyzer, settings, size
):
    """The old path handed the whole picture to CLIP's processor; the new one crops and
    shrinks it first. Only resampling differs, so the scores barely move."""
    for seed in range(2):
        data = photo_like(size, seed)
        whole = load_image(
            data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels
        )
        before = analyzer.scorer.score([whole])[0].distribution
        after = analyzer.analyze_batch([(data, "")])[0].image.distribution
        assert list(after) == list(before)
        assert max(abs(after[key] - before[key]) for key in before) < 0.01
