"""CLIP's input tensor from prepared square pictures: one resize each, one batched normalise.

Why: CLIP's image processor (PIL backend) takes each picture to numpy, back to PIL to resize
it, back to numpy, then rescales and normalises it in numpy, picture by picture: about 5 ms a
photo, half of it PIL's bicubic resize. For a square picture (what ``load_image(square=...)``
hands over) its "short side to N, then the centre N x N" is a single resize to N x N. This
does that resize with torch's antialiased resampling on 8-bit pixels (written to match PIL's:
at most 1/255 apart, on well under 1% of pixels; 0.4 ms instead of 2.7 for 480 -> 224), then
rescales and normalises the whole batch in one expression. Pictures of any other shape, and
processors that do anything else, still go to the processor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.nn import functional

# PIL filters that torch resamples the same way (antialiased when shrinking, as PIL does)
_TORCH_MODES = {Image.Resampling.BICUBIC: "bicubic", Image.Resampling.BILINEAR: "bilinear"}


@dataclass(frozen=True)
class PixelPreparer:
    """The arithmetic of a resize-then-centre-crop image processor, for square RGB pictures."""

    side: int
    mode: str  # torch's name of the processor's resampling filter
    rescale: float  # 1.0: no rescaling
    mean: torch.Tensor  # (1, 3, 1, 1); zeros with unit std: no normalising
    std: torch.Tensor

    @classmethod
    def matching(cls, image_processor: Any, square_side: int | None) -> PixelPreparer | None:
        """The preparer that reproduces ``image_processor`` for square pictures, or None when
        it does anything this does not (a crop smaller than its resize, padding, ...).
        ``square_side`` is ``clip_backend.centre_square_side`` of that processor."""
        crop = getattr(image_processor, "crop_size", None)
        crop_side = crop.get("height") if isinstance(crop, dict) else getattr(crop, "height", None)
        if square_side is None or crop_side != square_side or getattr(image_processor, "do_pad", 0):
            return None
        try:
            mode = _TORCH_MODES.get(Image.Resampling(int(image_processor.resample)))
        except (TypeError, ValueError):
            return None  # a torchvision interpolation mode: leave it to the processor
        if mode is None:
            return None
        normalise = getattr(image_processor, "do_normalize", False)
        mean = image_processor.image_mean if normalise else [0.0, 0.0, 0.0]
        std = image_processor.image_std if normalise else [1.0, 1.0, 1.0]
        rescale = getattr(image_processor, "do_rescale", False)
        return cls(
            side=square_side,
            mode=mode,
            rescale=float(image_processor.rescale_factor) if rescale else 1.0,
            mean=torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
            std=torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
        )

    def accepts(self, image: Image.Image) -> bool:
        return image.mode == "RGB" and image.width == image.height

    def __call__(self, images: list[Image.Image]) -> torch.Tensor:
        """(len(images), 3, side, side) float32 pixel values, as the processor makes them."""
        pixels = torch.cat([self._resized(image) for image in images])
        return (pixels.float() * self.rescale - self.mean) / self.std

    def _resized(self, image: Image.Image) -> torch.Tensor:
        """(1, 3, side, side) uint8; channels last in memory, which torch's 8-bit
        antialiased resampling is fastest on."""
        pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).unsqueeze(0)
        if image.size == (self.side, self.side):
            return pixels
        return functional.interpolate(
            pixels, size=(self.side, self.side), mode=self.mode, antialias=True
        )
