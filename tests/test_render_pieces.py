"""The picture's fast paths give the very pixels of the slow ones: PNG writing, rescaling
only what changed, and text stamped from cached masks."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from adapters.render import downsample
from adapters.render.downsample import shrink, shrink_changed
from adapters.render.fonts import load_font
from adapters.render.png import BAND, PngBands, _adler32_join, encode_png
from adapters.render.text_stamp import TextStamp


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def idat(png: bytes) -> bytes:
    """The image data of a PNG file (its IDAT chunks joined)."""
    data, offset = b"", 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        if png[offset + 4 : offset + 8] == b"IDAT":
            data += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return data


def busy_picture(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Flat areas with shapes and text on them, like the plane (noise would be untypical)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (26, 26, 30))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(4, 60), y + rng.randrange(4, 60)), fill=colour)
        draw.text((x, y), "Rainy day", fill=colour, font=load_font(20))
    return image


# ---------------------------------------------------------------- PNG


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_png_holds_the_same_pixels(mode: str) -> None:
    picture = busy_picture((97, 61)).convert(mode)
    png = encode_png(picture)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    back = decode(png)
    assert (back.mode, back.size) == (mode, picture.size)
    assert back.tobytes() == picture.tobytes()
    assert encode_png(picture) == png, "deterministic"


def test_png_refuses_modes_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="convert it to RGB"):
        encode_png(Image.new("P", (4, 4)))


def test_banded_png_rewrites_only_the_changed_rows() -> None:
    static = busy_picture((120, 5 * BAND + 3))
    bands = PngBands(static)
    card = static.copy()
    ImageDraw.Draw(card).rectangle((10, BAND + 2, 60, 2 * BAND + 4), fill=(255, 0, 0))
    png = bands.encode(card, [(BAND + 2, 2 * BAND + 5)])
    assert decode(png).tobytes() == card.tobytes()
    assert len(zlib.decompress(idat(png))) == card.height * (card.width * 3 + 1), "checksum ok"
    assert decode(bands.encode(static, [])).tobytes() == static.tobytes()
    # rows it is not told about are taken from the static picture, not read again
    stale = decode(bands.encode(card, []))
    assert stale.tobytes() == static.tobytes()


def test_banded_png_needs_the_same_size() -> None:
    with pytest.raises(ValueError, match="size or mode"):
        PngBands(busy_picture((40, 40))).encode(busy_picture((40, 41)), [])


def test_adler32_of_joined_data() -> None:
    rng = random.Random(3)
    for _ in range(20):
        first, second = rng.randbytes(rng.randrange(0, 9000)), rng.randbytes(rng.randrange(1, 9000))
        joined = _adler32_join(zlib.adler32(first), zlib.adler32(second), len(second))
        assert joined == zlib.adler32(first + second)


# ---------------------------------------------------------------- rescaling what changed


@pytest.mark.parametrize("tile", [1, downsample.TILE])
def test_rescaling_only_the_changes_equals_rescaling_everything(monkeypatch, tile: int) -> None:
    monkeypatch.setattr(downsample, "TILE", tile)  # 1: no slack from rounding to tiles
    rng = random.Random(1)
    canvas = busy_picture((400, 320), seed=1)
    small = shrink(canvas, 2)
    draw = ImageDraw.Draw(canvas)
    changed = []
    for _ in range(12):  # marks anywhere, the picture's edges included
        x, y = rng.uniform(-10, 400), rng.uniform(-10, 320)
        width, height = rng.uniform(1, 50), rng.uniform(1, 30)
        draw.ellipse((x, y, x + width, y + height), fill=(255, 200, 60), outline=(230, 230, 235))
        changed.append((x / 2, y / 2, (x + width) / 2, (y + height) / 2))
    draw.line((20, 300, 380, 40), fill=(255, 77, 109), width=8)
    changed += [
        (x / 2 - 4, y / 2 - 4, x / 2 + 4, y / 2 + 4) for x, y in _along((20, 300), (380, 40))
    ]
    rewritten = shrink_changed(canvas, small, changed, 2)
    assert small.tobytes() == shrink(canvas, 2).tobytes()
    area = sum((right - left) * (bottom - top) for left, top, right, bottom in rewritten)
    assert area < small.width * small.height / 2, "only the parts near the marks"


def _along(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    steps = 60
    return [
        (start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps)
        for i in range(steps + 1)
    ]


def test_nothing_changed_rewrites_nothing() -> None:
    canvas = busy_picture((64, 64))
    small = shrink(canvas, 2)
    assert shrink_changed(canvas, small, [], 2) == []


# ---------------------------------------------------------------- text stamps


@pytest.mark.parametrize("halo", [0, 4])
def test_a_stamp_draws_what_imagedraw_draws(halo: int) -> None:
    rng = random.Random(halo)
    background = busy_picture((300, 200), seed=2)
    for _ in range(25):  # sub-pixel positions, partly off the picture too
        xy = (rng.uniform(-40, 290), rng.uniform(-20, 195))
        font = load_font(rng.choice([26, 32]), bold=rng.random() < 0.5)
        value = rng.choice(["Rainy day", "Cafe · study", "x"])
        expected = background.copy()
        stroke = {"stroke_width": halo, "stroke_fill": (26, 26, 30)} if halo else {}
        ImageDraw.Draw(expected).text(xy, value, fill=(255, 200, 60), font=font, **stroke)
        stamped = background.copy()
        stamp = TextStamp.render(stamped.size, xy, value, font, halo_width=halo)
        stamp.apply(stamped, (255, 200, 60), (26, 26, 30) if halo else None)
        assert stamped.tobytes() == expected.tobytes(), (xy, value)


def test_a_stamp_with_a_halo_needs_its_colour() -> None:
    stamp = TextStamp.render((100, 40), (5.5, 5.25), "Rainy", load_font(20), halo_width=2)
    with pytest.raises(ValueError, match="halo"):
        stamp.apply(Image.new("RGB", (100, 40)), (255, 255, 255))
