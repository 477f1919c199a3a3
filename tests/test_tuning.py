"""The tuning rule, with the seed design's worked examples as the reference."""

import pytest

from core.categories import CATEGORIES
from core.mood import AxisReading, ImageReading, MoodPoint, Reading, TextReading
from core.tuning import place, shift, tune

RAINY_BASE = MoodPoint(valence=0.25, energy=0.30)


def reading(v_dir: int, v_conf: float, e_dir: int, e_conf: float) -> TextReading:
    v_label = {1: "positive", 0: "neutral", -1: "negative"}[v_dir]
    e_label = {1: "energetic", 0: "neutral", -1: "calm"}[e_dir]
    return TextReading(
        valence=AxisReading(v_label, v_dir, v_conf), energy=AxisReading(e_label, e_dir, e_conf)
    )


@pytest.mark.parametrize(
    ("v_conf", "e_conf", "expected"),
    [
        # "나가서 비를 맞으며 신나게 놀고 싶은 기분인걸!": positive 0.858, energetic 0.993
        (0.858, 0.993, (0.68, 0.80)),
        # "비가 와서 습하지만.. 뭐, 나쁘지 않아": positive 0.553, energetic 0.737
        (0.553, 0.737, (0.53, 0.67)),
    ],
)
def test_seed_worked_examples(v_conf: float, e_conf: float, expected: tuple[float, float]):
    final = tune(RAINY_BASE, reading(+1, v_conf, +1, e_conf), delta_max=0.5)
    assert (round(final.valence, 2), round(final.energy, 2)) == expected


def test_neutral_moves_nothing_whatever_its_confidence():
    assert tune(RAINY_BASE, reading(0, 0.99, 0, 0.99)) == RAINY_BASE


def test_negative_and_calm_move_down():
    final = tune(RAINY_BASE, reading(-1, 0.4, -1, 0.2), delta_max=0.5)
    assert final.valence == pytest.approx(0.05)
    assert final.energy == pytest.approx(0.20)


def test_result_is_clamped_to_the_unit_square():
    high = tune(MoodPoint(0.9, 0.95), reading(+1, 1.0, +1, 1.0), delta_max=0.5)
    low = tune(MoodPoint(0.1, 0.05), reading(-1, 1.0, -1, 1.0), delta_max=0.5)
    assert (high.valence, high.energy) == (1.0, 1.0)
    assert (low.valence, low.energy) == (0.0, 0.0)


def test_delta_max_bounds_the_move():
    axis = AxisReading("positive", +1, 1.0)
    assert shift(axis, 0.5) == 0.5
    assert shift(axis, 0.2) == pytest.approx(0.2)
    final = tune(RAINY_BASE, reading(+1, 1.0, 0, 0.0), delta_max=0.2)
    assert final.valence == pytest.approx(0.45)


def test_delta_max_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="delta_max"):
        tune(RAINY_BASE, TextReading.neutral(), delta_max=1.5)


def test_place_uses_the_category_genres_and_keeps_the_source():
    category = CATEGORIES[0]
    image = ImageReading(category.id, 0.963, {category.id: 0.963})
    analysis = place(Reading(image, reading(+1, 0.858, +1, 0.993)), RAINY_BASE, "anchors", 0.5)
    assert analysis.seed_genres == category.seed_genres
    assert analysis.base_source == "anchors"
    assert round(analysis.final.valence, 2) == 0.68
    as_json = analysis.to_json()
    assert as_json["category"] == category.id
    assert as_json["text"]["valence"] == {"label": "positive", "direction": 1, "confidence": 0.858}
    assert set(as_json["final"]) == {"valence", "energy"}
