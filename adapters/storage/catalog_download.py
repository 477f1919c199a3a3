"""Fetching the public TidyTuesday catalog when `aidj catalog import` is given no file.

The URL is a parameter so tests (and mirrors) can point elsewhere; a failure says it may
be offline and how to import a file instead, and leaves nothing behind but ``dest``.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

from core.errors import CatalogError

TIDYTUESDAY_URL = (
    "https://raw.githubusercontent.com/rfordatascience/tidytuesday/master/"
    "data/2020/2020-01-21/spotify_songs.csv"
)


def download_catalog(dest: Path, url: str = TIDYTUESDAY_URL, timeout: float = 60.0) -> Path:
    """Save the CSV at ``url`` to ``dest``; CatalogError when it cannot."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, dest.open("wb") as out:
            shutil.copyfileobj(response, out)
    except urllib.error.HTTPError as error:
        raise CatalogError(
            f"cannot download the catalog from {url}: HTTP {error.code} {error.reason}"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise CatalogError(
            f"cannot download the catalog from {url} (offline?): {reason}. "
            "Download the CSV elsewhere and run `aidj catalog import PATH.csv`."
        ) from None
    return dest
