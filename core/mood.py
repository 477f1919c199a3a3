"""What the models read from a photo and a caption, and the tuned result.

These are plain values so they cross process boundaries (the model worker) and serialise to
JSON (`aidj analyze --json`, the requests table) without any model code attached.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class CaptionLabel(StrEnum):
    """The labels the caption axes read (``core.text_axes``); the reply names them."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    ENERGETIC = "energetic"
    CALM = "calm"


class Destination(StrEnum):
    """Where a journey playlist moves to (``core.journey``): the caption's third reading
    names one, and so do the card's journey buttons and ``/mood lift``."""

    LIFT = "lift"  # happier and livelier
    WIND_DOWN = "wind_down"  # calmer
    FOCUS = "focus"  # calm, neutral valence
    HYPE = "hype"  # more energy


class BaseSource(StrEnum):
    """Where a base point came from: the anchor table, or the category's default values
    (no anchor table built yet, which the reply says)."""

    ANCHORS = "anchors"
    DEFAULTS = "defaults"


@dataclass(frozen=True)
class ImageReading:
    """CLIP's verdict: the best category, its probability and the whole distribution."""

    category_id: str
    confidence: float
    distribution: dict[str, float]


@dataclass(frozen=True)
class AxisReading:
    """One caption axis: the winning label, its direction (-1, 0, +1) and confidence."""

    label: CaptionLabel
    direction: int
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)

    @classmethod
    def neutral(cls) -> AxisReading:
        """The reading for an empty caption: nothing to move."""
        return cls(label=CaptionLabel.NEUTRAL, direction=0, confidence=1.0, scores={})


@dataclass(frozen=True)
class DestinationReading:
    """Whether the caption asks to be taken somewhere ("cheer me up", "help me sleep"): the
    best of the destination hypotheses and a "no change asked" one (``destination`` None when
    that one wins), with its probability and every hypothesis' (keyed by destination value,
    ``NO_DESTINATION`` for the last)."""

    destination: Destination | None
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)


NO_DESTINATION = "none"  # the key of the "no change asked" hypothesis in ``scores``


@dataclass(frozen=True)
class TextReading:
    valence: AxisReading
    energy: AxisReading
    # None: not read (an empty caption, or destination reading turned off)
    destination: DestinationReading | None = None

    @classmethod
    def neutral(cls) -> TextReading:
        return cls(valence=AxisReading.neutral(), energy=AxisReading.neutral())


@dataclass(frozen=True)
class MoodPoint:
    """A point in the valence/energy plane, both in [0, 1]."""

    valence: float
    energy: float


@dataclass(frozen=True)
class Reading:
    """What the model worker returns for one (photo, caption) request."""

    image: ImageReading
    text: TextReading


@dataclass(frozen=True)
class Analysis:
    """A reading placed on the plane: base values from the anchor, final values tuned."""

    reading: Reading
    base: MoodPoint
    final: MoodPoint
    seed_genres: tuple[str, ...]
    base_source: BaseSource
    # how far the chat's taste (``core.taste``) moved ``base`` from the scene's anchor; the
    # card says so. Zero for a chat without one, and outside chats (`aidj analyze`).
    taste: MoodPoint = MoodPoint(0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        """The `aidj analyze --json` object."""
        text = self.reading.text
        return {
            "category": self.reading.image.category_id,
            "category_confidence": self.reading.image.confidence,
            "categories": self.reading.image.distribution,
            "base": asdict(self.base),
            "base_source": self.base_source,
            "text": {
                "valence": _axis_json(text.valence),
                "energy": _axis_json(text.energy),
                **(
                    {"destination": _destination_json(text.destination)} if text.destination else {}
                ),
            },
            "final": asdict(self.final),
            "seed_genres": list(self.seed_genres),
        }


def _axis_json(axis: AxisReading) -> dict[str, Any]:
    return {"label": axis.label, "direction": axis.direction, "confidence": axis.confidence}


def _destination_json(reading: DestinationReading) -> dict[str, Any]:
    return {"destination": reading.destination, "confidence": reading.confidence}
