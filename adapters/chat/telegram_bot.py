"""The Telegram adapter: photos in, playlist cards out, steered by buttons and reactions.

It only translates Telegram updates into ``core.flow`` requests and renders the cards it gets
back (``adapters.chat.telegram_render``); everything about moods lives behind ``MoodFlow``.

What it listens to:
- a photo (or an image sent as a file) in a private chat, with or without a caption; in
  groups only when the caption @mentions the bot, starts with /mood, or the photo replies
  to one of the bot's messages (the mention and the command are cut from the caption);
- an album (a media group: up to ten photos, ``adapters.chat.telegram_albums``): one card
  whose playlist follows the photos in order; in groups, any of its photos may address the
  bot, and the caption is the first one any of them has (an album's arc is its path: a
  journey named with it is not taken);
- ``/mood [destination] [caption]`` sent as a reply to a photo (or as the photo's caption):
  a first word naming a journey destination (``core.journey.split_destination``: "lift",
  "wind down", "기분전환", ...) makes the playlist a journey; other words are caption;
  ``/stats``; ``/start`` and ``/help``; ``/prefs`` (the sender's own settings, ``core.prefs``);
- the buttons under a card (``core.controls``: only the requester or a group admin may
  steer or choose a journey; anyone in the chat may vote 👍 / 👎);
- reactions on a card (Telegram delivers these in groups only when the bot is an admin).

How updates arrive: by long polling (getUpdates) by default, or by webhook
(``TelegramOptions.webhook``): Telegram then POSTs each update to an https URL (a reverse
proxy that terminates TLS and forwards to PTB's small web server here), with the secret
token in ``X-Telegram-Bot-Api-Secret-Token``; PTB answers 403 to a request without it, and
such a request never reaches a handler. Telegram keeps one webhook per bot, so a webhook set
by one process stops every poller of the same token (getUpdates: 409 Conflict), and polling
again deletes it. ``base_url``/``base_file_url`` point at a self-hosted Bot API server
(``bot_api_urls``).

Nothing a user does can stop the bot: every handler turns ``AIDJError`` into a short reply in
the user's language and anything else into a logged error plus a generic reply, and an
application error handler catches what is left. The bot token is part of every API URL, so
the module never logs URLs and masks the token in its own log records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from telegram import (
    Bot,
    Chat,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    PhotoSize,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    Updater,
    filters,
)

from adapters.chat.notices import NoticeGate
from adapters.chat.telegram_albums import DEFAULT_QUIET_S, MediaGroups
from adapters.chat.telegram_render import (
    COMMANDS,
    MESSAGE_LIMIT,
    PLANE_FILENAME,
    card_caption,
    help_text,
    keyboard,
    reaction_action,
)
from adapters.chat.telegram_retry import RetryAfterLimiter
from adapters.images import MAX_IMAGE_BYTES
from adapters.redaction import RedactingFilter
from core.albums import MAX_PHOTOS
from core.controls import PREFIX as CONTROL_PREFIX
from core.controls import Control, ControlKind
from core.errors import (
    AIDJError,
    BadImageError,
    ConfigError,
    NotRequesterError,
    UnknownRequestError,
)
from core.fit import reaction_change
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
from core.journey import split_destination
from core.language import Language, reply_language
from core.messages import Hint, ImageProblem, file_size, text_of
from core.mood import Destination
from core.reply import PlaylistCard, error_text

log = logging.getLogger(__name__)
_REDACTOR = RedactingFilter()  # masks every token a TelegramBot was built with
log.addFilter(_REDACTOR)

PLATFORM = "telegram"
ALLOWED_UPDATES = ("message", "callback_query", "message_reaction")
CONCURRENT_UPDATES = 32  # a slow analysis must not hold up other chats' buttons
_CHAT_ACTION_EVERY_S = 4.5  # Telegram shows a chat action for about five seconds
_ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?:\s+|$)")


@dataclass(frozen=True)
class TelegramWebhook:
    """Take updates by webhook: Telegram POSTs them to ``url`` (https), which must reach
    ``listen``:``port`` here with the same path; every request carries ``secret``."""

    url: str
    secret: str = field(repr=False)
    listen: str = "127.0.0.1"
    port: int = 8443

    @property
    def path(self) -> str:
        """Where the local server answers: the URL's path (a proxy forwards it unchanged)."""
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class TelegramOptions:
    """What the Telegram adapter needs to know; built from the settings by the wiring."""

    token: str | None = field(default=None, repr=False)
    max_image_bytes: int = MAX_IMAGE_BYTES
    base_url: str | None = None  # a self-hosted Bot API server (or a test's fake)
    base_file_url: str | None = None
    webhook: TelegramWebhook | None = None  # None: long polling
    album_wait_s: float = DEFAULT_QUIET_S  # an album is complete once quiet this long


