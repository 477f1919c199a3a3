"""Releasing the pages of weights no longer read: resident memory drops, contents stay."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import torch

from adapters.models.weight_pages import release_pages

MIB = 1024 * 1024

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux madvise")


def resident_mib() -> float:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert match
    return int(match.group(1)) / 1024


def test_a_file_mapped_weight_leaves_resident_memory_and_keeps_its_values(tmp_path):
    """What transformers' memory-mapped safetensors weights are: private file mappings."""
    path = tmp_path / "weights.bin"
    path.write_bytes(os.urandom(48 * MIB))
    weight = torch.from_file(str(path), shared=False, size=48 * MIB, dtype=torch.uint8)
    before = resident_mib()
    total = int(weight.sum())  # reading it makes its pages resident
    assert resident_mib() - before > 40
    released = release_pages([weight])
    if released == 0:
        pytest.skip("this kernel has no MADV_PAGEOUT (Linux < 5.4)")
    assert released > 47 * MIB
    assert resident_mib() - before < 8
    assert int(weight.sum()) == total  # read back from the file: nothing changed


def test_memory_of_the_process_keeps_its_contents_too():
    """Ordinary (anonymous) memory: reclaiming it never loses what it holds."""
    weight = torch.arange(4 * MIB, dtype=torch.int32)
    release_pages([weight, weight[::2]])  # the strided view is skipped, not misread
    assert torch.equal(weight, torch.arange(4 * MIB, dtype=torch.int32))


def test_tensors_smaller_than_a_page_are_left_alone():
    assert release_pages([torch.ones(10)]) == 0
