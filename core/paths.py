"""Playlists that move: targets spaced along a path on the mood plane, and tracks picked
along it in order.

A journey (from the photo's mood toward a destination) and an album (through its photos'
moods) are both a path: song *i* is the catalog track nearest the path's *i*-th point that
is not already in the playlist and shares no artist with an earlier song.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from core.mood import MoodPoint
from core.recommend import artist_keys
from core.tracks import Track, TrackFilter, TrackSource, recommend_from

_POOL = 8  # nearest tracks fetched per point; enough to step past artists already used


def path_points(start: MoodPoint, end: MoodPoint, n: int) -> list[MoodPoint]:
    """``n`` evenly spaced points from ``start`` to ``end``, both included (one point: the
    start)."""
    if n <= 0:
        return []
    if n == 1:
        return [start]
    step_v = (end.valence - start.valence) / (n - 1)
    step_e = (end.energy - start.energy) / (n - 1)
    return [
        MoodPoint(valence=start.valence + i * step_v, energy=start.energy + i * step_e)
        for i in range(n)
    ]


async def pick_along(
    source: TrackSource,
    points: Sequence[MoodPoint],
    genres: tuple[str, ...],
    exclude: Collection[str] = frozenset(),
    *,
    avoid: TrackFilter | None = None,
    earlier: Sequence[Track] = (),
) -> list[Track]:
    """One track per point, in the points' order: the nearest one not yet picked (nor in
    ``exclude``, nor in ``earlier``, nor left out by the listener's ``avoid``) that shares no
    artist with an earlier pick. A point with nothing left is skipped, so the list may be
    shorter than the path.

    ``earlier``: the playlist so far, when a path is picked leg by leg (an album's photos
    each have their own genres): its tracks and artists are not picked again."""
    picked: list[Track] = []
    taken = set(exclude) | {track.id for track in earlier}
    artists: set[str] = set()
    for track in earlier:
        artists |= artist_keys(track.artists)
    for point in points:
        nearest = await recommend_from(source, point, genres, _POOL, taken, avoid)
        choice = next((t for t in nearest if not artist_keys(t.artists) & artists), None)
        if choice is None:
            continue
        picked.append(choice)
        taken.add(choice.id)
        artists |= artist_keys(choice.artists)
    return picked
