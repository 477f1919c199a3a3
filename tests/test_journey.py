"""Journeys in ``core`` (no I/O): each destination's end, paths that only move toward it, the
/mood words, the caption's reading against the threshold, the card's buttons and wording;
the picture's path; and, on the shared real catalog when present, songs close to their
points on the path."""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
from statistics import fmean

import pytest
from PIL import Image

from adapters.chat.telegram_render import CAPTION_LIMIT, card_caption, visible_length
from adapters.render.mood_plane import PATH, plane_xy, render_mood_plane
from core.controls import MAX_DATA_BYTES, Control, ControlButton, ControlKind, card_controls
from core.journey import (
    STAY,
    Journey,
    JourneySource,
    end_point,
    journey_from_caption,
    journey_path,
    split_destination,
)
from core.language import Language
from core.mood import (
    NO_DESTINATION,
    Analysis,
    AxisReading,
    BaseSource,
    Destination,
    DestinationReading,
    ImageReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.reply import PlaylistCard, summary_lines
from core.steering import Action
from core.tracks import Track
from tests.conftest import SHARED_DATA
from tests.control_rows import row_of

REAL_CSV = SHARED_DATA / "spotify_songs.csv"
GRID = [MoodPoint(v / 10, e / 10) for v in range(11) for e in range(11)]
HANGUL = "가"  # any Korean text carries at least one syllable in this range


def _axis_direction(destination: Destination) -> tuple[int, int]:
    """Which way each axis may move on a journey (+1 up, -1 down, 0 either or none)."""
    return {
        Destination.LIFT: (+1, +1),
        Destination.WIND_DOWN: (0, -1),
        Destination.FOCUS: (0, -1),  # valence moves toward 0.5, from either side
        Destination.HYPE: (0, +1),
    }[destination]


# ---------------------------------------------------------------- the path


@pytest.mark.parametrize("destination", list(Destination))
def test_every_step_of_a_path_comes_closer_to_the_destination(destination) -> None:
    for start in GRID:
        end = end_point(destination, start)
        points = journey_path(start, destination, 10)
        assert len(points) == 10 and points[0] == start
        assert math.isclose(points[-1].valence, end.valence, abs_tol=1e-9)
        assert math.isclose(points[-1].energy, end.energy, abs_tol=1e-9)
        gaps = [math.dist((p.valence, p.energy), (end.valence, end.energy)) for p in points]
        assert all(b <= a + 1e-12 for a, b in itertools.pairwise(gaps)), (start, gaps)
        dv, de = _axis_direction(destination)
        for a, b in itertools.pairwise(points):
            assert dv * (b.valence - a.valence) >= -1e-12 and de * (b.energy - a.energy) >= -1e-12
            assert 0.0 <= b.valence <= 1.0 and 0.0 <= b.energy <= 1.0


def test_each_destination_goes_where_its_name_says() -> None:
    start = MoodPoint(0.3, 0.5)
    lift = end_point(Destination.LIFT, start)
    assert lift.valence > start.valence and lift.energy > start.energy
    wind_down = end_point(Destination.WIND_DOWN, start)
    assert wind_down.energy < start.energy and wind_down.valence == start.valence
    focus = end_point(Destination.FOCUS, start)
    assert focus.energy < start.energy and focus.valence == 0.5
    assert end_point(Destination.FOCUS, MoodPoint(0.9, 0.5)).valence == 0.5  # from above too
    hype = end_point(Destination.HYPE, start)
    assert hype.energy > start.energy and hype.valence == start.valence


def test_a_start_already_past_the_destination_stays_there() -> None:
    assert end_point(Destination.HYPE, MoodPoint(0.4, 0.97)) == MoodPoint(0.4, 0.97)
    assert end_point(Destination.WIND_DOWN, MoodPoint(0.4, 0.1)) == MoodPoint(0.4, 0.1)
    assert end_point(Destination.LIFT, MoodPoint(0.95, 0.9)) == MoodPoint(0.95, 0.9)


# ---------------------------------------------------------------- choosing one


@pytest.mark.parametrize(
    ("text", "destination", "rest"),
    [
        ("lift rainy day", Destination.LIFT, "rainy day"),
        ("Lift me up", Destination.LIFT, ""),
        ("wind down after work", Destination.WIND_DOWN, "after work"),
        ("Wind-Down", Destination.WIND_DOWN, ""),
        ("focus", Destination.FOCUS, ""),
        ("HYPE gym time", Destination.HYPE, "gym time"),
        ("기분전환 비 오는 날", Destination.LIFT, "비 오는 날"),
        ("기분 전환", Destination.LIFT, ""),
        ("진정", Destination.WIND_DOWN, ""),
        ("집중 공부하는 중", Destination.FOCUS, "공부하는 중"),
        ("텐션업", Destination.HYPE, ""),
    ],
)
def test_mood_words_name_a_destination(text, destination, rest) -> None:
    assert split_destination(text) == (destination, rest)


@pytest.mark.parametrize("text", ["sunny picnic", "", "I can't focus", "비 오는 날 우울해"])
def test_other_words_are_all_caption(text) -> None:
    assert split_destination(text) == (None, text)


def _reading(destination: Destination | None, confidence: float) -> DestinationReading:
    return DestinationReading(destination, confidence, {destination or NO_DESTINATION: confidence})


def test_the_caption_chooses_a_journey_only_above_the_threshold() -> None:
    reading = _reading(Destination.WIND_DOWN, 0.62)
    chosen = journey_from_caption(reading, "help me sleep", 0.62)
    assert chosen == Journey(Destination.WIND_DOWN, JourneySource.CAPTION, 0.62, "help me sleep")
    assert journey_from_caption(reading, "help me sleep", 0.63) is None
    assert journey_from_caption(_reading(None, 0.99), "just a photo", 0.1) is None
    assert journey_from_caption(None, "", 0.0) is None


# ---------------------------------------------------------------- the card


def _card(language: Language = Language.EN, journey: Journey | None = None) -> PlaylistCard:
    reading = Reading(
        image=ImageReading("rainy_day", 0.8, {"rainy_day": 0.8}),
        text=TextReading(AxisReading.neutral(), AxisReading.neutral()),
    )
    target = MoodPoint(0.3, 0.4)
    analysis = Analysis(reading, target, target, ("pop",), BaseSource.ANCHORS)
    path = tuple(journey_path(target, journey.destination, 10)) if journey else ()
    tracks = tuple(
        Track(f"id{n:020d}", "가나다라마바사 " * 12, (f"아티스트 {n} " * 6,), 0.3, 0.4)
        for n in range(10)
    )
    return PlaylistCard(
        request_id=10**15,
        language=language,
        analysis=analysis,
        target=target,
        tracks=tracks,
        delta_max=0.5,
        journey=journey,
        path=path,
    )


def test_the_journey_row_fits_discord_and_telegram_and_parses_back() -> None:
    for journey in (None, Journey(Destination.FOCUS, JourneySource.CONTROL)):
        rows = card_controls(_card(journey=journey))
        assert len(rows) <= 5 and all(len(row) <= 5 for row in rows)
        controls = [button.control for row in rows for button in row]
        assert len({control.encode() for control in controls}) == len(controls)
        for control in controls:
            assert len(control.encode().encode()) <= MAX_DATA_BYTES
            assert Control.parse(control.encode()) == control
        journeys = [c for c in controls if c.kind is ControlKind.JOURNEY]
        assert [c.value for c in journeys[:4]] == [d.value for d in Destination]
    assert Control.parse("aidj:7:journey:lift") == Control.journey(7, Destination.LIFT)
    assert Control.parse("aidj:7:journey:stay") == Control.journey(7, None)


def journey_row(card: PlaylistCard) -> list[ControlButton]:
    return row_of(card_controls(card), ControlKind.JOURNEY)


def test_the_current_destination_is_ticked_and_stay_appears_only_on_a_journey() -> None:
    plain = journey_row(_card())
    assert [b.label for b in plain] == ["🌈 Lift", "🛌 Wind down", "🎯 Focus", "🚀 Hype"]
    on_hype = journey_row(_card(journey=Journey(Destination.HYPE, JourneySource.COMMAND)))
    assert [b.label for b in on_hype] == [
        "🌈 Lift",
        "🛌 Wind down",
        "🎯 Focus",
        "✓ 🚀 Hype",
        "📍 Stay",
    ]
    assert on_hype[-1].control.value == STAY
    korean = _card(Language.KO, Journey(Destination.LIFT, JourneySource.CONTROL))
    assert [b.label for b in journey_row(korean)] == [
        "✓ 🌈 기분 업",
        "🛌 쉬어 가기",
        "🎯 집중",
        "🚀 텐션 업",
        "📍 그대로",
    ]
    steering = card_controls(korean)[0]
    assert [b.label for b in steering] == [a.emoji for a in Action]  # steering stays first


@pytest.mark.parametrize(
    ("journey", "english", "korean"),
    [
        (
            Journey(Destination.LIFT, JourneySource.CAPTION, 0.8234, "cheer me up"),
            "Journey 🌈 lift me up → valence 0.85 · energy 0.75: "
            "read in your caption “cheer me up” (0.82)",
            "여정 🌈 기분 끌어올리기 → 밝기 0.85 · 에너지 0.75: "
            "캡션 “cheer me up”에서 읽었어요 (0.82)",
        ),
        (
            Journey(Destination.WIND_DOWN, JourneySource.CONTROL),
            "Journey 🛌 wind down → valence 0.30 · energy 0.25: chosen with the button",
            "여정 🛌 차분히 쉬어 가기 → 밝기 0.30 · 에너지 0.25: 버튼으로 골랐어요",
        ),
        (
            Journey(Destination.FOCUS, JourneySource.COMMAND),
            "Journey 🎯 focus → valence 0.50 · energy 0.30: you asked for it",
            "여정 🎯 집중하기 → 밝기 0.50 · 에너지 0.30: 직접 요청했어요",
        ),
    ],
)
def test_the_card_says_where_the_journey_goes_and_why(journey, english, korean) -> None:
    assert english in summary_lines(_card(Language.EN, journey))
    assert korean in summary_lines(_card(Language.KO, journey))


def test_a_long_caption_is_quoted_short_and_the_card_still_fits_telegram() -> None:
    caption = "오늘은 정말 길고 힘든 하루였어서 기분 전환이 필요해요 " * 12
    journey = Journey(Destination.LIFT, JourneySource.CAPTION, 0.7, caption)
    card = _card(Language.KO, journey)
    [line] = [line for line in summary_lines(card) if line.startswith("여정")]
    assert "…" in line and len(line) < 120
    rendered = card_caption(card)
    assert visible_length(rendered) <= CAPTION_LIMIT
    assert line in rendered, "the journey line survives the trimming"
    assert rendered.count('<a href="https://open.spotify.com/track/') == 10


# ---------------------------------------------------------------- the picture


def test_the_picture_draws_the_path_and_marks_its_end() -> None:
    start = MoodPoint(0.2, 0.2)
    path = journey_path(start, Destination.LIFT, 10)
    anchors = {"rainy_day": MoodPoint(0.9, 0.1)}
    with_path = render_mood_plane(anchors, start, start, [], Language.EN, path=path)
    without = render_mood_plane(anchors, start, start, [], Language.EN)
    picture = Image.open(io.BytesIO(with_path)).convert("RGB")
    plain = Image.open(io.BytesIO(without)).convert("RGB")
    end = plane_xy(path[-1])
    assert picture.getpixel(end) == PATH, "a filled dot where the journey ends"
    a, b = path[6], path[7]
    between = plane_xy(MoodPoint((a.valence + b.valence) / 2, (a.energy + b.energy) / 2))
    assert _near(picture.getpixel(between), PATH), "the line between two points"
    assert not _near(plain.getpixel(between), PATH)


def _near(pixel: object, colour: tuple[int, int, int], slack: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=True))


