"""The Discord adapter: a photo (and an optional caption) in, a playlist card out.

It only translates Discord events into ``core.flow`` requests and renders the cards it gets
back (``adapters.chat.discord_render``); everything about moods lives behind ``MoodFlow``.

Where it listens
    * DMs: any message with an image attachment. Several images in one message (up to ten,
      in attachment order) are an album: one card whose playlist follows them.
    * Servers: a message with an image that mentions the bot (or its role), or any message
      with an image in one of ``enabled_channel_ids`` (and their threads).
    The text, with the bot's mention stripped, is the caption; a photo alone works too.
    Messages from bots (this one included) and messages without attachments are ignored,
    and so are unknown text commands ("!play ..."): the bot shares channels with people and
    other bots, and ``/help`` explains how to use it.

Intents
    The defaults plus ``message_content`` and ``reactions``. ``message_content`` is
    *privileged*: enable "Message Content Intent" for the bot (Developer Portal, Bot tab),
    otherwise Discord refuses the connection (close code 4014, logged here as an error).
    Without it the bot would still see DMs and mentions, but not photos posted in the
    enabled channels.

Slash commands
    ``/mood photo [caption] [photo2] [photo3] [photo4]`` (several photos: an album),
    ``/stats`` (how well this channel's playlists fit), ``/prefs ...`` (the user's settings,
    ``discord_prefs``) and ``/help``. With ``sync_commands`` the command tree is synced once,
    on the first ready: globally by default (Discord can take up to an hour to show new or
    changed global commands everywhere), or only to ``sync_guild_id`` (instant; use it while
    testing, since the guild copy shows up next to the global one). Commands belong to the
    application, not to a shard: with ``shards`` only the process running shard 0 syncs them.
    ``/mood`` takes an optional ``journey`` too: a choice of the destinations
    (``core.journey``), named in Korean for Korean clients.

Shards
    Without ``shards`` discord.py asks Discord how many shards the bot needs and runs them all
    in this process. With ``shards`` (``adapters.chat.discord_shards``) it runs just those, so
    several processes, on one machine or several, split the guilds between them.

Controls
    Each card carries its controls as buttons (``core.controls.card_controls``: the five
    steering actions, and the two scenes when the photo was a close call), laid out by
    ``adapters.chat.discord_controls``. They are persistent: discord.py matches a press to
    ``ControlItem`` by its custom id, so cards posted before a restart keep working. A press
    is acknowledged at once (a deferred update, within Discord's 3 s) and the card is then
    edited through the interaction; a refusal (someone else's card, too many presses, a
    message that is not a card) or a notice is an ephemeral reply, and changes nothing.

    Each card also gets five reactions (``core.steering.Action``). A reaction from the requester, or
    from someone with Manage Messages or Administrator in that channel, steers the playlist and
    the card is edited in place. Anyone else's reaction is removed when the bot may (Manage
    Messages) and otherwise ignored, without a reply, so a busy channel is not flooded. After a
    successful steer the presser's reaction is removed too (when allowed) so the same control
    can be pressed again. Reactions are handled from the raw gateway event, so they work on
    messages that are not in the cache (after a restart, or long after the reply).
    A 👍 or 👎 reaction from anyone in the channel is a vote ("did it fit?", ``core.fit``);
    removing it takes the vote back. The bot does not add those two itself (seven reactions
    under every card would bury it, and they are the reactions people use anyway), and
    leaves them in place: they are the visible vote.

Errors
    ``core.errors.AIDJError`` becomes a short reply in the user's language
    (``core.reply.error_text``); anything else is logged and answered with the generic text.
    No handler lets an exception escape into discord.py, and the token is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePath
from typing import Any

import discord
from discord import app_commands

from adapters.chat.discord_actors import interaction_actor, interaction_language, moderates
from adapters.chat.discord_controls import ControlItem
from adapters.chat.discord_prefs import PrefsCommands
from adapters.chat.discord_render import (
    CONTROL_EMOJIS,
    help_text,
    journey_choices,
    render_card,
)
from adapters.chat.discord_shards import ShardRange
from adapters.chat.notices import NoticeGate
from adapters.images import MAX_IMAGE_BYTES
from core.albums import MAX_PHOTOS
from core.controls import Control
from core.errors import (
    AIDJError,
    BadImageError,
    ConfigError,
    NotRequesterError,
    UnknownRequestError,
)
from core.fit import Vote
from core.fit_text import stats_text
from core.flow import (
    Actor,
    AlbumRequest,
    CardMessage,
    CardRequest,
    ImageFetch,
    MoodFlow,
    PhotoRequest,
    album_fetch,
)
from core.language import chat_locale_hint
from core.messages import ImageProblem, file_size
from core.mood import Destination
from core.reply import PlaylistCard, error_text
from core.steering import Action

log = logging.getLogger(__name__)

PLATFORM = "discord"
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"})
_STOP_TIMEOUT_S = 10.0
MAX_RATELIMIT_WAIT_S = 30.0  # a longer 429 wait fails the call (no call waits unbounded)


def is_image_attachment(attachment: discord.Attachment) -> bool:
    """Discord's content type when it has one, else the file extension."""
    if attachment.content_type:
        return attachment.content_type.lower().startswith("image/")
    return PurePath(attachment.filename).suffix.lower() in IMAGE_EXTENSIONS


