"""How an analysis is kept in a row: the same columns in ``requests`` and ``album_photos``.

Why one place: both tables hold the picture's reading and where it put the request on the
mood plane (base, final, chat taste, seed genres). Written and read back in two places, the
two copies drifted (a scene choice rewrote the base but kept the old scene's taste).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.mood import Analysis, BaseSource, ImageReading, MoodPoint, Reading

IMAGE_COLUMNS = ("category_id", "category_confidence", "categories")
PLACEMENT_COLUMNS = (
    "base_valence",
    "base_energy",
    "base_source",
    "final_valence",
    "final_energy",
    "taste_valence",
    "taste_energy",
    "seed_genres",
)


def image_values(image: ImageReading) -> dict[str, object]:
    """``IMAGE_COLUMNS`` of ``image``."""
    return {
        "category_id": image.category_id,
        "category_confidence": image.confidence,
        "categories": json.dumps(image.distribution),
    }


def placement_values(analysis: Analysis) -> dict[str, object]:
    """``PLACEMENT_COLUMNS`` of ``analysis``: everything a new base (a scene choice) changes."""
    return {
        "base_valence": analysis.base.valence,
        "base_energy": analysis.base.energy,
        "base_source": analysis.base_source,
        "final_valence": analysis.final.valence,
        "final_energy": analysis.final.energy,
        "taste_valence": analysis.taste.valence,
        "taste_energy": analysis.taste.energy,
        "seed_genres": json.dumps(list(analysis.seed_genres)),
    }


def stored_image(row: Mapping[str, Any]) -> ImageReading:
    """The ``ImageReading`` kept in ``row``'s ``IMAGE_COLUMNS``."""
    return ImageReading(
        category_id=row["category_id"],
        confidence=row["category_confidence"],
        distribution=json.loads(row["categories"]),
    )


def stored_analysis(reading: Reading, row: Mapping[str, Any]) -> Analysis:
    """``reading`` placed where ``row``'s ``PLACEMENT_COLUMNS`` say."""

    def point(name: str) -> MoodPoint:
        return MoodPoint(row[f"{name}_valence"], row[f"{name}_energy"])

    return Analysis(
        reading=reading,
        base=point("base"),
        final=point("final"),
        seed_genres=tuple(json.loads(row["seed_genres"])),
        base_source=BaseSource(row["base_source"]),
        taste=point("taste"),
    )
