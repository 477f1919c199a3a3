"""Finding a card's row of one kind of control, wherever the layout puts it: a card's rows
grow with its features (scenes to pick, a journey), so tests look rows up by kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.controls import Control, ControlButton, ControlKind


def row_of(rows: Sequence[Sequence[ControlButton]], kind: ControlKind) -> list[ControlButton]:
    """The buttons of ``kind`` in ``core.controls.card_controls`` rows ([] when none)."""
    return [button for row in rows for button in row if button.control.kind is kind]


def data_row(rows: Sequence[Sequence[str]], kind: ControlKind) -> list[str]:
    """The control data (Telegram callback_data, Discord custom_id) of ``kind``."""
    return [data for row in rows for data in row if _kind(data) is kind]


def keyboard_row(keyboard: Sequence[Sequence[dict[str, Any]]], kind: ControlKind) -> list[dict]:
    """The buttons of ``kind`` in a Telegram ``inline_keyboard`` (as the Bot API got it)."""
    return [b for row in keyboard for b in row if _kind(b.get("callback_data")) is kind]


def _kind(data: str | None) -> ControlKind | None:
    control = Control.parse(data)
    return control.kind if control is not None else None
