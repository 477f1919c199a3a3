"""`aidj stats`: did the playlists fit? The owner's view over every chat.

The same numbers as a chat's ``/stats`` (``Storage.fit_stats``: one computation), over all
chats, optionally one platform and only cards made since a date; a plain text table, or
one JSON object with ``--json``. How to read them: the README's "Reading the stats".
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from bot.cli_errors import user_errors
from core.categories import CATEGORY_BY_ID
from core.fit import MIN_VOTES, FitStats, StatsScope, VoteCount
from core.fit_text import percent

PLATFORMS = ("telegram", "discord", "cli")
_ROW = "{:<22} {:>6} {:>6} {:>5} {:>5} {:>5}  {:<10} {}"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `aidj stats` to the `aidj` parser."""
    stats = subparsers.add_parser(
        "stats",
        help="did the playlists fit? cards, fit rate per scene, most pressed controls",
        description="Cards made, 👍/👎 votes and the fit rate (👍 among the votes) overall and "
        "per scene with its 95% Wilson interval, and the most pressed controls, over every "
        f"chat. Rates from fewer than {MIN_VOTES} votes are marked as too few to trust.",
    )
    stats.add_argument("--platform", choices=PLATFORMS, help="only this platform's chats")
    stats.add_argument(
        "--since",
        type=since_date,
        metavar="DATE",
        help="only cards made since DATE (2024-05-01, or an ISO time; UTC unless it says)",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument("--db", type=Path, default=None, help="database file (default: AIDJ_DB)")
    stats.set_defaults(handler=run_stats)


def since_date(value: str) -> datetime:
    """``--since``: a date or an ISO 8601 time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date: use YYYY-MM-DD or an ISO time like 2024-05-01T18:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@user_errors
def run_stats(args: argparse.Namespace) -> int:
    from adapters.storage.gateway import Storage

    path = args.db
    if path is None:
        from bot.config import load_settings

        path = load_settings().db_path
    scope = StatsScope(platform=args.platform, since=args.since)

    async def read() -> FitStats:
        storage = Storage.open(path)
        try:
            return await storage.fit_stats(scope)
        finally:
            storage.close()

    stats = asyncio.run(read())
    if args.json:
        print(json.dumps(stats.to_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(stats_table(stats)))
    return 0


def stats_table(stats: FitStats) -> list[str]:
    """The plain text form: a summary, a row per scene, the most pressed controls."""
    scope = stats.scope
    where = scope.platform or "all platforms"
    when = f"cards made since {scope.since.isoformat()}" if scope.since else "all time"
    lines = [f"AI DJ stats: {where}, {when}"]
    if not stats.cards:
        lines.append("no cards yet")
        return lines
    votes = stats.votes
    lines.append(f"cards {stats.cards} in {stats.chats} chat(s)")
    lines.append(f"votes {votes.total}: up {votes.up}, down {votes.down}, {_fit(votes)}")
    lines.append("")
    lines.append(_ROW.format("scene", "cards", "votes", "up", "down", "fit", "95% range", ""))
    for scene in stats.scenes:
        category = CATEGORY_BY_ID.get(scene.scene)
        v = scene.votes
        rate, interval = v.rate, v.interval
        lines.append(
            _ROW.format(
                category.name_en if category else scene.scene,
                scene.cards,
                v.total,
                v.up,
                v.down,
                percent(rate) if rate is not None else "-",
                f"{percent(interval[0])}-{percent(interval[1])}" if interval else "-",
                "too few votes" if v.total and not v.trustworthy else "",
            ).rstrip()
        )
    lines.append("")
    pressed = ", ".join(f"{action} {count}" for action, count in stats.nudges)
    lines.append(f"most pressed controls: {pressed or 'none'}")
    return lines


def _fit(votes: VoteCount) -> str:
    rate, interval = votes.rate, votes.interval
    if rate is None or interval is None:
        return "no fit rate yet"
    few = "" if votes.trustworthy else f"; fewer than {MIN_VOTES} votes: too few to trust"
    return f"fit {percent(rate)} (95% range {percent(interval[0])}-{percent(interval[1])}{few})"
