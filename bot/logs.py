"""Logging setup that keeps secrets out of every log line.

One redacting filter (``adapters.redaction``) on every root handler, so whatever a library
logs is masked before any handler formats it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable

from adapters.redaction import RedactingFilter


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
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
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
