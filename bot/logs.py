"""Logging setup that keeps secrets out of every log line.

One redacting filter (``adapters.redaction``) on every root handler, so whatever a library
logs is masked before any handler formats it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from adapters.redaction import RedactingFilter


def configure_logging(level: int | str, secrets: Iterable[str]) -> RedactingFilter:
    """Set the root level, add a stderr handler if there is none, and put one redacting
    filter on every root handler (replacing one installed before). Call it after any other
    logging setup, so handlers added by that setup are covered too."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
    redactor = RedactingFilter(secrets)
    for handler in root.handlers:
        remove_redaction(handler)
        handler.addFilter(redactor)
    return redactor


def remove_redaction(handler: logging.Handler) -> None:
    for existing in list(handler.filters):
        if isinstance(existing, RedactingFilter):
            handler.removeFilter(existing)