def bot_api_urls(api_root: str, file_root: str | None = None) -> tuple[str, str]:
    """``base_url`` and ``base_file_url`` for a Bot API server at ``api_root`` (such as
    ``http://127.0.0.1:8081``): methods live under ``/bot<token>/``, downloads under
    ``/file/bot<token>/`` (of ``file_root`` when files are served elsewhere), on
    api.telegram.org and on a self-hosted telegram-bot-api alike."""
    api_root = api_root.rstrip("/")
    return f"{api_root}/bot", f"{(file_root or api_root).rstrip('/')}/file/bot"


class TelegramBot:
    """One bot account, polling for updates or taking them by webhook; ``start``/``stop`` fit
    into a shared event loop next to the Discord bot (``aidj run``)."""

    def __init__(
        self,
        flow: MoodFlow,
        options: TelegramOptions,
        *,
        rate_limiter: RetryAfterLimiter | None = None,
        media_groups: MediaGroups | None = None,
    ) -> None:
        if not options.token:
            raise ConfigError("TELEGRAM_TOKEN is not set")
        self._flow = flow
        self._options = options
        self._token = options.token
        self._application: Application | None = None
        self._media_groups = media_groups or MediaGroups(options.album_wait_s)
        self._rate_limiter = rate_limiter or RetryAfterLimiter()
        self._notices = NoticeGate()
        _REDACTOR.add(self._token, options.webhook.secret if options.webhook else None)
        # httpx logs every request URL (token included) at INFO; keep it quiet unless the
        # operator chose a level for it
        httpx_log = logging.getLogger("httpx")
        if httpx_log.level == logging.NOTSET:
            httpx_log.setLevel(logging.WARNING)

    # ---- lifecycle -----------------------------------------------------------------------

    @property
    def application(self) -> Application:
        if self._application is None:
            self._application = self.build_application()
        return self._application

    @property
    def connected(self) -> bool:
        """Started and polling Telegram, or serving the webhook (for a health check)."""
        application = self._application
        return bool(
            application is not None
            and application.running
            and application.updater is not None
            and application.updater.running
        )

    def build_application(self) -> Application:
        """The PTB application with every handler registered (not started)."""
        builder = (
            ApplicationBuilder()
            .token(self._token)
            .concurrent_updates(CONCURRENT_UPDATES)
            .rate_limiter(self._rate_limiter)
        )
        if self._options.base_url:
            builder = builder.base_url(self._options.base_url)
        if self._options.base_file_url:
            builder = builder.base_file_url(self._options.base_file_url)
        application = builder.build()
        application.add_handlers(
            [
                CommandHandler(["start", "help"], self._on_help),
                CommandHandler("mood", self._on_mood_command),
                CommandHandler("stats", self._on_stats),
                CommandHandler("prefs", self._on_prefs),
                MessageHandler(filters.COMMAND, self._on_unknown_command),
                MessageHandler(filters.PHOTO | filters.Document.ALL, self._on_media),
                MessageHandler(
                    filters.TEXT & filters.ChatType.PRIVATE & ~filters.COMMAND, self._on_text
                ),
                CallbackQueryHandler(self._on_button, pattern=rf"^{CONTROL_PREFIX}:"),
                CallbackQueryHandler(self._on_foreign_button),  # stale or not ours: answered
                MessageReactionHandler(
                    self._on_reaction,
                    message_reaction_types=MessageReactionHandler.MESSAGE_REACTION_UPDATED,
                ),
            ]
        )
        application.add_error_handler(self._on_error)
        return application

    async def start(self) -> None:
        """Connect (getMe), publish the command menu, start handling, then poll or serve the
        webhook (which sets it at Telegram)."""
        application = self.application
        webhook = self._options.webhook
        try:
            await application.initialize()
            await self._publish_commands(application.bot)
            await application.start()
            assert application.updater is not None
            if webhook is None:
                await application.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
            else:
                await _start_webhook(application.updater, webhook)
        except InvalidToken:
            await self.stop()
            # PTB's message quotes the token itself; replace it, context included
            raise ConfigError(
                "Telegram rejected TELEGRAM_TOKEN (check it with @BotFather)"
            ) from None
        except BaseException:
            await self.stop()
            raise
        if webhook is None:
            log.info("Telegram bot @%s is polling", application.bot.username)
        else:
            log.info(
                "Telegram bot @%s takes updates at %s (listening on %s:%d)",
                application.bot.username,
                webhook.url,
                webhook.listen,
                webhook.port,
            )

    async def stop(self) -> None:
        """Stop polling, finish the updates in progress, close the connection pool; safe to
        call twice or after a failed start."""
        application = self._application
        if application is None:
            return
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        except TelegramError as error:  # already going down: report, do not mask the caller
            log.warning("stopping the Telegram bot: %s", error)

    async def _publish_commands(self, bot: Bot) -> None:
        for language, commands in COMMANDS.items():
            try:
                await bot.set_my_commands(
                    commands, language_code=None if language is Language.EN else language.value
                )
            except TelegramError as error:  # a missing menu is no reason not to run
                log.warning("could not set the %s command menu: %s", language, error)

    # ---- messages ------------------------------------------------------------------------

    async def _on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        await self._reply_text(message, help_text(language), html=True)

    async def _on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/stats``: how well this chat's playlists fit (``core.fit_text``)."""
        message = update.effective_message
        if message is None:
            return
        user = update.effective_user

        async def stats() -> str:
            chat_stats = await self._flow.chat_stats(PLATFORM, str(message.chat.id))
            return stats_text(chat_stats, await self._language(user))

        await self._answer_command(message, user, "/stats", stats)

    async def _answer_command(
        self, message: Message, user: User | None, name: str, ask: Callable[[], Awaitable[str]]
    ) -> None:
        """Reply to a command with what the flow says (``ask``), or with its failure worded
        in ``user``'s language."""
        try:
            answer = await ask()
        except Exception as error:
            if not isinstance(error, AIDJError):
                log.exception("%s failed: %s", name, type(error).__name__)
            answer = error_text(error, await self._language(user))
        await self._reply_text(message, answer)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user, message.text or "")
        await self._reply_text(message, text_of(Hint.TEXT_ONLY, language))

    async def _on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        match = _COMMAND.match(message.text)
        if match is None:
            return
        if match["bot"] is not None:
            if not _is_us(match["bot"], context.bot):
                return  # another bot's command
        elif message.chat.type != ChatType.PRIVATE:
            return  # a bare "/cmd" in a group may be meant for any bot there
        language = await self._language(update.effective_user, message.text)
        await self._reply_text(message, text_of(Hint.UNKNOWN_COMMAND, language))

    async def _on_mood_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/mood [caption]`` as a reply to a photo (a photo *with* /mood in its caption
        arrives as a photo message instead)."""
        message = update.effective_message
        if message is None:
            return
        journey, caption = split_destination(" ".join(context.args or ()))
        replied = message.reply_to_message
        if replied is None or not (replied.photo or replied.document):
            language = await self._language(update.effective_user, caption)
            await self._reply_text(message, text_of(Hint.MOOD_NEEDS_PHOTO, language))
            return
        if not caption:
            caption = _clean_caption(replied.caption or "", context.bot).caption
        await self._recommend(
            message, [replied], caption, update.effective_user, context.bot, journey
        )

    async def _on_prefs(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/prefs [words]``: the sender's settings, changed or shown by the flow; the
        answer goes to the chat the command came from."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        words = " ".join(context.args or ())

        async def prefs() -> str:
            return await self._flow.prefs(await self._actor(context.bot, message.chat, user), words)

        await self._answer_command(message, user, "/prefs", prefs)

    async def _on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        media = [message]
        if message.media_group_id is not None:
            group = await self._media_groups.gather(message)
            if group is None:
                return  # the group's first photo answers for it
            media = group[:MAX_PHOTOS]
        cleaned = [_clean_caption(m.caption or "", context.bot) for m in media]
        addressed = any(c.addressed for c in cleaned) or any(
            _replies_to(m, context.bot) for m in media
        )
        if message.chat.type != ChatType.PRIVATE and not addressed:
            return
        caption = next((c.caption for c in cleaned if c.caption), "")
        journey = next((c.journey for c in cleaned if c.journey is not None), None)
        await self._recommend(media[0], media, caption, update.effective_user, context.bot, journey)

    async def _recommend(
        self,
        message: Message,
        media: Sequence[Message],
        caption: str,
        user: User | None,
        bot: Bot,
        journey: Destination | None = None,
    ) -> None:
        """Ask the flow for a card for the photo in ``media`` (several: an album; one: a
        ``journey`` toward a destination, when asked) and reply to ``message``; photos are
        downloaded only once the flow has checked the user's rate limit."""
        locale = _locale(user)
        chat_id = message.chat.id
        user_id = str(user.id if user else chat_id)

        async def send(card: PlaylistCard) -> str:
            sent = await self._send_card(bot, chat_id, message.message_id, card)
            return str(sent.message_id)

        try:
            request: CardRequest
            if len(media) == 1:
                request = PhotoRequest(
                    platform=PLATFORM,
                    chat_id=str(chat_id),
                    user_id=user_id,
                    image=self._fetch(bot, media[0]),
                    caption=caption,
                    locale=locale,
                    journey=journey,
                )
            else:
                request = AlbumRequest(
                    platform=PLATFORM,
                    chat_id=str(chat_id),
                    user_id=user_id,
                    images=tuple(album_fetch(partial(self._fetch, bot, photo)) for photo in media),
                    caption=caption,
                    locale=locale,
                )
            async with _chat_action(bot, chat_id, ChatAction.UPLOAD_PHOTO):
                await self._flow.recommend(request, send)
        except Exception as error:
            if not isinstance(error, AIDJError):
                log.exception("a photo request failed: %s", type(error).__name__)
            if self._notices.for_photo(error, chat_id, user_id):
                language = await self._language(user, caption)
                await self._reply_text(message, error_text(error, language))

    def _fetch(self, bot: Bot, message: Message) -> ImageFetch:
        """How to download the photo of ``message``, refused (BadImageError) now when it is
        too big or not an image."""
        file_id = self._pick_file(message)
        return lambda: self._download(bot, file_id)

    def _pick_file(self, message: Message) -> str:
        """The file id to download, checked against the size limit *before* downloading.

        Of a photo's renditions the largest within the limit is taken: the models look at a
        few hundred pixels, so a smaller rendition serves as well as the original would."""
        limit = self._options.max_image_bytes
        if message.photo:
            fitting = [p for p in message.photo if (p.file_size or 0) <= limit]
            if not fitting:
                raise self._too_large()
            return max(fitting, key=_pixels).file_id
        document = message.document
        if document is None or not (document.mime_type or "").startswith("image/"):
            raise BadImageError(ImageProblem.NOT_AN_IMAGE)
        if (document.file_size or 0) > limit:
            raise self._too_large()
        return document.file_id

    async def _download(self, bot: Bot, file_id: str) -> bytes:
        limit = self._options.max_image_bytes
        telegram_file = await bot.get_file(file_id)
        if (telegram_file.file_size or 0) > limit:
            raise self._too_large()
        data = bytes(await telegram_file.download_as_bytearray())
        if len(data) > limit:
            raise self._too_large()
        return data

    def _too_large(self) -> BadImageError:
        limit = file_size(self._options.max_image_bytes)
        return BadImageError(ImageProblem.TOO_LARGE, limit=limit)

    # ---- controls ------------------------------------------------------------------------

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on a card's button. The card is the message it was pressed on; the request
        id in the button's data is only checked against it, never trusted."""
        query = update.callback_query
        if query is None:
            return
        control = Control.parse(query.data)
        message = query.message
        if control is None or message is None:
            await _answer(query)
            return
        user = query.from_user
        chat = message.chat
        bot = context.bot
        answered = False

        async def acknowledge() -> None:
            nonlocal answered
            answered = True
            await _answer(query)

        try:
            pressed = await self._flow.press(
                CardMessage(PLATFORM, str(chat.id), str(message.message_id)),
                control,
                # anyone in the chat may vote: an admin lookup is for steering only
                await self._actor(bot, chat, user, admin=control.kind is not ControlKind.FIT),
                lambda card: self._edit_card(
                    bot, chat.id, message.message_id, card, photo=_has_photo(message)
                ),
                acknowledge=acknowledge,
            )
            if not answered:  # a press that needed no acknowledgement before its work
                await _answer(query, pressed.notice)
        except Exception as error:  # a popup per press, never a chat message
            if not isinstance(error, AIDJError):
                log.exception("a button press failed: %s", type(error).__name__)
            refused = isinstance(error, (NotRequesterError, UnknownRequestError))
            await _answer(query, error_text(error, await self._language(user)), alert=refused)

    async def _on_foreign_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Buttons whose data is not ours (another bot's format, a stale one): answered, so
        the user's spinner stops, and otherwise ignored."""
        if update.callback_query is not None:
            await _answer(update.callback_query)

    async def _on_reaction(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone changed their reactions on a message: 👍 / 👎 set or take back their vote
        ("did it fit?", anyone in the chat), a control emoji steers (requester or admin)."""
        reaction = update.message_reaction
        if reaction is None:
            return
        before = [r.emoji for r in reaction.old_reaction if isinstance(r, ReactionTypeEmoji)]
        after = [r.emoji for r in reaction.new_reaction if isinstance(r, ReactionTypeEmoji)]
        change = reaction_change(before, after)
        added = [emoji for emoji in after if emoji not in before]
        action = next((a for e in added if (a := reaction_action(e)) is not None), None)
        if action is None and change is None:
            return
        chat = reaction.chat
        card = CardMessage(PLATFORM, str(chat.id), str(reaction.message_id))
        if (
            await self._flow.request_for_message(card.platform, card.chat_id, card.message_id)
            is None
        ):
            return  # not one of our cards: no need to look anyone up
        user = reaction.user
        bot = context.bot
        if user is not None:  # whether they are an admin matters to steering only
            actor = await self._actor(bot, chat, user, admin=action is not None)
        else:  # an anonymous group admin reacts as the group itself
            sender = reaction.actor_chat
            actor = Actor(
                PLATFORM,
                str(chat.id),
                str(sender.id if sender else chat.id),
                is_admin=sender is not None and sender.id == chat.id,
            )
        try:
            if change is not None:
                await self._flow.vote(card, actor, change.vote, on=change.on)
            if action is not None:
                await self._flow.steer(
                    card,
                    action,
                    actor,
                    lambda new_card: self._edit_card(bot, chat.id, reaction.message_id, new_card),
                    acknowledge=lambda: _show_action(bot, chat.id, ChatAction.UPLOAD_PHOTO),
                )
        except (NotRequesterError, UnknownRequestError):
            # everyone sees reactions; answering each refused one would only spam the chat
            log.info("ignored a reaction from someone who may not use it")
        except Exception as error:
            if not isinstance(error, AIDJError):
                log.exception("a reaction failed: %s", type(error).__name__)
            # a reaction has no popup: at most one notice per user per window, never a storm
            if self._notices.for_control(chat.id, actor.user_id):
                language = await self._language(user)
                await self._send_text(
                    bot, chat.id, reaction.message_id, error_text(error, language)
                )

    async def _language(self, user: User | None, text: str = "") -> Language:
        """The language to answer ``user`` in: their /prefs choice, else their app's."""
        if user is None:  # a channel post or an anonymous admin: no one's prefs to read
            return reply_language(None, text)
        return await self._flow.language_for(PLATFORM, str(user.id), _locale(user), text)

    async def _actor(self, bot: Bot, chat: Chat, user: User, *, admin: bool = True) -> Actor:
        """Who pressed or reacted; ``admin``: look up whether they are a group admin."""
        return Actor(
            PLATFORM,
            str(chat.id),
            str(user.id),
            is_admin=admin and await _is_admin(bot, chat, user),
            locale=_locale(user),
            private=chat.type == ChatType.PRIVATE,
        )

    # ---- sending -------------------------------------------------------------------------

    async def _send_card(
        self, bot: Bot, chat_id: int, reply_to: int, card: PlaylistCard
    ) -> Message:
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        if card.plane_png:
            return await bot.send_photo(
                chat_id,
                InputFile(card.plane_png, filename=PLANE_FILENAME),
                caption=card_caption(card),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(card),
                reply_parameters=reply,
            )
        return await bot.send_message(
            chat_id,
            card_caption(card, MESSAGE_LIMIT),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(card),
            reply_parameters=reply,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def _edit_card(
        self, bot: Bot, chat_id: int, message_id: int, card: PlaylistCard, photo: bool = True
    ) -> None:
        """Replace the card in place: the picture, caption and buttons (same message)."""
        try:
            if card.plane_png:
                media = InputMediaPhoto(
                    InputFile(card.plane_png, filename=PLANE_FILENAME, attach=True),
                    caption=card_caption(card),
                    parse_mode=ParseMode.HTML,
                )
                await bot.edit_message_media(
                    media, chat_id=chat_id, message_id=message_id, reply_markup=keyboard(card)
                )
            elif photo:
                await bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=card_caption(card),
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(card),
                )
            else:
                await bot.edit_message_text(
                    card_caption(card, MESSAGE_LIMIT),
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(card),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise

    async def _reply_text(self, message: Message, text: str, *, html: bool = False) -> None:
        await self._send_text(message.get_bot(), message.chat.id, message.message_id, text, html)

    async def _send_text(
        self, bot: Bot, chat_id: int, reply_to: int, text: str, html: bool = False
    ) -> None:
        """A short reply; failures are logged, never raised (it is often the error path)."""
        try:
            await bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML if html else None,
                reply_parameters=ReplyParameters(
                    message_id=reply_to, allow_sending_without_reply=True
                ),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except Exception as error:
            log.warning("could not send a reply: %s: %s", type(error).__name__, error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Last line of defence: log what a handler let through (no URLs, token masked)."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "Telegram update %s failed: %s: %s",
            update_id,
            type(error).__name__,
            error,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )


# ---- helpers -----------------------------------------------------------------------------


async def _start_webhook(updater: Updater, webhook: TelegramWebhook) -> None:
    """Listen for Telegram's POSTs and set the webhook (setWebhook, with the secret)."""
    try:
        await updater.start_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.path,
            webhook_url=webhook.url,
            allowed_updates=list(ALLOWED_UPDATES),
            secret_token=webhook.secret,
        )
    except OSError as error:  # the port is taken, or the address is not this machine's
        raise ConfigError(
            f"cannot listen for the Telegram webhook on {webhook.listen}:{webhook.port}: "
            f"{error.strerror or error}"
        ) from None


def _locale(user: User | None) -> str | None:
    return user.language_code if user is not None else None


def _pixels(photo: PhotoSize) -> int:
    return photo.width * photo.height


def _has_photo(message: Any) -> bool:
    return bool(getattr(message, "photo", None))


def _replies_to(message: Message, bot: Bot) -> bool:
    """Whether ``message`` replies to one of the bot's own messages."""
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot.id)


def _is_us(username: str | None, bot: Bot) -> bool:
    return username is not None and username.lower() == (bot.username or "").lower()


class _Caption(NamedTuple):
    caption: str
    addressed: bool  # an @mention or a leading /mood: what makes a group photo a request
    journey: Destination | None  # named right after a leading /mood ("/mood lift ...")


def _clean_caption(caption: str, bot: Bot) -> _Caption:
    """The caption without the bot's @mention or a leading /mood (and a journey destination
    named right after it), whether either was there, and the destination."""
    addressed = command = False
    match = _COMMAND.match(caption)
    if (
        match
        and match["name"].lower() == "mood"
        and (match["bot"] is None or _is_us(match["bot"], bot))
    ):
        caption = caption[match.end() :]
        addressed = command = True
    if bot.username:
        mention = re.compile(rf"@{re.escape(bot.username)}\b", re.IGNORECASE)
        caption, found = mention.subn(" ", caption)
        addressed = addressed or found > 0
    caption = " ".join(caption.split())
    journey, caption = split_destination(caption) if command else (None, caption)
    return _Caption(caption, addressed, journey)


async def _is_admin(bot: Bot, chat: Chat, user: User) -> bool:
    """Group admins and owners may steer anyone's card; in private chats nobody else can
    even press the buttons."""
    if chat.type not in _GROUPS:
        return False
    try:
        member = await bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        log.warning("could not look up a chat member: %s", error)
        return False
    return member.status in _ADMIN_STATUSES


async def _answer(query: Any, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (stops its spinner); a late answer is not worth a crash."""
    try:
        await query.answer(text=text, show_alert=alert)
    except TelegramError as error:
        log.info("could not answer a button press: %s", error)


async def _show_action(bot: Bot, chat_id: int, action: str) -> None:
    """Show "sending photo…" (or typing) for a few seconds; not worth failing over."""
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramError as error:
        log.info("could not send a chat action: %s", error)


@contextlib.asynccontextmanager
async def _chat_action(bot: Bot, chat_id: int, action: str) -> AsyncIterator[None]:
    """Show "sending photo…" (or typing) while the body runs, renewed until it ends."""

    async def keep_showing() -> None:
        while True:
            await asyncio.sleep(_CHAT_ACTION_EVERY_S)
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, action)

    await _show_action(bot, chat_id, action)
    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
