"""Uploaded bytes -> RGB picture, or a BadImageError a user can read."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageStat

from adapters.images import load_image
from core.errors import BadImageError
from tests.photos import strip_png

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


# ---------------------------------------------------------------- high bit depth

GRADIENT_SIZE = (256, 8)


def gradient_8_bit() -> Image.Image:
    """0..255 from left to right: the reference the deeper versions must come out as."""
    image = Image.new("L", GRADIENT_SIZE)
    image.putdata([x for _ in range(GRADIENT_SIZE[1]) for x in range(GRADIENT_SIZE[0])])
    return image


def gradient_deep(mode: str, fmt: str) -> bytes:
    """The same gradient stored with more than 8 bits per sample, as ``fmt`` bytes."""
    width, height = GRADIENT_SIZE
    levels = [x for _ in range(height) for x in range(width)]
    if mode == "F":  # floats conventionally run 0..1
        raw = struct.pack(f"<{len(levels)}f", *(level / 255 for level in levels))
    elif mode == "I":
        raw = struct.pack(f"<{len(levels)}i", *(level * 257 for level in levels))
    else:  # "I;16" (little-endian) or "I;16B"
        order = ">" if mode == "I;16B" else "<"
        raw = struct.pack(f"{order}{len(levels)}H", *(level * 257 for level in levels))
    image = Image.frombytes(mode, GRADIENT_SIZE, raw)
    return encode(image, fmt)


def png_16_bit_colour(alpha: bool) -> bytes:
    """The gradient as a 16-bit-per-channel RGB(A) PNG (PIL cannot write one itself)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    width, height = GRADIENT_SIZE
    channels = 4 if alpha else 3
    row = b"".join(
        struct.pack(f">{channels}H", *([x * 257] * 3 + [65535] * (channels - 3)))
        for x in range(width)
    )
    header = struct.pack(">IIBBBBB", width, height, 16, 6 if alpha else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress((b"\x00" + row) * height))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "opened_as"),
    [
        (gradient_deep("I;16", "PNG"), "I;16"),
        (gradient_deep("I;16B", "TIFF"), "I;16B"),
        (gradient_deep("I", "TIFF"), "I"),
        (gradient_deep("F", "TIFF"), "F"),
        (png_16_bit_colour(alpha=False), "RGB"),
        (png_16_bit_colour(alpha=True), "RGBA"),
    ],
    ids=["png-I;16", "tiff-I;16B", "tiff-I", "tiff-F", "png-rgb16", "png-rgba16"],
)
def test_high_bit_depth_keeps_its_gradient(data, opened_as):
    assert Image.open(io.BytesIO(data)).mode == opened_as  # the case this test is about
    image = load_image(data, **LIMITS)
    expected = ImageStat.Stat(gradient_8_bit().convert("RGB"))
    found = ImageStat.Stat(image)
    assert image.mode == "RGB" and image.size == GRADIENT_SIZE
    assert found.mean == pytest.approx(expected.mean, abs=0.5)
    assert found.stddev == pytest.approx(expected.stddev, abs=0.5)
    assert image.getpixel((0, 0)) == (0, 0, 0) and image.getpixel((255, 0)) == (255, 255, 255)
    assert image.getpixel((128, 4)) == (128, 128, 128)


# ---------------------------------------------------------------- prepared for a model's square

SIDE = 32  # the tiny CLIP's input side


def png(image: Image.Image) -> bytes:
    return encode(image, "PNG")


@pytest.mark.parametrize("size", [(1, 8000), (1, 30000), (30000, 1), (3, 20000)])
def test_a_thin_strip_comes_back_as_its_centre_square(size):
    image = load_image(strip_png(*size), **LIMITS, square=224)
    side = min(size)
    assert image.size == (side, side)  # not 224 x millions: the processor crops this anyway
    assert image.getpixel((0, 0)) == (90, 140, 200)


def test_only_the_centre_square_is_kept():
    wide = Image.new("RGB", (300, 100), (0, 200, 0))  # green sides ...
    wide.paste((200, 0, 0), (100, 0, 200, 100))  # ... around a red centre square
    image = load_image(png(wide), **LIMITS, square=SIDE)
    assert image.size == (100, 100)
    assert ImageStat.Stat(image).extrema == [(200, 200), (0, 0), (0, 0)]


def test_a_big_jpeg_is_shrunk_to_between_two_and_four_times_the_side():
    photo = Image.effect_noise((1600, 1200), 40).convert("RGB")
    image = load_image(encode(photo, "JPEG", quality=90), **LIMITS, square=SIDE)
    width, height = image.size
    assert width == height and 2 * SIDE <= width < 4 * SIDE


def test_shrinking_keeps_the_picture():
    quarters = Image.new("RGB", (2000, 1500), (255, 0, 0))
    quarters.paste((0, 0, 255), (1000, 0, 2000, 1500))
    for fmt in ("JPEG", "PNG"):
        image = load_image(encode(quarters, fmt), **LIMITS, square=SIDE)
        width, height = image.size
        assert width == height and 2 * SIDE <= width < 4 * SIDE
        left, right = image.getpixel((3, height // 2)), image.getpixel((width - 4, height // 2))
        assert left[0] > 200 and left[2] < 60  # the left half is still red ...
        assert right[2] > 200 and right[0] < 60  # ... and the right half blue


def test_a_small_picture_is_only_cropped():
    image = load_image(encode(halves((60, 40)), "PNG"), **LIMITS, square=SIDE)
    assert image.size == (40, 40)
    assert image.getpixel((5, 20)) == (255, 0, 0) and image.getpixel((35, 20)) == (0, 0, 255)


def test_exif_orientation_is_applied_with_a_square():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    tall_after_turning = halves((400, 200))
    data = encode(tall_after_turning, "JPEG", quality=95, exif=exif.tobytes())
    image = load_image(data, **LIMITS, square=SIDE)
    width, height = image.size
    assert width == height and 2 * SIDE <= width < 4 * SIDE
    top, bottom = image.getpixel((width // 2, 3)), image.getpixel((width // 2, height - 4))
    assert top[0] > 200 and top[2] < 60  # the left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_transparency_is_still_flattened_onto_white_in_the_square():
    rgba = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    rgba.paste((0, 200, 0, 255), (0, 0, 150, 200))
    image = load_image(png(rgba), **LIMITS, square=SIDE)
    width, height = image.size
    assert image.getpixel((2, height // 2)) == (0, 200, 0)
    assert image.getpixel((width - 3, height // 2)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_checks_still_apply_with_a_square(fmt):
    data = encode(Image.effect_noise((640, 640), 50).convert("RGB"), fmt)
    assert "corrupt" in message(data[: len(data) // 3], square=SIDE).lower()
    assert "too many pixels" in message(png_claiming(10_000, 8_000), square=SIDE)
