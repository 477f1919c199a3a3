"""An album is a story: the photos of one post give one playlist that follows them in order.

Each photo is placed on the plane as a single photo is (its scene's base, tuned by the post's
one caption). The playlist gives every photo its share of the tracks (the count over the
photos, the remainder to the first ones), and within a share the songs move from where the
previous share ended to this photo's point, arriving on it with the share's last song; the
first photo's share sits on its own point. So the music glides from one photo's mood to the
next instead of jumping, and every photo's scene chooses the genres of its share.

Steering keeps the story: regenerate picks new songs along the same arc, a nudge moves every
photo's point by the same step (each clamped to the plane).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from core.messages import ImageProblem
from core.mood import Analysis, BaseSource, MoodPoint
from core.paths import path_points, pick_along
from core.steering import Action, steer
from core.tracks import Track, TrackFilter, TrackSource

MAX_PHOTOS = 10  # a Telegram media group holds at most ten, and so does a Discord message


@dataclass(frozen=True)
class AlbumPhoto:
    """One photo of an album that was read: its place in the post (1 for the first), its
    analysis, and its point after any steering (``analysis.final`` at first)."""

    position: int
    analysis: Analysis
    target: MoodPoint


@dataclass(frozen=True)
class SkippedPhoto:
    """A photo of an album that could not be used (the card says which, and why)."""

    position: int
    problem: ImageProblem


@dataclass(frozen=True)
class Album:
    """The photos of one post that were read, in the post's order, and those skipped."""

    photos: tuple[AlbumPhoto, ...]
    skipped: tuple[SkippedPhoto, ...] = ()

    @property
    def is_arc(self) -> bool:
        """Whether the playlist follows several photos (one photo left: a normal card)."""
        return len(self.photos) > 1

    @property
    def targets(self) -> list[MoodPoint]:
        return [photo.target for photo in self.photos]

    @property
    def on_defaults(self) -> bool:
        """Whether any photo's base came from category defaults (no anchor table yet)."""
        return any(p.analysis.base_source == BaseSource.DEFAULTS for p in self.photos)

    def steered(self, action: Action, step: float) -> Album:
        """Every photo's point moved by ``action`` (regenerate keeps them)."""
        photos = tuple(replace(p, target=steer(p.target, action, step)) for p in self.photos)
        return replace(self, photos=photos)


def shares(count: int, photos: int) -> list[int]:
    """How many of ``count`` songs each of ``photos`` photos gets: equal shares, the
    remainder to the first photos (10 over 3: 4, 3, 3)."""
    if photos <= 0:
        return []
    each, extra = divmod(max(count, 0), photos)
    return [each + (1 if index < extra else 0) for index in range(photos)]


def album_legs(targets: Sequence[MoodPoint], count: int) -> list[list[MoodPoint]]:
    """Per photo, the points of its songs: evenly from the previous photo's point (left
    out: the previous share ended there) to this photo's point (included)."""
    legs = []
    previous = targets[0] if targets else None
    for target, share in zip(targets, shares(count, len(targets)), strict=True):
        assert previous is not None
        legs.append(path_points(previous, target, share + 1)[1:])
        previous = target
    return legs


async def pick_album(
    source: TrackSource,
    photos: Sequence[AlbumPhoto],
    count: int,
    exclude: Collection[str] = frozenset(),
    avoid: TrackFilter | None = None,
) -> list[Track]:
    """The album's playlist in order: each photo's share picked along its leg within that
    photo's scene genres; no track twice (nor any in ``exclude``, nor any the listener's
    ``avoid`` leaves out), no artist twice."""
    playlist: list[Track] = []
    legs = album_legs([photo.target for photo in photos], count)
    for photo, leg in zip(photos, legs, strict=True):
        playlist += await pick_along(
            source, leg, photo.analysis.seed_genres, exclude, avoid=avoid, earlier=playlist
        )
    return playlist
