"""Logging setup that keeps secrets out of every log line.

Libraries log more than they should at DEBUG: spotipy logs request headers (``Bearer``
access tokens, the ``Basic`` client credentials) and token request bodies (refresh
tokens). Rather than trusting each library, a filter on the root handlers rewrites every
record before any handler formats it: known secret values (chat tokens, Spotify client
credentials) and anything shaped like a bearer/basic credential or an ``access_token`` /
``refresh_token`` / ``client_secret`` / authorization ``code`` value become ``***``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable

MASK = "***"
_MIN_SECRET_CHARS = 4  # shorter "secrets" would mask ordinary words

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    (
        re.compile(
            r"\b(access_token|refresh_token|client_secret|id_token)\b"
            r"""(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"""
        ),
        rf"\1\2{MASK}",
    ),
    # the authorization code, as a URL parameter or a quoted dict/JSON key
    (re.compile(r"""(\bcode=|["']code["']\s*:\s*["'])[^\s"'&,;}]+"""), rf"\1{MASK}"),
)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, exception text and stack with secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Also mask these values (for secrets learnt after start-up)."""
        known = set(self._secrets)
        known.update(s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS)
        self._secrets = sorted(known, key=len, reverse=True)  # longest first: no partials

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format in some library: keep what there is
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the exception text if any,
    and the record's structured ``fields`` (``extra={"fields": {...}}``) merged in.

    It formats what the redacting filter left: the message, and the exception text the
    filter rendered and masked (never the raw exception again)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        exc_text = record.exc_text
        if exc_text is None and record.exc_info:
            exc_text = self.formatException(record.exc_info)
        if exc_text:
            entry["exception"] = exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update({k: v for k, v in extra.items() if k not in entry})
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    level: int | str, secrets: Iterable[str], *, json_lines: bool = False
) -> RedactingFilter:
    """Set the root level, add a stderr handler if there is none (JSON lines or text), and
    put one redacting filter on every root handler (replacing one installed before). Call it
    after any other logging setup, so handlers added by that setup are covered too."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
    redactor = RedactingFilter(secrets)
    for handler in root.handlers:
        remove_redaction(handler)
        handler.addFilter(redactor)
    return redactor


def remove_redaction(handler: logging.Handler) -> None:
    for existing in list(handler.filters):
        if isinstance(existing, RedactingFilter):
            handler.removeFilter(existing)
