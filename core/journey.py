"""Journeys: a playlist that starts at the photo's mood and moves toward a destination.

Today's card sits around one point; a journey spreads its songs along a straight path on the
mood plane from the card's target (the photo's mood, after any nudges) to the destination's
end point, one song per step, in order (``core.paths``). Each destination's end is a function
of the start that never moves backwards on the axes it cares about, so every step of the
path is at least as close to the destination as the one before:

- lift (happier and livelier): valence up to 0.85 and energy up to 0.75 (never down);
- wind down (calmer): energy down to 0.25, valence as it is;
- focus (calm, neutral valence): energy down to 0.30, valence to 0.5;
- hype (more energy): energy up to 0.92, valence as it is.

The end values stay where the public catalogs still have songs in most scenes' genres (below
an energy of about 0.2 they thin out), so the songs keep close to their points on the path.

A journey is chosen by a button on the card, by ``/mood <destination>``, or by the caption
itself ("cheer me up", "help me sleep", "기분 전환하고 싶어"), when the NLI reader's
destination reading passes the threshold; ``Journey`` remembers which, so the card can say.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.mood import Destination, DestinationReading, MoodPoint
from core.paths import path_points

__all__ = [
    "FEEDBACK_PREFIX",
    "STAY",
    "Destination",
    "Journey",
    "JourneySource",
    "destination_emoji",
    "end_point",
    "journey_from_caption",
    "journey_path",
    "split_destination",
]

STAY = "stay"  # the journey control's value that goes back to a playlist around one point
FEEDBACK_PREFIX = "journey:"  # a journey press in the feedback log: "journey:lift"

_LIFT_VALENCE, _LIFT_ENERGY = 0.85, 0.75
_WIND_DOWN_ENERGY = 0.25
_FOCUS_VALENCE, _FOCUS_ENERGY = 0.5, 0.30
_HYPE_ENERGY = 0.92

_EMOJI: dict[Destination, str] = {
    Destination.LIFT: "🌈",
    Destination.WIND_DOWN: "🛌",
    Destination.FOCUS: "🎯",
    Destination.HYPE: "🚀",
}
STAY_EMOJI = "📍"

# What ``/mood <word>`` accepts for each destination (compared without case, spaces, "-"
# and "_", so "wind down", "Wind-Down" and "기분 전환" all count).
_WORDS: dict[Destination, frozenset[str]] = {
    Destination.LIFT: frozenset(
        {"lift", "liftmeup", "cheer", "cheermeup", "cheerup", "기분전환", "기분업", "기분up"}
    ),
    Destination.WIND_DOWN: frozenset(
        {"winddown", "calmdown", "unwind", "sleep", "relax", "진정", "휴식", "잠", "수면"}
    ),
    Destination.FOCUS: frozenset({"focus", "study", "concentrate", "집중", "공부"}),
    Destination.HYPE: frozenset({"hype", "hypeup", "pumpup", "pump", "텐션업", "신나게"}),
}
_LONGEST_WORDS = 3  # "lift me up", "cheer me up"


class JourneySource(StrEnum):
    """Who chose the journey, which the card says."""

    CAPTION = "caption"  # the NLI reader's destination reading passed the threshold
    CONTROL = "control"  # a journey button on the card
    COMMAND = "command"  # /mood <destination> (Telegram) or the slash command's option


@dataclass(frozen=True)
class Journey:
    """A request's journey: where it goes, who chose it and, when the caption did, with
    what confidence and from which words (the card quotes them as the reason)."""

    destination: Destination
    source: JourneySource
    confidence: float | None = None  # the caption's destination probability (CAPTION only)
    quote: str = ""  # the caption (CAPTION only)


def destination_emoji(destination: Destination) -> str:
    return _EMOJI[destination]


def end_point(destination: Destination, start: MoodPoint) -> MoodPoint:
    """Where a journey from ``start`` ends: each axis the destination cares about moves to
    its value unless ``start`` is already past it (then it stays)."""
    valence, energy = start.valence, start.energy
    if destination is Destination.LIFT:
        return MoodPoint(max(valence, _LIFT_VALENCE), max(energy, _LIFT_ENERGY))
    if destination is Destination.WIND_DOWN:
        return MoodPoint(valence, min(energy, _WIND_DOWN_ENERGY))
    if destination is Destination.FOCUS:
        return MoodPoint(_FOCUS_VALENCE, min(energy, _FOCUS_ENERGY))
    return MoodPoint(valence, max(energy, _HYPE_ENERGY))


def journey_path(start: MoodPoint, destination: Destination, n: int) -> list[MoodPoint]:
    """``n`` evenly spaced targets from ``start`` to the destination's end, one per song."""
    return path_points(start, end_point(destination, start), n)


def journey_from_caption(
    reading: DestinationReading | None, caption: str, threshold: float
) -> Journey | None:
    """The journey ``caption`` asks for: its destination reading's winner, when it names a
    destination with at least ``threshold`` probability."""
    if reading is None or reading.destination is None or reading.confidence < threshold:
        return None
    return Journey(reading.destination, JourneySource.CAPTION, reading.confidence, caption)


def split_destination(text: str) -> tuple[Destination | None, str]:
    """A destination named by the first words of ``text`` (``/mood lift rainy day``,
    ``/mood wind down``, ``/mood 기분전환``) and the rest of the text; ``(None, text)`` when
    the text does not start with one (it is all caption then)."""
    words = text.split()
    for count in range(min(_LONGEST_WORDS, len(words)), 0, -1):
        key = "".join(words[:count]).casefold().replace("-", "").replace("_", "")
        for destination, names in _WORDS.items():
            if key in names:
                return destination, " ".join(words[count:])
    return None, text
