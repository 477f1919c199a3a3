"""What one GPU replica does: the analyzer on cuda, its speed, its fidelity, the CPU it needs.

Why: a Serve replica given a GPU (``num_gpus``) loads ``MoodAnalyzer`` with ``device="cuda"``
(``serve_app``). Neither CI nor the development machine has a GPU, so this runs on a lent
one, on the full-size random models of ``bench.analyze`` (compute depends on the shapes, not
on what the weights learned). Printed, each a median of ``--runs`` after a warm-up:

- fidelity: the same items read on the CPU and on the device (largest change of any
  category or caption-axis probability, and how many labels agree);
- per batch size: analyses per second as the product runs (photos decoded on
  ``preparation_threads_for(device)`` threads), against decoding them one at a time, and
  what preparing the batch's photos one at a time costs alone (JPEG decode and pixels, on
  the host's CPU);
- the NLI forward pass on the device, fitted as fixed + per-token time: the pass cost in
  tokens that ``length_groups`` weighs against padding, and a caption batch read with the
  CPU's pass cost, the device's (``pass_cost_for``), the fitted one and in one pass;
- preparation with several threads (what feeding one GPU takes in CPU cores);
- bf16 autocast, for the capacity plan only: the product runs fp32;
- peak GPU memory.

Run: ``python -m bench.gpu [--device cuda] [--models-dir DIR] [--batches 1,8,32,64]``.
``--tiny DIR`` uses the tests' tiny models instead (a quick check of the script itself).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from adapters.models.analyzer import MoodAnalyzer, preparation_threads_for
from adapters.models.length_groups import CPU_PASS_COST, pass_cost_for
from adapters.models.nli_backend import ZeroShotCaptionReader
from adapters.models.options import ModelOptions
from bench.analyze_paths import checked
from bench.flops import median_seconds
from core.mood import AxisReading, Reading

BATCHES = (1, 8, 32, 64)
PASS_ROWS = (8, 32, 128)
PASS_LENGTHS = (16, 32, 64)
PREP_THREADS = (1, 2, 4, 8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models-dir", type=Path, help="build the full-size models here, reuse")
    parser.add_argument("--tiny", type=Path, help="use the tests' tiny models built here")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run this on a machine with a GPU", file=sys.stderr)
        return 2
    from bench.analyze import bench_models

    clip, nli = bench_models(args.tiny, args.models_dir or Path("/tmp/aidj-gpu-models"))
    batches = [int(size) for size in args.batches.split(",")]
    figures = measure(clip, nli, args.device, batches, args.runs)
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


# ---------------------------------------------------------------- measuring


def measure(clip: Path, nli: Path, device: str, batches: list[int], runs: int) -> dict[str, Any]:
    from bench.analyze import CAPTIONS, photo

    def options(where: str) -> ModelOptions:
        return ModelOptions(clip_model=str(clip), nli_model=str(nli), device=where)

    on_cpu = MoodAnalyzer.load(options("cpu"))
    on_device = MoodAnalyzer.load(options(device))
    photos = [photo(seed) for seed in range(max(batches))]
    items = [(data, CAPTIONS[n % len(CAPTIONS)]) for n, data in enumerate(photos)]
    figures: dict[str, Any] = {
        "device": _device_name(device),
        "device_kind": device,
        "host_threads": torch.get_num_threads(),
        "fidelity": _fidelity(on_cpu, on_device, items[: len(CAPTIONS)]),
    }
    del on_cpu
    prepare = functools.partial(_prepare, on_device)
    one_at_a_time = MoodAnalyzer(
        on_device.scorer, on_device.reader, on_device.options, preparation_threads=1
    )
    figures["preparation_threads"] = preparation_threads_for(device)
    figures["batches"] = {
        size: _batch_figures(on_device, one_at_a_time, items[:size], prepare, runs, device)
        for size in batches
    }
    figures["nli_pass"] = _pass_cost(on_device, runs, device)
    fitted = max(1, round(figures["nli_pass"]["pass_cost_tokens"]))
    captions = [caption for _, caption in items]
    figures["grouping"] = {
        size: _grouping(on_device, captions[:size], fitted, runs, device) for size in batches
    }
    figures["bf16"] = _bf16(on_device, items[: max(batches)], runs, device)
    figures["prep_threads"] = _prep_threads(prepare, photos, runs)
    if device.startswith("cuda"):
        figures["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return figures


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"{device} ({torch.get_num_threads()} threads)"


def _median_ms(run: Callable[[], object], runs: int, device: str) -> float:
    """``bench.flops.median_seconds`` of ``run`` with the device's queue drained each time,
    so the time is the work's and not only its launch."""

    def finished() -> None:
        run()
        _synchronise(device)

    return median_seconds(finished, runs) * 1000


