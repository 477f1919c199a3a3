"""Both models behind one call: a batch of (photo bytes, caption) in, readings out.

The model worker (and the in-process analyzer for one-shot CLI runs) calls
``analyze_batch``, the one door to the models for both, so captions are normalised here
(``core.captions``) whichever way they came. Bad input is a per-item result, not an
exception, so one broken upload never fails the requests it was batched with; the good
items share one CLIP forward pass and the NLI passes (one per group of pairs of similar
length), plus the destination passes when ``read_destinations`` is on (a journey chosen by
the caption). ``AIDJ_QUANTIZE=int8`` loads both models with int8 Linear layers.
"""

from __future__ import annotations

import dataclasses
from typing import cast

import torch
from PIL import Image

from adapters.images import load_image
from adapters.models.clip_backend import ClipSceneScorer
from adapters.models.nli_backend import ZeroShotCaptionReader
from adapters.models.options import ModelOptions
from core.captions import normalize_caption
from core.errors import AIDJError, BadCaptionError
from core.messages import CaptionProblem
from core.mood import Reading


class MoodAnalyzer:
    """CLIP for the scene, zero-shot NLI for the caption, with the input limits applied."""

    def __init__(
        self, scorer: ClipSceneScorer, reader: ZeroShotCaptionReader, options: ModelOptions
    ) -> None:
        self._scorer = scorer
        self._reader = reader
        self._options = options

    @classmethod
    def load(cls, options: ModelOptions) -> MoodAnalyzer:
        """Load both models as configured (slow: seconds to a minute on a CPU)."""
        if options.torch_threads > 0:
            torch.set_num_threads(options.torch_threads)
        int8 = options.quantize == "int8"
        scorer = ClipSceneScorer.load(options.clip_model, options.device, int8=int8)
        reader = ZeroShotCaptionReader.load(options.nli_model, options.device, int8=int8)
        return cls(scorer, reader, options)

    @property
    def scorer(self) -> ClipSceneScorer:
        return self._scorer

    @property
    def reader(self) -> ZeroShotCaptionReader:
        return self._reader

    def analyze_batch(self, items: list[tuple[bytes, str]]) -> list[Reading | AIDJError]:
        """One result per item, in order: a ``Reading``, or the user-facing error for it."""
        results: list[Reading | AIDJError | None] = [None] * len(items)
        positions: list[int] = []
        images: list[Image.Image] = []
        captions: list[str] = []
        for position, (data, caption) in enumerate(items):
            try:
                text = self._clean_caption(caption)
                image = load_image(
                    data,
                    max_bytes=self._options.max_image_bytes,
                    max_pixels=self._options.max_image_pixels,
                    square=self._scorer.square_side,
                )
            except AIDJError as error:
                results[position] = error
                continue
            positions.append(position)
            images.append(image)
            captions.append(text)
        image_readings = self._scorer.score(images)
        text_readings = self._reader.read(captions)
        if self._options.read_destinations:
            text_readings = [
                dataclasses.replace(reading, destination=destination)
                for reading, destination in zip(
                    text_readings, self._reader.read_destinations(captions), strict=True
                )
            ]
        for position, image_reading, text_reading in zip(
            positions, image_readings, text_readings, strict=True
        ):
            results[position] = Reading(image=image_reading, text=text_reading)
        return cast(list[Reading | AIDJError], results)  # every slot is filled above

    def _clean_caption(self, caption: str | None) -> str:
        """The caption normalised (the NLI tokenizer raises on a lone surrogate, which would
        fail the whole batch), within the configured length."""
        text = normalize_caption(caption or "")
        limit = self._options.max_caption_chars
        if len(text) > limit:
            raise BadCaptionError(CaptionProblem.TOO_LONG, length=len(text), limit=limit)
        return text
