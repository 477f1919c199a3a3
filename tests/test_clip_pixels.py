"""CLIP's input from square pictures without the image processor: the same numbers, up to
an 8-bit step on a few pixels (torch's antialiased resampling vs PIL's)."""

from __future__ import annotations

import random
from typing import Any

import pytest
import torch
from PIL import Image

from adapters.images import load_image
from adapters.models.clip_backend import ClipSceneScorer, centre_square_side
from adapters.models.clip_pixels import PixelPreparer
from tests.fixtures_models import tiny_models  # noqa: F401  (session fixture)
from tests.photos import photo_like


def noise(side: int, seed: int) -> Image.Image:
    return Image.frombytes("RGB", (side, side), random.Random(seed).randbytes(side * side * 3))


def processor_pixels(processor: Any, images: list[Image.Image]) -> torch.Tensor:
    return processor(images=images, return_tensors="pt")["pixel_values"]


@pytest.mark.parametrize(
    "settings",
    [
        {},  # CLIP ViT-B/32's: short side 224, centre 224, bicubic, CLIP mean/std
        {"do_normalize": False},
        {"do_rescale": False, "resample": 2},
        {"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}},
    ],
)
def test_square_pictures_get_the_processors_pixels(settings):
    from transformers import CLIPImageProcessorPil

    processor = CLIPImageProcessorPil(**settings)
    preparer = PixelPreparer.matching(processor, centre_square_side(processor))
    assert preparer is not None
    images = [noise(side, seed) for seed, side in enumerate((1, 32, 224, 300, 481, 896))]
    expected = processor_pixels(processor, images)
    got = preparer(images)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    in_8_bit_steps = (got - expected).abs() * preparer.std / preparer.rescale
    # rounding of the resampled value: one 8-bit step (two, rarely, where pictures are
    # enlarged), on under 1% of the values
    assert in_8_bit_steps.max() < 2.001
    assert (in_8_bit_steps > 0.5).float().mean() < 0.01


@pytest.mark.parametrize(
    "settings",
    [
        {"size": {"shortest_edge": 256}},  # crops 224 out of 256: not a plain resize
        {"do_center_crop": False},  # keeps the whole picture (no square side)
        {"do_pad": True, "pad_size": {"height": 240, "width": 240}},
    ],
)
def test_other_processors_are_left_to_themselves(settings):
    from transformers import CLIPImageProcessorPil

    processor = CLIPImageProcessorPil(**settings)
    assert PixelPreparer.matching(processor, centre_square_side(processor)) is None


class Calls:
    """Counts calls of an instance's method (restored on exit)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.count = 0
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        self._owner, self._name = owner, name
        setattr(owner, name, counted)

    def __enter__(self) -> Calls:
        return self

    def __exit__(self, *exc: object) -> None:
        delattr(self._owner, self._name)


@pytest.fixture(scope="module")
def scorer(tiny_models) -> ClipSceneScorer:  # noqa: F811
    return ClipSceneScorer.load(str(tiny_models.clip))


def test_the_scorer_prepares_squares_itself_with_the_same_readings(scorer):
    processor = scorer._processor.image_processor
    limits = {"max_bytes": 50 * 1024 * 1024, "max_pixels": 40_000_000}
    squares = [
        load_image(photo_like(size, seed), **limits, square=scorer.square_side)
        for seed, size in enumerate([(1280, 960), (960, 1280), (300, 301)])
    ]
    with Calls(processor, "preprocess") as preprocess:
        readings = scorer.score(squares)
    assert preprocess.count == 0
    with torch.inference_mode():
        features = scorer.model.get_image_features(
            pixel_values=processor_pixels(processor, squares)
        ).pooler_output
    embeddings = features / features.norm(dim=-1, keepdim=True)
    expected = (scorer.logit_scale * embeddings @ scorer.category_embeddings.T).softmax(dim=-1)
    for reading, row in zip(readings, expected.tolist(), strict=True):
        assert list(reading.distribution.values()) == pytest.approx(row, abs=1e-3)


def test_a_batch_with_any_other_shape_goes_to_the_processor(scorer):
    processor = scorer._processor.image_processor
    with Calls(processor, "preprocess") as preprocess:
        scorer.score([noise(40, 1), Image.new("RGB", (50, 30), (200, 10, 10))])
    assert preprocess.count == 1
