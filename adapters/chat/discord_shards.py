"""Which Discord shards one process runs, so several processes can split one bot's guilds.

Discord delivers a guild's events on shard ``(guild_id >> 22) % shard_count`` and direct
messages on shard 0, so a process that runs a fixed set of shards sees exactly the guilds
(and, with shard 0, the DMs) routed to them: everything about a card, its controls included,
comes back to the process that posted it. Written ``FIRST-LAST/COUNT`` or ``ID/COUNT``
(several parts joined by commas), e.g. ``0-3/8``: shards 0 to 3 of 8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^(\d+)(?:-(\d+))?$")
_NO_SHARDS = "the shard count must be at least 1"


@dataclass(frozen=True)
class ShardRange:
    """Shards ``ids`` (ascending, no repeats) of a bot that runs ``count`` shards in all."""

    ids: tuple[int, ...]
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(_NO_SHARDS)
        if not self.ids:
            raise ValueError("name at least one shard")
        if list(self.ids) != sorted(set(self.ids)):
            raise ValueError("each shard once, in ascending order")
        outside = [i for i in self.ids if not 0 <= i < self.count]
        if outside:
            raise _missing(outside[0], self.count)

    @classmethod
    def parse(cls, text: str) -> ShardRange:
        """``0-3/8``, ``5/8`` or ``0-1,6/8``; ValueError saying what is wrong otherwise."""
        ids_text, slash, count_text = text.replace(" ", "").partition("/")
        if not slash or not count_text.isdigit():
            raise ValueError("write it as FIRST-LAST/COUNT or ID/COUNT, e.g. 0-3/8")
        count = int(count_text)
        if count < 1:
            raise ValueError(_NO_SHARDS)
        ids: set[int] = set()
        for part in ids_text.split(","):
            match = _PART.match(part)
            if match is None:
                raise ValueError(f"{part!r} is not a shard number or a range like 0-3")
            first = int(match[1])
            last = int(match[2]) if match[2] is not None else first
            if last < first:
                raise ValueError(f"the range {part} runs backwards")
            if last >= count:  # checked before the range is built: 0-99999999/8 is refused
                raise _missing(last, count)
            ids.update(range(first, last + 1))
        return cls(tuple(sorted(ids)), count)

    @classmethod
    def every(cls, count: int) -> ShardRange:
        """All ``count`` shards (one process runs the whole bot)."""
        return cls(tuple(range(count)), count)

    @property
    def runs_shard_zero(self) -> bool:
        """Discord sends DMs (and DM reactions and commands) to shard 0 only."""
        return 0 in self.ids

    def __str__(self) -> str:
        parts: list[str] = []
        start = previous = self.ids[0]
        for shard in (*self.ids[1:], None):
            if shard is not None and shard == previous + 1:
                previous = shard
                continue
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            if shard is not None:
                start = previous = shard
        return f"{','.join(parts)}/{self.count}"


def _missing(shard: int, count: int) -> ValueError:
    return ValueError(f"there is no shard {shard} of {count}: they are numbered 0 to {count - 1}")
