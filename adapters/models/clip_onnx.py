"""CLIP's image tower on ONNX Runtime, on request (``AIDJ_CLIP_RUNTIME=onnxruntime``).

Why: on this project's 2-core AVX2 CPU, ONNX Runtime ran the ViT-B/32 image tower (with its
projection) 1.57-1.61x faster than torch for one photo and 1.21-1.36x for a batch of 8, for
the same numbers (largest change of an embedding: 2e-6). One photo at a time is what a bot
mostly sees. The NLI model gained too little there (0.91-1.19x) to offer the same.

The tower is exported from the model already loaded, at load (seconds), into a temporary
file that is deleted once the session holds it: there is no second artefact to download or
keep in step with the weights. Off by default: it needs the ``onnx`` extra, adds the export
to every start, and the session keeps its own copy of the tower's weights (the torch copy's
pages are handed back to the kernel once the export is written).
"""

from __future__ import annotations

import inspect
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from adapters.models.weight_pages import release_pages
from core.errors import ModelLoadError

INSTALL_HINT = "pip install 'aidj[onnx]', or unset AIDJ_CLIP_RUNTIME"


class OnnxImageTower:
    """pixel values (N, 3, side, side) in, projected image embeddings (N, dim) out."""

    def __init__(self, session: Any) -> None:
        self._session = session

    @classmethod
    def export(cls, model: Any, side: int, threads: int) -> OnnxImageTower:
        """Export ``model``'s image tower (a transformers ``CLIPModel``) and open it on
        ``threads`` threads; ``ModelLoadError`` when onnxruntime is missing or the export
        fails."""
        try:
            import onnxruntime
        except ImportError:
            raise ModelLoadError(f"ONNX Runtime is not installed: {INSTALL_HINT}") from None
        with tempfile.TemporaryDirectory(prefix="aidj-onnx-") as folder:
            path = Path(folder) / "clip_image_tower.onnx"
            _export(_ImageTower(model).eval(), side, path)
            # torch's copy is read no more: its pages go back before the session loads its own
            release_pages([*model.vision_model.parameters(), *model.visual_projection.parameters()])
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = max(1, threads)
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        return cls(session)

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        (embeddings,) = self._session.run(None, {"pixel_values": pixels.contiguous().numpy()})
        return torch.from_numpy(embeddings)


class _ImageTower(torch.nn.Module):
    """What the export traces: pixels to projected embeddings, as ``get_image_features``."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        from adapters.models.clip_backend import projected_features

        return projected_features(self.model.get_image_features(pixel_values=pixel_values))


def _export(tower: torch.nn.Module, side: int, path: Path) -> None:
    example = torch.zeros(1, 3, side, side)
    options: dict[str, Any] = {
        "input_names": ["pixel_values"],
        "output_names": ["embeddings"],
        "dynamic_axes": {"pixel_values": {0: "photos"}, "embeddings": {0: "photos"}},
        "opset_version": 17,
    }
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False  # the TorchScript exporter: no onnxscript needed
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # deprecation and tracer notes, not faults
            torch.onnx.export(tower, (example,), str(path), **options)
    except Exception as error:  # the exporter raises many kinds; all mean the same here
        raise ModelLoadError(
            f"could not export CLIP's image tower to ONNX ({type(error).__name__}: {error}); "
            "unset AIDJ_CLIP_RUNTIME to run it in torch"
        ) from error
