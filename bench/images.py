"""What preparing one upload for CLIP costs: the old path (whole picture to the processor) vs
the new one (``load_image(square=...)``: JPEG draft decode, centre square, box reduction;
then ``clip_pixels`` instead of the processor, as ``ClipSceneScorer`` does for squares).

Preparation is everything before the forward pass: ``load_image`` then CLIP's image processor
(or ``clip_pixels``), up to the 1x3x224x224 tensor. The forward pass is the same for both
paths, so no model is needed: the processor is ``CLIPImageProcessorPil()``, whose defaults
are the settings of openai/clip-vit-base-patch32 (short side to 224, centre crop 224x224).

Inputs: photo-like JPEGs of 1280x960 (a chat app's usual delivery) and 4032x3024 (a phone's
full size), and one-colour PNG strips of 1x8000 and 1x30000 (about a hundred bytes each).
Each (input, path) pair runs in a fresh process: one untimed warm-up, then the median of
``--runs`` runs; memory is the process' peak resident size during the runs minus its size
before them. The old path on a strip scales it to 224 x (224 x length) first: about 4 GiB
for 1x8000, so pairs above ``--old-limit-mpx`` are skipped (1x30000 would need ~16 GiB).
Run: ``python -m bench.images``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PATHS = ("old", "new")


def inputs() -> dict[str, bytes]:
    """The uploads, by name (built once in the driver, read from files by each child)."""
    from bench.analyze import photo
    from tests.photos import strip_png

    return {
        "photo 1280x960 JPEG": photo(0),
        "photo 4032x3024 JPEG": photo(1, (4032, 3024)),
        "strip 1x8000 PNG": strip_png(1, 8000),
        "strip 1x30000 PNG": strip_png(1, 30_000),
    }


# ---------------------------------------------------------------- one pair, in a child


def measure(path: str, data: bytes, runs: int) -> dict[str, Any]:
    """Time and peak memory of preparing ``data`` by ``path`` (in a fresh process)."""
    from transformers import CLIPImageProcessorPil

    from adapters.images import load_image
    from adapters.models.clip_backend import centre_square_side
    from adapters.models.clip_pixels import PixelPreparer
    from bot.config import load_settings

    settings = load_settings({}, dotenv=False)
    processor = CLIPImageProcessorPil()
    square = centre_square_side(processor) if path == "new" else None
    preparer = PixelPreparer.matching(processor, square)  # as ClipSceneScorer does
    prepared: list[tuple[int, int]] = []

    def prepare() -> None:
        image = load_image(
            data,
            max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
            square=square,
        )
        prepared.append(image.size)
        if preparer is not None and preparer.accepts(image):
            pixels = preparer([image])
        else:
            pixels = processor(images=[image], return_tensors="pt")["pixel_values"]
        assert tuple(pixels.shape) == (1, 3, 224, 224)

    before = _rss_mib()
    reset = _reset_peak()
    prepare()  # warm-up: first-call imports and allocations are not the steady state
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        prepare()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": statistics.median(samples),
        "peak_extra_mib": _peak_mib(reset) - before,
        "handed_to_processor": prepared[-1],
    }


def _rss_mib() -> float:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) / 1024 if match else 0.0


def _reset_peak() -> bool:
    """Restart the kernel's peak-RSS count (VmHWM) here, so imports do not count."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib(reset: bool) -> float:
    """VmHWM since the reset, or the whole life's peak where it could not be reset."""
    if reset:
        match = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
        if match:
            return int(match.group(1)) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------- driver


def old_path_megapixels(data: bytes, side: int = 224) -> float:
    """How big the old path makes the picture: short side scaled to ``side``, before the crop."""
    import io

    from PIL import Image

    width, height = Image.open(io.BytesIO(data)).size
    short, long = sorted((width, height))
    return side * int(side * long / short) / 1e6


def _run_child(path: str, file: Path, runs: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.images", "--measure", path, "--input", str(file)]
    command += ["--runs", str(runs)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{path} on {file.name} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def report(results: dict[str, dict[str, Any]], skipped: dict[str, float], runs: int) -> str:
    """The results table: each input's old and new figures and their ratios."""
    baseline = results["photo 1280x960 JPEG"]["new"]
    lines = [
        f"median of {runs} runs after 1 warm-up, each input and path in a fresh process; "
        f"{os.cpu_count()} CPUs; CLIP ViT-B/32 processor settings (224)",
        "load average (1/5/15 min) at the end: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
        + " (other work on the machine skews timings)",
        "",
        f"{'input':<22} {'path':<4} {'handed over':>13} {'prep ms':>9} {'peak +MiB':>9} "
        f"{'old/new':>14} {'vs photo':>8}",
        f"{'-' * 22} {'-' * 4} {'-' * 13} {'-' * 9} {'-' * 9} {'-' * 14} {'-' * 8}",
    ]
    for name, by_path in results.items():
        old, new = by_path.get("old"), by_path["new"]
        label = name
        for path, result in (("old", old), ("new", new)):
            if result is None:
                lines.append(
                    f"{label:<22} {path:<4} skipped: the processor would first make "
                    f"{skipped[name]:,.0f} Mpx (raise --old-limit-mpx)"
                )
            else:
                lines.append(_row(label, path, result, old, new, baseline))
            label = ""
    lines += [
        "",
        "handed over: the picture load_image gives the processor; prep ms: load_image + "
        "processor; peak +MiB: peak resident memory above the process' size before the runs "
        "(1 MiB floor in ratios); old/new: time, memory; vs photo: new-path time over the "
        "1280x960 photo's",
    ]
    return "\n".join(lines)


def _row(
    label: str,
    path: str,
    result: dict[str, Any],
    old: dict[str, Any] | None,
    new: dict[str, Any],
    baseline: dict[str, Any],
) -> str:
    width, height = result["handed_to_processor"]
    ratios = versus = ""
    if path == "new":
        versus = f"{result['median_ms'] / baseline['median_ms']:.2f}x"
        if old is not None:
            time_ratio = old["median_ms"] / new["median_ms"]
            memory_ratio = old["peak_extra_mib"] / max(new["peak_extra_mib"], 1.0)
            ratios = f"{time_ratio:.1f}x {memory_ratio:.1f}x"
    return (
        f"{label:<22} {path:<4} {f'{width}x{height}':>13} {result['median_ms']:>9.1f} "
        f"{result['peak_extra_mib']:>9.0f} {ratios:>14} {versus:>8}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per pair (median)")
    parser.add_argument(
        "--old-limit-mpx",
        type=float,
        default=500.0,
        help="skip the old path where it would scale a picture beyond this many megapixels",
    )
    parser.add_argument("--measure", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.input.read_bytes(), args.runs)))
        return 0
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for index, (name, data) in enumerate(inputs().items()):
            file = Path(folder) / f"input-{index}"
            file.write_bytes(data)
            results[name] = {"new": _run_child("new", file, args.runs)}
            megapixels = old_path_megapixels(data)
            if megapixels > args.old_limit_mpx:
                skipped[name] = megapixels
            else:
                results[name]["old"] = _run_child("old", file, args.runs)
    print(report(results, skipped, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
