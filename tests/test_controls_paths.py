"""The card's controls as data, and picking tracks along a path (pure ``core``)."""

import itertools

import pytest

from core.controls import MAX_DATA_BYTES, Control, ControlKind
from core.mood import MoodPoint
from core.paths import path_points, pick_along
from core.recommend import Candidate, artist_keys, rank
from core.steering import Action
from core.tracks import Track, TrackFilter


def test_steering_controls_keep_the_format_cards_were_posted_with():
    control = Control.steer(42, Action.CALMER)
    assert control.encode() == "aidj:42:calmer"
    assert Control.parse("aidj:42:calmer") == control
    assert control.action is Action.CALMER


def test_every_action_round_trips_within_the_callback_limit():
    for action in Action:
        data = Control.steer(10**15, action).encode()
        assert len(data.encode()) <= MAX_DATA_BYTES
        assert Control.parse(data) == Control.steer(10**15, action)


@pytest.mark.parametrize(
    "data",
    ["aidj:1:steer:calmer", "aidj:1:nosuchkind:x", "aidj:1:calmer:", "aidj:-1:calmer", "aidj"],
)
def test_data_that_is_not_a_control_of_ours_is_none(data):
    assert Control.parse(data) is None


def test_a_control_too_long_for_telegram_is_refused_when_written():
    with pytest.raises(ValueError, match="64 bytes"):
        Control(1, ControlKind.STEER, "x" * 80).encode()


def test_path_points_are_evenly_spaced_and_include_both_ends():
    points = path_points(MoodPoint(0.2, 0.8), MoodPoint(0.6, 0.0), 5)
    assert points[0] == MoodPoint(0.2, 0.8)
    assert points[-1].valence == pytest.approx(0.6) and points[-1].energy == pytest.approx(0.0)
    gaps = [round(b.valence - a.valence, 9) for a, b in itertools.pairwise(points)]
    assert gaps == [0.1] * 4
    assert path_points(MoodPoint(0.5, 0.5), MoodPoint(1, 1), 1) == [MoodPoint(0.5, 0.5)]
    assert path_points(MoodPoint(0.5, 0.5), MoodPoint(1, 1), 0) == []


class _GridSource:
    """Every point of a 0.05 grid, one artist per column (so "no artist twice" bites)."""

    def __init__(self) -> None:
        self.tracks = {
            f"t{v}_{e}": Track(f"t{v}_{e}", "song", (f"artist{v}",), v / 20, e / 20)
            for v in range(21)
            for e in range(21)
        }

    async def recommend(self, target, genres, n, exclude, *, avoid=None):
        candidates = [
            Candidate(t.id, t.valence, t.energy, t.popularity, t.artists)
            for t in self.tracks.values()
            if avoid is None or avoid.allows_artists(t.artists)
        ]
        return [self.tracks[c.id] for c in rank(target, candidates, n, exclude)]


async def test_tracks_follow_the_path_in_order_without_repeats_or_artist_twice():
    points = path_points(MoodPoint(0.1, 0.2), MoodPoint(0.9, 0.8), 10)
    tracks = await pick_along(_GridSource(), points, ("pop",), exclude={"t2_4"})
    assert len(tracks) == 10
    assert len({t.id for t in tracks}) == 10 and "t2_4" not in {t.id for t in tracks}
    assert len({t.artists for t in tracks}) == 10
    assert [t.valence for t in tracks] == sorted(t.valence for t in tracks)
    for track, point in zip(tracks, points, strict=True):
        assert abs(track.valence - point.valence) + abs(track.energy - point.energy) < 0.1


async def test_a_listeners_filter_reaches_every_point_of_the_path():
    points = path_points(MoodPoint(0.1, 0.2), MoodPoint(0.9, 0.8), 10)
    plain = await pick_along(_GridSource(), points, ("pop",))
    left_out = {plain[3].artists[0].upper(), plain[7].artists[0]}
    avoid = TrackFilter(artists=artist_keys(left_out))
    tracks = await pick_along(_GridSource(), points, ("pop",), avoid=avoid)
    assert len(tracks) == 10
    assert not {t.artists[0].casefold() for t in tracks} & artist_keys(left_out)
