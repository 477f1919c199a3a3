"""One result per item, even when a whole batch call raises.

Shared by both homes of the model step, the local worker process and the Ray Serve replica:
a batch call that raises is a bug (bad input is a per-item result of ``analyze_batch``), and
it must not fail the requests that merely shared the batch with the item that broke it.
"""

from __future__ import annotations

import logging
from typing import Any

from core.errors import AIDJError, WorkerError

log = logging.getLogger(__name__)


def analyze_items(analyzer: Any, items: list[tuple[bytes, str]]) -> list[Any]:
    """One result per item. If the batch call raises (a bug, not bad input: that is a
    per-item result), each item is run alone, so only the one that breaks it fails."""
    try:
        return list(analyzer.analyze_batch(items))
    except Exception as error:
        failure = error
    if len(items) > 1:
        log.warning("a batch of %d failed (%r); answering one by one", len(items), failure)
        return [analyze_items(analyzer, [item])[0] for item in items]
    log.warning("analysis failed", exc_info=failure)
    if isinstance(failure, AIDJError):
        return [failure]
    return [WorkerError(f"analysis failed: {type(failure).__name__}")]
