"""Ranking catalog tracks against a target mood: pure logic, no storage.

The order is the product's promise, so it is fully deterministic:
1. distance to the target in the valence/energy plane (Euclidean; rounded to 1e-9 so
   float noise does not turn equal distances into a false order),
2. higher popularity first (the better known of two equally fitting tracks),
3. the track id; or, when a ``seed`` is given, a seeded hash of the id (so a caller can
   vary which of exactly tied tracks wins, reproducibly, without touching the rest).

Then no artist twice: walking that order, a track is skipped when any of its artists
(case-insensitive) is already in the list, so one prolific artist cannot fill a playlist.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from core.mood import MoodPoint

_DISTANCE_DECIMALS = 9


@dataclass(frozen=True)
class Candidate:
    """What ranking needs to know about a track."""

    id: str
    valence: float
    energy: float
    popularity: int
    artists: tuple[str, ...]


def distance(target: MoodPoint, valence: float, energy: float) -> float:
    """Euclidean distance in the valence/energy plane."""
    return math.hypot(valence - target.valence, energy - target.energy)


def artist_keys(artists: Iterable[str]) -> frozenset[str]:
    """The artist identities compared for "no artist twice"."""
    return frozenset(key for key in (a.strip().casefold() for a in artists) if key)


def sort_key(
    target: MoodPoint, candidate: Candidate, seed: int | None = None
) -> tuple[float, int, str, str]:
    """The ranking order of ``candidate`` (smaller first)."""
    gap = round(distance(target, candidate.valence, candidate.energy), _DISTANCE_DECIMALS)
    tie = "" if seed is None else _seeded(seed, candidate.id)
    return (gap, -candidate.popularity, tie, candidate.id)


def rank(
    target: MoodPoint,
    candidates: Iterable[Candidate],
    n: int,
    exclude: Collection[str] = frozenset(),
    *,
    seed: int | None = None,
) -> list[Candidate]:
    """The best ``n`` candidates for ``target``: not excluded, no artist twice."""
    if n <= 0:
        return []
    pool = {c.id: c for c in candidates if c.id not in exclude}
    ordered = sorted(pool.values(), key=lambda c: sort_key(target, c, seed))
    return dedupe_artists(ordered, n)


def dedupe_artists(ordered: Iterable[Candidate], n: int) -> list[Candidate]:
    """The first ``n`` of ``ordered`` that share no artist with an earlier pick."""
    picked: list[Candidate] = []
    seen: set[str] = set()
    for candidate in ordered:
        keys = artist_keys(candidate.artists)
        if keys & seen:
            continue
        picked.append(candidate)
        seen |= keys
        if len(picked) == n:
            break
    return picked


def _seeded(seed: int, track_id: str) -> str:
    return hashlib.blake2b(f"{seed}:{track_id}".encode(), digest_size=8).hexdigest()
