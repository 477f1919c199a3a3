"""How long one analysis takes on full-size models: the seed's naive path vs MoodAnalyzer.

Why full-size random models: the hub is out of reach here, and compute depends on the
architecture and the sequence lengths, not on what the weights learned. So this builds a
CLIP ViT-B/32 (``CLIPConfig()`` defaults) and a DeBERTa-v2 shaped like mDeBERTa-v3-base,
randomly initialised, saves them with small offline tokenizers, and times:

(a) naive: what the seed did per request: CLIP re-encodes all 48 category prompts with the
    photo (``CLIPProcessor(text=prompts, images=image)``), and
    ``pipeline("zero-shot-classification")`` runs once per caption axis (one forward pass per
    hypothesis);
(b) ``MoodAnalyzer.analyze_batch`` for one request;
(c) ``MoodAnalyzer.analyze_batch`` for 8 requests at once, per request.

Each path runs in a fresh process of its own (clean memory figures, no shared caches), with
one untimed warm-up, then the median of ``--runs`` runs. Run: ``python -m bench.analyze``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import resource
import statistics
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
            self.classifier = pipeline("zero-shot-classification", model=str(nli))
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


def measure(path: str, clip: Path, nli: Path, runs: int) -> dict[str, Any]:
    """Load one path, then time it (run in a fresh process by ``main``)."""
    photos = [photo(seed) for seed in range(BATCH)]
    started = time.perf_counter()
    if path == "naive":
        naive = NaivePath(clip, nli)
        load_s = time.perf_counter() - started
        rss = rss_mb()
        single = _median_ms(lambda: naive.analyze(photos[0], CAPTIONS[0]), runs)
        return {
            "load_s": load_s,
            "rss_mb": rss,
            "rss_after_runs_mb": rss_mb(),
            "single_ms": single,
            "threads": _threads(),
        }

    from adapters.models.analyzer import MoodAnalyzer
    from bot.config import load_settings

    settings = load_settings({}, dotenv=False, clip_model=str(clip), nli_model=str(nli))
    analyzer = MoodAnalyzer.load(settings.model_options())
    load_s = time.perf_counter() - started
    rss = rss_mb()
    items = list(zip(photos, CAPTIONS, strict=True))
    single = _median_ms(lambda: _checked(analyzer.analyze_batch(items[:1])), runs)
    batch = _median_ms(lambda: _checked(analyzer.analyze_batch(items)), runs)
    lengths = _nli_lengths(analyzer.reader.tokenizer)
    return {
        "load_s": load_s,
        "rss_mb": rss,
        "rss_after_runs_mb": rss_mb(),
        "single_ms": single,
        "batch_ms": batch,
        "threads": _threads(),
        "nli_pair_tokens": lengths,
    }


def _checked(results: list[Any]) -> list[Any]:
    failures = [result for result in results if isinstance(result, Exception)]
    if failures:
        raise RuntimeError(f"analysis failed: {failures[0]}")
    return results


def _median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm-up: first-call allocations and lazy initialisation are not the steady state
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _nli_lengths(tokenizer: Any) -> dict[str, int]:
    """Tokens per (caption, hypothesis) pair for the first Korean and English captions."""
    from core.text_axes import VALENCE_AXIS, hypotheses_for

    sample = {"ko": CAPTIONS[0], "en": CAPTIONS[1]}
    return {
        language: len(tokenizer(caption, hypotheses_for(caption, VALENCE_AXIS)[0])["input_ids"])
        for language, caption in sample.items()
    }


def _threads() -> int:
    import torch

    return torch.get_num_threads()


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


def _run_child(path: str, clip: Path, nli: Path, runs: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.analyze", "--measure", path, "--runs", str(runs)]
    command += ["--clip", str(clip), "--nli", str(nli)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{path} run failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def report(naive: dict[str, Any], fast: dict[str, Any], runs: int) -> str:
    """The results table."""
    rows = [
        ("(a) naive: seed-style, per request", naive["single_ms"]),
        ("(b) MoodAnalyzer, 1 request", fast["single_ms"]),
        (f"(c) MoodAnalyzer, batch of {BATCH}, per request", fast["batch_ms"] / BATCH),
    ]
    lines = [
        f"median of {runs} runs after 1 warm-up; torch threads: {fast['threads']}; "
        f"{os.cpu_count()} CPUs; photo {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG",
        "load average (1/5/15 min) at the end: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
        + " (other work on the machine skews timings)",
        f"NLI tokens per (caption, hypothesis) pair: {fast['nli_pair_tokens']}",
        "",
        f"{'path':<48} {'median ms':>10} {'vs naive':>9}",
        f"{'-' * 48} {'-' * 10} {'-' * 9}",
    ]
    for name, ms in rows:
        lines.append(f"{name:<48} {ms:>10.1f} {naive['single_ms'] / ms:>8.2f}x")
    lines += [
        f"(c) whole batch of {BATCH}: {fast['batch_ms']:.1f} ms",
        "",
        "resident memory (MiB, VmRSS), each path in its own process:",
        f"{'':<14} {'after load':>10} {'after runs':>10} {'peak':>6} {'load s':>7}",
        _memory_line("naive", naive),
        _memory_line("MoodAnalyzer", fast),
    ]
    return "\n".join(lines)


def _memory_line(name: str, result: dict[str, Any]) -> str:
    after_load, after_runs = result["rss_mb"]["now"], result["rss_after_runs_mb"]["now"]
    peak = result["rss_after_runs_mb"]["peak"]
    return (
        f"{name:<14} {after_load:>10.0f} {after_runs:>10.0f} {peak:>6.0f} {result['load_s']:>7.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per path (median)")
    parser.add_argument(
        "--models-dir",
        type=Path,
        help="build the full-size models here and keep them (reused when already built)",
    )
    parser.add_argument("--measure", choices=("naive", "analyzer"), help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--nli", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.clip, args.nli, args.runs)))
        return 0
    with contextlib.ExitStack() as stack:
        root = args.models_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        clip, nli = _models(root)
        naive = _run_child("naive", clip, nli, args.runs)
        fast = _run_child("analyzer", clip, nli, args.runs)
    print(report(naive, fast, args.runs))
    return 0


def _models(root: Path) -> tuple[Path, Path]:
    """The full-size models under ``root``, built unless a complete build is there."""
    marker = root / "BUILD_COMPLETE"
    if marker.is_file():
        return root / "clip", root / "nli"
    started = time.perf_counter()
    paths = build_full_models(root)
    marker.write_text("1\n")
    print(f"built full-size random models in {time.perf_counter() - started:.1f} s")
    return paths


if __name__ == "__main__":
    raise SystemExit(main())
