"""The tables ``bench.analyze`` prints, from what its child processes measured."""

from __future__ import annotations

import os
from typing import Any

from bench.analyze_paths import limit_ms

# (key in the timing results, label, whole requests: compared with the naive path)
ROWS = (
    ("naive", "(a) naive: seed-style, 1 request", True),
    ("fp32 1", "(b) MoodAnalyzer, 1 request", True),
    ("fp32 batch", "(c) MoodAnalyzer, batch of 8, per request", True),
    ("int8 1", "(d) AIDJ_QUANTIZE=int8, 1 request", True),
    ("int8 batch", "(e) AIDJ_QUANTIZE=int8, batch of 8, per request", True),
    ("clip 1", "    CLIP, 1 photo incl. preparation", False),
    ("clip batch", "    CLIP, 8 photos incl. prep., per photo", False),
    ("nli 1", "    NLI, 1 caption (6 pairs)", False),
    ("nli batch", "    NLI, 8 captions, per caption", False),
    ("int8 nli 1", "    int8 NLI, 1 caption", False),
    ("int8 nli batch", "    int8 NLI, 8 captions, per caption", False),
    ("int8 clip 1", "    int8 CLIP, 1 photo incl. preparation", False),
    ("int8 clip batch", "    int8 CLIP, 8 photos incl. prep., per photo", False),
    ("onnx clip 1", "    CLIP on ONNX Runtime, 1 photo incl. prep.", False),
    ("onnx clip batch", "    CLIP on ONNX Runtime, 8 photos, per photo", False),
)


def report(timing: dict[str, Any], memory: dict[str, dict[str, Any]], runs: int) -> str:
    """The whole printout: conditions, the timing table, memory, fidelity."""
    ms, gemm, useful = timing["ms"], timing["gemm"], timing["useful"]
    batch = timing["work"]["fp32 batch"]["requests"]
    lines = [
        f"median of {runs} interleaved rounds after 1 warm-up; torch threads: "
        f"{timing['threads']}; {os.cpu_count()} CPUs; photos 1280x960 JPEG",
        "load average (1/5/15 min) at the end: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
        + " (other work on the machine skews timings)",
        "GEMM rate in the same rounds (a ViT-B/DeBERTa-base layer's Linear shapes), GFLOP/s "
        "fp32 / int8: " + _rates(gemm),
        f"useful NLI tokens (unpadded): 1 caption {useful['tokens_1']} (6 pairs), "
        f"{batch} captions {useful['tokens_all']}; transformers' DeBERTa would also spend "
        f"{timing['table_flops_per_pass'] / 1e9:.1f} GFLOP a pass projecting its position "
        "table (done once at load here)",
        "",
        f"{'path':<48} {'median ms':>9} {'vs naive':>8} {'useful GF':>9} {'done GF':>8} "
        f"{'limit ms':>8} {'x limit':>7}",
        f"{'-' * 48} {'-' * 9} {'-' * 8} {'-' * 9} {'-' * 8} {'-' * 8} {'-' * 7}",
    ]
    naive = ms["naive"]
    for key, label, whole in ROWS:
        lines.append(_row(key, label, timing, naive if whole else None))
    lines += [
        "",
        f"int8 vs fp32: NLI 1 caption {ms['nli 1'] / ms['int8 nli 1']:.2f}x faster, "
        f"{batch} captions {ms['nli batch'] / ms['int8 nli batch']:.2f}x; CLIP 1 photo "
        f"{ms['clip 1'] / ms['int8 clip 1']:.2f}x, {batch} photos "
        f"{ms['clip batch'] / ms['int8 clip batch']:.2f}x; a request "
        f"{ms['fp32 1'] / ms['int8 1']:.2f}x, a batch {ms['fp32 batch'] / ms['int8 batch']:.2f}x",
        f"ONNX Runtime vs torch (AIDJ_CLIP_RUNTIME), CLIP: 1 photo "
        f"{ms['clip 1'] / ms['onnx clip 1']:.2f}x faster, {batch} photos "
        f"{ms['clip batch'] / ms['onnx clip batch']:.2f}x",
        f"preparation alone (JPEG bytes -> CLIP's input): 1280x960 {ms['prep photo']:.1f} ms, "
        f"4032x3024 {ms['prep phone photo']:.1f} ms (decoding it at 1/8 scale alone, the "
        f"floor: {ms['decode floor phone photo']:.1f} ms)",
        f"whole batch of {batch}: fp32 {ms['fp32 batch']:.0f} ms, int8 {ms['int8 batch']:.0f} ms",
        "useful GF: Linear/Conv GFLOP on the real input (each NLI pair alone, unpadded); "
        "done GF: what a run computes (padding, re-encoded prompts, per-pass table work); "
        "limit: useful FLOPs at the GEMM rate measured above (the int8 rate for int8)",
        "",
        "resident memory (MiB, VmRSS), each analyzer in its own process:",
        f"{'':<14} {'after load':>10} {'after runs':>10} {'peak':>6} {'load s':>7}",
        *(_memory_line(kind, result) for kind, result in memory.items()),
        "",
        *_fidelity_lines(timing["fidelity"]),
    ]
    return "\n".join(lines)


