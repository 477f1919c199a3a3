"""The anchor rule (pure), the anchor table, base values and the anchors commands."""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from adapters.storage.anchors_store import (
    anchor_points,
    base_for,
    build_anchor_table,
    stored_anchors,
)
from adapters.storage.catalog_import import store_tracks
from adapters.storage.database import open_database
from bot import cli_catalog
from core.anchors import (
    FEATURES,
    RULE_GENRES,
    RULE_GENRES_AND_WINDOW,
    RULE_WINDOW,
    AnchorTrack,
    build_anchor,
    build_anchors,
    popularity_order,
)
from core.categories import CATEGORIES, FeatureWindow, MoodCategory, get_category
from core.errors import CatalogError
from core.mood import MoodPoint
from tests.catalog_factory import build_synthetic_catalog, make_track

SCENE = MoodCategory(
    id="test_scene",
    name_en="Test",
    name_ko="테스트",
    prompts=("a photo",),
    seed_genres=("jazz", "soul"),
    default_valence=0.5,
    default_energy=0.5,
    window=FeatureWindow(valence=(0.0, 0.5), energy=(0.0, 0.5)),
)


def track(
    track_id: str,
    valence: float,
    energy: float,
    genres: tuple[str, ...] = ("jazz",),
    popularity: int = 50,
    artist: str | None = None,
) -> AnchorTrack:
    features = {name: 0.0 for name in FEATURES}
    features.update(valence=valence, energy=energy, tempo=100.0 + popularity)
    return AnchorTrack(
        id=track_id,
        artists=(artist or f"artist {track_id}",),
        popularity=popularity,
        genres=frozenset(genres),
        features=features,
    )


def ids(anchor) -> list[str]:
    return list(anchor.track_ids)


# ---------------------------------------------------------------- the rule


def test_genres_and_window_first_by_popularity_then_id() -> None:
    tracks = [
        track("b", 0.2, 0.2, popularity=60),
        track("a", 0.3, 0.3, popularity=60),
        track("c", 0.1, 0.1, popularity=90, genres=("soul",)),
        track("d", 0.4, 0.4, popularity=99, genres=("rock",)),  # wrong genre
        track("e", 0.9, 0.9, popularity=100),  # outside the window
    ]
    anchor = build_anchor(SCENE, popularity_order(tracks), size=3)
    assert ids(anchor) == ["c", "a", "b"]
    assert anchor.rule == RULE_GENRES_AND_WINDOW
    assert anchor.means["valence"] == pytest.approx(0.2)
    assert anchor.means["energy"] == pytest.approx(0.2)
    assert anchor.means["tempo"] == pytest.approx(100 + (90 + 60 + 60) / 3)
    assert anchor.point == MoodPoint(anchor.means["valence"], anchor.means["energy"])


def test_one_track_per_artist() -> None:
    tracks = [
        track("a", 0.1, 0.1, popularity=90, artist="Same"),
        track("b", 0.2, 0.2, popularity=80, artist="same "),
        track("c", 0.3, 0.3, popularity=70),
    ]
    assert ids(build_anchor(SCENE, popularity_order(tracks), size=3)) == ["a", "c"]


def test_widens_to_genres_then_window() -> None:
    tracks = [
        track("in", 0.1, 0.1, popularity=10),
        track("genre-only", 0.9, 0.9, popularity=90),
        track("window-only", 0.2, 0.2, popularity=95, genres=("rock",)),
        track("neither", 0.9, 0.9, popularity=99, genres=("rock",)),
    ]
    ordered = popularity_order(tracks)
    assert build_anchor(SCENE, ordered, size=1).rule == RULE_GENRES_AND_WINDOW
    two = build_anchor(SCENE, ordered, size=2)
    assert (ids(two), two.rule) == (["in", "genre-only"], RULE_GENRES)
    three = build_anchor(SCENE, ordered, size=3)
    assert (ids(three), three.rule) == (["in", "genre-only", "window-only"], RULE_WINDOW)
    assert ids(build_anchor(SCENE, ordered, size=10)) == ids(three)  # "neither" never


def test_window_only_when_no_seed_genre_exists() -> None:
    tracks = [track("w", 0.2, 0.3, genres=("rock",)), track("x", 0.8, 0.8, genres=("rock",))]
    anchor = build_anchor(SCENE, popularity_order(tracks))
    assert (ids(anchor), anchor.rule, anchor.track_count) == (["w"], RULE_WINDOW, 1)


def test_no_qualifying_track_gives_no_anchor() -> None:
    assert build_anchor(SCENE, [track("x", 0.9, 0.9, genres=("rock",))]) is None


def test_rule_is_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(3)
    tracks = [
        track(
            f"t{i}",
            rng.random(),
            rng.random(),
            genres=(rng.choice(["jazz", "soul", "rock"]),),
            popularity=rng.randint(0, 5),  # many popularity ties: the id decides
            artist=f"artist {rng.randint(0, 60)}",
        )
        for i in range(400)
    ]
    first = build_anchors([SCENE], tracks, size=50)
    rng.shuffle(tracks)
    assert build_anchors([SCENE], tracks, size=50) == first


