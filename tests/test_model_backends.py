"""CLIP scene scoring and zero-shot caption reading, on the tiny offline models."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from PIL import Image

from adapters.images import load_image
from adapters.models.clip_backend import ClipSceneScorer, centre_square_side
from adapters.models.nli_backend import ZeroShotCaptionReader
from core.categories import CATEGORIES
from core.errors import ModelLoadError
from core.text_axes import ENERGY_AXIS, TEXT_AXES, VALENCE_AXIS
from tests.fixtures_models import tiny_models  # noqa: F401  (session fixture)
from tests.photos import photo_like

KOREAN = "비가 오지만 오늘 좋은 일이 있어서 신나!"
CATEGORY_IDS = [category.id for category in CATEGORIES]


@pytest.fixture(scope="module")
def scorer(tiny_models) -> ClipSceneScorer:  # noqa: F811
    return ClipSceneScorer.load(str(tiny_models.clip))


@pytest.fixture(scope="module")
def reader(tiny_models) -> ZeroShotCaptionReader:  # noqa: F811
    return ZeroShotCaptionReader.load(str(tiny_models.nli))


def photos() -> list[Image.Image]:
    """Three visibly different pictures."""
    noise = Image.frombytes("RGB", (48, 40), random.Random(7).randbytes(48 * 40 * 3))
    stripes = Image.new("RGB", (64, 64), (20, 30, 200))
    for x in range(0, 64, 8):
        stripes.paste((250, 250, 20), (x, 0, x + 3, 64))
    return [Image.new("RGB", (50, 30), (230, 120, 30)), stripes, noise]


class CallCounter:
    """Wraps a bound method on an object and records each call's keyword arguments."""

    def __init__(self, owner: Any, name: str) -> None:
        self.calls: list[dict[str, Any]] = []
        original: Callable[..., Any] = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs)
            return original(*args, **kwargs)

        self._owner, self._name = owner, name
        setattr(owner, name, counted)

    def __enter__(self) -> CallCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        delattr(self._owner, self._name)  # back to the class' method


# ---------------------------------------------------------------- the tiny models


def test_tiny_models_load_with_from_pretrained(tiny_models):  # noqa: F811
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        CLIPModel,
        CLIPProcessor,
    )

    clip = CLIPModel.from_pretrained(tiny_models.clip)
    processor = CLIPProcessor.from_pretrained(tiny_models.clip)
    nli = AutoModelForSequenceClassification.from_pretrained(tiny_models.nli)
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.nli)
    assert clip.config.projection_dim == 16
    assert processor.image_processor.crop_size == {"height": 32, "width": 32}
    assert nli.config.model_type == "deberta-v2"
    assert nli.config.id2label == {0: "entailment", 1: "neutral", 2: "contradiction"}
    # the trained vocabularies know the texts they were trained on: no unknown pieces
    prompt_ids = processor.tokenizer(CATEGORIES[0].prompts[0])["input_ids"]
    assert processor.tokenizer.unk_token_id not in prompt_ids[1:-1]
    pair_ids = tokenizer(KOREAN, VALENCE_AXIS.labels[0].hypothesis_ko)["input_ids"]
    assert tokenizer.unk_token_id not in pair_ids


def test_a_second_build_reuses_the_first(tiny_models):  # noqa: F811
    from tests.tiny_models import build_tiny_models

    weights = tiny_models.nli / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert build_tiny_models(tiny_models.clip.parent) == tiny_models
    assert weights.stat().st_mtime_ns == before


# ---------------------------------------------------------------- CLIP


def test_distribution_covers_the_twelve_categories_and_sums_to_one(scorer):
    for reading in scorer.score(photos()):
        assert list(reading.distribution) == CATEGORY_IDS
        assert sum(reading.distribution.values()) == pytest.approx(1.0, abs=1e-5)
        best = max(reading.distribution, key=reading.distribution.__getitem__)
        assert reading.category_id == best
        assert reading.confidence == reading.distribution[best]


def test_scores_are_cosine_times_logit_scale_over_prompt_ensembles(scorer, tiny_models):  # noqa: F811
    """Recompute one reading by hand from the model: the ensembling and the maths."""
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(tiny_models.clip).eval()
    processor = CLIPProcessor.from_pretrained(tiny_models.clip)
    image = photos()[1]
    with torch.inference_mode():
        centroids = []
        for category in CATEGORIES:
            tokens = processor.tokenizer(list(category.prompts), padding=True, return_tensors="pt")
            text = model.get_text_features(**tokens).pooler_output
            text = text / text.norm(dim=-1, keepdim=True)
            mean = text.mean(dim=0)
            centroids.append(mean / mean.norm())
        pixels = processor.image_processor(images=[image], return_tensors="pt")["pixel_values"]
        picture = model.get_image_features(pixel_values=pixels).pooler_output[0]
        picture = picture / picture.norm()
        expected = (model.logit_scale.exp() * torch.stack(centroids) @ picture).softmax(dim=0)
    reading = scorer.score([image])[0]
    assert list(reading.distribution.values()) == pytest.approx(expected.tolist(), abs=1e-5)


