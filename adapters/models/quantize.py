"""Dynamic int8 quantisation of a model's Linear layers, on request (``AIDJ_QUANTIZE=int8``).

Why: on an AVX2 CPU, int8 matrix products (fbgemm) run about twice as fast as fp32 ones, and
int8 weights take a quarter of the memory. "Dynamic" means the weights are quantised once
(per output channel, for accuracy), the activations per call from their observed range, so no
calibration data is needed. It changes the numbers a little, so it is off by default;
``bench.analyze`` and ``aidj eval`` show by how much. Used for the NLI model and for CLIP's
image tower (its text tower runs only at load, to encode the category prompts, in fp32).
"""

from __future__ import annotations

import warnings
from typing import Any

from torch import nn

from adapters.models.weight_pages import release_pages
from core.errors import ModelLoadError

# Layers with fewer inputs or outputs than this stay fp32: a classifier head (768 -> 3)
# gains no speed, only error.
_MIN_SIDE = 16


def quantize_int8(model: nn.Module) -> int:
    """Replace ``model``'s Linear layers (in place) by dynamically quantised int8 ones; returns
    how many were replaced. Raises ``ModelLoadError`` if this torch cannot do it."""
    try:
        with warnings.catch_warnings():
            # torch marks the eager quantisation API deprecated (for torchao) but ships it.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            replaced = {
                name: module.weight
                for name, module in model.named_modules()
                if type(module) is nn.Linear
                and min(module.in_features, module.out_features) >= _MIN_SIDE
            }
            spec: dict[str | type[nn.Module], Any] = dict.fromkeys(
                replaced, per_channel_dynamic_qconfig
            )
            if spec:
                quantize_dynamic(model, spec, inplace=True)
    except (ImportError, AttributeError, RuntimeError) as error:
        raise ModelLoadError(
            f"int8 quantisation is not available in this torch build ({error}); "
            "unset AIDJ_QUANTIZE to run in fp32."
        ) from error
    release_pages(replaced.values())  # the fp32 weights are read no more
    return len(spec)
