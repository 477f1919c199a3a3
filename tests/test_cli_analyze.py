"""`aidj analyze`: the JSON contract, the human output and bad input, on tiny models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from core.categories import CATEGORY_BY_ID
from core.mood import AxisReading
from core.tuning import tune_value
from tests.conftest import make_photo

KOREAN_CAPTION = "비가 오지만 오늘 좋은 일이 있어서 신나!"


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(make_photo((90, 90, 140)))
    return path


def model_args(tiny_models, tmp_path: Path) -> list[str]:
    return [
        "--clip-model", str(tiny_models.clip),
        "--nli-model", str(tiny_models.nli),
        "--db", str(tmp_path / "aidj.db"),
    ]  # fmt: skip


def test_json_output_has_the_documented_shape(tiny_models, tmp_path, photo_file, capsys):
    code = main(
        ["analyze", str(photo_file), KOREAN_CAPTION, "--json", *model_args(tiny_models, tmp_path)]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["category"] in CATEGORY_BY_ID
    assert 0 < result["category_confidence"] <= 1
    assert set(result["base"]) == {"valence", "energy"}
    assert result["base_source"] == "defaults"  # empty database: no anchor table yet
    for axis in ("valence", "energy"):
        reading = result["text"][axis]
        assert set(reading) == {"label", "direction", "confidence"}
        assert reading["direction"] in (-1, 0, 1)
        # final is exactly the formula applied to what was read
        expected = tune_value(
            result["base"][axis],
            AxisReading(reading["label"], reading["direction"], reading["confidence"]),
            0.5,
        )
        assert result["final"][axis] == pytest.approx(expected)


def test_same_input_gives_the_same_answer(tiny_models, tmp_path, photo_file, capsys):
    args = [
        "analyze",
        str(photo_file),
        "rainy but happy",
        "--json",
        *model_args(tiny_models, tmp_path),
    ]
    main(args)
    first = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == first


def test_human_output_names_scene_base_axes_and_final(tiny_models, tmp_path, photo_file, capsys):
    assert main(["analyze", str(photo_file), "", *model_args(tiny_models, tmp_path)]) == 0
    out = capsys.readouterr().out
    for heading in ("Scene:", "Base:", "Caption: valence neutral", "energy  neutral", "Final:"):
        assert heading in out
    # an empty caption is neutral, so final equals base
    base_line = next(line for line in out.splitlines() if line.startswith("Base:"))
    final_line = next(line for line in out.splitlines() if line.startswith("Final:"))
    assert base_line.split("(")[0].split(None, 1)[1].strip() == final_line.split(None, 1)[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"just some text, not a picture", "not an image"),
        (make_photo()[:200], "corrupt"),
    ],
    ids=["zero-bytes", "not-an-image", "truncated"],
)
def test_bad_photos_give_one_readable_line(tiny_models, tmp_path, capsys, content, message):
    path = tmp_path / "upload.jpg"
    path.write_bytes(content)
    code = main(["analyze", str(path), "hi", *model_args(tiny_models, tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("aidj: ") and len(err.strip().splitlines()) == 1
    assert message in err.lower()
    assert "Traceback" not in err


def test_a_broken_emoji_caption_gives_a_reading(tiny_models, tmp_path, photo_file, capsys):
    code = main(
        ["analyze", str(photo_file), "\ud83d", "--json", *model_args(tiny_models, tmp_path)]
    )
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["category"] in CATEGORY_BY_ID


def test_missing_photo_file(tiny_models, tmp_path, capsys):
    code = main(["analyze", str(tmp_path / "nope.jpg"), "hi", *model_args(tiny_models, tmp_path)])
    assert code == 1
    assert "no such file" in capsys.readouterr().err


def test_missing_model_is_a_clear_error(tmp_path, photo_file, capsys):
    absent = str(tmp_path / "absent")
    args = ["analyze", str(photo_file), "hi", "--clip-model", absent, "--nli-model", absent]
    code = main([*args, "--db", str(tmp_path / "a.db")])
    err = capsys.readouterr().err
    assert code == 1
    assert "absent" in err and "Traceback" not in err


def test_console_script_end_to_end_in_korean(tiny_models, tmp_path, photo_file):
    """The README's example, through the installed `aidj` entry point in a fresh process."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "analyze",
            str(photo_file),
            KOREAN_CAPTION,
            "--json",
            *model_args(tiny_models, tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert {"category", "category_confidence", "base", "text", "final"} <= set(result)


def test_console_script_reads_a_broken_emoji_argument(tiny_models, tmp_path, photo_file):
    """`aidj analyze photo.jpg $'\\ud83d'`: bash passes the half emoji as the bytes ED A0 BD,
    which Python turns into lone surrogates; the command still ends in a reading."""
    completed = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"bot.cli",
            b"analyze",
            bytes(photo_file),
            b"\xed\xa0\xbd",
            b"--json",
            *(arg.encode() for arg in model_args(tiny_models, tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["category"] in CATEGORY_BY_ID
