"""Text rendered once and stamped again, pixel for pixel as ``ImageDraw.text`` draws it.

FreeType outlining a label's halo is the costliest single step of a mood-plane card (about
0.6 ms a label, twelve labels a card), yet each label only ever lands on a handful of spots
beside its anchor. ``ImageDraw.text`` blends two coverage masks onto the picture, the halo's
in the halo colour and then the glyphs' in the text colour; a stamp keeps both masks for one
position, so drawing the label there again is two pastes through the same blend.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from adapters.render.fonts import Font

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class TextStamp:
    """The masks of one text at one position; ``box`` is where they go, in canvas pixels."""

    box: tuple[int, int, int, int]
    halo: Image.Image | None
    glyphs: Image.Image

    @classmethod
    def render(
        cls,
        canvas_size: tuple[int, int],
        xy: tuple[float, float],
        value: str,
        font: Font,
        *,
        anchor: str = "la",
        halo_width: int = 0,
    ) -> TextStamp:
        """The masks ``ImageDraw.text`` would blend for this text at ``xy`` on a canvas of
        ``canvas_size`` (drawn at the very position, so sub-pixel placement is kept)."""
        work = Image.new("L", canvas_size, 0)
        draw = ImageDraw.Draw(work)
        halo = None
        if halo_width:
            # fill and halo both 255: ImageDraw then draws only the halo pass (glyphs included)
            draw.text(xy, value, 255, font, anchor, stroke_width=halo_width, stroke_fill=255)
            halo = work.copy()
            work.paste(0, (0, 0, *canvas_size))
        draw.text(xy, value, 255, font, anchor)
        box = _union(work.getbbox(), halo.getbbox() if halo is not None else None)
        return cls(box, halo.crop(box) if halo is not None else None, work.crop(box))

    def apply(self, image: Image.Image, fill: Colour, halo_fill: Colour | None = None) -> None:
        """Blend the text onto ``image``: the halo in ``halo_fill``, then the glyphs."""
        if self.halo is not None:
            if halo_fill is None:
                raise ValueError("this stamp has a halo; give its colour")
            image.paste(halo_fill, self.box, self.halo)
        image.paste(fill, self.box, self.glyphs)


def _union(
    a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None
) -> tuple[int, int, int, int]:
    boxes = [box for box in (a, b) if box is not None]
    if not boxes:
        return (0, 0, 1, 1)  # nothing visible (blank text): a one-pixel empty stamp
    return (
        min(box[0] for box in boxes),
        min(box[1] for box in boxes),
        max(box[2] for box in boxes),
        max(box[3] for box in boxes),
    )
