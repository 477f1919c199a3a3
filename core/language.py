"""Which language to answer in: the user's locale first, the caption's script second."""

from __future__ import annotations

from core.text_axes import caption_language


def reply_language(locale: str | None, caption: str = "") -> str:
    """ "ko" or "en": a Korean locale ("ko", "ko-KR", "ko_KR") wins, any other locale means
    English, and without a locale a caption containing Hangul means Korean."""
    if locale:
        return "ko" if locale.lower().replace("_", "-").split("-")[0] == "ko" else "en"
    return caption_language(caption)
