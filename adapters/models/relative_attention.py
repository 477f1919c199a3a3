"""DeBERTa's disentangled attention bias without its input-independent work.

Why: in every forward pass, each of DeBERTa-v2/v3's layers sends the whole relative-position
table (2 x ``position_buckets`` rows: 512 for mDeBERTa-v3-base) through its query and key
projections (14.5 GFLOP a pass on a 12-layer base model, more than a third of reading one
caption), copies the results once per batch row (``.repeat``: 36 MB per row and pass), and
multiplies every token with all 512 rows, although a sequence of L tokens only ever reads
2L-1 of them. On a CPU that is close to half the time of a batch.

``speed_up_relative_attention`` gives each attention module a bias function that does the same
arithmetic on precomputed projections (the table is a weight), only on the rows the batch can
use, with broadcasting instead of copies. The table itself is layer-normed once, too (the
encoder asks for it every pass). Anything unusual (training mode, cross-attention, a
different table) goes to transformers' own code, so results never depend on this being right
for cases it was not written for; the tests compare both on the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def speed_up_relative_attention(model: nn.Module) -> int:
    """Install the faster bias on every disentangled attention module of ``model`` (a
    DeBERTa-v2/v3 in eval mode, on its device, before any quantisation: the stored
    projections are taken from its fp32 weights and stay where they were computed); returns
    how many modules got it (0: not such a model)."""
    encoder = _relative_encoder(model)
    if encoder is None:
        return 0
    encoder.LayerNorm = FixedInputModule(encoder.LayerNorm, encoder.rel_embeddings.weight)
    table = encoder.LayerNorm.result
    installed = 0
    for module in model.modules():
        if _supported(module):
            module.disentangled_attention_bias = _FastBias(module, table)  # type: ignore[assignment]
            installed += 1
    return installed


class FixedInputModule(nn.Module):
    """``inner``, except that for the one tensor ``fixed`` it returns ``inner(fixed)``, kept.

    "The one tensor" means the same storage address, shape and strides, never a tensor that
    merely holds equal values; ``fixed`` is held, so its address stays its own.
    """

    def __init__(self, inner: nn.Module, fixed: torch.Tensor) -> None:
        super().__init__()
        self.inner = inner
        self._fixed = fixed
        with torch.no_grad():  # a plain tensor: usable with or without inference mode
            self.result = inner(fixed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.result if _identity(x) == _identity(self._fixed) else self.inner(x)


class _FastBias:
    """One attention module's ``disentangled_attention_bias``, on stored projections."""

    def __init__(self, module: Any, table: torch.Tensor) -> None:
        self._module = module
        self._original: Callable[..., torch.Tensor] = module.disentangled_attention_bias
        self._table = _identity(table)
        self._span = int(module.pos_ebd_size)
        rows = table[0 : self._span * 2, :].unsqueeze(0)  # what the original projects
        with torch.no_grad():
            # (heads, 2 * span, head size), as the original's transpose_for_scores lays it out
            self._pos_key = self._heads(module.key_proj(rows))
            self._pos_query = self._heads(module.query_proj(rows))

    def _heads(self, projected: torch.Tensor) -> torch.Tensor:
        heads = self._module.num_attention_heads
        return projected.view(projected.size(1), heads, -1).transpose(0, 1).contiguous()

    def __call__(
        self,
        query_layer: torch.Tensor,
        key_layer: torch.Tensor,
        relative_pos: torch.Tensor | None,
        rel_embeddings: torch.Tensor,
        scale_factor: int,
    ) -> torch.Tensor:
        length = query_layer.size(-2)
        if (
            self._module.training
            or relative_pos is None
            or key_layer.size(-2) != length
            or relative_pos.numel() != length * length
            or _identity(rel_embeddings) != self._table
        ):
            return self._original(
                query_layer, key_layer, relative_pos, rel_embeddings, scale_factor
            )
        heads = self._module.num_attention_heads
        batch, size = query_layer.size(0) // heads, query_layer.size(-1)
        relative = relative_pos.reshape(length, length).to(query_layer.device, torch.long)
        last = self._span * 2 - 1
        c2p_pos = torch.clamp(relative + self._span, 0, last)  # [query, key] -> table row
        p2c_pos = torch.clamp(-relative + self._span, 0, last)  # [key, query] -> table row
        # only the table rows some position pair reads take part in the products below
        first = int(torch.minimum(c2p_pos.min(), p2c_pos.min()))
        end = int(torch.maximum(c2p_pos.max(), p2c_pos.max())) + 1
        scale = torch.sqrt(torch.tensor(size, dtype=torch.float) * scale_factor)
        shape = (batch, heads, length, length)
        score: torch.Tensor | int = 0
        pos_att_type = self._module.pos_att_type
        if "c2p" in pos_att_type:
            queries = query_layer.view(batch, heads, length, size)
            c2p_att = queries @ self._pos_key[:, first:end].transpose(-1, -2)
            c2p_att = torch.gather(c2p_att, -1, (c2p_pos - first).expand(shape))
            score = score + c2p_att / scale.to(dtype=c2p_att.dtype)
        if "p2c" in pos_att_type:
            keys = key_layer.view(batch, heads, length, size)
            p2c_att = keys @ self._pos_query[:, first:end].transpose(-1, -2)
            p2c_att = torch.gather(p2c_att, -1, (p2c_pos - first).expand(shape)).transpose(-1, -2)
            score = score + p2c_att / scale.to(dtype=p2c_att.dtype)
        if isinstance(score, int):
            return self._original(
                query_layer, key_layer, relative_pos, rel_embeddings, scale_factor
            )
        return score.reshape(batch * heads, length, length)


def _relative_encoder(model: nn.Module) -> Any:
    """The DeBERTa-v2 encoder with a layer-normed relative-position table, or None."""
    base = getattr(model, "base_model", model)
    encoder = getattr(base, "encoder", None)
    if not (
        getattr(encoder, "relative_attention", False)
        and isinstance(getattr(encoder, "rel_embeddings", None), nn.Embedding)
        and isinstance(getattr(encoder, "LayerNorm", None), nn.Module)
        and not isinstance(encoder.LayerNorm, FixedInputModule)  # type: ignore[union-attr]
        and "layer_norm" in getattr(encoder, "norm_rel_ebd", ())
    ):
        return None
    return encoder


def _supported(module: nn.Module) -> bool:
    """A disentangled attention module that shares its content projections with the table
    (DeBERTa-v3's ``share_att_key``), as the arithmetic above assumes."""
    return (
        getattr(module, "relative_attention", False)
        and getattr(module, "share_att_key", False)
        and isinstance(getattr(module, "pos_ebd_size", None), int)
        and callable(getattr(module, "disentangled_attention_bias", None))
        and isinstance(getattr(module, "query_proj", None), nn.Linear)
        and isinstance(getattr(module, "key_proj", None), nn.Linear)
    )


def _identity(tensor: torch.Tensor) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    return tensor.data_ptr(), tuple(tensor.shape), tuple(tensor.stride())
