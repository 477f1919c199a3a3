"""Which language to answer in: the user's locale first, the caption's script second, and
a chat's locale (``chat_locale_hint``) only after the caption, where the platform gives no
user locale.

The bot speaks Korean and English only, so every locale, language code or stored value is
turned into a ``Language`` once, here (``Language.of``), and texts are looked up by it.
"""

from __future__ import annotations

import re
from enum import StrEnum

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")


class Language(StrEnum):
    KO = "ko"
    EN = "en"

    @classmethod
    def of(cls, value: str | None) -> Language:
        """Korean for a Korean locale or code ("ko", "ko-KR", "ko_KR"), English for anything
        else, None included: there is no third language to fall back to."""
        if value and value.lower().replace("_", "-").split("-")[0] == cls.KO:
            return cls.KO
        return cls.EN


def caption_language(caption: str) -> Language:
    """Korean when the caption contains Hangul, else English."""
    return Language.KO if _HANGUL.search(caption) else Language.EN


def chat_locale_hint(chat_locale: str | None, caption: str) -> str | None:
    """A chat's locale (a Discord server's: Discord sends no user locale with a message) as
    the locale to answer a message in, unless the caption's script says more about the
    user: None for a caption in Hangul, so that the caption decides."""
    return None if caption_language(caption) is Language.KO else chat_locale


def reply_language(locale: str | None, caption: str = "") -> Language:
    """A locale decides when there is one (Korean only for a Korean locale); without a
    locale a caption containing Hangul means Korean."""
    if locale:
        return Language.of(locale)
    return caption_language(caption)
