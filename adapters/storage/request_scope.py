"""Which requests a count covers, as SQL: one platform, one chat, made since a moment.

Shared by every query that counts over requests (``/stats``, ``aidj stats``, the nudge
history), so "this chat" and "since" mean the same in all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime


def scope_filter(
    alias: str,
    *,
    platform: str | None = None,
    chat_id: str | None = None,
    since: datetime | None = None,
) -> tuple[str, list[object]]:
    """A WHERE clause (``1`` when everything counts) on the requests table named ``alias``,
    and its parameters. ``since`` compares with ``created_at`` (ISO 8601 UTC text); a naive
    datetime is taken as UTC."""
    clauses: list[str] = []
    params: list[object] = []
    if platform is not None:
        clauses.append(f"{alias}.platform = ?")
        params.append(platform)
    if chat_id is not None:
        clauses.append(f"{alias}.chat_id = ?")
        params.append(str(chat_id))
    if since is not None:
        clauses.append(f"{alias}.created_at >= ?")
        params.append(utc_text(since))
    return (" AND ".join(clauses) or "1"), params


def utc_text(moment: datetime) -> str:
    """``moment`` as the ``*_at`` columns write it (``database.utc_now``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
