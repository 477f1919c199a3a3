"""Every timed path of ``bench.analyze`` in one process, measured in interleaved rounds.

Why one process and rounds: on a shared machine the load changes from minute to minute.
Timing the naive path now and the fast one a minute later makes their ratio a measure of
the neighbours; running every path once per round, and the GEMM rate in the same rounds,
exposes them all to the same conditions, so the medians' ratios hold.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.flops import counted_flops, gemm_rate, table_flops_per_pass

CLIP_TOKENS = 50  # ViT-B/32 at 224: 7 x 7 patches + the class token


@dataclass(frozen=True)
class Work:
    """What a path has to compute: useful FLOPs and the GEMM rows they come in, per model
    part ("clip", "nli"), and which rate applies ("fp32" or "int8")."""

    parts: tuple[tuple[str, int, int, str], ...]  # (part, flops, rows, kind)
    requests: int


@dataclass(frozen=True)
class Timed:
    name: str
    run: Callable[[], object]
    work: Work | None  # None: preparation only, no model FLOPs
    models: tuple[Any, ...] = ()  # whose Linear/Conv FLOPs a run does (for "done")


def measure_paths(clip: Path, nli: Path, runs: int, batch: int) -> dict[str, Any]:
    """Load everything, count FLOPs, then time every path ``runs`` times, interleaved."""
    setup = _Setup(clip, nli, batch)
    useful = setup.useful_flops()
    paths = setup.paths(useful)
    done = {path.name: _done_flops(path) for path in paths if path.models}  # also a warm-up
    rows = sorted({rows for path in paths if path.work for _, _, rows, _ in path.work.parts})
    samples: dict[str, list[float]] = {path.name: [] for path in paths}
    rates: dict[str, list[float]] = {}
    for round_number in range(runs):
        # a different order each round, so no path always follows the slow naive one
        shift = round_number % len(paths)
        for path in paths[shift:] + paths[:shift]:
            started = time.perf_counter()
            path.run()
            samples[path.name].append((time.perf_counter() - started) * 1000)
        for count in rows:
            for kind in ("fp32", "int8"):
                rates.setdefault(f"{kind} {count}", []).append(
                    gemm_rate(count, int8=kind == "int8", repeats=1)
                )
    return {
        "ms": {name: statistics.median(values) for name, values in samples.items()},
        "spread_ms": {name: (min(values), max(values)) for name, values in samples.items()},
        "gemm": {key: statistics.median(values) for key, values in rates.items()},
        "work": {path.name: path.work.__dict__ if path.work else None for path in paths},
        "done_flops": done,
        "useful": useful,
        "table_flops_per_pass": table_flops_per_pass(setup.fp32.reader.model),
        "fidelity": setup.fidelity(),
    }


def limit_ms(work: dict[str, Any], gemm: dict[str, float]) -> float:
    """The time this machine needs for a path's useful FLOPs at its measured GEMM rates."""
    return sum(flops / gemm[f"{kind} {rows}"] for _, flops, rows, kind in work["parts"]) * 1000


def _done_flops(path: Timed) -> int:
    """The Linear/Conv FLOPs one run of ``path`` actually does (padding included)."""
    with contextlib.ExitStack() as stack:
        totals = [stack.enter_context(counted_flops(model)) for model in path.models]
        path.run()
    return sum(total[0] for total in totals)


