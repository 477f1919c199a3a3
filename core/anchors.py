"""The anchor table's rule: which ~100 tracks represent a mood category, and their means.

The anchor is the image's base point, so it must sound like the scene and be
reproducible. The rule, applied per category to the whole catalog in one fixed order
(popularity descending, then track id):

1. ``genres+window``: tracks listed under any of the category's seed genres whose valence
   and energy fall inside the category's ``FeatureWindow``;
2. ``genres``: if fewer than ``size`` were found, the rest from the seed genres regardless
   of the window (the genre still says something about the scene);
3. ``window``: if still short (a catalog without those genres, such as TidyTuesday for the
   study desk), the rest from tracks of any genre inside the window.

Across all levels no artist is used twice, so one prolific artist cannot tilt the means.
``rule`` records the widest level that contributed a track. The anchor's values are the
plain means of the chosen tracks' features.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from core.categories import MoodCategory
from core.mood import MoodPoint
from core.recommend import artist_keys

ANCHOR_SIZE = 100
FEATURES: tuple[str, ...] = (
    "valence",
    "energy",
    "danceability",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "tempo",
    "loudness",
)
RULE_GENRES_AND_WINDOW = "genres+window"
RULE_GENRES = "genres"
RULE_WINDOW = "window"
RULES: tuple[str, ...] = (RULE_GENRES_AND_WINDOW, RULE_GENRES, RULE_WINDOW)


@dataclass(frozen=True)
class AnchorTrack:
    """A catalog track as the anchor rule sees it."""

    id: str
    artists: tuple[str, ...]
    popularity: int
    genres: frozenset[str]
    features: Mapping[str, float]  # every name in FEATURES

    @property
    def valence(self) -> float:
        return self.features["valence"]

    @property
    def energy(self) -> float:
        return self.features["energy"]


@dataclass(frozen=True)
class Anchor:
    """One row of the anchor table."""

    category_id: str
    means: Mapping[str, float]
    track_ids: tuple[str, ...]
    rule: str

    @property
    def point(self) -> MoodPoint:
        return MoodPoint(valence=self.means["valence"], energy=self.means["energy"])

    @property
    def track_count(self) -> int:
        return len(self.track_ids)


def popularity_order(tracks: Iterable[AnchorTrack]) -> list[AnchorTrack]:
    """The one order every level walks: popularity descending, then id."""
    return sorted(tracks, key=lambda t: (-t.popularity, t.id))


def select_tracks(
    category: MoodCategory, ordered: Sequence[AnchorTrack], size: int = ANCHOR_SIZE
) -> tuple[list[AnchorTrack], str | None]:
    """The representative tracks of ``category`` and the widest rule level used.

    ``ordered`` must be in ``popularity_order``. The level is None when nothing matched.
    """
    seeds = frozenset(category.seed_genres)
    window = category.window

    def in_genres(track: AnchorTrack) -> bool:
        return not seeds.isdisjoint(track.genres)

    def in_window(track: AnchorTrack) -> bool:
        return window.contains(track.valence, track.energy)

    levels: tuple[tuple[str, Callable[[AnchorTrack], bool]], ...] = (
        (RULE_GENRES_AND_WINDOW, lambda t: in_genres(t) and in_window(t)),
        (RULE_GENRES, in_genres),
        (RULE_WINDOW, in_window),
    )
    chosen: list[AnchorTrack] = []
    taken: set[str] = set()
    artists: set[str] = set()
    rule: str | None = None
    for name, accepts in levels:
        if len(chosen) >= size:
            break
        for track in ordered:
            if track.id in taken or not accepts(track):
                continue
            keys = artist_keys(track.artists)
            if keys & artists:
                continue
            chosen.append(track)
            taken.add(track.id)
            artists |= keys
            rule = name
            if len(chosen) >= size:
                break
    return chosen, rule


def build_anchor(
    category: MoodCategory, ordered: Sequence[AnchorTrack], size: int = ANCHOR_SIZE
) -> Anchor | None:
    """The anchor of ``category``, or None when no track qualifies at any level."""
    chosen, rule = select_tracks(category, ordered, size)
    if not chosen or rule is None:
        return None
    means = {name: fmean(t.features[name] for t in chosen) for name in FEATURES}
    return Anchor(
        category_id=category.id,
        means=means,
        track_ids=tuple(t.id for t in chosen),
        rule=rule,
    )


def build_anchors(
    categories: Iterable[MoodCategory], tracks: Iterable[AnchorTrack], size: int = ANCHOR_SIZE
) -> list[Anchor]:
    """Anchors for every category that has at least one qualifying track."""
    ordered = popularity_order(tracks)
    built = (build_anchor(category, ordered, size) for category in categories)
    return [anchor for anchor in built if anchor is not None]