def test_prompts_are_encoded_once_at_load_not_per_request(scorer):
    with (
        CallCounter(scorer.model, "get_text_features") as text,
        CallCounter(scorer.model, "get_image_features") as image,
    ):
        scorer.score(photos())
        scorer.score(photos()[:1])
    assert len(text.calls) == 0
    assert len(image.calls) == 2  # one batched pass per call, whatever the batch size


def test_clip_is_deterministic_and_batching_does_not_change_the_answer(scorer):
    batch = scorer.score(photos())
    assert scorer.score(photos()) == batch
    singles = [scorer.score([photo])[0] for photo in photos()]
    for together, alone in zip(batch, singles, strict=True):
        assert together.category_id == alone.category_id
        for category_id in CATEGORY_IDS:
            assert together.distribution[category_id] == pytest.approx(
                alone.distribution[category_id], abs=1e-5
            )
    # the picture matters: different photos, different distributions
    assert batch[0].distribution != batch[1].distribution


def test_empty_image_batch_needs_no_model(scorer):
    with CallCounter(scorer.model, "get_image_features") as image:
        assert scorer.score([]) == []
    assert image.calls == []


# ---------------------------------------------------------------- CLIP's centre square


def test_the_tiny_scorer_reads_its_square_side_from_its_processor(scorer):
    assert scorer.square_side == 32


@pytest.mark.parametrize(
    ("settings", "side"),
    [
        ({}, 224),  # CLIP ViT-B/32's own: short side to 224, centre 224x224
        ({"size": {"shortest_edge": 256}}, 256),  # a smaller centre crop still fits in it
        ({"do_center_crop": False}, None),  # keeps the whole picture
        ({"crop_size": {"height": 300, "width": 300}}, None),  # crops beyond the short side
        ({"crop_size": {"height": 224, "width": 200}}, None),  # not a square
        ({"size": {"height": 224, "width": 224}}, None),  # squashes, no short-side resize
    ],
)
def test_centre_square_side_follows_the_processor_settings(settings, side):
    from transformers import CLIPImageProcessorPil

    assert centre_square_side(CLIPImageProcessorPil(**settings)) == side


def test_centre_square_side_reads_plain_dict_settings_too():
    """transformers v4 kept sizes as dicts; v5 as SizeDicts."""
    v4_style = SimpleNamespace(
        size={"shortest_edge": 224},
        crop_size={"height": 224, "width": 224},
        do_resize=True,
        do_center_crop=True,
    )
    assert centre_square_side(v4_style) == 224


@pytest.mark.parametrize("size", [(1280, 960), (960, 1280), (4032, 3024)])
def test_the_prepared_square_gives_clip_nearly_the_same_input(size):
    """At CLIP's real 224: whole picture -> processor vs prepared square -> processor."""
    from transformers import CLIPImageProcessorPil

    processor = CLIPImageProcessorPil()
    data = photo_like(size)
    limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 40_000_000}
    whole = load_image(data, **limits)
    prepared = load_image(data, **limits, square=centre_square_side(processor))
    assert max(prepared.size) < max(whole.size) // 2  # shrunk before the processor
    before, after = (
        processor(images=[image], return_tensors="pt")["pixel_values"][0]
        for image in (whole, prepared)
    )
    in_8_bit_steps = (after - before).abs() * torch.tensor(processor.image_std).view(3, 1, 1) * 255
    assert in_8_bit_steps.mean() < 1.5  # a resampling difference, not another picture


# ---------------------------------------------------------------- NLI


def test_a_batch_of_captions_shares_forward_passes(reader):
    captions = [KOREAN, "", "rainy but happy", "   "]
    with CallCounter(reader.model, "forward") as forward:
        readings = reader.read(captions)
    pairs = 2 * (len(VALENCE_AXIS.labels) + len(ENERGY_AXIS.labels))  # 2 real captions
    assert sum(call["input_ids"].shape[0] for call in forward.calls) == pairs
    assert len(forward.calls) <= 3  # grouped by length (tests/test_nli_speed.py), not per pair
    assert len(readings) == 4


def test_axis_scores_sum_to_one_and_the_winner_carries_its_direction(reader):
    for reading in reader.read([KOREAN, "I feel sad and tired today.", "caption number 1"]):
        for axis, axis_reading in zip(TEXT_AXES, (reading.valence, reading.energy), strict=True):
            assert list(axis_reading.scores) == [label.name for label in axis.labels]
            assert sum(axis_reading.scores.values()) == pytest.approx(1.0, abs=1e-6)
            winner = max(axis_reading.scores, key=axis_reading.scores.__getitem__)
            assert axis_reading.label == winner
            assert axis_reading.confidence == axis_reading.scores[winner]
            direction = {label.name: label.direction for label in axis.labels}[winner]
            assert axis_reading.direction == direction


