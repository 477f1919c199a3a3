"""The reply's controls: regenerate, or nudge the target one step along an axis.

A nudge moves the *final* point (not the base) by a configurable step and clamps it, so
repeated presses walk the playlist further in that direction until the edge of the plane.
"""

from __future__ import annotations

from enum import Enum

from core.mood import MoodPoint
from core.tuning import clamp01


class Action(Enum):
    REGENERATE = "regenerate"
    MORE_ENERGY = "more_energy"
    CALMER = "calmer"
    HAPPIER = "happier"
    SADDER = "sadder"

    @property
    def emoji(self) -> str:
        return _EMOJI[self]

    @classmethod
    def from_emoji(cls, emoji: str) -> Action | None:
        """The action for a reaction emoji (variation selectors ignored), or None."""
        bare = emoji.replace("\ufe0f", "")
        for action, symbol in _EMOJI.items():
            if symbol.replace("\ufe0f", "") == bare:
                return action
        return None


_EMOJI: dict[Action, str] = {
    Action.REGENERATE: "🔁",
    Action.MORE_ENERGY: "⚡",
    Action.CALMER: "🌙",
    Action.HAPPIER: "☀️",
    Action.SADDER: "🌧",
}

# (valence, energy) direction of each nudge
_DIRECTION: dict[Action, tuple[int, int]] = {
    Action.REGENERATE: (0, 0),
    Action.MORE_ENERGY: (0, +1),
    Action.CALMER: (0, -1),
    Action.HAPPIER: (+1, 0),
    Action.SADDER: (-1, 0),
}


def direction(action: Action) -> tuple[int, int]:
    """Which way ``action`` moves the target: (valence, energy), each -1, 0 or +1."""
    return _DIRECTION[action]


def steer(point: MoodPoint, action: Action, step: float) -> MoodPoint:
    """The target after ``action``; regenerate keeps the point and only changes tracks."""
    dv, de = _DIRECTION[action]
    return MoodPoint(
        valence=clamp01(point.valence + dv * step), energy=clamp01(point.energy + de * step)
    )
