"""How fast one analysis runs on full-size models, against the naive path and this CPU's limit.

Why full-size random models: the hub is out of reach here, and compute depends on the
architecture and the sequence lengths, not on what the weights learned. So this builds a
CLIP ViT-B/32 (``CLIPConfig()`` defaults) and a DeBERTa-v2 shaped like mDeBERTa-v3-base,
randomly initialised, saves them with small offline tokenizers, and times, per request:

(a) naive: what the seed did per request: CLIP re-encodes all 48 category prompts with the
    photo (``CLIPProcessor(text=prompts, images=image)``), and
    ``pipeline("zero-shot-classification")`` runs once per caption axis (one forward pass per
    hypothesis);
(b) ``MoodAnalyzer.analyze_batch`` for one request, (c) for 8 requests at once;
(d), (e) the same with ``AIDJ_QUANTIZE=int8``; and the parts: CLIP with its image
preparation, NLI, int8 CLIP (to see whether it pays), preparation alone.

Every path runs in one process, once per round for ``--runs`` rounds after a warm-up, with
the GEMM rate measured in the same rounds (``bench.analyze_paths``): the medians' ratios
then hold on a shared machine. Each path's limit is its useful FLOPs over that rate
(``bench.flops``). Resident memory is measured in fresh processes, one per analyzer kind.
Numerical fidelity of each speed-up is printed last (``bench.fidelity``).
Run: ``python -m bench.analyze`` (``--models-dir DIR`` keeps the built models).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BATCH = 8
PHOTO_SIZE = (1280, 960)  # what chat apps typically deliver after their own compression

CAPTIONS = (
    "비가 오지만 오늘 좋은 일이 있어서 신나!",
    "Just coffee and a good book on a quiet rainy afternoon.",
    "친구들이랑 파티하러 간다! 오늘 밤은 신나게 놀 거야",
    "What a calm and quiet evening by the window.",
    "너무 피곤하고 우울한 하루였다. 그냥 집에서 쉬고 싶어",
    "Let's go, the party starts now! Best night of the summer.",
    "바다 보러 가는 길, 날씨 최고",
    "I feel sad and tired today, the city lights look cold.",
)


# ---------------------------------------------------------------- building the models


def realistic_nli_tokenizer(lines: list[str]) -> Any:
    """A DeBERTa-v2 (Unigram) tokenizer that splits like a large multilingual vocabulary.

    Trained on a few lines, a Unigram model stays near character level (about twice the
    tokens mDeBERTa's 250k-piece vocabulary gives). So the pieces are set by rule instead:
    each word is one piece (as common English words are in mDeBERTa), a Korean word of three
    or more syllables is a stem plus its final syllable (its particle or ending, as
    SentencePiece tends to cut it), punctuation stands alone, and every single character
    remains as a fallback.
    """
    from transformers import DebertaV2Tokenizer

    from tests.tiny_models import NLI_SPECIAL

    words: dict[str, float] = {}
    characters: set[str] = set()
    for line in lines:
        characters.update(line.replace(" ", ""))
        for word in re.findall(r"\w+|[^\w\s]", line):
            for piece in _word_pieces(word):
                words[piece] = -5.0
    pieces = sorted(words.items())
    pieces += [(char, -12.0) for char in sorted(characters) if char not in words]
    pieces += [("▁", -12.0)]
    vocab = [(token, 0.0) for token in NLI_SPECIAL] + pieces
    return DebertaV2Tokenizer(vocab=vocab, model_max_length=512)


def _word_pieces(word: str) -> list[str]:
    if not re.fullmatch(r"\w+", word):
        return [word]  # punctuation: its own piece, not preceded by "▁"
    if re.fullmatch(r"[\uac00-\ud7af]{3,}", word):
        return ["▁" + word[:-1], word[-1]]
    return ["▁" + word]


def build_full_models(out: Path) -> tuple[Path, Path]:
    """Save full-size random CLIP and NLI models with offline tokenizers under ``out``."""
    from adapters.models.loading import quiet_loading
    from tests.tiny_models import nli_corpus, save_clip, save_nli

    clip, nli = out / "clip", out / "nli"
    tokenizer = realistic_nli_tokenizer([*nli_corpus(), *CAPTIONS])
    with quiet_loading():
        save_clip(clip, full_size=True)
        save_nli(nli, full_size=True, tokenizer=tokenizer)
    return clip, nli


# ---------------------------------------------------------------- inputs


def photo(seed: int, size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """A deterministic photo-like JPEG: a colour gradient with noise (so JPEG works hard)."""
    from PIL import Image

    rng = random.Random(seed)
    width, height = size
    small = Image.new("RGB", (32, 24))
    small.putdata(
        [
            (rng.randrange(256), (x * 8 + seed * 40) % 256, (y * 10 + rng.randrange(40)) % 256)
            for y in range(24)
            for x in range(32)
        ]
    )
    image = small.resize(size, Image.Resampling.BICUBIC)
    noise = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


# ---------------------------------------------------------------- the two paths


class NaivePath:
    """The seed's per-request work, with the models loaded once."""

    def __init__(self, clip: Path, nli: Path) -> None:
        from transformers import CLIPModel, CLIPProcessor, pipeline

        from adapters.models.loading import quiet_loading
        from core.categories import CATEGORIES

        with quiet_loading():
            self.model = CLIPModel.from_pretrained(clip).eval()
            self.processor = CLIPProcessor.from_pretrained(clip)
            self.classifier = pipeline("zero-shot-classification", model=str(nli), device="cpu")
        self.prompts = [prompt for category in CATEGORIES for prompt in category.prompts]
        self.owner = [category.id for category in CATEGORIES for _ in category.prompts]

    def analyze(self, data: bytes, caption: str) -> tuple[str, list[str]]:
        import torch
        from PIL import Image

        from core.text_axes import TEXT_AXES, hypotheses_for

        image = Image.open(io.BytesIO(data)).convert("RGB")
        inputs = self.processor(text=self.prompts, images=image, return_tensors="pt", padding=True)
        with torch.no_grad():
            probabilities = self.model(**inputs).logits_per_image.softmax(dim=-1)[0].tolist()
        totals: dict[str, float] = {}
        for category_id, probability in zip(self.owner, probabilities, strict=True):
            totals[category_id] = totals.get(category_id, 0.0) + probability
        labels = [
            self.classifier(
                caption,
                candidate_labels=hypotheses_for(caption, axis),
                hypothesis_template="{}",  # the labels are whole hypotheses already
                multi_label=False,
            )["labels"][0]
            for axis in TEXT_AXES
        ]
        return max(totals, key=totals.__getitem__), labels


def measure_memory(kind: str, clip: Path, nli: Path, runs: int) -> dict[str, Any]:
    """Resident memory of one analyzer kind ("naive", "fp32", "int8") in this fresh process:
    after loading, and after ``runs`` single and batched analyses."""
    photos = [photo(seed) for seed in range(BATCH)]
    items = list(zip(photos, CAPTIONS, strict=True))
    started = time.perf_counter()
    if kind == "naive":
        naive = NaivePath(clip, nli)
        calls: list[Callable[[], object]] = [lambda: naive.analyze(*items[0])]
    else:
        from adapters.models.analyzer import MoodAnalyzer
        from bot.config import load_settings

        quantize = "int8" if kind == "int8" else "none"
        settings = load_settings(
            {}, dotenv=False, clip_model=str(clip), nli_model=str(nli), quantize=quantize
        )
        analyzer = MoodAnalyzer.load(settings.model_options())
        calls = [lambda: analyzer.analyze_batch(items[:1]), lambda: analyzer.analyze_batch(items)]
    load_s = time.perf_counter() - started
    after_load = rss_mb()
    for _ in range(runs):
        for call in calls:
            call()
    return {"load_s": load_s, "after_load": after_load, "after_runs": rss_mb()}


def rss_mb() -> dict[str, float]:
    """Resident memory now (VmRSS) and at its peak (ru_maxrss), in MiB."""
    now = 0.0
    status = Path("/proc/self/status")
    if status.exists():
        match = re.search(r"^VmRSS:\s+(\d+) kB", status.read_text(), re.MULTILINE)
        now = int(match.group(1)) / 1024 if match else 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"now": now, "peak": peak}