def test_matches_transformers_zero_shot_pipeline(reader, tiny_models):  # noqa: F811
    """Same numbers as ``pipeline("zero-shot-classification")`` with multi_label=False."""
    from transformers import pipeline

    classifier = pipeline(
        "zero-shot-classification", model=str(tiny_models.nli), tokenizer=str(tiny_models.nli)
    )
    caption = "Let's go, the party starts now!"
    reading = reader.read([caption])[0]
    for axis, axis_reading in zip(TEXT_AXES, (reading.valence, reading.energy), strict=True):
        hypotheses = [label.hypothesis_en for label in axis.labels]
        result = classifier(caption, hypotheses, hypothesis_template="{}", multi_label=False)
        by_hypothesis = dict(zip(result["labels"], result["scores"], strict=True))
        expected = [by_hypothesis[h] for h in hypotheses]
        assert list(axis_reading.scores.values()) == pytest.approx(expected, abs=1e-5)


def test_empty_captions_are_neutral_without_running_the_model(reader):
    with CallCounter(reader.model, "forward") as forward:
        readings = reader.read(["", "  \n\t "])
    assert forward.calls == []
    for reading in readings:
        assert (reading.valence.label, reading.valence.direction) == ("neutral", 0)
        assert (reading.energy.label, reading.energy.direction) == ("neutral", 0)


def test_korean_captions_use_korean_hypotheses(reader):
    tokenizer = reader.tokenizer
    with CallCounter(reader.model, "forward") as forward:
        reader.read([KOREAN, "rainy but happy"])
    rows = [row for call in forward.calls for row in call["input_ids"].tolist()]
    korean = [label.hypothesis_ko for axis in TEXT_AXES for label in axis.labels]
    english = [label.hypothesis_en for axis in TEXT_AXES for label in axis.labels]
    expected = [tokenizer(KOREAN, h)["input_ids"] for h in korean]
    expected += [tokenizer("rainy but happy", h)["input_ids"] for h in english]
    pad = tokenizer.pad_token_id
    # passes group pairs by length, so compare the pairs sent, in any order
    assert sorted([token for token in row if token != pad] for row in rows) == sorted(expected)


def test_long_captions_are_truncated_to_the_model_limit(reader):
    with CallCounter(reader.model, "forward") as forward:
        reading = reader.read(["비 " * 700])[0]
    longest = max(call["input_ids"].shape[1] for call in forward.calls)
    assert longest <= reader.tokenizer.model_max_length == 512
    assert sum(reading.valence.scores.values()) == pytest.approx(1.0, abs=1e-6)


def test_nli_is_deterministic(reader):
    captions = [KOREAN, "rainy but happy"]
    assert reader.read(captions) == reader.read(captions)


# ---------------------------------------------------------------- load failures


def test_missing_clip_model_is_a_clear_error(tmp_path):
    absent = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError) as caught:
        ClipSceneScorer.load(str(absent))
    text = str(caught.value)
    assert str(absent) in text and "no folder" in text
    assert "AIDJ_CLIP_MODEL" in text and "--clip-model" in text
    assert "\n" not in text


def test_missing_nli_model_is_a_clear_error(tmp_path):
    absent = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError) as caught:
        ZeroShotCaptionReader.load(str(absent))
    text = str(caught.value)
    assert str(absent) in text and "AIDJ_NLI_MODEL" in text and "--nli-model" in text


def test_a_classifier_without_an_entailment_label_is_refused(tiny_models, tmp_path):  # noqa: F811
    copy = Path(shutil.copytree(tiny_models.nli, tmp_path / "sentiment"))
    config = json.loads((copy / "config.json").read_text())
    config["id2label"] = {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    config["label2id"] = {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="no 'entailment' label"):
        ZeroShotCaptionReader.load(str(copy))


def test_entailment_label_is_found_case_insensitively(tiny_models, tmp_path):  # noqa: F811
    copy = Path(shutil.copytree(tiny_models.nli, tmp_path / "upper"))
    config = json.loads((copy / "config.json").read_text())
    config["id2label"] = {"0": "CONTRADICTION", "1": "NEUTRAL", "2": "ENTAILMENT"}
    config["label2id"] = {"CONTRADICTION": 0, "NEUTRAL": 1, "ENTAILMENT": 2}
    (copy / "config.json").write_text(json.dumps(config))
    reader = ZeroShotCaptionReader.load(str(copy))
    with CallCounter(reader.model, "forward") as forward:
        reader.read(["rainy but happy"])
    assert len(forward.calls) == 1
    from adapters.models.nli_backend import entailment_index

    assert entailment_index(reader.model.config.label2id, "x") == 2
