"""Finding fonts for the mood plane: a Hangul-capable one for Korean labels, a Latin one else.

Servers rarely ship a CJK font and Pillow has none built in, so Korean labels are only drawn
when one is found on the system (common install locations first, then fontconfig); without
one the picture falls back to English labels rather than drawing boxes for every syllable.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path.home() / ".local/share/fonts",
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
# file-name patterns of widespread fonts with Hangul, best first; (regular, bold)
_CJK_PATTERNS: tuple[tuple[str, str], ...] = (
    ("NotoSansCJK*-Regular.tt?", "NotoSansCJK*-Bold.tt?"),
    ("NotoSansKR-Regular.?tf", "NotoSansKR-Bold.?tf"),
    ("NotoSansKR*.?tf", "NotoSansKR*.?tf"),
    ("NanumGothic.ttf", "NanumGothicBold.ttf"),
    ("NanumBarunGothic.ttf", "NanumBarunGothicBold.ttf"),
    ("SourceHanSans*-Regular.?t?", "SourceHanSans*-Bold.?t?"),
    ("AppleSDGothicNeo.ttc", "AppleSDGothicNeo.ttc"),
    ("malgun.ttf", "malgunbd.ttf"),
    ("UnDotum.ttf", "UnDotumBold.ttf"),
    ("wqy-zenhei.ttc", "wqy-zenhei.ttc"),
    ("wqy-microhei.ttc", "wqy-microhei.ttc"),
    ("DroidSansFallbackFull.ttf", "DroidSansFallbackFull.ttf"),
)
_LATIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("Arial.ttf", "Arial Bold.ttf"),
    ("arial.ttf", "arialbd.ttf"),
)


def _find(pattern: str) -> Path | None:
    for directory in _FONT_DIRS:
        if directory.is_dir():
            matches = sorted(directory.rglob(pattern))
            if matches:
                return matches[0]
    return None


def _find_pair(patterns: tuple[tuple[str, str], ...]) -> tuple[Path, Path] | None:
    for regular_pattern, bold_pattern in patterns:
        regular = _find(regular_pattern)
        if regular is not None:
            return regular, _find(bold_pattern) or regular
    return None


def _fontconfig_korean() -> Path | None:
    """Ask fontconfig for any font covering Korean (when it is installed)."""
    if shutil.which("fc-list") is None:
        return None
    try:
        listing = subprocess.run(
            ["fc-list", ":lang=ko", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.strip().rstrip(":") for line in listing.splitlines() if line.strip())
    return Path(files[0]) if files else None


@functools.cache
def korean_font_files() -> tuple[Path, Path] | None:
    """(regular, bold) font files with Hangul, or None when the system has none."""
    pair = _find_pair(_CJK_PATTERNS)
    if pair is not None:
        return pair
    found = _fontconfig_korean()
    return (found, found) if found is not None else None


@functools.cache
def latin_font_files() -> tuple[Path, Path] | None:
    return _find_pair(_LATIN_PATTERNS)


@functools.cache
def load_font(size: int, *, bold: bool = False, korean: bool = False) -> Font:
    """A font at ``size`` px: Hangul-capable when ``korean`` (callers check
    ``korean_font_files()`` first), else a Latin TrueType font, else Pillow's built-in one."""
    files = korean_font_files() if korean else latin_font_files()
    if files is not None:
        try:
            return ImageFont.truetype(str(files[1] if bold else files[0]), size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)
