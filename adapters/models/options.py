"""What the model step needs to know, and nothing else.

Why its own object rather than the app's settings: it crosses into the worker process (or a
remote replica), which must never receive chat tokens or Spotify secrets, and the models
must not depend on the app that wires them. ``bot.config.Settings.model_options`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from adapters.images import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

DEFAULT_CLIP_MODEL = "openai/clip-vit-base-patch32"
DEFAULT_NLI_MODEL = "MoritzLaurer/mDeBERTa-v3-base-mnli-xnli"
QUANTIZE_CHOICES = ("none", "int8")  # int8: dynamic int8 Linear layers, CPU only
CLIP_RUNTIMES = ("torch", "onnxruntime")  # onnxruntime: CLIP's image tower, CPU only


@dataclass(frozen=True)
class ModelOptions:
    clip_model: str = DEFAULT_CLIP_MODEL  # a hub id or a local folder
    nli_model: str = DEFAULT_NLI_MODEL
    device: str = "cpu"
    torch_threads: int = 0  # 0: let torch decide
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_image_pixels: int = MAX_IMAGE_PIXELS
    max_caption_chars: int = 500
    worker_batch_size: int = 8  # micro-batching in the worker process
    worker_batch_wait_ms: int = 15
    worker_timeout_s: float = 60.0  # one request's upper bound
    worker_start_timeout_s: float = 300.0  # loading (a first download included)
    quantize: str = QUANTIZE_CHOICES[0]
    clip_runtime: str = CLIP_RUNTIMES[0]
    # read which destination a caption asks for (a journey); off: no extra NLI passes
    read_destinations: bool = True

    def on_gpu(self) -> ModelOptions:
        """These options for a replica that Ray gave a GPU: cuda, without the CPU-only
        speed-ups (int8, ONNX Runtime), which the settings allowed for a CPU replica."""
        return replace(
            self, device="cuda", quantize=QUANTIZE_CHOICES[0], clip_runtime=CLIP_RUNTIMES[0]
        )
