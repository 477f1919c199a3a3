"""The mood-plane picture: a valid, deterministic PNG with the marks where the values say,
drawn over a static plane that is cached per language and anchor values.

One rendering is saved under ``artifacts/`` (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from adapters.render import downsample, mood_plane
from adapters.render.downsample import shrink
from adapters.render.fonts import korean_font_files
from adapters.render.mood_plane import (
    ANCHOR,
    ARROW,
    HIGHLIGHT,
    SIZE,
    TARGET,
    TRACK,
    plane_xy,
    render_mood_plane,
    static_plane,
)
from adapters.render.text_stamp import TextStamp
from core.categories import CATEGORIES, get_category
from core.mood import MoodPoint
from core.tracks import Track

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
BASE = MoodPoint(0.20, 0.30)
TARGET_POINT = MoodPoint(0.70, 0.30)
ANCHORS = {"rainy_day": BASE, "party_concert": MoodPoint(0.75, 0.90)}


def tracks_near(point: MoodPoint, count: int = 10) -> list[Track]:
    return [
        Track(
            id=f"t{n}",
            name=f"Song {n}",
            artists=("Artist",),
            valence=point.valence + 0.012 * (n % 5 - 2),
            energy=point.energy + 0.015 * (n // 5 * 2 - 1) * (1 + n % 3),
        )
        for n in range(count)
    ]


def render(**overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "anchors": ANCHORS,
        "base": BASE,
        "target": TARGET_POINT,
        "tracks": tracks_near(TARGET_POINT),
        "language": "en",
        "highlight": "rainy_day",
    }
    arguments.update(overrides)
    return render_mood_plane(**arguments)  # type: ignore[arg-type]


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def pixel(image: Image.Image, point: MoodPoint, dx: int = 0, dy: int = 0) -> tuple[int, ...]:
    x, y = plane_xy(point)
    return image.getpixel((x + dx, y + dy))  # type: ignore[return-value]


def test_png_of_the_right_size_and_deterministic() -> None:
    png = render()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(png).size == (SIZE, SIZE)
    assert render() == png


def test_marks_sit_at_their_values() -> None:
    image = decode(render())
    assert near(pixel(image, TARGET_POINT), TARGET)
    assert near(pixel(image, BASE), HIGHLIGHT), "the detected category's anchor"
    assert near(pixel(image, ANCHORS["party_concert"]), ANCHOR)
    middle = MoodPoint((BASE.valence + TARGET_POINT.valence) / 2, BASE.energy)
    assert near(pixel(image, middle), ARROW)


def test_tracks_are_drawn_as_dots() -> None:
    lonely = MoodPoint(0.10, 0.90)
    track = Track(id="x", name="x", artists=("x",), valence=lonely.valence, energy=lonely.energy)
    with_track = decode(render(tracks=[track]))
    without = decode(render(tracks=[]))
    assert near(pixel(with_track, lonely), TRACK)
    assert not near(pixel(without, lonely), TRACK)


def test_moving_the_target_moves_the_arrow() -> None:
    elsewhere = MoodPoint(0.50, 0.80)
    first = decode(render())
    second = decode(render(target=elsewhere))
    assert near(pixel(second, elsewhere), TARGET)
    assert not near(pixel(second, TARGET_POINT), TARGET)
    assert not near(pixel(first, elsewhere), TARGET)


def test_no_caption_move_draws_no_arrow() -> None:
    image = decode(render(target=BASE, tracks=[]))
    middle = MoodPoint((BASE.valence + TARGET_POINT.valence) / 2, BASE.energy)
    assert not near(pixel(image, middle), ARROW)
    assert near(pixel(image, BASE), TARGET)


def test_missing_anchors_use_category_defaults() -> None:
    image = decode(render(anchors={}, highlight=None))
    beach = get_category("sunny_beach")
    assert near(pixel(image, MoodPoint(beach.default_valence, beach.default_energy)), ANCHOR)


def test_korean_labels_render_or_fall_back_to_english() -> None:
    korean = render(language="ko")
    assert decode(korean).size == (SIZE, SIZE)
    if korean_font_files() is None:
        assert korean == render(language="en"), "no Hangul font: English labels"
    else:
        assert korean != render(language="en")


def test_save_an_example_for_review() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = MoodPoint(0.62, 0.38)
    png = render_mood_plane(
        {}, MoodPoint(0.25, 0.30), target, tracks_near(target), "en", "rainy_day"
    )
    (ARTIFACTS / "mood_plane_example.png").write_bytes(png)
    if korean_font_files() is not None:  # without a Hangul font it would equal the English one
        korean = render_mood_plane(
            {}, MoodPoint(0.25, 0.30), target, tracks_near(target), "ko", "rainy_day"
        )
        (ARTIFACTS / "mood_plane_example_ko.png").write_bytes(korean)
    assert decode(png).size == (SIZE, SIZE)


# ---------------------------------------------------------------- the cached static plane


@pytest.fixture
def fresh_planes():
    static_plane.cache_clear()
    yield
    static_plane.cache_clear()


def test_the_static_plane_is_drawn_once_and_reused(fresh_planes) -> None:
    render()
    render(target=MoodPoint(0.50, 0.80), tracks=[])
    render(highlight=None, anchors=dict(ANCHORS))  # equal values in another dict: same plane
    info = static_plane.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_new_anchor_values_draw_a_new_plane(fresh_planes) -> None:
    old_spot, new_spot = ANCHORS["party_concert"], MoodPoint(0.90, 0.55)
    render()
    moved = decode(render(anchors={**ANCHORS, "party_concert": new_spot}))
    assert static_plane.cache_info().misses == 2
    assert near(pixel(moved, new_spot), ANCHOR)
    assert not near(pixel(moved, old_spot), ANCHOR), "the old anchor dot is gone"


def test_another_language_draws_a_new_plane(fresh_planes, monkeypatch) -> None:
    render(language="en")
    # as if a Hangul font were installed, so Korean labels are drawn, not English ones
    monkeypatch.setattr(mood_plane, "korean_font_files", lambda: ("font", "font"))
    render(language="ko")
    render(language="ko", target=MoodPoint(0.50, 0.80))
    info = static_plane.cache_info()
    assert (info.misses, info.hits) == (2, 1)


def test_labels_are_stamped_from_the_planes_cache(fresh_planes, monkeypatch) -> None:
    rendered = []
    real = TextStamp.render

    def counting(*args: object, **kwargs: object) -> TextStamp:
        rendered.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mood_plane.TextStamp, "render", counting)
    first = render()
    assert len(rendered) == len(CATEGORIES), "a label per anchor, each drawn once"
    assert render() == first
    assert len(rendered) == len(CATEGORIES), "the second card reuses them all"


VARIED_CARDS = [
    {},
    {"anchors": {}, "highlight": None},
    {"target": BASE, "tracks": []},  # no move: no arrow
    {"base": MoodPoint(0.0, 0.0), "target": MoodPoint(1.0, 1.0), "highlight": "party_concert"},
    {"target": MoodPoint(0.76, 0.88), "tracks": tracks_near(MoodPoint(0.76, 0.88))},
    {"base": MoodPoint(1.2, -0.1), "target": MoodPoint(0.5, 0.5), "tracks": tracks_near(BASE)},
]


@pytest.mark.parametrize("tile", [1, downsample.TILE])
def test_a_card_has_the_pixels_of_rescaling_its_whole_drawing(
    fresh_planes, monkeypatch, tile: int
) -> None:
    """A card rescales only what it changed and takes lone labels' pixels from a cache; the
    result must be exactly what rescaling the whole drawing gives."""
    monkeypatch.setattr(downsample, "TILE", tile)  # 1: no slack from rounding to tiles
    whole = {}
    real = mood_plane.shrink_changed

    def spy(canvas: Image.Image, into: Image.Image, *args: object) -> object:
        whole["picture"] = shrink(canvas, 2)
        return real(canvas, into, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(mood_plane, "shrink_changed", spy)
    for overrides in VARIED_CARDS * 2:  # the second time round, the label caches are warm
        card = decode(render(**overrides))
        assert card.tobytes() == whole["picture"].tobytes(), overrides
