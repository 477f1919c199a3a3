"""CLIP zero-shot scene scoring over the twelve mood categories.

The category prompts never change, so their text embeddings are computed once at load (with
prompt ensembling: each prompt embedding is L2-normalised, averaged per category and
re-normalised). A request then costs one batched image forward pass and a small matrix
product, instead of re-encoding 48 prompts per photo. Square pictures (``square_side``) are
turned into the model's input by ``clip_pixels`` rather than the image processor: the same
pixels, for a fraction of the time.
"""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image

from adapters.models.clip_onnx import OnnxImageTower
from adapters.models.clip_pixels import PixelPreparer
from adapters.models.loading import load_pretrained
from adapters.models.options import CLIP_RUNTIMES
from adapters.models.quantize import quantize_int8
from adapters.models.weight_pages import release_pages
from core.categories import CATEGORIES
from core.mood import ImageReading


class ClipSceneScorer:
    """Scores photos against the categories' prompt ensembles."""

    def __init__(self, model: Any, processor: Any, device: str = "cpu") -> None:
        self._model = model
        self._processor = processor
        self._device = torch.device(device)
        self._square_side = centre_square_side(processor.image_processor)
        self._preparer = PixelPreparer.matching(processor.image_processor, self._square_side)
        self._category_ids = tuple(category.id for category in CATEGORIES)
        self._category_embeddings = self._encode_categories()
        self._onnx_tower: OnnxImageTower | None = None  # set by ``load`` on request
        with torch.inference_mode():
            self._logit_scale = float(model.logit_scale.exp())

    @classmethod
    def load(
        cls,
        model_id_or_path: str,
        device: str = "cpu",
        *,
        int8: bool = False,
        runtime: str = CLIP_RUNTIMES[0],
    ) -> ClipSceneScorer:
        """Load a CLIP model and processor from a hub id or a local folder; with ``int8``,
        the image tower's Linear layers run dynamically quantised (``quantize_int8``), after
        the category prompts were encoded in fp32; with ``runtime="onnxruntime"`` the image
        tower runs on ONNX Runtime instead (``clip_onnx``, fp32, int8 or not)."""
        from transformers import CLIPModel, CLIPProcessor

        def load() -> ClipSceneScorer:
            model = CLIPModel.from_pretrained(model_id_or_path)
            processor = CLIPProcessor.from_pretrained(model_id_or_path)
            model.to(device).eval()  # type: ignore[arg-type]  # transformers' stub of .to
            scorer = cls(model, processor, device)
            # the text side has encoded the category prompts: its weights are read no more
            release_pages([*model.text_model.parameters(), *model.text_projection.parameters()])
            if runtime == "onnxruntime":
                scorer._run_on_onnxruntime()
            elif int8:
                quantize_int8(model.vision_model)
            return scorer

        return load_pretrained("CLIP", model_id_or_path, "AIDJ_CLIP_MODEL", "--clip-model", load)

    @property
    def model(self) -> Any:
        """The underlying ``CLIPModel`` (for instrumentation and memory accounting)."""
        return self._model

    @property
    def square_side(self) -> int | None:
        """What ``load_image(square=...)`` may prepare pictures for (``centre_square_side``):
        cut to the centre square and shrunk first, any aspect ratio costs the processor the
        same as a photo."""
        return self._square_side

    @property
    def category_ids(self) -> tuple[str, ...]:
        return self._category_ids

    @property
    def category_embeddings(self) -> torch.Tensor:
        """One unit vector per category (rows in ``category_ids`` order), fixed at load."""
        return self._category_embeddings

    @property
    def logit_scale(self) -> float:
        return self._logit_scale

    def score(self, images: list[Image.Image]) -> list[ImageReading]:
        """One reading per image, from a single batched forward pass."""
        if not images:
            return []
        with torch.inference_mode():
            pixels = self._pixels(images)
            if self._onnx_tower is not None:
                features = self._onnx_tower(pixels)
            else:
                features = projected_features(self._model.get_image_features(pixel_values=pixels))
            image_embeddings = _normalise(features)
            logits = self._logit_scale * image_embeddings @ self._category_embeddings.T
            probabilities = logits.softmax(dim=-1).cpu().tolist()
        return [self._reading(row) for row in probabilities]

    def _run_on_onnxruntime(self) -> None:
        """From now on, the image tower runs on ONNX Runtime (``clip_onnx``)."""
        side = self._model.config.vision_config.image_size  # what the tower was built for
        self._onnx_tower = OnnxImageTower.export(self._model, side, torch.get_num_threads())

    def _pixels(self, images: list[Image.Image]) -> torch.Tensor:
        """The model's input: by ``PixelPreparer`` when every picture is a square it takes,
        else by the image processor."""
        if self._preparer is not None and all(map(self._preparer.accepts, images)):
            pixels = self._preparer(images)
        else:
            pixels = self._processor.image_processor(images=images, return_tensors="pt")[
                "pixel_values"
            ]
        return pixels.to(self._device)

    def _reading(self, probabilities: list[float]) -> ImageReading:
        distribution = dict(zip(self._category_ids, probabilities, strict=True))
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return ImageReading(
            category_id=self._category_ids[best],
            confidence=probabilities[best],
            distribution=distribution,
        )

    def _encode_categories(self) -> torch.Tensor:
        """One unit vector per category: the normalised mean of its prompts' unit vectors."""
        prompts = [prompt for category in CATEGORIES for prompt in category.prompts]
        tokens = self._processor.tokenizer(
            prompts, padding=True, truncation=True, return_tensors="pt"
        )
        with torch.inference_mode():
            output = self._model.get_text_features(
                input_ids=tokens["input_ids"].to(self._device),
                attention_mask=tokens["attention_mask"].to(self._device),
            )
            prompt_embeddings = _normalise(projected_features(output))
        per_category = []
        start = 0
        for category in CATEGORIES:
            end = start + len(category.prompts)
            per_category.append(prompt_embeddings[start:end].mean(dim=0))
            start = end
        return _normalise(torch.stack(per_category))


