"""Genre names in one slug form, so both public catalog formats agree.

TidyTuesday writes ``r&b``, ``hip hop``, ``neo soul``; the tracks dataset writes ``r-n-b``,
``hip-hop``, ``rock-n-roll``. The category seed genres (``core.categories``) are written in
the second form, so every genre that enters the catalog or a query goes through
``normalise_genre``: lowercase, ``&`` read as "n" (``r&b`` -> ``r-n-b``,
``rock & roll`` -> ``rock-n-roll``), and every run of other characters (spaces,
underscores, slashes) becomes one ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_SEPARATORS = re.compile(r"[\W_]+")  # anything but letters and digits, in any script


@lru_cache(maxsize=4096)  # an import normalises the same few hundred names 100k times
def normalise_genre(raw: str) -> str:
    """The slug form of ``raw``; "" when nothing is left (a missing genre)."""
    text = raw.strip().lower()
    if not any(char.isalnum() for char in text):
        return ""
    text = text.replace("&", "-n-")
    return _SEPARATORS.sub("-", text).strip("-")


def normalise_genres(raw: Iterable[str]) -> tuple[str, ...]:
    """Sorted, unique, non-empty slugs of ``raw``."""
    return tuple(sorted({slug for slug in map(normalise_genre, raw) if slug}))
