"""``/prefs`` on Discord: a slash command group whose subcommands are ``core.prefs``' words.

Discord shows the settings as subcommands with typed options (``/prefs language value:ko``),
so users pick from choices instead of remembering words; each subcommand is turned back into
the words Telegram users type (``language ko``) and handed to the same ``MoodFlow.prefs``,
so both platforms share one parser, one set of refusals and one set of replies. A value
outside the choices (a client that sends one anyway) gets the usage text like any bad word.

Answers are ephemeral (one's settings are nobody else's business) and mention nobody (an
artist's name is the user's text). In a server, Manage Messages or Administrator in the
channel makes one an admin of it (as for steering), so ``/prefs reset`` also forgets the
channel's taste; in a DM the user is the whole chat.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from adapters.chat.discord_actors import interaction_actor, interaction_language
from core.errors import AIDJError
from core.flow import MoodFlow
from core.reply import error_text

log = logging.getLogger(__name__)

_LANGUAGES = [
    app_commands.Choice(name="한국어 (ko)", value="ko"),
    app_commands.Choice(name="English (en)", value="en"),
    app_commands.Choice(name="auto", value="auto"),
]
_EXPLICIT = [
    app_commands.Choice(name="off (leave them out)", value="off"),
    app_commands.Choice(name="on (allow them)", value="on"),
]


class PrefsCommands(app_commands.Group):
    """``/prefs show|language|skip|unskip|explicit|reset``."""

    def __init__(self, flow: MoodFlow, platform: str) -> None:
        super().__init__(
            name="prefs",
            description="Your settings: reply language, artists to leave out, explicit tracks",
        )
        self._flow = flow
        self._platform = platform

    @app_commands.command(name="show", description="Show your settings")
    async def show(self, interaction: discord.Interaction) -> None:
        await self._answer(interaction, "")

    @app_commands.command(name="language", description="The language I answer you in")
    @app_commands.describe(value="ko, en, or auto (your app's language)")
    @app_commands.choices(value=_LANGUAGES)
    async def language(self, interaction: discord.Interaction, value: str) -> None:
        await self._answer(interaction, f"language {value}")

    @app_commands.command(name="skip", description="Leave an artist out of your playlists")
    @app_commands.describe(artist="The artist's name")
    async def skip(self, interaction: discord.Interaction, artist: str) -> None:
        await self._answer(interaction, f"skip {artist}")

    @app_commands.command(name="unskip", description="Let an artist back into your playlists")
    @app_commands.describe(artist="The artist's name")
    async def unskip(self, interaction: discord.Interaction, artist: str) -> None:
        await self._answer(interaction, f"unskip {artist}")

    @app_commands.command(name="explicit", description="Leave out explicit tracks, or allow them")
    @app_commands.describe(value="off: no explicit tracks; on: allowed")
    @app_commands.choices(value=_EXPLICIT)
    async def explicit(self, interaction: discord.Interaction, value: str) -> None:
        await self._answer(interaction, f"explicit {value}")

    @app_commands.command(
        name="reset", description="Back to the defaults (an admin also resets the chat's taste)"
    )
    async def reset(self, interaction: discord.Interaction) -> None:
        await self._answer(interaction, "reset")

    async def _answer(self, interaction: discord.Interaction, words: str) -> None:
        try:
            reply = await self._flow.prefs(interaction_actor(interaction, self._platform), words)
        except Exception as error:
            if not isinstance(error, AIDJError):
                log.exception("/prefs failed in channel %s", interaction.channel_id)
            language = await interaction_language(self._flow, interaction, self._platform)
            reply = error_text(error, language)
        try:
            await interaction.response.send_message(
                reply, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as error:  # expired (> 3 s) or already answered
            log.warning("could not answer /prefs: %s %s", error.status, error.text)