def _synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _prepare(analyzer: MoodAnalyzer, data: bytes) -> torch.Tensor:
    """One upload to the model's input tensor, on the host, as ``analyze_batch`` does it."""
    prepared = analyzer._prepare((data, ""))
    if isinstance(prepared, Exception):
        raise prepared
    return analyzer.scorer._pixels([prepared[0]])


def _fidelity(
    on_cpu: MoodAnalyzer, on_device: MoodAnalyzer, items: list[tuple[bytes, str]]
) -> dict[str, float]:
    """How far the device moves the readings from the CPU's, on the same items."""
    cpu_readings = checked(on_cpu.analyze_batch(items))
    device_readings = checked(on_device.analyze_batch(items))
    category, axis, same = 0.0, 0.0, 0
    labels = 0
    for here, there in zip(cpu_readings, device_readings, strict=True):
        a, b = here.image.distribution, there.image.distribution
        category = max(category, *(abs(a[key] - b[key]) for key in a))
        same += here.image.category_id == there.image.category_id
        for x, y in (
            (here.text.valence, there.text.valence),
            (here.text.energy, there.text.energy),
        ):
            axis = max(axis, *(abs(x.scores[key] - y.scores[key]) for key in x.scores))
            labels += x.label == y.label
    return {
        "max_category_probability": category,
        "max_axis_probability": axis,
        "same_category": same,
        "same_axis_labels": labels,
        "items": len(items),
    }


def _axes(reading: Reading) -> tuple[AxisReading, AxisReading]:
    return reading.text.valence, reading.text.energy


def _batch_figures(
    analyzer: MoodAnalyzer,
    one_at_a_time: MoodAnalyzer,
    items: list[tuple[bytes, str]],
    prepare: Callable[[bytes], torch.Tensor],
    runs: int,
    device: str,
) -> dict[str, float]:
    total = _median_ms(lambda: checked(analyzer.analyze_batch(items)), runs, device)
    serial = _median_ms(lambda: checked(one_at_a_time.analyze_batch(items)), runs, device)
    preparation = _median_ms(lambda: [prepare(data) for data, _ in items], runs, "cpu")
    return {
        "ms": total,
        "per_second": len(items) / total * 1000,
        "serial_ms": serial,
        "serial_per_second": len(items) / serial * 1000,
        "serial_preparation_ms": preparation,
    }


def _pass_cost(analyzer: MoodAnalyzer, runs: int, device: str) -> dict[str, Any]:
    """Time one NLI forward pass per (rows, length) and fit ``fixed + per_token * tokens``:
    the fixed part over the per-token part is one pass's cost in tokens."""
    model = analyzer.reader.model
    vocabulary = model.config.vocab_size
    shapes, times = [], []
    for rows in PASS_ROWS:
        for length in PASS_LENGTHS:
            ids = torch.randint(5, vocabulary, (rows, length), device=device)
            mask = torch.ones_like(ids)

            def forward(ids: torch.Tensor = ids, mask: torch.Tensor = mask) -> object:
                with torch.inference_mode():
                    return model(input_ids=ids, attention_mask=mask).logits

            shapes.append(rows * length)
            times.append(_median_ms(forward, runs, device))
    fixed, per_token = _line(shapes, times)
    return {
        "fixed_ms": fixed,
        "per_1000_tokens_ms": per_token * 1000,
        "pass_cost_tokens": fixed / per_token if per_token > 0 else float("inf"),
        "samples": [{"tokens": tokens, "ms": ms} for tokens, ms in zip(shapes, times, strict=True)],
    }


