"""``/prefs``: a user's settings changed or shown, and a chat's taste reset; the reply text.

The words are parsed in ``core.prefs`` and the settings kept by the storage gateway (read,
changed and written in one step). The reply is in the user's language *after* the change,
so ``/prefs language ko`` is already answered in Korean.

Who may reset a chat's taste: it belongs to everyone in the chat, so in a group only an
admin of it (whose ``/prefs reset`` then clears the taste too); in a private chat the user
is the whole chat. Anyone's ``/prefs reset`` clears their own settings.
"""

from __future__ import annotations

from adapters.storage.gateway import Storage
from core.flow import Actor
from core.language import Language
from core.messages import PrefsReply, text_of
from core.prefs import (
    MAX_ARTIST_CHARS,
    MAX_SKIPPED_ARTISTS,
    PrefsAction,
    PrefsCommand,
    PrefsUsageError,
    SkipRefused,
    UserPrefs,
    parse_prefs,
)

_LANGUAGE_NAMES = {Language.KO: PrefsReply.LANGUAGE_KO, Language.EN: PrefsReply.LANGUAGE_EN}


async def answer_prefs(storage: Storage, actor: Actor, words: str) -> str:
    """Carry out ``/prefs <words>`` for ``actor``; what to reply."""
    try:
        command = parse_prefs(words)
    except PrefsUsageError:
        prefs = await storage.user_prefs(actor.platform, actor.user_id)
        return text_of(PrefsReply.USAGE, prefs.reply_language(actor.locale))
    if command.action is PrefsAction.SHOW:
        prefs = await storage.user_prefs(actor.platform, actor.user_id)
        return summary(prefs, prefs.reply_language(actor.locale))
    if command.action is PrefsAction.RESET:
        return await _reset(storage, actor)
    return await _change(storage, actor, command)


def summary(prefs: UserPrefs, language: Language) -> str:
    """The ``/prefs`` answer: every setting, in ``language``."""
    chosen = PrefsReply.LANGUAGE_AUTO if prefs.language is None else _LANGUAGE_NAMES[prefs.language]
    explicit = PrefsReply.EXPLICIT_ALLOWED if prefs.explicit else PrefsReply.EXPLICIT_LEFT_OUT
    return text_of(
        PrefsReply.SUMMARY,
        language,
        chosen=text_of(chosen, language),
        artists=", ".join(prefs.skip_artists) or text_of(PrefsReply.NO_ARTISTS, language),
        explicit=text_of(explicit, language),
    )


async def _change(storage: Storage, actor: Actor, command: PrefsCommand) -> str:
    before: list[UserPrefs] = []  # as they were, seen inside the update's transaction
    value = command.value

    def change(prefs: UserPrefs) -> UserPrefs:
        before.append(prefs)
        match command.action:
            case PrefsAction.LANGUAGE:
                return prefs.with_language(value)
            case PrefsAction.SKIP:
                return prefs.with_skip(value)
            case PrefsAction.UNSKIP:
                return prefs.without_skip(value)
            case _:
                return prefs.with_explicit(value)

    try:
        prefs = await storage.update_user_prefs(actor.platform, actor.user_id, change)
    except SkipRefused as refused:
        language = before[0].reply_language(actor.locale)
        if refused.too_long:
            return text_of(PrefsReply.SKIP_TOO_LONG, language, limit=MAX_ARTIST_CHARS)
        return text_of(PrefsReply.SKIP_FULL, language, limit=MAX_SKIPPED_ARTISTS)
    language = prefs.reply_language(actor.locale)
    match command.action:
        case PrefsAction.LANGUAGE if prefs.language is None:
            return text_of(PrefsReply.LANGUAGE_SET_AUTO, language)
        case PrefsAction.LANGUAGE:
            name = text_of(_LANGUAGE_NAMES[language], language)
            return text_of(PrefsReply.LANGUAGE_SET, language, chosen=name)
        case PrefsAction.SKIP:
            return text_of(PrefsReply.SKIPPED, language, artist=value)
        case PrefsAction.UNSKIP if before[0].skips(value):
            return text_of(PrefsReply.UNSKIPPED, language, artist=value)
        case PrefsAction.UNSKIP:
            return text_of(PrefsReply.NOT_SKIPPED, language, artist=value)
        case _:
            return text_of(
                PrefsReply.EXPLICIT_ON if prefs.explicit else PrefsReply.EXPLICIT_OFF, language
            )


async def _reset(storage: Storage, actor: Actor) -> str:
    prefs = await storage.update_user_prefs(actor.platform, actor.user_id, lambda _: UserPrefs())
    language = prefs.reply_language(actor.locale)
    if actor.private or actor.is_admin:
        await storage.reset_chat_taste(actor.platform, actor.chat_id)
        return text_of(PrefsReply.RESET_WITH_TASTE, language)
    return text_of(PrefsReply.RESET_TASTE_KEPT, language)