def build_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = True  # privileged: see the module docstring
    intents.reactions = True
    return intents


@dataclass(frozen=True)
class DiscordOptions:
    """What the Discord adapter needs to know; built from the settings by the wiring."""

    token: str | None = field(default=None, repr=False)
    max_image_bytes: int = MAX_IMAGE_BYTES
    enabled_channel_ids: frozenset[int] = frozenset()  # answer any photo here
    sync_commands: bool = True
    sync_guild_id: int | None = None  # sync slash commands to one guild (instant)
    shards: ShardRange | None = None  # None: every shard the bot needs, in this process


class DiscordBot:
    """A sharding-ready Discord client wired to a ``MoodFlow``; ``start``/``stop`` let it run
    next to other bots in one event loop."""

    def __init__(self, flow: MoodFlow, options: DiscordOptions) -> None:
        self.flow = flow
        self.options = options
        self.client = discord.AutoShardedClient(
            intents=build_intents(),
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            **_sharding(options.shards),
        )
        self.tree = app_commands.CommandTree(self.client)
        self._register_commands()
        for handler in (
            self.on_ready,
            self.on_message,
            self.on_raw_reaction_add,
            self.on_aidj_control,
            self.on_raw_reaction_remove,
        ):
            self.client.event(handler)
        self.client.add_dynamic_items(ControlItem)  # presses on any card, restarts included
        self._synced = False
        self._logged_in = False
        self._closing = False
        self._in_flight: set[asyncio.Task[object]] = set()
        self._connection: asyncio.Task[None] | None = None
        self._notices = NoticeGate()

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self, token: str | None = None) -> None:
        """Log in (raising ConfigError for a missing or rejected token), then keep the gateway
        connection running in a background task and return."""
        token = token or self.options.token
        if not token:
            raise ConfigError("DISCORD_TOKEN is not set")
        try:
            await self.client.login(token)
        except BaseException as error:
            with contextlib.suppress(Exception):
                await self.client.close()
            if isinstance(error, discord.LoginFailure):
                raise ConfigError("Discord rejected DISCORD_TOKEN") from None
            raise
        self._logged_in = True
        self._connection = asyncio.create_task(self._run_gateway(), name="discord-gateway")

    async def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking new photos, let replies in progress finish (up to ``grace_s``), then
        close the gateway and HTTP sessions; safe to call twice or before ``start``."""
        if not self._logged_in:
            return
        self._closing = True
        if self._in_flight:
            log.info("waiting for %d Discord repl(ies) in progress", len(self._in_flight))
            await asyncio.wait(set(self._in_flight), timeout=grace_s)
        await self.client.close()
        task, self._connection = self._connection, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, _STOP_TIMEOUT_S)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()

    async def wait_until_ready(self) -> None:
        await self.client.wait_until_ready()

    @property
    def running(self) -> bool:
        return self._connection is not None and not self._connection.done()

    @property
    def connected(self) -> bool:
        """Logged in with the gateway ready (for a health check)."""
        return self.running and self.client.is_ready() and not self.client.is_closed()

    async def _run_gateway(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except discord.PrivilegedIntentsRequired:
            log.error(
                "Discord refused the connection: enable the Message Content Intent for this "
                "bot in the Developer Portal (Bot tab)"
            )
        except Exception:
            log.exception("the Discord gateway connection stopped")

    # ---- events --------------------------------------------------------------------------

    async def on_ready(self) -> None:
        user = self.client.user
        log.info(
            "Discord: logged in as %s (%s), shards %s, %d guild(s)",
            user,
            user.id if user else "?",
            self.options.shards or ShardRange.every(self.client.shard_count or 1),
            len(self.client.guilds),
        )
        if self.syncs_commands and not self._synced:
            self._synced = True
            await self._sync_commands()

    @property
    def syncs_commands(self) -> bool:
        """Whether this process syncs the slash commands: one process per bot does (the
        one with shard 0), not every process that runs some of its shards."""
        shards = self.options.shards
        return self.options.sync_commands and (shards is None or shards.runs_shard_zero)

    async def _sync_commands(self) -> None:
        try:
            if self.options.sync_guild_id is not None:
                guild = discord.Object(id=self.options.sync_guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d slash command(s) to guild %s", len(synced), guild.id)
            else:
                synced = await self.tree.sync()
                log.info("synced %d global slash command(s) (may take up to an hour)", len(synced))
        except discord.HTTPException as error:
            log.warning("could not sync slash commands: %s %s", error.status, error.text)

    async def on_message(self, message: discord.Message) -> None:
        if self._closing or message.author.bot or not message.attachments:
            return
        if not self._addressed_to_me(message):
            return
        with self._working():
            await self._answer_photo(message)

    async def _answer_photo(self, message: discord.Message) -> None:
        caption = self._caption(message)
        locale = chat_locale_hint(_guild_locale(message.guild), caption)
        max_bytes = self.options.max_image_bytes
        sent: list[discord.Message] = []

        async def send(card: PlaylistCard) -> str:
            reply = render_card(card).send_kwargs()
            sent.append(await message.reply(mention_author=False, **reply))
            return str(sent[-1].id)

        images = [a for a in message.attachments if is_image_attachment(a)]
        try:
            request = _card_request(
                images[:MAX_PHOTOS] or message.attachments[:1],
                max_bytes,
                chat_id=str(message.channel.id),
                user_id=str(message.author.id),
                caption=caption,
                locale=locale,
            )
            async with message.channel.typing():
                card = await self.flow.recommend(request, send)
        except Exception as error:
            _log_unexpected(error, "photo message", message.channel.id, message.author.id)
            if self._notices.for_photo(error, message.channel.id, message.author.id):
                language = await self.flow.language_for(
                    PLATFORM, str(message.author.id), locale, caption
                )
                with _quietly("error reply", message.channel.id):
                    await message.reply(error_text(error, language), mention_author=False)
            return
        await self._add_controls(card, message.channel.id, sent[-1].id)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        me = self.client.user
        if self._closing or me is None or payload.user_id == me.id:
            return
        if payload.member is not None and payload.member.bot:
            return
        if _vote_of(payload) is not None:
            await self.on_vote(payload, on=True)
            return
        action = (
            Action.from_emoji(payload.emoji.name or "")
            if payload.emoji.is_unicode_emoji()
            else None
        )
        if action is None:
            return
        try:
            with self._working():
                await self._steer(payload, action)
        except Exception as error:  # last resort: nothing escapes into discord.py
            _log_unexpected(error, "reaction", payload.channel_id, payload.user_id)

    async def on_aidj_control(
        self, interaction: discord.Interaction[Any], control: Control | None
    ) -> None:
        """A press on a card's button (``discord_controls.PRESS_EVENT``)."""
        if self._closing:
            return
        try:
            with self._working():
                await self._press(interaction, control)
        except Exception as error:  # last resort: nothing escapes into discord.py
            _log_unexpected(error, "button", interaction.channel_id, interaction.user.id)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction taken away: only a 👍 / 👎 means something (the vote taken back)."""
        me = self.client.user
        if self._closing or me is None or payload.user_id == me.id:
            return
        if _vote_of(payload) is not None:
            await self.on_vote(payload, on=False)

    async def on_vote(self, payload: discord.RawReactionActionEvent, *, on: bool) -> None:
        """A 👍 / 👎 added or removed on one of our cards: the reacting user's vote. Refused
        or failed votes are logged, never answered in the channel."""
        vote = _vote_of(payload)
        assert vote is not None
        card = CardMessage(PLATFORM, str(payload.channel_id), str(payload.message_id))
        actor = Actor(platform=PLATFORM, chat_id=card.chat_id, user_id=str(payload.user_id))
        try:
            with self._working():
                if await self.flow.request_for_message(PLATFORM, card.chat_id, card.message_id):
                    await self.flow.vote(card, actor, vote, on=on)
        except Exception as error:
            _log_unexpected(error, "vote", payload.channel_id, payload.user_id)

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        """Count the current handler as a reply in progress, for a graceful ``stop``."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._in_flight.discard(task)

    # ---- slash commands ------------------------------------------------------------------

    def _register_commands(self) -> None:
        bot = self

        @self.tree.command(name="mood", description="A playlist for the mood of a photo")
        @app_commands.describe(
            photo="The photo (JPEG, PNG, WebP or GIF)",
            caption="How you feel, in a few words (optional)",
            photo2="A second photo: the playlist follows the photos in order (optional)",
            photo3="A third photo (optional)",
            photo4="A fourth photo (optional)",
            journey="Start at the photo's mood and move toward this (optional)",
        )
        @app_commands.choices(journey=journey_choices())
        async def mood(
            interaction: discord.Interaction,
            photo: discord.Attachment,
            caption: str | None = None,
            photo2: discord.Attachment | None = None,
            photo3: discord.Attachment | None = None,
            photo4: discord.Attachment | None = None,
            journey: str | None = None,
        ) -> None:
            photos = [p for p in (photo, photo2, photo3, photo4) if p is not None]
            with bot._working():
                await bot._on_mood_command(
                    interaction, photos, caption or "", _destination(journey)
                )

        @self.tree.command(name="stats", description="How well the playlists fit in this channel")
        async def stats_command(interaction: discord.Interaction) -> None:
            await bot._on_stats_command(interaction)

        self.tree.add_command(PrefsCommands(self.flow, PLATFORM))

        @self.tree.command(name="help", description="How to use AI DJ")
        async def help_command(interaction: discord.Interaction) -> None:
            language = await interaction_language(bot.flow, interaction, PLATFORM)
            with _quietly("help reply", interaction.channel_id):
                await interaction.response.send_message(help_text(language), ephemeral=True)

    async def _on_stats_command(self, interaction: discord.Interaction) -> None:
        """``/stats``: this channel's cards, fit rate per scene, most pressed controls."""
        language = await interaction_language(self.flow, interaction, PLATFORM)
        channel_id = interaction.channel_id
        try:
            stats = await self.flow.chat_stats(PLATFORM, str(channel_id))
            answer = stats_text(stats, language)
        except Exception as error:
            _log_unexpected(error, "/stats", channel_id, interaction.user.id)
            answer = error_text(error, language)
        with _quietly("/stats reply", channel_id):
            await interaction.response.send_message(answer)

    async def _on_mood_command(
        self,
        interaction: discord.Interaction,
        photos: list[discord.Attachment],
        caption: str,
        journey: Destination | None = None,
    ) -> None:
        locale = str(interaction.locale)
        channel_id = interaction.channel_id
        max_bytes = self.options.max_image_bytes
        sent: list[discord.WebhookMessage] = []

        async def send(card: PlaylistCard) -> str:
            followup = render_card(card).send_kwargs()
            sent.append(await interaction.followup.send(wait=True, **followup))
            return str(sent[-1].id)

        try:
            await interaction.response.defer(thinking=True)
        except discord.HTTPException as error:  # expired (> 3 s) or already answered
            log.warning("could not defer /mood: %s %s", error.status, error.text)
            return
        try:
            request = _card_request(
                photos,
                max_bytes,
                chat_id=str(channel_id),
                user_id=str(interaction.user.id),
                caption=caption,
                locale=locale,
                journey=journey,
            )
            card = await self.flow.recommend(request, send)
        except Exception as error:
            _log_unexpected(error, "/mood", channel_id, interaction.user.id)
            language = await interaction_language(self.flow, interaction, PLATFORM, caption)
            with _quietly("/mood error reply", channel_id):  # answers the deferral: always
                await interaction.followup.send(error_text(error, language))
            return
        if channel_id is not None:
            await self._add_controls(card, channel_id, sent[-1].id)

    # ---- controls ------------------------------------------------------------------------

    async def _add_controls(self, card: PlaylistCard, channel_id: int, message_id: int) -> None:
        """React with the controls (the flow already linked the message to its request, so
        an early press finds it)."""
        message = self._partial_message(channel_id, message_id)
        for emoji in CONTROL_EMOJIS:
            try:
                await message.add_reaction(emoji)
            except discord.HTTPException as error:
                log.warning(
                    "could not add controls in channel %s: %s %s",
                    channel_id,
                    error.status,
                    error.text,
                )
                return

    async def _steer(self, payload: discord.RawReactionActionEvent, action: Action) -> None:
        """A control reaction. The card is the message reacted on; the flow refuses anyone
        but the requester or a moderator of that channel, and runs presses one at a time."""
        card = CardMessage(PLATFORM, str(payload.channel_id), str(payload.message_id))
        if await self.flow.request_for_message(PLATFORM, card.chat_id, card.message_id) is None:
            return  # not one of our cards
        locale = _guild_locale(self.client.get_guild(payload.guild_id or 0))
        actor = Actor(
            platform=PLATFORM,
            chat_id=card.chat_id,
            user_id=str(payload.user_id),
            is_admin=self._may_moderate(payload),
            locale=locale,
        )
        message = self._partial_message(payload.channel_id, payload.message_id)

        async def edit(new_card: PlaylistCard) -> None:
            await message.edit(**render_card(new_card).edit_kwargs())

        try:
            await self.flow.steer(card, action, actor, edit)
        except (NotRequesterError, UnknownRequestError):
            log.debug("ignored a control from a non-requester in %s", payload.channel_id)
        except Exception as error:
            _log_unexpected(error, "steer", payload.channel_id, payload.user_id)
            if self._notices.for_control(payload.channel_id, payload.user_id):
                language = await self.flow.language_for(PLATFORM, actor.user_id, locale)
                with _quietly("steer error reply", payload.channel_id):
                    await message.reply(error_text(error, language), mention_author=False)
        await self._remove_reaction(payload)

    async def _press(self, interaction: discord.Interaction[Any], control: Control | None) -> None:
        """A button. The card is the message it is on (the request id in the custom id is
        only a claim the flow checks); the flow refuses anyone but the requester or a
        moderator of that channel before any work, then acknowledges the press (a deferred
        update) and edits the card through the interaction."""
        message, channel_id = interaction.message, interaction.channel_id
        if control is None or message is None or channel_id is None:
            language = await interaction_language(self.flow, interaction, PLATFORM)
            await _tell(interaction, error_text(UnknownRequestError(), language))
            return
        card = CardMessage(PLATFORM, str(channel_id), str(message.id))
        actor = interaction_actor(interaction, PLATFORM)

        async def acknowledge() -> None:
            await interaction.response.defer()  # type 6: the card itself will change

        async def edit(new_card: PlaylistCard) -> None:
            await interaction.edit_original_response(**render_card(new_card).edit_kwargs())

        try:
            pressed = await self.flow.press(card, control, actor, edit, acknowledge=acknowledge)
        except Exception as error:
            _log_unexpected(error, "button", channel_id, interaction.user.id)
            language = await interaction_language(self.flow, interaction, PLATFORM)
            await _tell(interaction, error_text(error, language))
            return
        if pressed.notice:
            await _tell(interaction, pressed.notice)
        elif not interaction.response.is_done():  # a press that needed no acknowledgement
            with _quietly("button acknowledgement", channel_id):
                await interaction.response.defer()

    def _may_moderate(self, payload: discord.RawReactionActionEvent) -> bool:
        """Manage Messages or Administrator where the reaction was made (guilds only)."""
        member = payload.member
        if member is None:
            return False
        channel = member.guild.get_channel_or_thread(payload.channel_id)
        permissions = (
            channel.permissions_for(member) if channel is not None else member.guild_permissions
        )
        return moderates(permissions)

    async def _remove_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        """Take a control press back, where the bot has Manage Messages (never in DMs)."""
        guild = self.client.get_guild(payload.guild_id or 0)
        if guild is None or guild.me is None:
            return
        channel = guild.get_channel_or_thread(payload.channel_id)
        if channel is None or not channel.permissions_for(guild.me).manage_messages:
            return
        message = self._partial_message(payload.channel_id, payload.message_id)
        with _quietly("reaction removal", payload.channel_id):
            await message.remove_reaction(payload.emoji, discord.Object(id=payload.user_id))

    def _partial_message(self, channel_id: int, message_id: int) -> discord.PartialMessage:
        return self.client.get_partial_messageable(channel_id).get_partial_message(message_id)

    # ---- message helpers -----------------------------------------------------------------

    def _addressed_to_me(self, message: discord.Message) -> bool:
        if message.guild is None:
            return True
        channel = message.channel
        if channel.id in self.options.enabled_channel_ids:
            return True
        if getattr(channel, "parent_id", None) in self.options.enabled_channel_ids:
            return True
        me = self.client.user
        if me is not None and any(user.id == me.id for user in message.mentions):
            return True
        own_role = message.guild.self_role
        return own_role is not None and own_role in message.role_mentions

    def _caption(self, message: discord.Message) -> str:
        content = message.content
        me = self.client.user
        if me is not None:
            content = re.sub(rf"<@!?{me.id}>", " ", content)
        if message.guild is not None and message.guild.self_role is not None:
            content = content.replace(message.guild.self_role.mention, " ")
        return " ".join(content.split())


