"""How a ``PlaylistCard`` looks on Discord: an embed, the mood-plane picture, the message text,
and the controls as buttons (``adapters.chat.discord_controls``).

The wording comes from ``core.reply`` (shared with Telegram); this module only lays it out.
The playlist link also goes into the message content, because Discord unfurls a bare Spotify
link into a playable embed while links inside an embed's description stay plain links.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from adapters.chat.discord_controls import control_view
from core.journey import destination_emoji
from core.language import Language
from core.mood import Destination
from core.reply import (
    PlaylistCard,
    control_name,
    destination_name,
    destination_names,
    scene_question,
    summary_lines,
    text,
    title,
)
from core.steering import Action
from core.tracks import Track

PLANE_FILENAME = "mood.png"
EMBED_COLOUR = discord.Colour(0x1DB954)  # Spotify green
CONTROL_EMOJIS: tuple[str, ...] = tuple(action.emoji for action in Action)
_MAX_LINK_TEXT = 90  # keeps ten tracks far below the 4096-character description limit
_DESCRIPTION_LIMIT = 4096
_MARKDOWN_SIGNIFICANT = re.compile(r"[\\`*_~|>#\-\[\]()<:@]")

_HELP = {
    Language.EN: (
        "**AI DJ** turns a photo and a few words into ten songs that fit the moment.\n"
        "• Send me a photo in a DM, mention me with a photo in a server, or use "
        "`/mood photo: caption:`.\n"
        "• Several photos in one message (up to 10) give one playlist that follows them "
        "in order.\n"
        "• The caption is optional: it nudges the mood (brighter, darker, calmer, livelier).\n"
        "• Steer the reply with the buttons under it (or the same reactions): {controls}\n"
        "• Make it a journey that starts at the photo's mood and moves toward {journeys}: "
        "the last row of buttons, or `/mood journey:`.\n"
        "• When the photo could be either of two scenes, the card asks: pick one.\n"
        "• Did it fit? Press 👍 or 👎 under the card, or react with them (anyone can); "
        "`/stats` shows how well the playlists fit in this channel.\n"
        "• `/prefs`: your settings (reply language, artists to leave out, explicit tracks).\n"
        "Only the person who asked (or a moderator) can steer a playlist."
    ),
    Language.KO: (
        "**AI DJ**는 사진과 짧은 글로 지금 분위기에 맞는 노래 열 곡을 골라 줘요.\n"
        "• DM으로 사진을 보내거나, 서버에서 사진과 함께 저를 멘션하거나, "
        "`/mood photo: caption:`을 사용하세요.\n"
        "• 한 메시지에 사진을 여러 장(최대 10장) 올리면 사진 순서를 따라가는 플레이리스트 "
        "하나를 만들어요.\n"
        "• 캡션은 선택이에요. 분위기를 밝게, 어둡게, 차분하게, 신나게 조금 움직여요.\n"
        "• 카드 아래 버튼(또는 같은 반응)으로 조정해요: {controls}\n"
        "• 여정으로 만들 수도 있어요. 사진의 분위기에서 시작해 {journeys} 쪽으로 곡이 "
        "흘러가요: 맨 아래 줄 버튼, 또는 `/mood journey:`.\n"
        "• 사진이 두 장면 중 어느 쪽인지 애매하면 카드가 물어봐요. 하나를 골라 주세요.\n"
        "• 잘 맞았나요? 카드 아래 👍 또는 👎를 누르거나 반응해 주세요 (누구나 할 수 있어요). "
        "`/stats`로 이 채널의 적중률을 볼 수 있어요.\n"
        "• `/prefs`: 내 설정 (답장 언어, 제외할 아티스트, 성인용 곡).\n"
        "플레이리스트는 요청한 사람(또는 관리자)만 조정할 수 있어요."
    ),
}


@dataclass(frozen=True)
class RenderedCard:
    """What to send (or edit in) for one card. Build a fresh one per send: discord.py closes
    the ``discord.File`` after uploading it."""

    content: str | None
    embed: discord.Embed
    file: discord.File | None
    view: discord.ui.View  # the controls as buttons (``discord_controls``)

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Messageable.send``/``Message.reply``/``followup.send``."""
        kwargs: dict[str, Any] = {"embed": self.embed, "view": self.view}
        if self.content:
            kwargs["content"] = self.content
        if self.file is not None:
            kwargs["file"] = self.file
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``PartialMessage.edit`` and
        ``Interaction.edit_original_response``: replaces text, embed, picture and buttons."""
        return {
            "content": self.content,
            "embed": self.embed,
            "attachments": [self.file] if self.file is not None else [],
            "view": self.view,
        }


def render_card(card: PlaylistCard) -> RenderedCard:
    embed = discord.Embed(
        title=title(card),
        url=card.playlist_url or None,
        description=describe(card),
        colour=EMBED_COLOUR,
    )
    file = None
    if card.plane_png:
        file = discord.File(io.BytesIO(card.plane_png), filename=PLANE_FILENAME)
        embed.set_image(url=f"attachment://{PLANE_FILENAME}")
    return RenderedCard(
        content=card.playlist_url or None, embed=embed, file=file, view=control_view(card)
    )


def describe(card: PlaylistCard) -> str:
    """The embed description: the explanation, then the playlist link and the tracks."""
    lines = list(summary_lines(card))
    question = scene_question(card)
    if question:
        lines.append(f"**{question}**")
    lines.append("")
    if card.playlist_url:
        lines.append(f"**[{text('playlist', card.language)}]({card.playlist_url})**")
    if card.tracks:
        lines.extend(track_line(number, track) for number, track in enumerate(card.tracks, start=1))
    else:
        lines.append(text("no_tracks", card.language))
    description = "\n".join(lines)
    return description[:_DESCRIPTION_LIMIT]


def track_line(number: int, track: Track) -> str:
    """``1. [Artist - Title](https://open.spotify.com/track/ID)``, the text made safe for a
    markdown link."""
    label = f"{track.artist_line} - {track.name}"
    if len(label) > _MAX_LINK_TEXT:
        label = label[: _MAX_LINK_TEXT - 1] + "…"
    return f"{number}. [{_escape_link_text(label)}]({track.url})"


def help_text(language: Language) -> str:
    """The /help answer (not card wording, so it lives here rather than in core.reply)."""
    controls = " · ".join(f"{action.emoji} {control_name(action, language)}" for action in Action)
    return _HELP[language].format(controls=controls, journeys=destination_names(language))


def journey_choices() -> list[app_commands.Choice[str]]:
    """The slash command's ``journey`` choices: each destination's emoji and name, in Korean
    for Korean clients (Discord shows a choice's ``name_localizations`` by the user's
    locale)."""
    choices = []
    for destination in Destination:
        emoji = destination_emoji(destination)
        choice = app_commands.Choice(
            name=f"{emoji} {destination_name(destination, Language.EN)}",
            value=destination.value,
        )
        choice.name_localizations[discord.Locale.korean] = (
            f"{emoji} {destination_name(destination, Language.KO)}"
        )
        choices.append(choice)
    return choices


def _escape_link_text(value: str) -> str:
    """Every markdown-significant character escaped exactly once: Discord's markdown takes
    a backslash before any punctuation as that character, so a catalog name can neither
    close the link, nor start a link, a mention, a heading or emphasis of its own."""
    return _MARKDOWN_SIGNIFICANT.sub(r"\\\g<0>", value)
