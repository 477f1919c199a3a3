"""What spotipy's loggers may say: no secrets, and no ERROR lines for errors we handle.

spotipy logs request headers (``Bearer`` / ``Basic``) and token request bodies (the refresh
token) at DEBUG. ``bot.logs.configure_logging`` masks them on the root handlers, but the
library is also used from Python without the CLI, so every Spotify client also puts a
redacting filter on spotipy's own loggers: a record is masked when it is made, whatever
handlers read it later.
"""

from __future__ import annotations

import logging

from adapters.redaction import RedactingFilter

SPOTIPY_LOGGERS = ("spotipy.client", "spotipy.oauth2", "spotipy.cache_handler")

_REDACTOR = RedactingFilter()  # learns each client's id and secret as clients are made


class DemoteHandledErrors(logging.Filter):
    """spotipy logs every HTTP error at ERROR before raising it; we handle those (retry,
    fall back) and log the outcome once, so its line is demoted to DEBUG: a removed
    endpoint answering 404 is expected, not an error for whoever reads the bot's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and str(record.msg).startswith("HTTP Error for"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            # the level check already passed at ERROR; redo it at DEBUG
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def guard_spotipy_logs(*secrets: str | None) -> None:
    """Mask ``secrets`` (and token shapes) in spotipy's log records and demote its handled
    HTTP errors; safe to call for every client (each filter is installed once)."""
    _REDACTOR.add(*secrets)
    for name in SPOTIPY_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
    client_logger = logging.getLogger("spotipy.client")
    if not any(isinstance(f, DemoteHandledErrors) for f in client_logger.filters):
        client_logger.addFilter(DemoteHandledErrors())
