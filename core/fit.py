"""The "did it fit?" vote (👍 / 👎) on a card, and the fit rate it adds up to.

The fit rate (👍 among the votes) per scene is the product's own quality measure: a scene
whose playlists keep getting 👎 has a poor anchor, poor seed genres or a CLIP prompt that
catches the wrong photos. A rate from a handful of votes says little, so every rate comes
with its Wilson score interval (95%), and under ``MIN_VOTES`` votes it is marked as too few
to trust. Counting happens in ``adapters.storage.fit_log``; this module only adds it up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.categories import CATEGORY_BY_ID

MIN_VOTES = 20  # below this a fit rate is shown, but marked as too few votes to trust
_Z95 = 1.959964  # the normal quantile of a two-sided 95% interval


class Vote(StrEnum):
    UP = "up"
    DOWN = "down"

    @property
    def emoji(self) -> str:
        return "👍" if self is Vote.UP else "👎"

    @classmethod
    def from_emoji(cls, emoji: str) -> Vote | None:
        """The vote a reaction stands for (skin tones and variation selectors ignored)."""
        bare = "".join(ch for ch in emoji if ch != "\ufe0f" and not 0x1F3FB <= ord(ch) <= 0x1F3FF)
        return next((vote for vote in cls if vote.emoji == bare), None)


@dataclass(frozen=True)
class VoteChange:
    """What a change of someone's reactions means for their vote: ``vote`` set (``on``), or
    taken back (not ``on``: only if it is their vote now)."""

    vote: Vote
    on: bool


def reaction_change(old: Iterable[str], new: Iterable[str]) -> VoteChange | None:
    """The vote change in a reaction update that lists someone's reactions before and after
    (Telegram's ``message_reaction``); None when their 👍 / 👎 did not change."""
    before = {vote for emoji in old if (vote := Vote.from_emoji(emoji))}
    after = {vote for emoji in new if (vote := Vote.from_emoji(emoji))}
    if added := after - before:
        return VoteChange(min(added), on=True)  # both at once: no way to tell; 👎 ("down")
    if removed := before - after:
        if after:  # one of two taken away: the other one stands
            return VoteChange(min(after), on=True)
        return VoteChange(min(removed), on=False)
    return None


@dataclass(frozen=True)
class VoteCount:
    up: int = 0
    down: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def rate(self) -> float | None:
        """👍 among the votes, or None without votes."""
        return self.up / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The Wilson score interval (95%) of the rate: where the true rate likely is."""
        n = self.total
        if not n:
            return None
        p = self.up / n
        z2 = _Z95 * _Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    @property
    def trustworthy(self) -> bool:
        return self.total >= MIN_VOTES

    def __add__(self, other: VoteCount) -> VoteCount:
        return VoteCount(self.up + other.up, self.down + other.down)

    def to_json(self) -> dict[str, object]:
        interval = self.interval
        return {
            "up": self.up,
            "down": self.down,
            "fit_rate": self.rate,
            "interval_95": list(interval) if interval else None,
            "too_few": not self.trustworthy,
        }


@dataclass(frozen=True)
class SceneFit:
    """One scene: how many cards it made and how they were rated."""

    scene: str  # a category id
    cards: int
    votes: VoteCount


@dataclass(frozen=True)
class StatsScope:
    """Which requests count: one platform, one chat, made since a moment (None: any)."""

    platform: str | None = None
    chat_id: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class FitStats:
    """Cards made, votes and the most pressed controls, over a ``StatsScope``."""

    scope: StatsScope
    cards: int
    chats: int
    scenes: tuple[SceneFit, ...]  # most cards first
    nudges: tuple[tuple[str, int], ...] = field(default=())  # action value, presses; most first

    @property
    def votes(self) -> VoteCount:
        total = VoteCount()
        for scene in self.scenes:
            total += scene.votes
        return total

    @classmethod
    def of(
        cls,
        scope: StatsScope,
        *,
        cards: Mapping[str, int],
        votes: Mapping[str, VoteCount],
        nudges: Mapping[str, int],
        chats: int,
    ) -> FitStats:
        """From counts per scene (cards, votes) and per control action (presses)."""
        scenes = tuple(
            sorted(
                (
                    SceneFit(scene, cards.get(scene, 0), votes.get(scene, VoteCount()))
                    for scene in set(cards) | set(votes)
                ),
                key=lambda s: (-s.cards, -s.votes.total, s.scene),
            )
        )
        ranked = tuple(sorted(nudges.items(), key=lambda item: (-item[1], item[0])))
        return cls(scope, sum(cards.values()), chats, scenes, ranked)

    def to_json(self) -> dict[str, object]:
        since = self.scope.since
        return {
            "scope": {
                "platform": self.scope.platform,
                "chat_id": self.scope.chat_id,
                "since": since.isoformat() if since else None,
            },
            "cards": self.cards,
            "chats": self.chats,
            "votes": self.votes.to_json(),
            "scenes": [
                {
                    "scene": scene.scene,
                    "name": _scene_name(scene.scene),
                    "cards": scene.cards,
                    **scene.votes.to_json(),
                }
                for scene in self.scenes
            ],
            "nudges": dict(self.nudges),
            "min_votes": MIN_VOTES,
        }


def _scene_name(scene: str) -> str:
    category = CATEGORY_BY_ID.get(scene)
    return category.name_en if category else scene
