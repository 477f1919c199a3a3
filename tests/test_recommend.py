"""Ranking (pure) and the catalog search: exact neighbours, filters, dedupe, determinism."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from statistics import fmean

import pytest
from sqlite_utils import Database

from adapters.storage.anchors_store import base_for, build_anchor_table
from adapters.storage.catalog_import import import_catalog, store_tracks
from adapters.storage.database import open_database
from adapters.storage.track_search import GenresNotInCatalogError, nearest
from core.categories import CATEGORIES, get_category
from core.errors import CatalogError
from core.mood import MoodPoint
from core.recommend import Candidate, rank
from tests.catalog_factory import (
    all_seed_genres,
    build_synthetic_catalog,
    make_track,
    synthetic_tracks,
    track_id,
)
from tests.full_scan import nearest_by_scan

REAL_CSV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "spotify_songs.csv"


def cand(
    track_id: str, valence: float, energy: float, popularity: int = 50, *artists: str
) -> Candidate:
    return Candidate(track_id, valence, energy, popularity, artists or (f"artist {track_id}",))


def ranked_ids(*args, **kwargs) -> list[str]:
    return [c.id for c in rank(*args, **kwargs)]


# ---------------------------------------------------------------- pure ranking

TARGET = MoodPoint(0.5, 0.5)


def test_rank_by_distance() -> None:
    candidates = [cand("far", 0.9, 0.9), cand("near", 0.5, 0.55), cand("mid", 0.3, 0.5)]
    assert ranked_ids(TARGET, candidates, 3) == ["near", "mid", "far"]
    assert ranked_ids(TARGET, candidates, 2) == ["near", "mid"]
    assert ranked_ids(TARGET, candidates, 0) == []


def test_equal_distance_prefers_popularity_then_id() -> None:
    candidates = [
        cand("b", 0.6, 0.5, 10),
        cand("a", 0.4, 0.5, 10),  # same distance, same popularity as b: id decides
        cand("c", 0.5, 0.6, 90),  # same distance, more popular
        cand("d", 0.5, 0.5 - 0.1, 10),
    ]
    assert ranked_ids(TARGET, candidates, 4) == ["c", "a", "b", "d"]


def test_no_artist_twice_including_collaborations() -> None:
    candidates = [
        cand("1", 0.5, 0.5, 50, "Drake"),
        cand("2", 0.5, 0.51, 50, "drake "),  # same artist, other spelling
        cand("3", 0.5, 0.52, 50, "Future", "DRAKE"),  # a collaboration with him
        cand("4", 0.5, 0.53, 50, "Future"),
        cand("5", 0.5, 0.54, 50, "Someone"),
    ]
    assert ranked_ids(TARGET, candidates, 5) == ["1", "4", "5"]


def test_exclusion() -> None:
    candidates = [cand(str(i), 0.5, 0.5 + i / 100) for i in range(5)]
    assert ranked_ids(TARGET, candidates, 2, {"0", "2"}) == ["1", "3"]


def test_seed_only_reorders_exact_ties() -> None:
    tied = [cand(f"t{i}", 0.6, 0.5) for i in range(6)] + [
        cand(f"t{i + 6}", 0.5, 0.4) for i in range(6)
    ]
    best = cand("best", 0.5, 0.5)
    worst = cand("worst", 0.9, 0.9)
    pool = [worst, *tied, best]
    unseeded = ranked_ids(TARGET, pool, 20)
    assert unseeded == ["best", *sorted(c.id for c in tied), "worst"]
    orders = {tuple(ranked_ids(TARGET, pool, 20, seed=s)) for s in range(8)}
    assert len(orders) > 1  # the seed changes which tied track wins ...
    for order in orders:
        assert order[0] == "best" and order[-1] == "worst"  # ... and nothing else
        assert set(order[1:-1]) == {c.id for c in tied}
    assert ranked_ids(TARGET, pool, 20, seed=3) == ranked_ids(TARGET, pool, 20, seed=3)


def test_rank_is_independent_of_input_order() -> None:
    rng = random.Random(1)
    pool = [
        cand(f"t{i}", round(rng.random(), 2), round(rng.random(), 2), rng.randint(0, 3))
        for i in range(300)
    ]
    first = ranked_ids(TARGET, pool, 25)
    rng.shuffle(pool)
    assert ranked_ids(TARGET, pool, 25) == first


# ---------------------------------------------------------------- catalog search


@pytest.fixture
def db() -> Iterator[Database]:
    db = open_database(":memory:")
    yield db
    db.close()


def test_nearest_exact_neighbours_in_genre(db) -> None:
    store_tracks(
        db,
        [
            make_track("near", 0.52, 0.50, genres=("jazz",)),
            make_track("nearer-but-rock", 0.50, 0.50, genres=("rock",)),
            make_track("second", 0.45, 0.55, genres=("soul",)),
            make_track("far", 0.95, 0.05, genres=("jazz",)),
            make_track("both", 0.40, 0.40, genres=("jazz", "soul")),
        ],
    )
    found = nearest(db, MoodPoint(0.5, 0.5), ["jazz", "soul"], n=10)
    assert [t.id for t in found] == [track_id(k) for k in ("near", "second", "both", "far")]
    first = found[0]
    assert (first.name, first.artists, first.genres) == ("Song near", ("Artist near",), ("jazz",))
    assert (first.valence, first.energy, first.popularity) == (0.52, 0.50, 50)
    assert found[2].genres == ("jazz", "soul")  # listed under both genres, returned once


def test_nearest_skips_repeated_artists_and_exclusions(db) -> None:
    store_tracks(
        db,
        [
            make_track("a1", 0.50, 0.50, artists=["Band"]),
            make_track("a2", 0.50, 0.51, artists=["band"]),
            make_track("b", 0.50, 0.52, artists=["Other", "Band"]),
            make_track("c", 0.50, 0.53),
            make_track("d", 0.50, 0.54),
        ],
    )
    target = MoodPoint(0.5, 0.5)
    assert [t.id for t in nearest(db, target, ["pop"], 3)] == [
        track_id("a1"),
        track_id("c"),
        track_id("d"),
    ]
    again = nearest(db, target, ["pop"], 3, exclude={track_id("a1"), track_id("c")})
    assert [t.id for t in again] == [track_id("a2"), track_id("d")]  # the genre ran out


def test_nearest_expands_to_tracks_far_from_the_target(db) -> None:
    store_tracks(db, synthetic_tracks(["rock"], 400, seed=5))
    store_tracks(db, [make_track("lonely", 0.99, 0.01, genres=("jazz",))])
    found = nearest(db, MoodPoint(0.0, 1.0), ["jazz"], n=10)
    assert [t.id for t in found] == [track_id("lonely")]


def test_nearest_accepts_unnormalised_genres_and_all_genres(db) -> None:
    store_tracks(
        db,
        [
            make_track("x", 0.1, 0.1, genres=("r-n-b",)),
            make_track("y", 0.2, 0.2, genres=("hip-hop",)),
        ],
    )
    assert [t.id for t in nearest(db, MoodPoint(0, 0), ["R&B"], 5)] == [track_id("x")]
    assert [t.id for t in nearest(db, MoodPoint(0, 0), [], 5)] == [track_id("x"), track_id("y")]


def test_empty_catalog_tells_the_user_to_import(db) -> None:
    with pytest.raises(CatalogError, match=r"catalog is empty.*aidj catalog import"):
        nearest(db, TARGET, ["pop"])


def test_genres_matching_nothing_is_a_clear_error(db) -> None:
    store_tracks(db, [make_track("x", 0.1, 0.1, genres=("rock",))])
    with pytest.raises(GenresNotInCatalogError, match=r"no track .* listed under.*jazz") as info:
        nearest(db, TARGET, ["jazz", "Classical"])
    assert isinstance(info.value, CatalogError)
    assert info.value.genres == ("classical", "jazz")
    # the documented way out: the whole catalog
    assert [t.id for t in nearest(db, TARGET, (), 10)] == [track_id("x")]


def test_rtree_search_equals_full_scan_on_random_targets(db) -> None:
    genres = [f"g{i}" for i in range(30)]
    tracks = synthetic_tracks(genres, 120, seed=11)
    rng = random.Random(7)
    # shared artists, popularity ties and duplicate points, so every rule is exercised
    tracks = [
        t._replace(
            artists=(f"artist {rng.randint(0, 900)}",),
            popularity=rng.randint(0, 4),
            genres=frozenset(rng.sample(genres, rng.choice([1, 1, 2]))),
            valence=round(t.valence, 2),
            energy=round(t.energy, 2),
        )
        for t in tracks
    ]
    store_tracks(db, tracks)
    all_ids = [t.id for t in tracks]
    for _ in range(150):
        target = MoodPoint(rng.random(), rng.random())
        chosen = rng.sample(genres, rng.randint(1, 6))
        exclude = set(rng.sample(all_ids, rng.randint(0, 300)))
        n = rng.choice([1, 10, 25])
        fast = [t.id for t in nearest(db, target, chosen, n, exclude)]
        slow = [t.id for t in nearest_by_scan(db, target, chosen, n, exclude)]
        assert fast == slow, (target, chosen, n)
        assert len(fast) == n
        assert not set(fast) & exclude


def test_regenerate_never_repeats_until_the_genres_run_out(db) -> None:
    build_synthetic_catalog(db, tracks_per_genre=3, anchors=False)
    category = get_category("study_desk")
    population = {
        track_id
        for (track_id,) in db.execute(
            "SELECT DISTINCT track_id FROM track_genres WHERE genre IN "
            f"({', '.join('?' * len(category.seed_genres))})",
            list(category.seed_genres),
        )
    }
    shown: set[str] = set()
    rounds = 0
    while True:
        found = nearest(db, TARGET, category.seed_genres, 10, shown)
        if not found:
            break
        ids = {t.id for t in found}
        assert not ids & shown
        shown |= ids
        rounds += 1
    assert shown == population  # every track shown once, then nothing is left
    assert rounds == -(-len(population) // 10)


def test_synthetic_catalog_serves_every_category(tmp_path) -> None:
    db = build_synthetic_catalog(tmp_path / "aidj.db")
    assert set(all_seed_genres()) <= {g for (g,) in db.execute("SELECT slug FROM genres")}
    for category in CATEGORIES:
        base, source = base_for(db, category)
        assert source == "anchors"
        tracks = nearest(db, base, category.seed_genres, 10)
        assert len(tracks) == 10, category.id
        assert all(set(t.genres) & set(category.seed_genres) for t in tracks)


def test_nearest_equals_the_full_scan_on_a_larger_catalog(db) -> None:
    """Every category's genres at random targets, first cards and regenerates: the index
    search finds what ranking every track would. (How fast: ``python -m bench.catalog``.)"""
    store_tracks(db, synthetic_tracks(all_seed_genres(), 300, seed=2))
    rng = random.Random(0)
    for _ in range(60):
        genres = rng.choice(CATEGORIES).seed_genres
        target = MoodPoint(rng.random(), rng.random())
        first = [t.id for t in nearest(db, target, genres, 10)]
        assert first == [t.id for t in nearest_by_scan(db, target, genres, 10)]
        again = [t.id for t in nearest(db, target, genres, 10, set(first))]
        assert again == [t.id for t in nearest_by_scan(db, target, genres, 10, set(first))]
        assert len(first) == len(again) == 10 and not set(first) & set(again)


# ---------------------------------------------------------------- the real catalog


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    if not REAL_CSV.exists():
        pytest.skip(f"real-data test needs {REAL_CSV} (see shared/data/README.md)")
    db = open_database(tmp_path_factory.mktemp("real") / "aidj.db")
    summary = import_catalog(db, REAL_CSV)
    assert summary.rows_read == 32_833
    assert summary.catalog_tracks == summary.tracks_in_file > 28_000
    build_anchor_table(db)
    yield db
    db.close()


COVERED = [c.id for c in CATEGORIES if c.id != "study_desk"]


def _close_enough(tracks, target: MoodPoint, genres) -> None:
    assert len(tracks) == 10
    assert all(set(t.genres) & set(genres) for t in tracks)
    artists = [a.casefold() for t in tracks for a in t.artists]
    assert len(artists) == len(set(artists))
    assert fmean(abs(t.valence - target.valence) for t in tracks) < 0.05
    assert fmean(abs(t.energy - target.energy) for t in tracks) < 0.05


@pytest.mark.parametrize("category_id", COVERED)
def test_real_catalog_recommend_and_regenerate(real_db, category_id) -> None:
    category = get_category(category_id)
    target, source = base_for(real_db, category)
    assert source == "anchors"
    first = nearest(real_db, target, category.seed_genres, 10)
    _close_enough(first, target, category.seed_genres)
    second = nearest(real_db, target, category.seed_genres, 10, {t.id for t in first})
    _close_enough(second, target, category.seed_genres)
    assert not {t.id for t in first} & {t.id for t in second}


def test_real_catalog_nudged_target(real_db) -> None:
    category = get_category("rainy_day")
    base, _ = base_for(real_db, category)
    target = MoodPoint(min(1.0, base.valence + 0.3), base.energy)  # "rainy but happy"
    tracks = nearest(real_db, target, category.seed_genres, 10)
    _close_enough(tracks, target, category.seed_genres)


def test_real_catalog_has_no_study_genres(real_db) -> None:
    # TidyTuesday has no study/piano/classical/ambient/jazz tracks: a clear error, and the
    # anchor fell back to the feature window
    with pytest.raises(CatalogError, match="Spotify Tracks Dataset"):
        nearest(real_db, MoodPoint(0.3, 0.3), get_category("study_desk").seed_genres)
    rule = real_db.execute("SELECT rule FROM anchors WHERE category_id = 'study_desk'")
    assert rule.fetchone() == ("window",)
