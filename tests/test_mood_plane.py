"""The mood-plane picture: a valid, deterministic PNG with the marks where the values say.

One rendering is saved under ``artifacts/`` (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

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
)
from core.categories import get_category
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
