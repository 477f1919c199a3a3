"""What this machine can do for a given piece of model work: counted FLOPs and GEMM rate.

The limit of a path is its useful FLOPs divided by the rate this CPU multiplies matrices at,
measured in the same run (other work on a shared machine moves both). Useful FLOPs are those
of every Linear and Conv layer on the real input only: each NLI (caption, hypothesis) pair
counted alone, unpadded, and nothing that does not depend on the input (DeBERTa's position
table projections, which ``relative_attention`` does once at load). Attention's own products,
normalisation, activations, tokenizing and image decoding are not counted: a path's ratio to
its limit is what all of that, and any waste, costs on top.
"""

from __future__ import annotations

import contextlib
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

# The matrix shapes of a ViT-B / DeBERTa-base layer (hidden 768, MLP 3072): q, k, v, out,
# up, down. Both models are built of these, so their rate is the rate of this work.
LAYER_SHAPES = ((768, 768), (768, 768), (768, 768), (768, 768), (768, 3072), (3072, 768))


@contextlib.contextmanager
def counted_flops(model: nn.Module) -> Iterator[list[int]]:
    """Count the FLOPs (2 per multiply-add) of ``model``'s Linear and Conv2d calls while in
    the block; the total is the single item of the yielded list."""
    total = [0]

    def linear(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        total[0] += (
            2 * module.in_features * module.out_features * (output.numel() // output.shape[-1])
        )

    def conv(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        per_output = module.weight[0].numel()  # in_channels / groups x kernel area
        total[0] += 2 * per_output * output.numel()

    handles = [
        module.register_forward_hook(linear if isinstance(module, nn.Linear) else conv)
        for module in model.modules()
        if isinstance(module, nn.Linear | nn.Conv2d)
    ]
    try:
        yield total
    finally:
        for handle in handles:
            handle.remove()


def table_flops_per_pass(model: nn.Module) -> int:
    """What transformers' DeBERTa attention spends per forward pass projecting the relative
    position table through each layer's query and key (0 for other models)."""
    flops = 0
    for module in model.modules():
        span = getattr(module, "pos_ebd_size", None)
        if isinstance(span, int) and getattr(module, "relative_attention", False):
            hidden = module.query_proj.in_features
            flops += 2 * (2 * 2 * span) * hidden * module.all_head_size  # query and key
    return flops


def gemm_rate(rows: int, *, int8: bool = False, repeats: int = 3) -> float:
    """FLOP/s of one transformer layer's Linear products on ``rows`` rows, now (median of
    ``repeats``), in fp32 or as dynamically quantised int8 Linear layers."""
    layers = [nn.Linear(inputs, outputs) for inputs, outputs in LAYER_SHAPES]
    if int8:
        layers = [_int8(layer) for layer in layers]
    inputs = {size: torch.randn(rows, size) for size, _ in LAYER_SHAPES}
    flops = sum(2 * rows * i * o for i, o in LAYER_SHAPES)

    def once() -> None:
        for layer, (size, _) in zip(layers, LAYER_SHAPES, strict=True):
            layer(inputs[size])

    with torch.inference_mode():
        return flops / median_seconds(once, repeats)


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _int8(layer: nn.Linear) -> nn.Module:
    from adapters.models.quantize import quantize_int8

    wrapper = nn.Sequential(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_int8(wrapper)
    return wrapper