def _vote_of(payload: discord.RawReactionActionEvent) -> Vote | None:
    """The vote a reaction stands for (👍 / 👎, any skin tone), or None."""
    if not payload.emoji.is_unicode_emoji():
        return None
    return Vote.from_emoji(payload.emoji.name or "")


def _sharding(shards: ShardRange | None) -> dict[str, Any]:
    """The client's shard arguments: none lets discord.py ask Discord for the count."""
    if shards is None:
        return {}
    return {"shard_ids": list(shards.ids), "shard_count": shards.count}


def _card_request(
    photos: list[discord.Attachment],
    max_bytes: int,
    *,
    chat_id: str,
    user_id: str,
    caption: str,
    locale: str | None,
    journey: Destination | None = None,
) -> CardRequest:
    """The request for ``photos``: one photo (refused now when unusable; a ``journey`` when
    asked), or an album, whose unusable photos the flow skips (their fetch raises the
    problem) and names on the card; an album's arc is its path, so it takes no journey."""
    if len(photos) == 1:
        return PhotoRequest(
            platform=PLATFORM,
            chat_id=chat_id,
            user_id=user_id,
            image=_fetch(photos, max_bytes),
            caption=caption,
            locale=locale,
            journey=journey,
        )
    return AlbumRequest(
        platform=PLATFORM,
        chat_id=chat_id,
        user_id=user_id,
        images=tuple(album_fetch(partial(_fetch, [photo], max_bytes)) for photo in photos),
        caption=caption,
        locale=locale,
    )


