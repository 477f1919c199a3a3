"""`aidj eval`: the labelled caption file, the scoring, and the command on the tiny model."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from core.caption_eval import (
    CaptionFileError,
    LabelledCaption,
    agreement,
    load_labelled_captions,
    score_axes,
)
from core.mood import AxisReading, TextReading
from tests.fixtures_models import tiny_models  # noqa: F401  (session fixture)

DEV_SET = Path(__file__).parent / "data" / "caption_eval.csv"
HANGUL = re.compile(r"[\uac00-\ud7af]")


def reading(valence: str, energy: str, confidence: float = 0.5) -> TextReading:
    def axis(label: str) -> AxisReading:
        return AxisReading(label=label, direction=0, confidence=confidence, scores={})

    return TextReading(valence=axis(valence), energy=axis(energy))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


# ---------------------------------------------------------------- the shipped development set


def test_the_development_set_is_bilingual_and_covers_every_label_pair():
    cases = load_labelled_captions(DEV_SET)
    assert len(cases) >= 80
    korean = [case for case in cases if HANGUL.search(case.caption)]
    assert len(korean) == len(cases) // 2
    pairs = Counter((case.expected["valence"], case.expected["energy"]) for case in cases)
    assert len(pairs) == 9
    assert min(pairs.values()) >= 8
    for pair in pairs:  # each pair in both languages
        in_korean = sum(
            bool(HANGUL.search(case.caption))
            for case in cases
            if (case.expected["valence"], case.expected["energy"]) == pair
        )
        assert 0 < in_korean < pairs[pair]
    assert len({case.caption for case in cases}) == len(cases)  # no duplicates


# ---------------------------------------------------------------- reading a file


def test_labels_are_read_case_insensitively_and_extra_columns_ignored(tmp_path):
    path = write_csv(
        tmp_path / "eval.csv",
        [["note", "energy", "caption", "valence"], ["x", "Calm ", "  quiet\tnight ", "NEGATIVE"]],
    )
    assert load_labelled_captions(path) == [
        LabelledCaption("quiet night", {"valence": "negative", "energy": "calm"})
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["caption", "valence"], ["hi", "positive"]], "missing: energy"),
        ([["caption", "valence", "energy"]], "holds no captions"),
        (
            [["caption", "valence", "energy"], ["ok", "positive", "calm"], ["hi", "happy", "calm"]],
            r"line 3: valence must be one of positive/neutral/negative, got 'happy'",
        ),
        ([["caption", "valence", "energy"], ["  ", "positive", "calm"]], "line 2: .*empty"),
    ],
)
def test_a_bad_file_names_what_is_wrong(tmp_path, rows, message):
    with pytest.raises(CaptionFileError, match=message):
        load_labelled_captions(write_csv(tmp_path / "eval.csv", rows))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CaptionFileError, match="no such file"):
        load_labelled_captions(tmp_path / "absent.csv")


# ---------------------------------------------------------------- scoring


def test_scores_count_accuracy_confusion_and_confidence():
    cases = [
        LabelledCaption("a", {"valence": "positive", "energy": "calm"}),
        LabelledCaption("b", {"valence": "negative", "energy": "calm"}),
        LabelledCaption("c", {"valence": "negative", "energy": "energetic"}),
    ]
    readings = [
        reading("positive", "calm", 0.9),
        reading("neutral", "calm", 0.6),
        reading("negative", "neutral", 0.3),
    ]
    valence, energy = score_axes(cases, readings)
    assert (valence.correct, valence.total) == (2, 3)
    assert valence.confusion[("negative", "neutral")] == 1
    assert valence.confusion[("negative", "negative")] == 1
    assert sum(valence.confusion.values()) == 3
    assert valence.mean_confidence == pytest.approx(0.6)
    assert energy.accuracy == pytest.approx(2 / 3)
    assert energy.confusion[("energetic", "neutral")] == 1
    assert agreement(readings, [reading("positive", "calm")] * 3) == {
        "valence": pytest.approx(1 / 3),
        "energy": pytest.approx(2 / 3),
    }


# ---------------------------------------------------------------- the command


def test_eval_prints_what_the_reader_reads(tiny_models, tmp_path, capsys):  # noqa: F811
    from adapters.models.nli_backend import ZeroShotCaptionReader

    cases = load_labelled_captions(DEV_SET)[::9]  # ten, over all label pairs
    rows = [["caption", "valence", "energy"]]
    rows += [[case.caption, case.expected["valence"], case.expected["energy"]] for case in cases]
    path = write_csv(tmp_path / "ten.csv", rows)
    code = main(["eval", str(path), "--nli-model", str(tiny_models.nli), "--quantize", "both"])
    out = capsys.readouterr().out
    assert code == 0
    reader = ZeroShotCaptionReader.load(str(tiny_models.nli))
    valence, energy = score_axes(cases, reader.read([case.caption for case in cases]))
    fp32 = out.split("\nfp32\n")[1].split("\nint8\n")[0]
    assert f"valence  accuracy {valence.correct}/10 " in fp32
    assert f"energy   accuracy {energy.correct}/10 " in fp32
    assert f"mean confidence {valence.mean_confidence:.3f}" in fp32
    assert "\nint8\n" in out and "int8 vs fp32: same valence label" in out
    table = fp32.splitlines()[2:5]  # valence rows: expected positive / neutral / negative
    assert [sum(map(int, line.split()[1:])) for line in table] == [
        sum(case.expected["valence"] == label for case in cases)
        for label in ("positive", "neutral", "negative")
    ]


def test_eval_of_a_bad_file_is_one_line_and_exit_1(tmp_path, capsys):
    path = write_csv(tmp_path / "bad.csv", [["caption", "mood"], ["hi", "happy"]])
    assert main(["eval", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("aidj: ") and "missing: valence, energy" in err
    assert err.count("\n") == 1