# ---------------------------------------------------------------- driver


def _run_child(what: str, clip: Path, nli: Path, runs: int, threads: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.analyze", "--measure", what, "--runs", str(runs)]
    command += ["--clip", str(clip), "--nli", str(nli), "--threads", str(threads)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{what} run failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (median)")
    parser.add_argument(
        "--models-dir",
        type=Path,
        help="build the full-size models here and keep them (reused when already built)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    parser.add_argument(
        "--memory-runs", type=int, default=2, help="analyses before the memory reading"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--nli", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        return _measure_in_child(args)
    with contextlib.ExitStack() as stack:
        root = args.models_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        clip, nli = full_models(root)
        timing = _run_child("paths", clip, nli, args.runs, args.threads)
        memory = {
            kind: _run_child(kind, clip, nli, args.memory_runs, args.threads)
            for kind in ("naive", "fp32", "int8")
        }
    from bench.analyze_report import report

    print(report(timing, memory, args.runs))
    return 0


def _measure_in_child(args: argparse.Namespace) -> int:
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.measure == "paths":
        from bench.analyze_paths import measure_paths

        result = measure_paths(args.clip, args.nli, args.runs, BATCH)
    else:
        result = measure_memory(args.measure, args.clip, args.nli, args.runs)
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result))
    return 0


def full_models(root: Path) -> tuple[Path, Path]:
    """The full-size models under ``root``, built unless a complete build is there."""
    marker = root / "BUILD_COMPLETE"
    if marker.is_file():
        return root / "clip", root / "nli"
    started = time.perf_counter()
    paths = build_full_models(root)
    marker.write_text("1\n")
    print(f"built full-size random models in {time.perf_counter() - started:.1f} s")
    return paths


def bench_models(tiny: Path | None, root: Path) -> tuple[Path, Path]:
    """The tests' tiny models built in ``tiny`` when given (a quick run, or a figure where
    the compute should be short), else the full-size ones under ``root``."""
    if tiny is None:
        return full_models(root)
    from tests.tiny_models import build_tiny_models

    paths = build_tiny_models(tiny)
    return paths.clip, paths.nli


if __name__ == "__main__":
    raise SystemExit(main())
