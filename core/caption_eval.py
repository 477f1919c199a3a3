"""Scoring caption readings against expected labels: the data behind `aidj eval`.

Why: the caption axes come from a zero-shot NLI model, so whether a model (or its int8
version) reads captions well is an empirical question; a file of captions with the labels a
person would give them answers it. The file is CSV with a header holding at least
``caption``, ``valence`` (positive/neutral/negative) and ``energy``
(energetic/neutral/calm); other columns are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.captions import normalize_caption
from core.errors import AIDJError
from core.mood import AxisReading, TextReading
from core.text_axes import TEXT_AXES, TextAxis

AXIS_NAMES = tuple(axis.name for axis in TEXT_AXES)


class CaptionFileError(AIDJError):
    """The evaluation file cannot be read or holds a row that is not a labelled caption."""


@dataclass(frozen=True)
class LabelledCaption:
    caption: str
    expected: dict[str, str]  # axis name -> label name


@dataclass(frozen=True)
class AxisScore:
    """How one axis was read over a file: accuracy, confusion and confidence."""

    axis: TextAxis
    correct: int
    total: int
    confusion: dict[tuple[str, str], int]  # (expected, read) -> count
    mean_confidence: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_labelled_captions(path: Path) -> list[LabelledCaption]:
    """The rows of ``path``; any unreadable file or bad row is a ``CaptionFileError`` that
    names the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from spreadsheet exports is fine
    except FileNotFoundError:
        raise CaptionFileError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CaptionFileError(f"cannot read {path}: {error}") from None
    rows = csv.DictReader(io.StringIO(text))
    missing = [name for name in ("caption", *AXIS_NAMES) if name not in (rows.fieldnames or [])]
    if missing:
        raise CaptionFileError(
            f"{path} needs a header with the columns caption, valence, energy "
            f"(missing: {', '.join(missing)})"
        )
    cases = [_case(row, path, rows.line_num) for row in rows]
    if not cases:
        raise CaptionFileError(f"{path} holds no captions")
    return cases


def _case(row: dict[str, str | None], path: Path, line: int) -> LabelledCaption:
    caption = normalize_caption(row.get("caption") or "")
    if not caption:
        raise CaptionFileError(f"{path}, line {line}: the caption is empty")
    expected = {}
    for axis in TEXT_AXES:
        label = (row.get(axis.name) or "").strip().lower()
        names = [choice.name for choice in axis.labels]
        if label not in names:
            raise CaptionFileError(
                f"{path}, line {line}: {axis.name} must be one of {'/'.join(names)}, got {label!r}"
            )
        expected[axis.name] = label
    return LabelledCaption(caption, expected)


def score_axes(
    cases: Sequence[LabelledCaption], readings: Sequence[TextReading]
) -> list[AxisScore]:
    """One score per axis (valence, energy) of ``readings`` (in ``cases`` order)."""
    scores = []
    for axis in TEXT_AXES:
        read = [_axis(reading, axis) for reading in readings]
        confusion: dict[tuple[str, str], int] = {
            (expected.name, got.name): 0 for expected in axis.labels for got in axis.labels
        }
        for case, axis_reading in zip(cases, read, strict=True):
            confusion[(case.expected[axis.name], axis_reading.label)] += 1
        correct = sum(confusion[(label.name, label.name)] for label in axis.labels)
        confidence = sum(reading.confidence for reading in read) / len(read) if read else 0.0
        scores.append(AxisScore(axis, correct, len(read), confusion, confidence))
    return scores


def agreement(first: Sequence[TextReading], second: Sequence[TextReading]) -> dict[str, float]:
    """Per axis, the share of captions two models gave the same label."""
    shares = {}
    for axis in TEXT_AXES:
        same = sum(
            _axis(a, axis).label == _axis(b, axis).label for a, b in zip(first, second, strict=True)
        )
        shares[axis.name] = same / len(first) if first else 0.0
    return shares


def _axis(reading: TextReading, axis: TextAxis) -> AxisReading:
    axis_reading: AxisReading = getattr(reading, axis.name)  # TextReading names its axes so
    return axis_reading
