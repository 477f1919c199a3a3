"""Turning uploaded bytes into a safe RGB picture, or a message the user can act on.

Uploads come from strangers, so this is the one place PIL touches untrusted bytes. Limits
are checked in order of cost: the byte size before parsing, the pixel count from the header
before any pixel is decoded (a small PNG can claim gigapixels), then the full decode. Every
PIL failure becomes a ``BadImageError`` naming the problem (``core.messages.ImageProblem``),
which the reply tells in the user's language.

A model that only looks at the centre square of a picture at a fixed size (CLIP) can ask for
just that: the picture is then shrunk while it is decoded (JPEG) and cut to that square before
anything else touches it. A 1x30000 strip then costs less than a photo, instead of gigabytes
in the model's processor, and a 12-megapixel JPEG costs little more than its decoding.
"""

from __future__ import annotations

import io
import warnings
from typing import cast

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import BadImageError
from core.messages import ImageProblem, file_size

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # the default upload limits (AIDJ_MAX_IMAGE_BYTES / _PIXELS)
MAX_IMAGE_PIXELS = 40_000_000
_WHITE = (255, 255, 255)
# With ``square``, pictures are shrunk to no less than this many times the model's side, so
# the model's own (bicubic, antialiased) resize still makes the final step from a picture
# with detail to spare, and its input barely changes (bench/images.py, tests). JPEG's
# reduced-scale decoding is the coarser filter (on sharp photos it moved CLIP's 224x224
# input by ~4/255 on average at 2x the side, ~1/255 at 4x), so it stops earlier.
_HEADROOM = 2
_DRAFT_HEADROOM = 4


def load_image(
    data: bytes, *, max_bytes: int, max_pixels: int, square: int | None = None
) -> Image.Image:
    """Decode ``data`` into an upright RGB image (first frame if animated).

    With ``square`` (the side a model resizes the short edge to before it keeps only the
    centre square), the result is that centre square, shrunk to between ``_HEADROOM`` and
    twice ``_HEADROOM`` times ``square`` when larger: the model's own resize then does only the
    last, small step. Raises ``BadImageError`` for anything unusable; no PIL exception escapes.
    """
    if not data:
        raise BadImageError(ImageProblem.EMPTY)
    if len(data) > max_bytes:
        raise BadImageError(ImageProblem.TOO_LARGE, limit=file_size(max_bytes))
    with _open(data, max_pixels) as image:
        _check_pixels(image.size, max_pixels)
        return _decode(image, max_pixels, square)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Parse the header only; PIL decodes no pixels until ``load``."""
    try:
        # Our own pixel limit (checked next) is the one that decides; PIL's global warning
        # threshold would only add noise, and its hard error is reported as too many pixels.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise BadImageError(ImageProblem.NOT_AN_IMAGE) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None, max_pixels) from None
    except Exception:  # PIL raises many types (OSError, ValueError, SyntaxError, ...)
        raise BadImageError(ImageProblem.CORRUPT) from None


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise BadImageError(ImageProblem.CORRUPT)
    if width * height > max_pixels:
        raise _too_many_pixels((width, height), max_pixels)


def _decode(image: Image.Image, max_pixels: int, square: int | None) -> Image.Image:
    """Decode the first frame, apply EXIF orientation, flatten onto white, convert to RGB;
    with ``square``, decode small (JPEG) and keep only the reduced centre square."""
    try:
        image.seek(0)
        least = square * _HEADROOM if square else 0
        if square:
            draft = square * _DRAFT_HEADROOM  # JPEG: decode at 1/2..1/8 scale, sides >= this
            image.draft(None, (draft, draft))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        if not least:
            return _to_rgb(image)
        return _reduce(_to_rgb(_centre_square(image)), least)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise _too_many_pixels(None, max_pixels) from None
    except Exception:
        raise BadImageError(ImageProblem.CORRUPT) from None


def _centre_square(image: Image.Image) -> Image.Image:
    """The largest centred square: all that a resize-short-side-then-centre-crop model sees.

    Cropping first is what bounds the work for any aspect ratio: uncropped, a 1x30000 strip
    is scaled to 224 x 6.7 million pixels before the model's processor crops it.
    """
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def _reduce(image: Image.Image, least: int) -> Image.Image:
    """Box-average by the largest whole factor that keeps each side at least ``least``."""
    factor = min(image.size) // least
    return image.reduce(factor) if factor > 1 else image


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited onto white (CLIP never saw alpha)."""
    image = _to_8_bit(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _to_8_bit(image: Image.Image) -> Image.Image:
    """Greyscale deeper than 8 bits (16-bit PNG/TIFF: "I;16", "I;16B", "I"; float: "F") scaled
    to "L"; other modes unchanged.

    PIL's own conversion to RGB clips these values at 255 instead of scaling them, which turns
    a 16-bit photo almost all white. Integer modes are read as 16-bit (how PIL opens 16-bit
    files); float pictures carry no fixed range, so theirs is guessed from the largest value.
    """
    if image.mode == "F":
        scale = _float_scale(float(cast(tuple[float, float], image.getextrema())[1]))
    elif image.mode == "I" or image.mode.startswith("I;16"):
        image, scale = image.convert("I"), 255 / 65535
    else:
        return image
    # + 0.5: PIL truncates when it stores the scaled values, so this rounds to the nearest.
    eight_bit = image.point(lambda value: value * scale + 0.5).convert("L")
    # A tRNS grey level is in 16-bit units and no longer matches any pixel (PIL never applied
    # it to these modes either).
    eight_bit.info.pop("transparency", None)
    return eight_bit


def _float_scale(largest: float) -> float:
    """0..1 (the usual float convention) or 0..255 or 0..65535, whichever holds ``largest``."""
    if largest <= 1.0:
        return 255.0
    if largest <= 255.0:
        return 1.0
    return 255 / 65535


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> BadImageError:
    """Name the size when the header told it (PIL's own bomb check does not)."""
    found = f" ({size[0]}x{size[1]})" if size else ""
    return BadImageError(
        ImageProblem.TOO_MANY_PIXELS, size=found, megapixels=_megapixels(max_pixels)
    )


def _megapixels(pixels: int) -> str:
    """``40_000_000`` -> ``"40"``, ``5_000`` -> ``"0.005"``, ``10**12`` -> ``"1,000,000"``."""
    value = pixels / 1_000_000
    return f"{value:,.1f}".removesuffix(".0") if value >= 0.1 else f"{value:g}"