# ---------------------------------------------------------------- the table


@pytest.fixture
def db() -> Iterator[Database]:
    db = open_database(":memory:")
    yield db
    db.close()


def test_base_values_fall_back_to_defaults_until_built(db) -> None:
    rainy = get_category("rainy_day")
    assert base_for(db, rainy) == (MoodPoint(0.25, 0.30), "defaults")
    build_synthetic_catalog(db)
    point, source = base_for(db, rainy)
    assert source == "anchors"
    row = db.execute("SELECT valence, energy FROM anchors WHERE category_id = 'rainy_day'")
    assert row.fetchone() == (point.valence, point.energy)
    assert base_for(db, "rainy_day") == (point, "anchors")
    db.execute("DELETE FROM anchors WHERE category_id = 'rainy_day'")
    assert base_for(db, rainy) == (MoodPoint(0.25, 0.30), "defaults")
    assert base_for(db, "sunset")[1] == "anchors"


def test_anchor_table_from_the_synthetic_catalog(db) -> None:
    build_synthetic_catalog(db, tracks_per_genre=12)
    anchors = {a.category_id: a for a in stored_anchors(db)}
    assert set(anchors) == {c.id for c in CATEGORIES}
    for category in CATEGORIES:
        anchor = anchors[category.id]
        assert anchor.track_count == 100
        # 12 uniform tracks in each of 10+ genres: the window alone is too narrow
        assert anchor.rule == RULE_GENRES, category.id
    points = anchor_points(db)
    assert points["workout"] == anchors["workout"].point


def test_anchor_values_are_the_means_of_the_chosen_tracks(db) -> None:
    scene = get_category("party_concert")  # window valence 0.45..1, energy 0.75..1
    tracks = [
        make_track(i, 0.5 + i / 100, 0.8 + i / 200, genres=("edm",), popularity=i)
        for i in range(10)
    ]
    store_tracks(db, tracks)
    build_anchor_table(db, size=4)
    point, source = base_for(db, scene)
    chosen = tracks[-4:]  # the four most popular
    assert source == "anchors"
    assert point.valence == pytest.approx(sum(t.valence for t in chosen) / 4)
    assert point.energy == pytest.approx(sum(t.energy for t in chosen) / 4)


def _qualifying(tracks) -> set[str]:
    """Categories some track qualifies for: by seed genre or by window."""
    return {
        c.id
        for c in CATEGORIES
        for t in tracks
        if set(c.seed_genres) & t.genres or c.window.contains(t.valence, t.energy)
    }


def test_rebuild_replaces_the_table(db) -> None:
    first = make_track("a", 0.95, 0.95, genres=("edm",))
    store_tracks(db, [first])
    build_anchor_table(db)
    assert {a.category_id for a in stored_anchors(db)} == _qualifying([first])
    assert "rainy_day" not in _qualifying([first])
    second = make_track("b", 0.2, 0.2, genres=("sad",))
    store_tracks(db, [second])
    build_anchor_table(db)
    assert {a.category_id for a in stored_anchors(db)} == _qualifying([first, second])
    assert "rainy_day" in _qualifying([second])
    counts = db.execute("SELECT count(*), count(DISTINCT built_at) FROM anchors").fetchone()
    assert counts == (len(_qualifying([first, second])), 1)


def test_building_from_an_empty_catalog_fails_clearly(db) -> None:
    with pytest.raises(CatalogError, match="aidj catalog import"):
        build_anchor_table(db)
    assert stored_anchors(db) == []


# ---------------------------------------------------------------- CLI


def test_cli_build_and_show(tmp_path, capsys) -> None:
    path = tmp_path / "aidj.db"
    args = argparse.Namespace(db=path)
    assert cli_catalog.run_anchors_show(args) == 1
    assert "run `aidj anchors build`" in capsys.readouterr().err
    assert cli_catalog.run_anchors_build(args) == 1  # empty catalog
    assert "aidj catalog import" in capsys.readouterr().err
    build_synthetic_catalog(path, anchors=False).close()
    assert cli_catalog.run_anchors_build(args) == 0
    built = capsys.readouterr().out
    assert "Built 12 of 12 anchors" in built
    assert cli_catalog.run_anchors_show(args) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[1].split() == ["category", "valence", "energy", "n", "rule"]
    rows = {line.split()[0]: line.split() for line in shown[2:]}
    assert set(rows) == {c.id for c in CATEGORIES}
    db = open_database(path)
    point, _ = base_for(db, "study_desk")
    expected = [f"{point.valence:.3f}", f"{point.energy:.3f}", "100", "genres"]
    assert rows["study_desk"][1:] == expected


def test_cli_build_reports_categories_without_tracks(tmp_path, capsys) -> None:
    path = tmp_path / "aidj.db"
    db = open_database(path)
    store_tracks(db, [make_track("only", 0.9, 0.95, genres=("edm",))])
    db.close()
    assert cli_catalog.run_anchors_build(argparse.Namespace(db=path)) == 1
    captured = capsys.readouterr()
    assert "no track qualifies for rainy_day" in captured.err
    assert "party_concert" in captured.out