def projected_features(output: Any) -> torch.Tensor:
    """The projected embeddings, whether transformers returned a tensor (v4) or an output
    object whose ``pooler_output`` holds them (v5)."""
    if isinstance(output, torch.Tensor):
        return output
    pooled = getattr(output, "pooler_output", None)
    if isinstance(pooled, torch.Tensor):
        return pooled
    raise TypeError(f"unexpected CLIP feature output: {type(output).__name__}")


def centre_square_side(image_processor: Any) -> int | None:
    """``size.shortest_edge`` when the image processor resizes by it and then centre-crops a
    square no larger (CLIP: 224 and 224), else None.

    What such a processor keeps lies inside the picture's centred short-side square, so the
    picture may be cut to that square and shrunk towards this side first: the model's input
    changes by resampling only, and no aspect ratio can make the processor's resize huge.
    """
    edge = _field(getattr(image_processor, "size", None), "shortest_edge")
    crop = getattr(image_processor, "crop_size", None)
    side = _field(crop, "height")
    resizes_then_crops = getattr(image_processor, "do_resize", False) and getattr(
        image_processor, "do_center_crop", False
    )
    if not (resizes_then_crops and edge and side and side == _field(crop, "width")):
        return None
    return int(edge) if side <= edge else None


def _field(size: Any, key: str) -> Any:
    """A size setting's field, whether transformers holds it as a dict (v4) or a SizeDict (v5)."""
    if size is None:
        return None
    if isinstance(size, dict):
        return size.get(key)
    return getattr(size, key, None)


def _normalise(vectors: torch.Tensor) -> torch.Tensor:
    return vectors / vectors.norm(p=2, dim=-1, keepdim=True)
