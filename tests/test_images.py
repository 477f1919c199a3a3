"""Uploaded bytes -> RGB picture, or a BadImageError a user can read."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import pytest
from PIL import Image

from adapters.images import load_image
from core.errors import BadImageError

MB = 1024 * 1024
LIMITS = {"max_bytes": 10 * MB, "max_pixels": 40_000_000}


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def halves(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Left half red, right half blue: shows which way a picture was turned."""
    width, height = size
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but whose pixel data is junk.

    Small on the wire, huge if decoded: the shape of a decompression bomb.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def message(data: bytes, **limits: int) -> str:
    with pytest.raises(BadImageError) as caught:
        load_image(data, **{**LIMITS, **limits})
    return str(caught.value)


# ---------------------------------------------------------------- bad input


def test_empty_upload():
    assert "empty" in message(b"").lower()


def test_over_the_byte_limit_names_the_limit_in_mb():
    data = encode(halves(), "PNG") + b"\x00" * (MB + MB // 2)
    text = message(data, max_bytes=MB)
    assert "too large" in text and "the limit is 1 MB" in text


def test_not_an_image():
    assert "not an image" in message(b"just some text, not a picture").lower()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image_is_corrupt(fmt):
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), fmt)
    assert "corrupt" in message(data[: len(data) // 3]).lower()


def test_pixel_limit_is_checked_from_the_header():
    text = message(encode(halves((100, 100)), "PNG"), max_pixels=5_000)
    assert "too many pixels (100x100)" in text and "0.005 megapixels" in text


def test_bomb_is_refused_before_any_pixel_is_decoded():
    # Junk pixel data: decoding would say "corrupt", so "too many pixels" proves the
    # header check came first.
    text = message(png_claiming(10_000, 8_000))  # 80 MP: over ours, under PIL's own levels
    assert "too many pixels (10000x8000); the limit is 40 megapixels" in text


def test_pils_own_bomb_error_is_caught_and_the_global_limit_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    text = message(png_claiming(100_000, 100_000), max_pixels=10**12)
    assert "too many pixels; the limit is 1,000,000 megapixels" in text
    after = Image.MAX_IMAGE_PIXELS
    assert after == before


def test_pils_bomb_warning_never_escapes_even_when_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = message(png_claiming(10_000, 10_000))  # 100 MP: over PIL's warning level
    assert "too many pixels (10000x10000)" in text


# ---------------------------------------------------------------- good input


def test_good_jpeg():
    image = load_image(encode(halves(), "JPEG", quality=95), **LIMITS)
    assert image.mode == "RGB" and image.size == (40, 20)
    red, _, blue = image.getpixel((5, 10))
    assert red > 200 and blue < 60


def test_good_png_with_transparency_is_flattened_onto_white():
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    rgba.paste((0, 200, 0, 255), (0, 0, 5, 10))
    image = load_image(encode(rgba, "PNG"), **LIMITS)
    assert image.mode == "RGB"
    assert image.getpixel((8, 5)) == (255, 255, 255)
    assert image.getpixel((2, 5)) == (0, 200, 0)


def test_palette_and_grayscale_become_rgb():
    for source in (halves().convert("P"), halves().convert("L")):
        assert load_image(encode(source, "PNG"), **LIMITS).mode == "RGB"


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    data = encode(halves((40, 20)), "JPEG", quality=95, exif=exif.tobytes())
    image = load_image(data, **LIMITS)
    assert image.size == (20, 40)
    top, bottom = image.getpixel((10, 3)), image.getpixel((10, 36))
    assert top[0] > 200 and top[2] < 60  # the left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (16, 16), color) for color in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    image = load_image(buffer.getvalue(), **LIMITS)
    assert image.mode == "RGB" and image.size == (16, 16)
    red, _, blue = image.getpixel((8, 8))
    assert red > 200 and blue < 60