def _row(key: str, label: str, timing: dict[str, Any], naive_ms: float | None) -> str:
    """One path, per request (per photo or caption for the parts)."""
    work = timing["work"][key]
    requests = work["requests"]
    ms = timing["ms"][key] / requests
    useful = sum(flops for _, flops, _, _ in work["parts"]) / requests / 1e9
    done = timing["done_flops"].get(key)
    done_text = f"{done / requests / 1e9:>8.1f}" if done is not None else f"{'':>8}"
    limit = limit_ms(work, timing["gemm"]) / requests
    versus = f"{naive_ms / ms:>7.2f}x" if naive_ms else f"{'':>8}"
    return (
        f"{label:<48} {ms:>9.1f} {versus} {useful:>9.1f} {done_text} {limit:>8.1f} "
        f"{ms / limit:>6.2f}x"
    )


def _rates(gemm: dict[str, float]) -> str:
    rows = sorted({int(key.split()[1]) for key in gemm})
    return ", ".join(
        f"{count} rows {gemm[f'fp32 {count}'] / 1e9:.0f} / {gemm[f'int8 {count}'] / 1e9:.0f}"
        for count in rows
    )


def _memory_line(kind: str, result: dict[str, Any]) -> str:
    name = {"naive": "naive", "fp32": "MoodAnalyzer", "int8": "int8"}[kind]
    return (
        f"{name:<14} {result['after_load']['now']:>10.0f} {result['after_runs']['now']:>10.0f} "
        f"{result['after_runs']['peak']:>6.0f} {result['load_s']:>7.1f}"
    )


def _fidelity_lines(fidelity: dict[str, Any]) -> list[str]:
    attention, pixels = fidelity["attention_vs_transformers"], fidelity["pixels_vs_processor"]
    int8, clip, onnx = fidelity["int8"], fidelity["int8_clip"], fidelity["onnx_clip"]
    agreement = ", ".join(f"{axis} {share:.1%}" for axis, share in int8["agreement"].items())
    return [
        "fidelity (random weights: numerical fidelity only, not accuracy):",
        "  NLI, batch grouped by length vs each caption alone: largest axis-probability "
        f"change {fidelity['grouped_vs_alone']:.1e}",
        "  NLI, relative_attention vs transformers' attention: largest logit change "
        f"{attention['max_abs']:.1e} (logits spread over {attention['spread']:.2f})",
        f"  CLIP, clip_pixels vs the image processor: input {pixels['mean_steps']:.3f}/255 "
        f"mean, {pixels['max_steps']:.1f}/255 at most; largest probability change "
        f"{pixels['max_probability']:.1e}; same top category "
        f"{pixels['same_top']}/{pixels['photos']}",
        f"  int8 vs fp32 NLI: largest entailment-logit change {int8['max_abs']:.3f} = "
        f"{int8['max_abs'] / int8['spread']:.1%} of their spread; same label on the "
        f"{int8['captions']} evaluation captions: {agreement} (median change "
        f"{int8['median_abs']:.4f} against a median margin of {int8['median_margin']:.4f} "
        "between an axis' two best hypotheses: random weights leave them close)",
        *(
            f"  {name} CLIP: largest probability change {found['max_probability']:.1e} "
            f"(probabilities spread over {found['spread']:.1e}); same top category "
            f"{found['same_top']}/{found['photos']}"
            for name, found in (("int8 vs fp32", clip), ("ONNX Runtime vs torch", onnx))
        ),
    ]
