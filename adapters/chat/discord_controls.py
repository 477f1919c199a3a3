"""A card's controls as Discord buttons that keep working after a restart.

The buttons are ``core.controls.card_controls`` laid out row by row, each carrying its
control written as the ``custom_id`` (``Control.encode``). Why a ``DynamicItem`` rather than
a view kept in memory: discord.py matches every button press whose custom id fits
``ControlItem``'s template, on any message, to this class (registered once with
``client.add_dynamic_items``), so a card posted before a restart, or by another process of
the same bot, still answers. Nothing is remembered per message: the press names its
control, and the flow finds the request from the message it was pressed on.

A press is handed to the bot as the custom gateway-style event ``aidj_control``
(``client.dispatch``), with the interaction and the parsed control (None for a custom id in
our format that this version does not know, which the bot answers as unknown).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from core.controls import PREFIX, Control, ControlKind, card_controls
from core.reply import PlaylistCard

PRESS_EVENT = "aidj_control"  # the bot listens with ``on_aidj_control(interaction, control)``
# what ``Control.encode`` writes: aidj:<request>:<action> or aidj:<request>:<kind>:<value>
TEMPLATE = re.compile(rf"{PREFIX}:[0-9]+:[a-z0-9_\-]{{1,32}}(?::[a-z0-9_\-]{{1,32}})?")
_STYLES = {  # any other kind: secondary (grey), like the steering row
    ControlKind.SCENE: discord.ButtonStyle.primary,  # the card asks a question: stand out
}


class ControlItem(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """One control button; discord.py rebuilds it from the custom id of each press."""

    def __init__(
        self,
        custom_id: str,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=custom_id, style=style), row=row)
        self.control = Control.parse(custom_id)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ControlItem:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        interaction.client.dispatch(PRESS_EVENT, interaction, self.control)


def control_view(card: PlaylistCard) -> discord.ui.View:
    """The card's buttons (``card_controls``), one action row per row of controls. No
    timeout: the buttons outlive the view object, so nothing should expire."""
    view = discord.ui.View(timeout=None)
    for row_number, row in enumerate(card_controls(card)):
        for button in row:
            control = button.control
            view.add_item(
                ControlItem(
                    control.encode(),
                    button.label,
                    style=_STYLES.get(control.kind, discord.ButtonStyle.secondary),
                    row=row_number,
                )
            )
    return view
