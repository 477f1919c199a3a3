"""The mood-plane picture attached to every playlist card.

It shows *why* these songs: where the photo's scene sits among the twelve category anchors,
how far the caption moved it (an arrow from the base point to the target), and where the
chosen tracks actually lie. Valence runs left to right, energy bottom to top, in the four
quadrants of Russell's circumplex.

Drawn at twice the size and scaled down, so lines and dots come out smooth while the output
stays byte-for-byte deterministic for the same input (no timestamps in the PNG).

Drawing every card from scratch cost about 120 ms of mostly GIL-holding work, ten times the
rest of a request. Most of the picture (background, grid, axis names, legend, the anchor
dots) is the same for every card with the same language and anchor table, so that static
plane is drawn and scaled down once and cached. A card copies it, draws its own marks over
it (tracks, the highlighted anchor, the caption's move, the labels placed around them),
rescales only the area those marks touch and writes the PNG with a fast encoder: the same
pixels as a full drawing at about a tenth of the cost (``python -m bench.picture``).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from adapters.render.downsample import REACH, affected, shrink, shrink_changed, shrink_part
from adapters.render.fonts import Font, korean_font_files, load_font
from adapters.render.png import PngBands
from adapters.render.text_stamp import TextStamp
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
PATH = (200, 160, 255)  # a journey's or an album's line through the plane
# quadrant tints, blended into the plot background: (valence high?, energy high?)
_QUADRANT_TINT = {
    (True, True): (255, 196, 0),
    (False, True): (230, 57, 70),
    (False, False): (69, 123, 200),
    (True, False): (46, 196, 140),
}
_TINT_STRENGTH = 0.10
_HALO = 2  # px of dark outline around anchor labels

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
    *,
    path: Sequence[MoodPoint] = (),
) -> bytes:
    """The plane as PNG bytes: category anchors (``highlight`` marked), the caption's move
    from ``base`` to ``target``, and the chosen ``tracks``.

    A playlist that moves (a journey, an album's arc) gives its ``path``: the line through
    those points is drawn under the tracks, ending in a filled dot (a journey's destination),
    and the tracks are numbered in playlist order.

    Categories missing from ``anchors`` (no anchor table built yet) sit at their default
    values. Korean labels need a Hangul font on the system; without one they are English.
    """
    korean = language == Language.KO and korean_font_files() is not None
    lang = Language.KO if korean else Language.EN
    with _drawing_plane:  # the first cards after a start or an anchor rebuild share one drawing
        plane = static_plane(lang, tuple(_anchor_points(anchors).items()))
    canvas = _Canvas.over(plane)
    if len(path) > 1:
        canvas.path(path)
    for track in tracks:
        canvas.track(MoodPoint(track.valence, track.energy))
    markers = canvas.anchor_markers(plane.points, highlight)  # over the tracks
    canvas.move(base, target)
    if len(path) > 1:
        for number, track in enumerate(tracks, start=1):
            canvas.track_number(MoodPoint(track.valence, track.energy), number)
    canvas.anchor_labels(markers, highlight)  # last: placed around everything else
    return canvas.finish()


Box = tuple[float, float, float, float]
_STAMPS_PER_PLANE = 512  # labels have 8 spots each, so about 200 are ever used; a hard cap


@dataclass(frozen=True, eq=False)
class StaticPlane:
    """What every card in one language over one anchor table shares, drawn once."""

    language: Language
    points: dict[str, MoodPoint]  # category id -> anchor, every category
    canvas: Image.Image  # at _SCALE, without the anchor dots: cards draw those over tracks
    picture: Image.Image  # at output size, anchor dots included: where a card starts
    png: PngBands  # the picture's rows deflated, for the rows a card leaves alone
    taken: tuple[Box, ...]  # boxes of what labels should avoid (the quadrant names)
    # labels at the spots cards put them: as masks to draw, and scaled down with what is
    # under them, for labels with nothing of their card nearby
    stamps: dict[tuple[object, ...], TextStamp] = field(default_factory=dict)
    patches: dict[tuple[object, ...], tuple[Image.Image, tuple[int, int, int, int]]] = field(
        default_factory=dict
    )


_drawing_plane = threading.Lock()


@functools.lru_cache(maxsize=4)  # two languages, each over the current and previous anchors
def static_plane(language: Language, points: tuple[tuple[str, MoodPoint], ...]) -> StaticPlane:
    """The static plane for ``language`` with the anchors at ``points`` (category id, point).

    Keyed on the anchor values themselves, so a rebuilt anchor table gets a fresh plane and
    the one it replaces ages out of the cache.
    """
    canvas = _Canvas(language, Image.new("RGB", (SIZE * _SCALE, SIZE * _SCALE), BACKGROUND))
    canvas.background()
    canvas.grid()
    canvas.legend()  # below the plot and its tick labels, where no mark of a card reaches
    with_anchors = _Canvas(language, canvas.image.copy())
    anchor_points = dict(points)
    with_anchors.anchor_markers(anchor_points, None)
    picture = shrink(with_anchors.image, _SCALE)
    return StaticPlane(
        language=language,
        points=anchor_points,
        canvas=canvas.image,
        picture=picture,
        png=PngBands(picture),
        taken=tuple(canvas.taken),
    )


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


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


class _Canvas:
    """One picture being drawn at ``_SCALE``; coordinates given to it are output pixels.

    Over a static plane it is a card: it records the boxes its marks changed (``changed``),
    so ``finish`` rescales only those parts onto the plane's picture.
    """

    def __init__(
        self,
        language: Language,
        image: Image.Image,
        taken: Sequence[Box] = (),
        plane: StaticPlane | None = None,
    ) -> None:
        self.lang = language
        self.image = image
        self.draw = ImageDraw.Draw(self.image)
        self.taken: list[Box] = list(taken)  # label and marker boxes, to keep labels apart
        self.plane = plane
        self.changed: list[Box] = []  # what differs from the plane's picture
        self.labels: dict[int, tuple[object, ...]] = {}  # index in changed -> the label's key

    @classmethod
    def over(cls, plane: StaticPlane) -> _Canvas:
        """A card's canvas: a copy of the static plane, its marks still to draw."""
        return cls(plane.language, plane.canvas.copy(), plane.taken, plane)

    def finish(self) -> bytes:
        """The card as PNG bytes: the plane's picture with the changed parts rescaled, the
        rows they touch deflated anew and the others taken from the plane's."""
        assert self.plane is not None, "only a card (a canvas over a plane) is finished"
        picture = self.plane.picture.copy()
        rest = dict(enumerate(self.changed))
        rows = []
        for index, key in self.labels.items():
            if self._alone(index):
                patch, box = self._label_patch(key, self.changed[index])
                picture.paste(patch, box[:2])
                rows.append((box[1], box[3]))
                del rest[index]
        rewritten = shrink_changed(self.image, picture, rest.values(), _SCALE)
        rows += [(top, bottom) for _, top, _, bottom in rewritten]
        return self.plane.png.encode(picture, rows)

    def _alone(self, index: int) -> bool:
        """Whether nothing else of this card is near enough to the ``index``-th change to
        alter its scaled-down pixels (so they are the same on every card that has it)."""
        left, top, right, bottom = self.changed[index]
        near = 2 * REACH  # its pixels read input REACH beyond the REACH it alters
        left, top, right, bottom = left - near, top - near, right + near, bottom + near
        return not any(
            other[0] < right and other[2] > left and other[1] < bottom and other[3] > top
            for number, other in enumerate(self.changed)
            if number != index
        )

    def _label_patch(
        self, key: tuple[object, ...], box: Box
    ) -> tuple[Image.Image, tuple[int, int, int, int]]:
        """The scaled-down pixels around a label alone on its spot, from the plane's cache."""
        assert self.plane is not None
        cached = self.plane.patches.get(key)
        if cached is None:
            part = affected(box, self.plane.picture.size)
            cached = shrink_part(self.image, part, _SCALE), part
            if len(self.plane.patches) < _STAMPS_PER_PLANE:
                self.plane.patches[key] = cached
        return cached

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
    ) -> Box:
        """Draw ``value``; its box."""
        position = (xy[0] * _SCALE, xy[1] * _SCALE)
        font = self.font(size, bold)
        self.draw.text(position, value, font=font, fill=fill, anchor=anchor)
        left, top, right, bottom = self.draw.textbbox(position, value, font=font, anchor=anchor)
        return left / _SCALE, top / _SCALE, right / _SCALE, bottom / _SCALE

    def text_size(self, value: str, size: int, bold: bool = False) -> tuple[float, float]:
        return _text_size(value, size, bold, self.lang == "ko")

    def label_text(
        self, xy: tuple[float, float], value: str, size: int, fill: tuple[int, int, int], bold: bool
    ) -> None:
        """A label with a halo (a dark outline that keeps it legible over dots and lines),
        stamped from the plane's cache: labels keep landing on the same few spots, and
        outlining the halo is the slow part of drawing them."""
        assert self.plane is not None, "labels are drawn on cards (canvases over a plane)"
        key = (value, size, bold, xy)
        stamp = self.plane.stamps.get(key)
        if stamp is None:
            stamp = TextStamp.render(
                self.image.size,
                (xy[0] * _SCALE, xy[1] * _SCALE),
                value,
                self.font(size, bold),
                halo_width=_HALO * _SCALE,
            )
            if len(self.plane.stamps) < _STAMPS_PER_PLANE:
                self.plane.stamps[key] = stamp
        stamp.apply(self.image, fill, PLOT_BACKGROUND)
        self.labels[len(self.changed)] = (*key, fill)
        self.changed.append(tuple(edge / _SCALE for edge in stamp.box))  # type: ignore[arg-type]

    def dot(
        self,
        point: MoodPoint,
        radius: float,
        fill: tuple[int, int, int] | None,
        outline: tuple[int, int, int] | None = None,
        width: float = 0,
        *,
        changes: bool = True,
    ) -> Box:
        """A dot at ``point``; ``changes=False`` for one the plane's picture has already."""
        x, y = _xy(point, _SCALE)
        r = radius * _SCALE
        self.draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=fill, outline=outline, width=round(width * _SCALE)
        )
        box = (x - r) / _SCALE, (y - r) / _SCALE, (x + r) / _SCALE, (y + r) / _SCALE
        if changes:
            self.changed.append(box)
        return box

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
        strip = Image.new("RGB", (int(right - left) + 4, int(bottom - top) + 4), BACKGROUND)
        ImageDraw.Draw(strip).text((2 - left, 2 - top), value, font=font, fill=TEXT)
        rotated = strip.rotate(90, expand=True)
        x = round(22 * _SCALE)
        y = round(centre_y * _SCALE - rotated.height / 2)
        self.image.paste(rotated, (x, y))

    def track(self, point: MoodPoint) -> None:
        self.taken.append(self.dot(point, 4, TRACK, outline=BACKGROUND, width=1))

    def path(self, points: Sequence[MoodPoint]) -> None:
        """A moving playlist's path: a line through ``points``, a small ring at each, and a
        filled dot where it ends (a journey's destination)."""
        for start, end in itertools.pairwise(points):
            sx, sy = _xy(start, _SCALE)
            ex, ey = _xy(end, _SCALE)
            self.draw.line((sx, sy, ex, ey), fill=PATH, width=3 * _SCALE)
            boxes = _path_boxes((sx / _SCALE, sy / _SCALE), (ex / _SCALE, ey / _SCALE))
            self.taken.extend(boxes)
            self.changed.extend(boxes)
        for point in points[:-1]:
            self.taken.append(self.dot(point, 5, PLOT_BACKGROUND, outline=PATH, width=2))
        self.taken.append(self.dot(points[-1], 7, PATH, outline=PLOT_BACKGROUND, width=2))

    def track_number(self, point: MoodPoint, number: int) -> None:
        """The song's place in the playlist, beside its dot (on a halo, legible anywhere)."""
        x, y = _xy(point, 1)
        self.label_text((x + 5, y - 17), str(number), 12, TEXT, True)
        width, height = self.text_size(str(number), 12, True)
        box = (x + 5, y - 17, x + 5 + width, y - 17 + height)
        self.taken.append(box)

    def anchor_markers(self, points: dict[str, MoodPoint], highlight: str | None) -> dict[str, Box]:
        """A dot per category (the detected one larger and golden); their boxes by id.

        The plain dots are in the static plane's picture already: where nothing else of the
        card is near, redrawing them changes nothing, so only the golden one counts as a
        change (the tracks under the others are changes of their own).
        """
        boxes = {}
        for category_id, point in points.items():
            if category_id == highlight:
                boxes[category_id] = self.dot(point, 9, HIGHLIGHT, outline=TEXT, width=2)
            else:
                boxes[category_id] = self.dot(
                    point, 6, ANCHOR, outline=BACKGROUND, width=1, changes=False
                )
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

        # only boxes that reach some candidate can add to a cost (the rest add exactly 0.0):
        # the same sums, in the same order, without a hundred arrow boxes per candidate
        left = min(x for x, _ in candidates)
        top = min(y for _, y in candidates)
        right = max(x for x, _ in candidates) + width
        bottom = max(y for _, y in candidates) + height
        nearby = [
            o for o in self.taken if o[0] < right and o[2] > left and o[1] < bottom and o[3] > top
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
            return sum(_overlap(box, other) for other in nearby) + outside * 1000

        x, y = min(candidates, key=cost)  # min keeps the first of equal costs: deterministic
        self.label_text((x, y), value, size, fill, bold)
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
            start, tip = (start_x / _SCALE, start_y / _SCALE), (tip_x / _SCALE, tip_y / _SCALE)
            path = _path_boxes(start, tip)
            self.taken.extend(path)  # so labels avoid covering the arrow
            self.changed.extend(path)  # 4 px either side: the line is 2 px either side
            half = head * 0.55
            corners = [
                (tip_x, tip_y),
                (base_x - uy * half, base_y + ux * half),
                (base_x + uy * half, base_y - ux * half),
            ]
            self.draw.polygon(corners, fill=ARROW)
            xs, ys = [x / _SCALE for x, _ in corners], [y / _SCALE for _, y in corners]
            self.changed.append((min(xs), min(ys), max(xs), max(ys)))
        self.taken.append(self.dot(target, 10, TARGET, outline=TEXT, width=2))

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


def _path_boxes(start: tuple[float, float], end: tuple[float, float]) -> list[Box]:
    """Small boxes every 6 px or less along a line, from ``start`` to ``end``."""
    steps = max(1, round(((end[0] - start[0]) ** 2 + (end[1] - start[1]) ** 2) ** 0.5 / 6))
    boxes = []
    for i in range(steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        boxes.append((x - 4, y - 4, x + 4, y + 4))
    return boxes


@functools.lru_cache(maxsize=256)
def _text_size(value: str, size: int, bold: bool, korean: bool) -> tuple[float, float]:
    """Width and height of ``value`` in output pixels (labels are measured for every card)."""
    font = load_font(size * _SCALE, bold=bold, korean=korean)
    left, top, right, bottom = _MEASURE.textbbox((0, 0), value, font=font, anchor="la")
    return (right - left) / _SCALE, (bottom - top) / _SCALE


_MEASURE = ImageDraw.Draw(Image.new("RGB", (1, 1)))  # textbbox needs a Draw; it draws nothing
