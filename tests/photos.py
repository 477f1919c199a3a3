"""Pictures with a photo's mix of smooth shapes and fine detail, and the long thin strips of
issue 9 (aspect-ratio bombs), as upload bytes."""

from __future__ import annotations

import io
import random

from PIL import Image


def photo_like(size: tuple[int, int], seed: int = 0) -> bytes:
    """A JPEG whose content changes both across and down (a radial shape, a tint, noise), so a
    crop or a shift in the wrong place shows in the pixels."""
    shape = Image.radial_gradient("L").resize(size).convert("RGB")
    tint = Image.new("RGB", size, ((40 * seed) % 256, 120, (255 - 50 * seed) % 256))
    noise = random.Random(seed).randbytes(size[0] * size[1])
    detail = Image.frombytes("L", size, noise).convert("RGB")
    image = Image.blend(Image.blend(shape, tint, 0.4), detail, 0.2)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def strip_png(width: int, height: int) -> bytes:
    """A one-colour PNG of ``width`` x ``height``: about a hundred bytes however long."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(buffer, format="PNG")
    return buffer.getvalue()
