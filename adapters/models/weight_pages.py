"""Giving the memory of weights a model no longer reads back to the kernel.

Why: transformers memory-maps safetensors files, so a weight's pages join the process'
resident memory when first read, and stay while the file stays mapped: as long as any weight
of the model lives. Two kinds of weights are read once and never again: CLIP's text tower
(it encodes the category prompts at load, nothing after) and, with int8, the fp32 Linear
weights that quantisation replaced. Left alone, they keep the worker ~150 MB (fp32) or
~790 MB (int8) larger than it needs to be (bench.analyze, full-size models).

``release_pages`` asks the kernel to reclaim their pages (madvise MADV_PAGEOUT, Linux 5.4+).
That keeps the contents (a later read faults them back in, from the file or swap), so it can
never change a result, whatever the memory holds; where it is not supported it does nothing.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from collections.abc import Iterable
from typing import Any

import torch

_MADV_PAGEOUT = 21  # <sys/mman.h>, Linux >= 5.4; Python's mmap module does not name it


def release_pages(tensors: Iterable[torch.Tensor]) -> int:
    """Ask the kernel to reclaim the whole pages under each contiguous tensor; returns the
    bytes it accepted (0 off Linux, or on kernels without MADV_PAGEOUT)."""
    madvise = _madvise()
    if madvise is None:
        return 0
    released = 0
    for tensor in tensors:
        if not tensor.is_contiguous() or tensor.device.type != "cpu":
            continue
        start = -(-tensor.data_ptr() // mmap.PAGESIZE) * mmap.PAGESIZE  # whole pages only
        end = (tensor.data_ptr() + tensor.numel() * tensor.element_size()) // mmap.PAGESIZE
        length = end * mmap.PAGESIZE - start
        if length > 0 and madvise(start, length, _MADV_PAGEOUT) == 0:
            released += length
    return released


def _madvise() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function
