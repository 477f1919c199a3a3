"""`aidj eval CAPTIONS.csv`: how well the configured NLI model reads captions' two axes.

Prints, per model variant (fp32 and/or int8, as configured or asked for), the accuracy of
each axis, a confusion table (rows: the expected label, columns: the label read) and the
mean confidence of the labels read; with both variants, how often they agree. Only the NLI
model is loaded: the photo plays no part in the caption axes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import load_settings
from core.caption_eval import (
    AxisScore,
    LabelledCaption,
    agreement,
    load_labelled_captions,
    score_axes,
)
from core.mood import TextReading

_BATCH = 32  # captions per read: the length grouping works within it, memory stays small
_VARIANTS = {"none": ("fp32",), "int8": ("int8",), "both": ("fp32", "int8")}
_CORNER = "expected \\ read"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the eval command to the `aidj` parser."""
    parser = subparsers.add_parser(
        "eval", help="accuracy of the caption axes on a CSV of labelled captions"
    )
    parser.add_argument(
        "captions",
        type=Path,
        help="CSV with the columns caption, valence (positive/neutral/negative) and energy "
        "(energetic/neutral/calm), e.g. tests/data/caption_eval.csv",
    )
    parser.add_argument("--nli-model", help="NLI model id or local path (AIDJ_NLI_MODEL)")
    parser.add_argument(
        "--quantize",
        choices=sorted(_VARIANTS),
        help="fp32 (none), int8, or both side by side (default: AIDJ_QUANTIZE)",
    )
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from adapters.models.nli_backend import ZeroShotCaptionReader

    cases = load_labelled_captions(args.captions)
    settings = load_settings(nli_model=args.nli_model)
    variants = _VARIANTS[args.quantize or settings.quantize]
    print(f"{len(cases)} captions from {args.captions}; NLI model: {settings.nli_model}")
    readings: dict[str, list[TextReading]] = {}
    for variant in variants:
        reader = ZeroShotCaptionReader.load(
            settings.nli_model, settings.device, int8=variant == "int8"
        )
        readings[variant] = read_all(reader.read, cases)
        del reader  # one model in memory at a time
        print("\n".join(["", variant, *report_lines(score_axes(cases, readings[variant]))]))
    if len(readings) == 2:
        shares = agreement(readings["fp32"], readings["int8"])
        same = ", ".join(f"same {axis} label {share:.1%}" for axis, share in shares.items())
        print(f"\nint8 vs fp32: {same}")
    return 0


def read_all(
    read: Callable[[list[str]], list[TextReading]], cases: Sequence[LabelledCaption]
) -> list[TextReading]:
    """Readings of every case's caption, ``_BATCH`` captions per call of ``read``."""
    captions = [case.caption for case in cases]
    return [
        reading
        for start in range(0, len(captions), _BATCH)
        for reading in read(captions[start : start + _BATCH])
    ]


def report_lines(scores: Sequence[AxisScore]) -> list[str]:
    """Per axis: accuracy and mean confidence, then the confusion table."""
    lines = []
    for score in scores:
        names = [label.name for label in score.axis.labels]
        width = max(len(name) for name in names) + 2
        lines.append(
            f"  {score.axis.name:<8} accuracy {score.correct}/{score.total} = "
            f"{score.accuracy:.1%}   mean confidence {score.mean_confidence:.3f}"
        )
        header = "".join(f"{name:>{width}}" for name in names)
        lines.append(f"    {_CORNER:<{width + 6}}{header}")
        for expected in names:
            counts = "".join(f"{score.confusion[(expected, got)]:>{width}}" for got in names)
            lines.append(f"    {expected:<{width + 6}}{counts}")
    return lines
