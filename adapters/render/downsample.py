"""Scaling a drawing made at a multiple of its size down, everywhere or only where it changed.

Pictures are drawn large and scaled down with Lanczos for smooth edges, but Lanczos over a
1600 px canvas costs about 40 ms. A card is a cached static plane plus a few dots, an arrow
and labels, a small part of the area. An output pixel depends only on the input pixels within
the filter's reach, so scaling just the output tiles near a change, reading from the whole
canvas (Pillow's ``box`` keeps the neighbours beyond the tile in view), gives exactly the
pixels a full rescale would.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from PIL import Image

FILTER = Image.Resampling.LANCZOS
# Lanczos reaches 3 output pixels either side when scaling down (a change alters output
# pixels that far away, and an output pixel reads input that far away); one more for shapes
# whose rasterised edge spills a pixel past their nominal box
REACH = 4
TILE = 16  # output pixels; coarser means fewer calls, finer means less area rescaled

Box = tuple[float, float, float, float]  # left, top, right, bottom in output pixels


def shrink(canvas: Image.Image, scale: int) -> Image.Image:
    """All of ``canvas`` at 1/``scale`` of its size."""
    return canvas.resize((canvas.width // scale, canvas.height // scale), FILTER)


def shrink_changed(
    canvas: Image.Image, into: Image.Image, changed: Iterable[Box], scale: int
) -> list[tuple[int, int, int, int]]:
    """Update ``into`` (``canvas`` at 1/``scale`` before the changes) where ``changed``
    boxes, given in ``into``'s pixels, may have altered it; the rest of it is left alone.
    Returns the boxes of ``into`` that were rewritten."""
    rewritten = []
    for left, top, right, bottom in _rectangles(_tiles_near(changed, into.size)):
        right, bottom = min(right * TILE, into.width), min(bottom * TILE, into.height)
        box = (left * TILE, top * TILE, right, bottom)
        into.paste(shrink_part(canvas, box, scale), box[:2])
        rewritten.append(box)
    return rewritten


def affected(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The output pixels (within ``size``) that a change inside ``box`` may alter."""
    return (
        max(0, math.floor(box[0]) - REACH),
        max(0, math.floor(box[1]) - REACH),
        min(size[0], math.ceil(box[2]) + REACH),
        min(size[1], math.ceil(box[3]) + REACH),
    )


def shrink_part(canvas: Image.Image, part: tuple[int, int, int, int], scale: int) -> Image.Image:
    """The output pixels in ``part`` of ``canvas`` at 1/``scale``, exactly as a full rescale
    gives them (the filter reads ``canvas`` around the part too)."""
    size = (part[2] - part[0], part[3] - part[1])
    left, top, right, bottom = (edge * scale for edge in part)
    return canvas.resize(size, FILTER, box=(left, top, right, bottom))


def _tiles_near(changed: Iterable[Box], size: tuple[int, int]) -> set[tuple[int, int]]:
    """(row, column) of every tile within the filter's reach of a changed box."""
    columns, rows = math.ceil(size[0] / TILE), math.ceil(size[1] / TILE)
    tiles: set[tuple[int, int]] = set()
    for left, top, right, bottom in changed:
        first_column = max(0, math.floor(left - REACH) // TILE)
        last_column = min(columns - 1, math.ceil(right + REACH) // TILE)
        first_row = max(0, math.floor(top - REACH) // TILE)
        last_row = min(rows - 1, math.ceil(bottom + REACH) // TILE)
        for row in range(first_row, last_row + 1):
            tiles.update((row, column) for column in range(first_column, last_column + 1))
    return tiles


def _rectangles(tiles: set[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Cover ``tiles`` with few rectangles (in tiles: left, top, right, bottom exclusive):
    runs along each row, then runs of equal extent stacked over consecutive rows."""
    runs: list[tuple[int, int, int]] = []  # (first column, last column, row)
    for row, column in sorted(tiles):
        if runs and runs[-1][2] == row and runs[-1][1] == column - 1:
            runs[-1] = (runs[-1][0], column, row)
        else:
            runs.append((column, column, row))
    rectangles: list[tuple[int, int, int, int]] = []
    for first, last, row in sorted(runs):
        if rectangles and rectangles[-1][::2] == (first, last + 1) and rectangles[-1][3] == row:
            left, top, right, _ = rectangles[-1]
            rectangles[-1] = (left, top, right, row + 1)
        else:
            rectangles.append((first, row, last + 1, row + 1))
    return rectangles
