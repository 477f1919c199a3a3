"""A user's own preferences (``/prefs``): the language to answer in, artists to leave out,
and whether explicit tracks may appear; the command that changes them.

Why per user, not per chat: in a group each member asks for their own cards, and what one
person wants to avoid is nobody else's business, so prefs follow the person (per platform)
and apply to the cards they request, including when those cards are steered. The chat's
shared taste lives in ``core.taste``.

The command is the same on both platforms (Telegram's ``/prefs <words>``; Discord's
subcommands are turned into the same words): ``language ko|en|auto``, ``skip <artist>``,
``unskip <artist>``, ``explicit off|on``, ``reset``, or nothing to show the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from core.language import Language, reply_language
from core.recommend import artist_keys
from core.tracks import TrackFilter

MAX_SKIPPED_ARTISTS = 50
MAX_ARTIST_CHARS = 100
LANGUAGE_CHOICES = ("ko", "en", "auto")
EXPLICIT_CHOICES = ("off", "on")


class PrefsAction(StrEnum):
    SHOW = "show"
    LANGUAGE = "language"
    SKIP = "skip"
    UNSKIP = "unskip"
    EXPLICIT = "explicit"
    RESET = "reset"


class PrefsUsageError(ValueError):
    """The words after ``/prefs`` are not a command (the reply is the usage text)."""


class SkipRefused(ValueError):
    """``skip`` that cannot be kept: the name is too long, or the list is full."""

    def __init__(self, too_long: bool) -> None:
        super().__init__("artist name too long" if too_long else "skip list full")
        self.too_long = too_long


@dataclass(frozen=True)
class PrefsCommand:
    action: PrefsAction
    value: str = ""  # "ko"/"en"/"auto", "off"/"on", or an artist's name


@dataclass(frozen=True)
class UserPrefs:
    """One user's settings; the defaults are what a user who never used ``/prefs`` gets."""

    language: Language | None = None  # None: their app's language, else the caption's
    skip_artists: tuple[str, ...] = ()  # as the user wrote them, each artist once
    explicit: bool = True  # False: no track the catalog marks explicit

    def reply_language(self, locale: str | None, caption: str = "") -> Language:
        """The language to answer this user in: theirs if they chose one, else as
        ``core.language.reply_language`` decides."""
        return self.language or reply_language(locale, caption)

    def avoid(self) -> TrackFilter | None:
        """What the recommender must leave out for this user (None: nothing)."""
        avoid = TrackFilter(artists=artist_keys(self.skip_artists), no_explicit=not self.explicit)
        return avoid or None

    def skips(self, artist: str) -> bool:
        return bool(artist_keys([artist]) & artist_keys(self.skip_artists))

    def with_language(self, value: str) -> UserPrefs:
        return replace(self, language=None if value == "auto" else Language.of(value))

    def with_explicit(self, value: str) -> UserPrefs:
        return replace(self, explicit=value == "on")

    def with_skip(self, artist: str) -> UserPrefs:
        """``artist`` added (unchanged when already there); SkipRefused when it cannot be."""
        if len(artist) > MAX_ARTIST_CHARS:
            raise SkipRefused(too_long=True)
        if self.skips(artist):
            return self
        if len(self.skip_artists) >= MAX_SKIPPED_ARTISTS:
            raise SkipRefused(too_long=False)
        return replace(self, skip_artists=(*self.skip_artists, artist))

    def without_skip(self, artist: str) -> UserPrefs:
        """``artist`` taken off the list (matched case-insensitively, like "no artist twice")."""
        keys = artist_keys([artist])
        kept = tuple(a for a in self.skip_artists if not artist_keys([a]) & keys)
        return replace(self, skip_artists=kept)


def parse_prefs(words: str) -> PrefsCommand:
    """The command in the words after ``/prefs``; PrefsUsageError when they are not one."""
    name, _, rest = words.strip().partition(" ")
    rest = " ".join(rest.split())
    if not name:
        return PrefsCommand(PrefsAction.SHOW)
    try:
        action = PrefsAction(name.casefold())
    except ValueError:
        raise PrefsUsageError(f"unknown /prefs setting {name!r}") from None
    value = rest.casefold()
    if action in (PrefsAction.SHOW, PrefsAction.RESET):
        if rest:
            raise PrefsUsageError(f"/prefs {action} takes nothing more")
        return PrefsCommand(action)
    if action is PrefsAction.LANGUAGE and value not in LANGUAGE_CHOICES:
        raise PrefsUsageError("language takes ko, en or auto")
    if action is PrefsAction.EXPLICIT and value not in EXPLICIT_CHOICES:
        raise PrefsUsageError("explicit takes off or on")
    if action in (PrefsAction.SKIP, PrefsAction.UNSKIP):
        if not artist_keys([rest]):
            raise PrefsUsageError(f"{action} needs an artist's name")
        return PrefsCommand(action, rest)
    return PrefsCommand(action, value)
