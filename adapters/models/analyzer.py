"""Both models behind one call: a batch of (photo bytes, caption) in, readings out.

The model worker (and the in-process analyzer for one-shot CLI runs) calls
``analyze_batch``, the one door to the models for both, so captions are normalised here
(``core.captions``) whichever way they came. Bad input is a per-item result, not an
exception, so one broken upload never fails the requests it was batched with; the good
items share one CLIP forward pass and the NLI passes (one per group of pairs of similar
length), plus the destination passes when ``read_destinations`` is on (a journey chosen by
the caption). ``AIDJ_QUANTIZE=int8`` loads both models with int8 Linear layers. On a GPU
(``AIDJ_DEVICE=cuda``, or a Serve replica given one) the batch's photos are decoded on
several threads, since decoding them on one was most of a batch's time there.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
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

# A photo ready for CLIP and its caption ready for the NLI reader.
Prepared = tuple[Image.Image, str]
# Decoding threads on a GPU at most. On the H200 machine's host 8 prepared ~450 photos/s
# (63 to 97 on one), over three times the ~140 analyses/s the whole step then did; a batch
# of 64 took 469 ms, against 1128 ms decoding one photo at a time (bench.gpu).
MAX_PREPARATION_THREADS = 8


def preparation_threads_for(device: str) -> int:
    """How many photos of a batch to decode at once. One on the CPU: the models that follow
    use every core, decoding is a few per cent of a batch there, and decoding photos one at a
    time keeps a hostile batch's peak memory that of one picture. On a GPU, decoding on one
    core was 60% of a batch of 64 (bench.gpu, H200): as many as torch has threads there (a
    Serve replica's CPUs), up to ``MAX_PREPARATION_THREADS``."""
    if not device.startswith("cuda"):
        return 1
    return max(1, min(MAX_PREPARATION_THREADS, torch.get_num_threads()))


class MoodAnalyzer:
    """CLIP for the scene, zero-shot NLI for the caption, with the input limits applied."""

    def __init__(
        self,
        scorer: ClipSceneScorer,
        reader: ZeroShotCaptionReader,
        options: ModelOptions,
        *,
        preparation_threads: int | None = None,
    ) -> None:
        """``preparation_threads``: photos of a batch decoded at once (by default
        ``preparation_threads_for(options.device)``)."""
        self._scorer = scorer
        self._reader = reader
        self._options = options
        threads = (
            preparation_threads_for(options.device)
            if preparation_threads is None
            else preparation_threads
        )
        self._pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="aidj-prepare") if threads > 1 else None
        )

    @classmethod
    def load(cls, options: ModelOptions) -> MoodAnalyzer:
        """Load both models as configured (slow: seconds to a minute on a CPU)."""
        if options.torch_threads > 0:
            torch.set_num_threads(options.torch_threads)
        int8 = options.quantize == "int8"
        scorer = ClipSceneScorer.load(
            options.clip_model, options.device, int8=int8, runtime=options.clip_runtime
        )
        reader = ZeroShotCaptionReader.load(options.nli_model, options.device, int8=int8)
        return cls(scorer, reader, options)

    @property
    def options(self) -> ModelOptions:
        return self._options

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
        for position, prepared in enumerate(self._prepare_all(items)):
            if isinstance(prepared, AIDJError):
                results[position] = prepared
                continue
            positions.append(position)
            images.append(prepared[0])
            captions.append(prepared[1])
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

    def _prepare_all(self, items: list[tuple[bytes, str]]) -> list[Prepared | AIDJError]:
        """Every item's picture and caption, in order; on the pool when there is one."""
        if self._pool is None or len(items) < 2:
            return [self._prepare(item) for item in items]
        return list(self._pool.map(self._prepare, items))

    def _prepare(self, item: tuple[bytes, str]) -> Prepared | AIDJError:
        data, caption = item
        try:
            text = self._clean_caption(caption)
            image = load_image(
                data,
                max_bytes=self._options.max_image_bytes,
                max_pixels=self._options.max_image_pixels,
                square=self._scorer.square_side,
            )
        except AIDJError as error:
            return error
        return image, text

    def _clean_caption(self, caption: str | None) -> str:
        """The caption normalised (the NLI tokenizer raises on a lone surrogate, which would
        fail the whole batch), within the configured length."""
        text = normalize_caption(caption or "")
        limit = self._options.max_caption_chars
        if len(text) > limit:
            raise BadCaptionError(CaptionProblem.TOO_LONG, length=len(text), limit=limit)
        return text
