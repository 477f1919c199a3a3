"""The mood-plane picture attached to every playlist card.

It shows *why* these songs: where the photo's scene sits among the twelve category anchors,
how far the caption moved it (an arrow from the base point to the target), and where the
chosen tracks actually lie. Valence runs left to right, energy bottom to top, in the four
quadrants of Russell's circumplex.

Drawn at twice the size and scaled down once, so lines and dots come out smooth while the
output stays byte-for-byte deterministic for the same input (no timestamps in the PNG).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw

from adapters.render.fonts import Font, korean_font_files, load_font
from core.categories import CATEGORIES
from core.language import Language
from core.mood import MoodPoint
from core.tracks import Track

SIZE = 800  # output width and height in px
_SCALE = 2  # drawn at this multiple, then downsampled
# plot area in output pixels: (left, top) to (right, bottom)
PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM = 96, 64, 776, 704

BACKGROUND = (18, 18, 18)
PLOT_BACKGROUND = (26, 26, 30)
GRID = (52, 52, 58)
AXIS = (120, 120, 130)
TEXT = (230, 230, 235)
MUTED = (150, 150, 160)
ANCHOR = (120, 126, 140)
HIGHLIGHT = (255, 200, 60)
TRACK = (29, 185, 84)  # Spotify green
BASE = (140, 170, 255)
TARGET = (255, 77, 109)
ARROW = (255, 77, 109)
# quadrant tints, blended into the plot background: (valence high?, energy high?)
_QUADRANT_TINT = {
    (True, True): (255, 196, 0),
    (False, True): (230, 57, 70),
    (False, False): (69, 123, 200),
    (True, False): (46, 196, 140),
}
_TINT_STRENGTH = 0.10

_LABELS = {
    "title": {Language.EN: "Mood plane", Language.KO: "분위기 지도"},
    "x_axis": {Language.EN: "Valence: gloomy → bright", Language.KO: "밝기: 어두움 → 밝음"},
    "y_axis": {Language.EN: "Energy: calm → lively", Language.KO: "에너지: 차분 → 활기"},
    (True, True): {Language.EN: "happy · excited", Language.KO: "신나는 · 행복한"},
    (False, True): {Language.EN: "tense · angry", Language.KO: "긴장된 · 격한"},
    (False, False): {Language.EN: "sad · gloomy", Language.KO: "슬픈 · 우울한"},
    (True, False): {Language.EN: "calm · relaxed", Language.KO: "차분한 · 편안한"},
    "legend_base": {Language.EN: "photo", Language.KO: "사진"},
    "legend_target": {Language.EN: "target", Language.KO: "목표"},
    "legend_tracks": {Language.EN: "songs", Language.KO: "추천곡"},
}


def plane_xy(point: MoodPoint) -> tuple[int, int]:
    """Where ``point`` lands in the output picture, in pixels (for tests and overlays)."""
    x, y = _xy(point, 1)
    return round(x), round(y)


def render_mood_plane(
    anchors: Mapping[str, MoodPoint],
    base: MoodPoint,
    target: MoodPoint,
    tracks: Sequence[Track],
    language: Language,
    highlight: str | None = None,
) -> bytes:
    """The plane as PNG bytes: category anchors (``highlight`` marked), the caption's move
    from ``base`` to ``target``, and the chosen ``tracks``.

    Categories missing from ``anchors`` (no anchor table built yet) sit at their default
    values. Korean labels need a Hangul font on the system; without one they are English.
    """
    korean = language == Language.KO and korean_font_files() is not None
    lang = Language.KO if korean else Language.EN
    canvas = _Canvas(lang)
    canvas.background()
    canvas.grid()
    points = _anchor_points(anchors)
    for track in tracks:
        canvas.track(MoodPoint(track.valence, track.energy))
    markers = canvas.anchor_markers(points, highlight)
    canvas.move(base, target)
    canvas.anchor_labels(markers, highlight)  # last: placed around everything else
    canvas.legend()
    return canvas.png()


def _anchor_points(anchors: Mapping[str, MoodPoint]) -> dict[str, MoodPoint]:
    """category id -> its point, for every category (defaults where no anchor is known)."""
    return {
        category.id: anchors.get(category.id)
        or MoodPoint(category.default_valence, category.default_energy)
        for category in CATEGORIES
    }


def _xy(point: MoodPoint, scale: int) -> tuple[float, float]:
    valence = min(max(point.valence, 0.0), 1.0)
    energy = min(max(point.energy, 0.0), 1.0)
    x = PLOT_LEFT + valence * (PLOT_RIGHT - PLOT_LEFT)
    y = PLOT_BOTTOM - energy * (PLOT_BOTTOM - PLOT_TOP)
    return x * scale, y * scale


def _blend(colour: tuple[int, int, int], tint: tuple[int, int, int], amount: float) -> tuple:
    return tuple(round(c + (t - c) * amount) for c, t in zip(colour, tint, strict=True))


Box = tuple[float, float, float, float]


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


class _Canvas:
    """One picture being drawn at ``_SCALE``; coordinates given to it are output pixels."""

    def __init__(self, language: Language) -> None:
        self.lang = language
        self.image = Image.new("RGB", (SIZE * _SCALE, SIZE * _SCALE), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.taken: list[Box] = []  # label and marker boxes, to keep labels apart

    # -- helpers ---------------------------------------------------------------------------

    def label(self, key: object) -> str:
        return _LABELS[key][self.lang]  # type: ignore[index]

    def font(self, size: int, bold: bool = False) -> Font:
        return load_font(size * _SCALE, bold=bold, korean=self.lang is Language.KO)

    def text(
        self,
        xy: tuple[float, float],
        value: str,
        size: int,
        fill: tuple[int, int, int] = TEXT,
        *,
        bold: bool = False,
        anchor: str = "la",
        halo: bool = False,
    ) -> Box:
        """Draw ``value``; a ``halo`` (dark outline) keeps it legible over dots and lines."""
        position = (xy[0] * _SCALE, xy[1] * _SCALE)
        font = self.font(size, bold)
        stroke = {"stroke_width": 2 * _SCALE, "stroke_fill": PLOT_BACKGROUND} if halo else {}
        self.draw.text(position, value, font=font, fill=fill, anchor=anchor, **stroke)
        left, top, right, bottom = self.draw.textbbox(position, value, font=font, anchor=anchor)
        return left / _SCALE, top / _SCALE, right / _SCALE, bottom / _SCALE

    def text_size(self, value: str, size: int, bold: bool = False) -> tuple[float, float]:
        left, top, right, bottom = self.draw.textbbox(
            (0, 0), value, font=self.font(size, bold), anchor="la"
        )
        return (right - left) / _SCALE, (bottom - top) / _SCALE

    def dot(
        self,
        point: MoodPoint,
        radius: float,
        fill: tuple[int, int, int] | None,
        outline: tuple[int, int, int] | None = None,
        width: float = 0,
    ) -> Box:
        x, y = _xy(point, _SCALE)
        r = radius * _SCALE
        self.draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=fill, outline=outline, width=round(width * _SCALE)
        )
        return (x - r) / _SCALE, (y - r) / _SCALE, (x + r) / _SCALE, (y + r) / _SCALE

    # -- layers ----------------------------------------------------------------------------

    def background(self) -> None:
        mid = MoodPoint(0.5, 0.5)
        mx, my = _xy(mid, _SCALE)
        left, top = PLOT_LEFT * _SCALE, PLOT_TOP * _SCALE
        right, bottom = PLOT_RIGHT * _SCALE, PLOT_BOTTOM * _SCALE
        boxes = {
            (False, True): (left, top, mx, my),
            (True, True): (mx, top, right, my),
            (False, False): (left, my, mx, bottom),
            (True, False): (mx, my, right, bottom),
        }
        for quadrant, box in boxes.items():
            tint = _blend(PLOT_BACKGROUND, _QUADRANT_TINT[quadrant], _TINT_STRENGTH)
            self.draw.rectangle(box, fill=tint)
        self.text((SIZE / 2, 22), self.label("title"), 22, bold=True, anchor="mt")

    def grid(self) -> None:
        s = _SCALE
        for step in range(5):
            value = step / 4
            x, _ = _xy(MoodPoint(value, 0), s)
            _, y = _xy(MoodPoint(0, value), s)
            colour = AXIS if step == 2 else GRID
            line = 2 * s if step == 2 else s
            self.draw.line((x, PLOT_TOP * s, x, PLOT_BOTTOM * s), fill=colour, width=line)
            self.draw.line((PLOT_LEFT * s, y, PLOT_RIGHT * s, y), fill=colour, width=line)
            tick = f"{value:g}"
            self.text((x / s, PLOT_BOTTOM + 8), tick, 13, MUTED, anchor="mt")
            self.text((PLOT_LEFT - 8, y / s), tick, 13, MUTED, anchor="rm")
        self.draw.rectangle(
            (PLOT_LEFT * s, PLOT_TOP * s, PLOT_RIGHT * s, PLOT_BOTTOM * s), outline=AXIS, width=s
        )
        # quadrant names in the outer corners, where few anchors sit
        inset = 12
        corners = {
            (False, True): ((PLOT_LEFT + inset, PLOT_TOP + inset), "la"),
            (True, True): ((PLOT_RIGHT - inset, PLOT_TOP + inset), "ra"),
            (False, False): ((PLOT_LEFT + inset, PLOT_BOTTOM - inset), "ld"),
            (True, False): ((PLOT_RIGHT - inset, PLOT_BOTTOM - inset), "rd"),
        }
        for quadrant, (xy, anchor) in corners.items():
            colour = _blend(MUTED, _QUADRANT_TINT[quadrant], 0.5)
            self.taken.append(self.text(xy, self.label(quadrant), 15, colour, anchor=anchor))
        centre_x = (PLOT_LEFT + PLOT_RIGHT) / 2
        self.text((centre_x, PLOT_BOTTOM + 30), self.label("x_axis"), 16, TEXT, anchor="mt")
        self._vertical_text(self.label("y_axis"), 16, centre_y=(PLOT_TOP + PLOT_BOTTOM) / 2)

    def _vertical_text(self, value: str, size: int, centre_y: float) -> None:
        """Text rotated a quarter turn, reading bottom to top, left of the plot."""
        font = self.font(size)
        left, top, right, bottom = self.draw.textbbox((0, 0), value, font=font, anchor="la")
        strip = Image.new("RGB", (right - left + 4, bottom - top + 4), BACKGROUND)
        ImageDraw.Draw(strip).text((2 - left, 2 - top), value, font=font, fill=TEXT)
        rotated = strip.rotate(90, expand=True)
        x = round(22 * _SCALE)
        y = round(centre_y * _SCALE - rotated.height / 2)
        self.image.paste(rotated, (x, y))

    def track(self, point: MoodPoint) -> None:
        self.taken.append(self.dot(point, 4, TRACK, outline=BACKGROUND, width=1))

    def anchor_markers(self, points: dict[str, MoodPoint], highlight: str | None) -> dict[str, Box]:
        """A dot per category (the detected one larger and golden); their boxes by id."""
        boxes = {}
        for category_id, point in points.items():
            if category_id == highlight:
                boxes[category_id] = self.dot(point, 9, HIGHLIGHT, outline=TEXT, width=2)
            else:
                boxes[category_id] = self.dot(point, 6, ANCHOR, outline=BACKGROUND, width=1)
        self.taken.extend(boxes.values())
        return boxes

    def anchor_labels(self, markers: dict[str, Box], highlight: str | None) -> None:
        names = {category.id: category.name(self.lang) for category in CATEGORIES}
        # the highlighted label is placed first, so it gets the best spot
        for category_id in sorted(markers, key=lambda cid: cid != highlight):
            strong = category_id == highlight
            self._place_label(
                markers[category_id],
                names[category_id],
                size=16 if strong else 13,
                fill=HIGHLIGHT if strong else MUTED,
                bold=strong,
            )

    def _place_label(
        self, marker: Box, value: str, size: int, fill: tuple[int, int, int], bold: bool
    ) -> None:
        """Next to ``marker`` on the side that overlaps other labels and markers least."""
        width, height = self.text_size(value, size, bold)
        cx, cy = (marker[0] + marker[2]) / 2, (marker[1] + marker[3]) / 2
        gap = 5
        candidates = [
            (marker[2] + gap, cy - height / 2),  # right
            (marker[0] - gap - width, cy - height / 2),  # left
            (cx - width / 2, marker[1] - gap - height),  # above
            (cx - width / 2, marker[3] + gap),  # below
            (marker[2] + gap, marker[1] - height),  # upper right
            (marker[2] + gap, marker[3]),  # lower right
            (marker[0] - gap - width, marker[1] - height),  # upper left
            (marker[0] - gap - width, marker[3]),  # lower left
        ]

        def cost(position: tuple[float, float]) -> float:
            x, y = position
            box = (x, y, x + width, y + height)
            outside = (
                max(0.0, PLOT_LEFT - x)
                + max(0.0, x + width - PLOT_RIGHT)
                + max(0.0, PLOT_TOP - y)
                + max(0.0, y + height - PLOT_BOTTOM)
            )
            return sum(_overlap(box, other) for other in self.taken) + outside * 1000

        x, y = min(candidates, key=cost)  # min keeps the first of equal costs: deterministic
        self.text((x, y), value, size, fill, bold=bold, halo=True)
        self.taken.append((x, y, x + width, y + height))

    def move(self, base: MoodPoint, target: MoodPoint) -> None:
        """The caption's move: hollow base point, arrow, filled target point."""
        bx, by = _xy(base, _SCALE)
        tx, ty = _xy(target, _SCALE)
        self.taken.append(self.dot(base, 9, None, outline=BASE, width=3))
        length = ((tx - bx) ** 2 + (ty - by) ** 2) ** 0.5
        head = 16 * _SCALE
        target_radius = 10 * _SCALE
        if length > target_radius + head:
            ux, uy = (tx - bx) / length, (ty - by) / length
            # stop at the target's edge so the head points at the dot instead of hiding in it
            tip_x, tip_y = tx - ux * target_radius, ty - uy * target_radius
            start_x, start_y = bx + ux * 9 * _SCALE, by + uy * 9 * _SCALE
            base_x, base_y = tip_x - ux * head, tip_y - uy * head
            self.draw.line((start_x, start_y, base_x, base_y), fill=ARROW, width=4 * _SCALE)
            self._mark_path((start_x / _SCALE, start_y / _SCALE), (tip_x / _SCALE, tip_y / _SCALE))
            half = head * 0.55
            self.draw.polygon(
                [
                    (tip_x, tip_y),
                    (base_x - uy * half, base_y + ux * half),
                    (base_x + uy * half, base_y - ux * half),
                ],
                fill=ARROW,
            )
        self.taken.append(self.dot(target, 10, TARGET, outline=TEXT, width=2))

    def _mark_path(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Reserve small boxes along a line, so labels avoid covering it."""
        steps = max(1, round(((end[0] - start[0]) ** 2 + (end[1] - start[1]) ** 2) ** 0.5 / 6))
        for i in range(steps + 1):
            x = start[0] + (end[0] - start[0]) * i / steps
            y = start[1] + (end[1] - start[1]) * i / steps
            self.taken.append((x - 4, y - 4, x + 4, y + 4))

    def legend(self) -> None:
        y = SIZE - 26
        items = [
            ("base", self.label("legend_base")),
            ("target", self.label("legend_target")),
            ("tracks", self.label("legend_tracks")),
        ]
        widths = [18 + self.text_size(value, 14)[0] for _, value in items]
        spacing = 28
        x = (SIZE - sum(widths) - spacing * (len(items) - 1)) / 2
        for (kind, value), width in zip(items, widths, strict=True):
            r = 6 * _SCALE
            cx, cy = (x + 6) * _SCALE, y * _SCALE
            if kind == "base":
                self.draw.ellipse(
                    (cx - r, cy - r, cx + r, cy + r), outline=BASE, width=round(2.5 * _SCALE)
                )
            elif kind == "target":
                self.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=TARGET)
            else:
                small = 4 * _SCALE
                self.draw.ellipse((cx - small, cy - small, cx + small, cy + small), fill=TRACK)
            self.text((x + 18, y), value, 14, MUTED, anchor="lm")
            x += width + spacing

    def png(self) -> bytes:
        image = self.image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