class _Setup:
    """The models and inputs of every path."""

    def __init__(self, clip: Path, nli: Path, batch: int) -> None:
        from adapters.models.analyzer import MoodAnalyzer
        from adapters.models.clip_backend import ClipSceneScorer
        from adapters.models.nli_backend import ZeroShotCaptionReader
        from bench.analyze import CAPTIONS, NaivePath, photo
        from bot.config import load_settings

        self.settings = load_settings(
            {}, dotenv=False, clip_model=str(clip), nli_model=str(nli)
        ).model_options()
        self.fp32 = MoodAnalyzer.load(self.settings)
        # what AIDJ_QUANTIZE=int8 loads (as MoodAnalyzer.load does)
        self.int8 = MoodAnalyzer(
            ClipSceneScorer.load(str(clip), int8=True),
            ZeroShotCaptionReader.load(str(nli), int8=True),
            self.settings,
        )
        # what AIDJ_CLIP_RUNTIME=onnxruntime loads (the onnx extra, which --dev installs)
        self.onnx_clip = ClipSceneScorer.load(str(clip), runtime="onnxruntime")
        self.naive = NaivePath(clip, nli)
        self.nli_path = nli
        self.photos = [photo(seed) for seed in range(batch)]
        self.phone_photo = photo(batch, (4032, 3024))
        self.captions = list(CAPTIONS[:batch])
        self.items = list(zip(self.photos, self.captions, strict=True))

    def load(self, data: bytes) -> Any:
        from adapters.images import load_image

        return load_image(
            data,
            max_bytes=self.settings.max_image_bytes,
            max_pixels=self.settings.max_image_pixels,
            square=self.fp32.scorer.square_side,
        )

    def useful_flops(self) -> dict[str, int]:
        """Per model part and count: Linear/Conv FLOPs on the real input only."""
        from core.text_axes import TEXT_AXES, hypotheses_for

        reader, scorer = self.fp32.reader, self.fp32.scorer
        with counted_flops(scorer.model) as clip:
            scorer.score([self.load(self.photos[0])])
        per_caption = []
        for caption in self.captions:
            pairs = [(caption, h) for axis in TEXT_AXES for h in hypotheses_for(caption, axis)]
            with counted_flops(reader.model) as nli:
                for pair in pairs:  # one by one: nothing padded
                    reader._entailment_logits([pair])
            per_caption.append(nli[0])
        tokens = [len(reader.tokenizer(*pair)["input_ids"]) for pair in self._pairs()]
        return {
            "clip_1": clip[0],
            "nli_1": per_caption[0],
            "nli_all": sum(per_caption),
            "tokens_1": sum(tokens[:6]),
            "tokens_all": sum(tokens),
        }

    def _pairs(self) -> list[tuple[str, str]]:
        from core.text_axes import TEXT_AXES, hypotheses_for

        return [
            (caption, hypothesis)
            for caption in self.captions
            for axis in TEXT_AXES
            for hypothesis in hypotheses_for(caption, axis)
        ]

    def paths(self, useful: dict[str, int]) -> list[Timed]:
        count = len(self.items)
        fp32, int8 = self.fp32, self.int8

        def work(photos: int, captions: int, kind: str = "fp32", requests: int = 1) -> Work:
            parts = []
            if photos:
                parts.append(("clip", useful["clip_1"] * photos, CLIP_TOKENS * photos, kind))
            if captions:
                key = "1" if captions == 1 else "all"
                parts.append(("nli", useful[f"nli_{key}"], useful[f"tokens_{key}"], kind))
            return Work(tuple(parts), requests)

        def clip_work(photos: int, kind: str = "fp32") -> Work:
            return work(photos, 0, kind, requests=photos)

        one, all_ = self.items[:1], self.items
        clip_models = (fp32.scorer.model,)
        both = (fp32.scorer.model, fp32.reader.model)
        naive = self.naive
        return [
            Timed("naive", lambda: naive.analyze(*one[0]), work(1, 1),
                  (naive.model, naive.classifier.model)),
            Timed("fp32 1", lambda: checked(fp32.analyze_batch(one)), work(1, 1), both),
            Timed("fp32 batch", lambda: checked(fp32.analyze_batch(all_)),
                  work(count, count, requests=count), both),
            Timed("int8 1", lambda: checked(int8.analyze_batch(one)), work(1, 1, "int8")),
            Timed("int8 batch", lambda: checked(int8.analyze_batch(all_)),
                  work(count, count, "int8", count)),
            Timed("clip 1", lambda: fp32.scorer.score([self.load(self.photos[0])]),
                  clip_work(1), clip_models),
            Timed("clip batch", lambda: fp32.scorer.score([self.load(p) for p in self.photos]),
                  clip_work(count), clip_models),
            Timed("nli 1", lambda: fp32.reader.read(self.captions[:1]), work(0, 1),
                  (fp32.reader.model,)),
            Timed("nli batch", lambda: fp32.reader.read(self.captions),
                  work(0, count, requests=count),
                  (fp32.reader.model,)),
            Timed("int8 nli 1", lambda: int8.reader.read(self.captions[:1]),
                  work(0, 1, "int8")),
            Timed("int8 nli batch", lambda: int8.reader.read(self.captions),
                  work(0, count, "int8", count)),
            Timed("int8 clip 1", lambda: int8.scorer.score([self.load(self.photos[0])]),
                  clip_work(1, "int8")),
            Timed("int8 clip batch",
                  lambda: int8.scorer.score([self.load(p) for p in self.photos]),
                  clip_work(count, "int8")),
            Timed("onnx clip 1", lambda: self.onnx_clip.score([self.load(self.photos[0])]),
                  clip_work(1)),
            Timed("onnx clip batch",
                  lambda: self.onnx_clip.score([self.load(p) for p in self.photos]),
                  clip_work(count)),
            Timed("prep photo", lambda: self._prepare(self.photos[0]), None),
            Timed("prep phone photo", lambda: self._prepare(self.phone_photo), None),
            Timed("decode floor phone photo", lambda: _decode_floor(self.phone_photo), None),
        ]  # fmt: skip

    def _prepare(self, data: bytes) -> Any:
        """Upload bytes to CLIP's input tensor, as ``ClipSceneScorer.score`` does it."""
        return self.fp32.scorer._pixels([self.load(data)])

    def fidelity(self) -> dict[str, Any]:
        from bench.fidelity import measure_fidelity

        return measure_fidelity(self)


def _decode_floor(data: bytes) -> Any:
    """The least any preparation of this JPEG costs: libjpeg's smallest DCT scale (1/8), no
    colour work or resize after it. Every coefficient is still entropy-decoded at that scale,
    so for a large, detailed file this, not the resize, bounds preparation."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        image.draft("RGB", (width // 8, height // 8))
        image.load()
        return image.size


def checked(results: list[Any]) -> list[Any]:
    """``results`` of ``analyze_batch``, when none of them is an error."""
    failures = [result for result in results if isinstance(result, Exception)]
    if failures:
        raise RuntimeError(f"analysis failed: {failures[0]}")
    return results