# ---------------------------------------------------------------- the shared real catalog


@pytest.fixture(scope="module")
def real_catalog(tmp_path_factory):
    if not REAL_CSV.exists():
        pytest.skip(f"needs the shared catalog at {REAL_CSV} (see shared/data/README.md)")
    from adapters.storage.anchors_store import build_anchor_table
    from adapters.storage.catalog_import import import_catalog
    from adapters.storage.database import open_database
    from adapters.storage.gateway import Storage

    db = open_database(tmp_path_factory.mktemp("journey-real") / "aidj.db")
    import_catalog(db, REAL_CSV)
    build_anchor_table(db)
    storage = Storage(db)
    yield storage
    storage.close()


async def test_songs_keep_close_to_their_points_on_the_real_catalog(real_catalog) -> None:
    """Every scene's anchor to every destination, as a first card and as a regenerate:
    each song within 0.05 of its point on the path, on average."""
    from adapters.storage.catalog_source import CatalogSource
    from core.categories import CATEGORIES
    from core.paths import pick_along

    source = CatalogSource(real_catalog)
    for category, destination in itertools.product(CATEGORIES, Destination):
        start, _ = await real_catalog.base_for(category)
        points = journey_path(start, destination, 10)
        first = await pick_along(source, points, category.seed_genres)
        again = await pick_along(source, points, category.seed_genres, {t.id for t in first})
        for tracks in (first, again):
            assert len(tracks) == 10
            gaps = [
                math.dist((t.valence, t.energy), (p.valence, p.energy))
                for t, p in zip(tracks, points, strict=True)
            ]
            assert fmean(gaps) < 0.05, (category.id, destination, gaps)
        assert not {t.id for t in first} & {t.id for t in again}


def test_journey_values_are_plain_data() -> None:
    """A TextReading with a destination crosses processes (pickle) and JSON as before."""
    import pickle

    text = TextReading(
        AxisReading.neutral(), AxisReading.neutral(), _reading(Destination.HYPE, 0.7)
    )
    assert pickle.loads(pickle.dumps(text)) == text
    journey = Journey(Destination.HYPE, JourneySource.CAPTION, 0.7, "let's go")
    assert dataclasses.replace(journey) == journey


def test_stats_name_journey_presses_in_both_languages() -> None:
    from core.fit import FitStats, SceneFit, StatsScope, VoteCount
    from core.fit_text import stats_text

    stats = FitStats(
        StatsScope(),
        cards=3,
        chats=1,
        scenes=(SceneFit("rainy_day", 3, VoteCount()),),
        nudges=(("journey:lift", 4), ("journey:stay", 2), ("calmer", 1)),
    )
    english, korean = stats_text(stats, Language.EN), stats_text(stats, Language.KO)
    assert "🌈 lift me up ×4" in english and "📍 Stay ×2" in english
    assert "🌈 기분 끌어올리기 ×4" in korean and "📍 그대로 ×2" in korean
    assert "journey:" not in english + korean
