"""Asking the user when the photo is ambiguous: which of two close scenes it shows.

Why: the image sets the playlist's base point, so when CLIP's best two categories are
nearly tied (a beach at sunset reads as either), its verdict is little better than a coin
toss. The card then offers both scenes as buttons; the user's pick re-bases the playlist on
that scene's anchor, with the caption's reading applied again, so the choice changes the
mood the way the photo's own reading would have.

"Close" is a difference in probability of at most ``margin`` (``AIDJ_SCENE_CHOICE_MARGIN``,
0.10 by default; 0 never asks). Once a scene is chosen the question is not asked again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from core.categories import CATEGORY_BY_ID
from core.mood import Analysis, MoodPoint, Reading
from core.tuning import clamp01

DEFAULT_MARGIN = 0.10


def offered_scenes(distribution: Mapping[str, float], margin: float) -> tuple[str, str] | None:
    """The best two categories, best first, when their probabilities are within ``margin``
    of each other; None when one clearly wins (or ``margin`` is 0)."""
    known = [(p, c) for c, p in distribution.items() if c in CATEGORY_BY_ID]
    if margin <= 0 or len(known) < 2:
        return None
    (p1, first), (p2, second) = sorted(known, key=lambda pc: (-pc[0], pc[1]))[:2]
    return (first, second) if p1 - p2 <= margin else None


def chosen_reading(reading: Reading, category_id: str) -> Reading:
    """The reading with the user's scene in place of CLIP's pick (its probability as the
    confidence); the distribution and the caption's reading stay as read."""
    image = reading.image
    confidence = image.distribution.get(category_id, 0.0)
    return replace(reading, image=replace(image, category_id=category_id, confidence=confidence))


def keep_nudges(before: Analysis, target: MoodPoint, rebased: Analysis) -> MoodPoint:
    """The new target: the nudges made before the choice (``target`` minus the old final
    point) applied to the re-based final point, so "more energy" still counts."""
    return MoodPoint(
        valence=clamp01(rebased.final.valence + target.valence - before.final.valence),
        energy=clamp01(rebased.final.energy + target.energy - before.final.energy),
    )
