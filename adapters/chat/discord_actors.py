"""Who acts on Discord, as the flow sees them (``core.flow.Actor``): one rule for who
moderates a channel (Manage Messages or Administrator there), for buttons, reactions and
slash commands alike; in a DM nobody moderates and the user is the whole chat. And the
language to answer an interaction's user in (their /prefs choice first)."""

from __future__ import annotations

from typing import Any

import discord

from core.flow import Actor, MoodFlow
from core.language import Language


def moderates(permissions: discord.Permissions) -> bool:
    """Whether these channel permissions make their holder an admin of the channel."""
    return permissions.administrator or permissions.manage_messages


def interaction_actor(interaction: discord.Interaction[Any], platform: str) -> Actor:
    """The user behind an interaction (a button press or a slash command), in its channel."""
    private = interaction.guild_id is None
    return Actor(
        platform=platform,
        chat_id=str(interaction.channel_id),
        user_id=str(interaction.user.id),
        is_admin=not private and moderates(interaction.permissions),
        locale=str(interaction.locale),
        private=private,
    )


async def interaction_language(
    flow: MoodFlow, interaction: discord.Interaction[Any], platform: str, text: str = ""
) -> Language:
    """The language to answer the interaction's user in: their /prefs choice, else their
    Discord client's."""
    return await flow.language_for(
        platform, str(interaction.user.id), str(interaction.locale), text
    )
