"""Each chat's taste: a scene's base point moved by the nudges the chat keeps pressing on it.

Why: a chat that presses 🌙 on every rainy-day card wants its rainy days calmer; after a few
presses (``TasteRule.min_presses`` of the same nudge) its first card should already be
closer, so the base point it starts from moves by the chat's mean nudge on that scene.

The rule, per axis (valence: ☀️ +1 / 🌧 -1; energy: ⚡ +1 / 🌙 -1), over the chat's presses
on the scene (🔁 moves nothing and is left out):

- nothing moves until one nudge of that axis was pressed at least ``min_presses`` times;
- the shift is the mean of the axis' presses, each ``direction * step`` weighted by its age
  (``0.5 ** (age / half_life_days)``), so opposite presses cancel out and a taste left
  alone fades; the weights are not renormalised, which is what makes old presses count less;
- it is bounded to ``±max_shift`` and, applied to the base, stays within [0, 1];
- a shift too small to show on the card (under 0.005) is no shift.

Pure: the presses come from storage, ``now`` from the caller's clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from core.mood import MoodPoint
from core.steering import Action, direction
from core.tuning import clamp01

NO_TASTE = MoodPoint(0.0, 0.0)
SMALLEST_SHIFT = 0.005  # under this the card would show "+0.00": treated as no shift
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class TasteRule:
    """How presses become a shift (``AIDJ_TASTE_*`` settings; ``step`` is the nudge step)."""

    min_presses: int = 5  # of the same nudge before the axis moves; 0 turns taste off
    half_life_days: float = 14.0
    max_shift: float = 0.1  # per axis
    step: float = 0.15

    @property
    def enabled(self) -> bool:
        return self.min_presses > 0 and self.max_shift > 0


@dataclass(frozen=True)
class Press:
    """One nudge a chat pressed on a card of the scene, and when."""

    action: Action
    at: datetime


def chat_taste(presses: Iterable[Press], now: datetime, rule: TasteRule) -> MoodPoint:
    """The shift of the scene's base for the chat that made ``presses`` (``NO_TASTE`` when
    no nudge was pressed often enough)."""
    if not rule.enabled:
        return NO_TASTE
    pressed = list(presses)
    return MoodPoint(
        valence=_axis_shift(pressed, 0, now, rule),
        energy=_axis_shift(pressed, 1, now, rule),
    )


def with_taste(base: MoodPoint, shift: MoodPoint) -> tuple[MoodPoint, MoodPoint]:
    """``base`` moved by ``shift`` within [0, 1], and the shift that actually applied (less
    than asked near an edge; an axis whose move became too small to show is not moved)."""
    moved = []
    for value, delta in ((base.valence, shift.valence), (base.energy, shift.energy)):
        applied = clamp01(value + delta) - value
        moved.append(applied if abs(applied) >= SMALLEST_SHIFT else 0.0)
    applied_shift = MoodPoint(*moved)
    return MoodPoint(base.valence + moved[0], base.energy + moved[1]), applied_shift


def _axis_shift(presses: list[Press], axis: int, now: datetime, rule: TasteRule) -> float:
    on_axis = [(p, direction(p.action)[axis]) for p in presses if direction(p.action)[axis]]
    counts = Counter(p.action for p, _ in on_axis)
    if not counts or max(counts.values()) < rule.min_presses:
        return 0.0
    total = sum(way * rule.step * _weight(p.at, now, rule) for p, way in on_axis)
    shift = max(-rule.max_shift, min(rule.max_shift, total / len(on_axis)))
    return shift if abs(shift) >= SMALLEST_SHIFT else 0.0


def _weight(at: datetime, now: datetime, rule: TasteRule) -> float:
    age_days = max(0.0, (now - at).total_seconds() / _SECONDS_PER_DAY)
    return float(0.5 ** (age_days / rule.half_life_days))
