"""Secrets out of log records: one filter that every logger carrying secrets can use.

Libraries log more than they should at DEBUG: spotipy logs request headers (``Bearer``
access tokens, the ``Basic`` client credentials) and token request bodies (refresh
tokens); PTB and httpx put the bot token in URLs. Rather than trusting each library, the
filter rewrites a record before any handler formats it: known secret values (chat tokens,
Spotify client credentials) and anything shaped like a bearer/basic credential or an
``access_token`` / ``refresh_token`` / ``client_secret`` / authorization ``code`` value
become ``***``. The adapters put it on their own loggers (so the library used from Python
is covered too); ``bot.logs`` puts one on the root handlers.
"""

from __future__ import annotations

import logging
import re
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