def _fetch(attachments: list[discord.Attachment], max_bytes: int) -> ImageFetch:
    """How to download the image among ``attachments``, refused (BadImageError) now when it
    is too big or not an image (``_pick_image``)."""
    attachment = _pick_image(attachments, max_bytes)
    return lambda: _download(attachment, max_bytes)


def _destination(value: str | None) -> Destination | None:
    """The ``journey`` option's destination. Discord only sends the choices offered; any
    other value (an outdated client's) makes a plain playlist."""
    try:
        return Destination(value) if value else None
    except ValueError:
        log.info("ignored an unknown /mood journey %r", value)
        return None


def _pick_image(attachments: list[discord.Attachment], max_bytes: int) -> discord.Attachment:
    """The first image attachment, refused before any download when it is too big."""
    attachment = next((a for a in attachments if is_image_attachment(a)), None)
    if attachment is None:
        raise BadImageError(ImageProblem.NOT_AN_IMAGE)
    if attachment.size > max_bytes:
        raise _too_large(max_bytes)
    return attachment


async def _download(attachment: discord.Attachment, max_bytes: int) -> bytes:
    data = await attachment.read()
    if len(data) > max_bytes:  # the size Discord announced was wrong
        raise _too_large(max_bytes)
    return data


def _too_large(max_bytes: int) -> BadImageError:
    return BadImageError(ImageProblem.TOO_LARGE, limit=file_size(max_bytes))


async def _tell(interaction: discord.Interaction[Any], text: str) -> None:
    """An ephemeral answer to a press, seen by the presser only: the interaction's one
    response when it has none yet, else a followup."""
    with _quietly("button answer", interaction.channel_id):
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)


def _guild_locale(guild: discord.Guild | None) -> str | None:
    return str(guild.preferred_locale) if guild is not None else None


def _log_unexpected(error: Exception, what: str, channel_id: object, user_id: object) -> None:
    """User errors are expected and logged briefly; anything else with its traceback."""
    if isinstance(error, AIDJError):
        log.info("%s in channel %s by %s: %s", what, channel_id, user_id, type(error).__name__)
    else:
        log.exception("%s in channel %s by %s failed", what, channel_id, user_id)


@contextlib.contextmanager
def _quietly(what: str, channel_id: object) -> Iterator[None]:
    """Never let a failed Discord call (no permission, deleted message) crash a handler."""
    try:
        yield
    except discord.HTTPException as error:
        log.warning("%s failed in channel %s: %s %s", what, channel_id, error.status, error.text)
    except Exception:
        log.exception("%s failed in channel %s", what, channel_id)
