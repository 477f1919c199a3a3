"""PNG bytes from a picture, quickly and without holding the GIL.

Pillow's encoder picks a filter for every row adaptively and deflates in chunks while holding
the GIL: about 14 ms at its fastest level for the 800 px mood plane (60 ms with ``optimize``),
during which no other thread of the bot, the event loop included, runs. The plane is flat
colours with some anti-aliased edges, so unfiltered rows deflate as small as filtered ones;
this writes them as they are and compresses them with the standard library's zlib, which
releases the GIL while it works.

Cards differ from their static plane in only some rows, so ``PngBands`` keeps the plane's
rows deflated in bands, each band a self-contained piece of the deflate stream; a card's PNG
deflates only the bands it changed and splices in the rest.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}  # PNG colour type by Pillow mode, 8 bits each
_NO_FILTER = b"\x00"
# zlib level 1 is the fastest that still finds the long runs of one colour; level 6 saves
# about an eighth of the bytes for twice the time
LEVEL = 1
BAND = 16  # rows per independently deflated band
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, "fastest" (informational)
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # ends a stream whose blocks were all sync-flushed
_ADLER_BASE = 65521


def encode_png(image: Image.Image, level: int = LEVEL) -> bytes:
    """``image`` (L, RGB or RGBA) as a PNG file; deterministic (no timestamps)."""
    return _png(image, zlib.compress(_scanlines(image), level))


class PngBands:
    """``image``'s rows, deflated in bands of ``BAND`` rows, for writing pictures that differ
    from it in some rows only (``encode``)."""

    def __init__(self, image: Image.Image, level: int = LEVEL) -> None:
        _colour_type(image)
        self.size, self.mode, self.level = image.size, image.mode, level
        self._bands = [self._band(image, top) for top in range(0, image.height, BAND)]

    def encode(self, image: Image.Image, changed_rows: Iterable[tuple[int, int]]) -> bytes:
        """``image`` as a PNG file; only the rows in ``changed_rows`` ([top, bottom) ranges)
        may differ from the picture the bands were made from (the rest are not read)."""
        if (image.size, image.mode) != (self.size, self.mode):
            raise ValueError("the picture differs from the bands' in size or mode")
        bands = list(self._bands)
        for top, bottom in changed_rows:
            if bottom <= top:
                continue
            for index in range(max(0, top) // BAND, min(bottom - 1, image.height - 1) // BAND + 1):
                if bands[index] is self._bands[index]:
                    bands[index] = self._band(image, index * BAND)
        adler = 1  # the checksum of no data
        for _, band_adler, length in bands:
            adler = _adler32_join(adler, band_adler, length)
        deflated = b"".join(data for data, _, _ in bands)
        stream = _ZLIB_HEADER + deflated + _FINAL_EMPTY_BLOCK + struct.pack(">I", adler)
        return _png(image, stream)

    def _band(self, image: Image.Image, top: int) -> tuple[bytes, int, int]:
        """The rows from ``top`` deflated on their own (sync-flushed, no final block), their
        Adler-32 and length: bands concatenate into one valid deflate stream."""
        rows = _scanlines(image.crop((0, top, image.width, min(top + BAND, image.height))))
        deflate = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        data = deflate.compress(rows) + deflate.flush(zlib.Z_SYNC_FLUSH)
        return data, zlib.adler32(rows), len(rows)


def _adler32_join(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings one after the other, from theirs."""
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    a = (a1 + a2 - 1) % _ADLER_BASE
    b = (b1 + b2 + second_length * (a1 - 1)) % _ADLER_BASE
    return (b << 16) | a


def _scanlines(image: Image.Image) -> bytes:
    """The rows as PNG wants them: each led by its filter type (none)."""
    stride = image.width * len(image.getbands())
    pixels = image.tobytes()
    return _NO_FILTER + _NO_FILTER.join(
        pixels[start : start + stride] for start in range(0, len(pixels), stride)
    )


def _colour_type(image: Image.Image) -> int:
    try:
        return _COLOUR_TYPES[image.mode]
    except KeyError:
        raise ValueError(f"cannot write a {image.mode} picture; convert it to RGB") from None


def _png(image: Image.Image, stream: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, _colour_type(image), 0, 0, 0)
    return b"".join(
        (_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", stream), _chunk(b"IEND", b""))
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
