"""``nearest`` without the R*Tree: every track of the genres, ranked. The reference the index
search must equal (tests/test_recommend.py) and the baseline it is timed against
(bench/catalog.py); test support, so it lives here and not in the product.

It shares the row-to-candidate step and the ranking with ``nearest`` on purpose: what it
checks is exactly what differs, which tracks the growing box search gets to see.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlite_utils import Database

from adapters.storage.track_search import _candidates, fetch_tracks, genre_codes
from core.genres import normalise_genres
from core.mood import MoodPoint
from core.recommend import rank
from core.tracks import Track, TrackFilter


def nearest_by_scan(
    db: Database,
    target: MoodPoint,
    genres: Sequence[str],
    n: int = 10,
    exclude: Collection[str] = frozenset(),
    *,
    seed: int | None = None,
    avoid: TrackFilter | None = None,
) -> list[Track]:
    """What ``nearest`` returns for the same arguments (and the same errors), by full scan."""
    if n <= 0:
        return []
    slugs = normalise_genres(genres)
    genre_codes(db, slugs)  # the same errors as nearest
    sql = "SELECT id, valence, energy, popularity, artists FROM tracks"
    params: list[str] = []
    where = ["explicit IS NOT 1"] if avoid and avoid.no_explicit else []
    if slugs:
        marks = ", ".join("?" * len(slugs))
        where.append(f"id IN (SELECT track_id FROM track_genres WHERE genre IN ({marks}))")
        params = list(slugs)
    if where:
        sql += " WHERE " + " AND ".join(where)
    candidates = _candidates(db.execute(sql, params), target, avoid=avoid)
    picked = rank(target, candidates, n, exclude, seed=seed)
    return fetch_tracks(db, [c.id for c in picked])
