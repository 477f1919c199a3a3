"""The design's tuning rule: the image anchors, the caption nudges.

``final = clamp(base + direction * delta_max * confidence, 0, 1)`` per axis. ``delta_max``
(0.5 by default) is the "safety lock": however sure the caption is, the music cannot leave
the image's context by more than that.
"""

from __future__ import annotations

from core.categories import get_category
from core.mood import Analysis, AxisReading, BaseSource, MoodPoint, Reading, TextReading

DEFAULT_DELTA_MAX = 0.5


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def shift(axis: AxisReading, delta_max: float) -> float:
    """How far one caption axis moves its value (0 for neutral)."""
    return axis.direction * delta_max * axis.confidence


def tune_value(base: float, axis: AxisReading, delta_max: float = DEFAULT_DELTA_MAX) -> float:
    return clamp01(base + shift(axis, delta_max))


def tune(base: MoodPoint, text: TextReading, delta_max: float = DEFAULT_DELTA_MAX) -> MoodPoint:
    """Apply the caption's nudge to the image's base point."""
    if not 0.0 <= delta_max <= 1.0:
        raise ValueError(f"delta_max must be within [0, 1], got {delta_max}")
    return MoodPoint(
        valence=tune_value(base.valence, text.valence, delta_max),
        energy=tune_value(base.energy, text.energy, delta_max),
    )


def place(
    reading: Reading,
    base: MoodPoint,
    base_source: BaseSource,
    delta_max: float = DEFAULT_DELTA_MAX,
) -> Analysis:
    """Put a model reading on the plane: the category's base point, tuned by the caption."""
    category = get_category(reading.image.category_id)
    return Analysis(
        reading=reading,
        base=base,
        final=tune(base, reading.text, delta_max),
        seed_genres=category.seed_genres,
        base_source=base_source,
    )