def _line(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """Least-squares intercept and slope."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return mean_y - slope * mean_x, slope


def _grouping(
    analyzer: MoodAnalyzer, captions: list[str], fitted: int, runs: int, device: str
) -> dict[str, float]:
    """Reading a batch of captions grouped with the CPU's pass cost, the device's, the fitted
    one, and as one padded pass."""
    costs = {
        "cpu": CPU_PASS_COST,
        "device": pass_cost_for(device),
        "fitted": fitted,
        "one_pass": 10**9,
    }
    timings = {}
    for name, cost in costs.items():
        reader = ZeroShotCaptionReader(
            analyzer.reader.tokenizer, analyzer.reader.model, device, pass_cost=cost
        )
        timings[f"{name}_ms"] = _median_ms(functools.partial(reader.read, captions), runs, device)
    return timings


def _bf16(
    analyzer: MoodAnalyzer, items: list[tuple[bytes, str]], runs: int, device: str
) -> dict[str, Any]:
    """The largest batch under bf16 autocast: its speed and how far it moves the readings."""
    if not device.startswith("cuda"):
        return {"skipped": "bf16 autocast is measured on cuda only"}
    fp32 = checked(analyzer.analyze_batch(items))

    def run() -> list[Reading]:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return checked(analyzer.analyze_batch(items))

    try:
        half = run()
        ms = _median_ms(run, runs, device)
    except Exception as error:  # a figure of the report, not a product path
        return {"failed": f"{type(error).__name__}: {error}"}
    category = max(
        abs(a.image.distribution[key] - b.image.distribution[key])
        for a, b in zip(fp32, half, strict=True)
        for key in a.image.distribution
    )
    labels = sum(
        (a.text.valence.label == b.text.valence.label)
        + (a.text.energy.label == b.text.energy.label)
        for a, b in zip(fp32, half, strict=True)
    )
    return {
        "ms": ms,
        "per_second": len(items) / ms * 1000,
        "max_category_probability": category,
        "same_axis_labels": labels,
        "items": len(items),
    }


def _prep_threads(
    prepare: Callable[[bytes], torch.Tensor], photos: list[bytes], runs: int
) -> dict[int, float]:
    """Photos prepared per second with 1..8 threads (PIL decodes without the GIL), with
    torch's pixel work on one thread each, as several replicas' hosts would run it."""
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)
    rates = {}
    try:
        for threads in PREP_THREADS:
            with ThreadPoolExecutor(threads) as pool:
                ms = _median_ms(lambda pool=pool: list(pool.map(prepare, photos)), runs, "cpu")
            rates[threads] = len(photos) / ms * 1000
    finally:
        torch.set_num_threads(threads_before)
    return rates


# ---------------------------------------------------------------- the report


def report(figures: dict[str, Any]) -> str:
    fidelity = figures["fidelity"]
    lines = [
        f"device: {figures['device']}; host torch threads {figures['host_threads']}",
        f"fidelity vs CPU ({fidelity['items']} items): category probability "
        f"{fidelity['max_category_probability']:.2e}, axis probability "
        f"{fidelity['max_axis_probability']:.2e}, same category "
        f"{fidelity['same_category']}/{fidelity['items']}, same axis labels "
        f"{fidelity['same_axis_labels']}/{2 * fidelity['items']}",
        "",
        f"photos decoded on {figures['preparation_threads']} threads, against one at a time:",
        *_table(
            ["batch", "ms", "analyses/s", "one at a time: ms", "analyses/s", "its preparation ms"],
            figures["batches"],
            ["ms", "per_second", "serial_ms", "serial_per_second", "serial_preparation_ms"],
        ),
    ]
    cost = figures["nli_pass"]
    lines += [
        "",
        f"NLI pass: {cost['fixed_ms']:.2f} ms fixed + {cost['per_1000_tokens_ms']:.3f} ms per "
        f"1000 tokens: one pass costs {cost['pass_cost_tokens']:.0f} tokens "
        f"(the CPU's {CPU_PASS_COST}, this device's {pass_cost_for(figures['device_kind'])})",
        *_table(
            ["captions", "CPU's pass cost ms", "device's ms", "fitted ms", "one pass ms"],
            figures["grouping"],
            ["cpu_ms", "device_ms", "fitted_ms", "one_pass_ms"],
        ),
    ]
    half = figures["bf16"]
    if "ms" in half:
        lines.append(
            f"bf16 autocast, {half['items']} items: {half['ms']:.1f} ms ({half['per_second']:.1f}"
            f"/s), category probability moved {half['max_category_probability']:.2e}, axis "
            f"labels same {half['same_axis_labels']}/{2 * half['items']}"
        )
    else:
        lines.append(f"bf16 autocast: {half}")
    rates = ", ".join(f"{n}: {rate:.0f}/s" for n, rate in figures["prep_threads"].items())
    lines.append(f"photos prepared per second by threads: {rates}")
    if "peak_gpu_mib" in figures:
        lines.append(f"peak GPU memory: {figures['peak_gpu_mib']:.0f} MiB")
    return "\n".join(lines)


def _table(header: list[str], rows: dict[Any, dict[str, float]], keys: list[str]) -> list[str]:
    """A markdown table: one row per key of ``rows``, then its ``keys`` values."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in rows.items():
        lines.append("| " + " | ".join([str(name), *(f"{row[key]:.1f}" for key in keys)]) + " |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
