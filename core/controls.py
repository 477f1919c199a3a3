"""A card's controls, platform-neutral: what each button does and how it is written down.

Both chat platforms put the same controls under a card (Telegram inline buttons, Discord
buttons), laid out by ``card_controls`` and carried as one string (Telegram's
``callback_data``, at most 64 bytes; Discord's ``custom_id``, at most 100 characters):

- ``aidj:<request>:<action>``: a steering press (regenerate or a nudge). This was the only
  format before other kinds of control existed, so cards already posted keep working.
- ``aidj:<request>:<kind>:<value>``: any other kind (``ControlKind``), e.g.
  ``aidj:42:scene:sunset`` (the card asked which of two scenes the photo shows),
  ``aidj:7:fit:up`` ("did it fit?": 👍, ``core.fit.Vote``) or ``aidj:7:journey:lift``
  (the songs move toward a destination, ``core.journey``).

The request id in the data is a *claim*: the flow resolves the request from the message the
control was pressed on and only checks the claim against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.categories import get_category
from core.fit import Vote
from core.journey import STAY, STAY_EMOJI, Destination, destination_emoji
from core.reply import PlaylistCard, destination_label
from core.steering import Action

PREFIX = "aidj"
MAX_DATA_BYTES = 64  # Telegram's callback_data limit (Discord allows 100)
_VALUE = re.compile(r"^[a-z0-9_\-]{1,32}$")


class ControlKind(StrEnum):
    STEER = "steer"  # value: an ``Action`` value
    SCENE = "scene"  # value: a category id, one of the two scenes a card offers
    FIT = "fit"  # value: a ``core.fit.Vote`` value ("up" / "down")
    JOURNEY = "journey"  # value: a ``Destination`` value, or ``STAY`` (no journey)


@dataclass(frozen=True)
class Control:
    """One press: which request it claims, what kind of control, and its value."""

    request_id: int
    kind: ControlKind
    value: str

    @classmethod
    def steer(cls, request_id: int, action: Action) -> Control:
        return cls(request_id, ControlKind.STEER, action.value)

    @classmethod
    def journey(cls, request_id: int, destination: Destination | None) -> Control:
        """Move the playlist toward ``destination``; None: back to one point (``STAY``)."""
        return cls(request_id, ControlKind.JOURNEY, destination.value if destination else STAY)

    @classmethod
    def scene(cls, request_id: int, category_id: str) -> Control:
        return cls(request_id, ControlKind.SCENE, category_id)

    @classmethod
    def fit(cls, request_id: int, vote: Vote) -> Control:
        return cls(request_id, ControlKind.FIT, vote.value)

    @property
    def vote(self) -> Vote | None:
        """The vote of a FIT control, else None."""
        if self.kind is not ControlKind.FIT:
            return None
        return Vote(self.value)

    @property
    def action(self) -> Action | None:
        """The steering action of a STEER control, else None."""
        if self.kind is not ControlKind.STEER:
            return None
        return Action(self.value)

    def encode(self) -> str:
        if self.kind is ControlKind.STEER:
            data = f"{PREFIX}:{self.request_id}:{self.value}"
        else:
            data = f"{PREFIX}:{self.request_id}:{self.kind.value}:{self.value}"
        if len(data.encode()) > MAX_DATA_BYTES:
            raise ValueError(f"control data over {MAX_DATA_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def parse(cls, data: str | None) -> Control | None:
        """The control written in ``data``, or None for anything not ours (another bot's
        format, a value this version does not know)."""
        parts = (data or "").split(":")
        if len(parts) not in (3, 4) or parts[0] != PREFIX or not parts[1].isdigit():
            return None
        if not all(_VALUE.match(part) for part in parts[2:]):
            return None
        request_id = int(parts[1])
        if len(parts) == 3:
            try:
                return cls.steer(request_id, Action(parts[2]))
            except ValueError:
                return None
        try:
            kind = ControlKind(parts[2])
        except ValueError:
            return None
        if kind is ControlKind.STEER:
            return None  # steering has its own, shorter form
        if kind is ControlKind.FIT and parts[3] not in {vote.value for vote in Vote}:
            return None
        if kind is ControlKind.JOURNEY and parts[3] not in {*Destination, STAY}:
            return None
        return cls(request_id, kind, parts[3])


@dataclass(frozen=True)
class ControlButton:
    """A control as a button: the short label on it (an emoji, or a word or two)."""

    control: Control
    label: str


def card_controls(card: PlaylistCard) -> list[list[ControlButton]]:
    """The card's buttons, row by row, the same on both platforms (Discord allows five rows
    of five, Telegram more; keep within Discord's)."""
    rows = [
        [ControlButton(Control.steer(card.request_id, action), action.emoji) for action in Action],
        [ControlButton(Control.fit(card.request_id, vote), vote.emoji) for vote in Vote],
    ]
    if card.scene_choices:  # the photo was a close call: which scene is it?
        rows.append(
            [
                ControlButton(
                    Control.scene(card.request_id, scene),
                    get_category(scene).label(card.language),
                )
                for scene in card.scene_choices
            ]
        )
    if not card.is_arc:  # an album's path is its photos': no journey to choose
        rows.append(_journey_row(card))
    return rows


def _journey_row(card: PlaylistCard) -> list[ControlButton]:
    """The four destinations (the current one ticked: pressing it again gives new songs
    along the same path) and, while on a journey, 📍 to go back to one point."""
    active = card.journey.destination if card.journey is not None else None
    row = [
        ControlButton(
            Control.journey(card.request_id, destination),
            ("✓ " if destination is active else "")
            + f"{destination_emoji(destination)} {destination_label(destination, card.language)}",
        )
        for destination in Destination
    ]
    if active is not None:
        label = f"{STAY_EMOJI} {destination_label(None, card.language)}"
        row.append(ControlButton(Control.journey(card.request_id, None), label))
    return row
