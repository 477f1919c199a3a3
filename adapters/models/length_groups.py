"""Which sequences to pad together: a batch split by length so padding costs almost nothing.

Why: a padded forward pass costs (rows x longest row), so one short caption batched with a
long one pays for the long one's length. Splitting a batch into groups of similar length
removes that waste, but every extra forward pass has a fixed cost of its own (Python and
per-op overhead, smaller and so less efficient matrix products). ``length_groups`` weighs the
two exactly: it minimises the padded tokens plus ``pass_cost`` tokens per pass.
"""

from __future__ import annotations

from collections.abc import Sequence

# What one more forward pass costs, in padded tokens. Measured on an mDeBERTa-v3-base-sized
# model on one AVX2 core: a pass takes ~34 ms + ~2.5 ms per token (a pass streams all 340 MB
# of Linear weights however few its rows), so a pass is worth ~14 tokens of padding.
CPU_PASS_COST = 16
# On a GPU the balance is the other way round: a pass is ~11 ms of kernel launches from the
# host and only ~3.7 ms per 1000 tokens (bench.gpu, fp32 on an H200: 3034 tokens fitted).
# Grouping by the CPU's figure made 8 captions cost 51 ms there, against 16 ms by this one.
# A slower GPU's tokens cost more (bench.gpu prints its figure), but padding a caption batch
# to its longest at most doubles its tokens, while every extra pass costs the full launches.
GPU_PASS_COST = 3000


def pass_cost_for(device: str) -> int:
    """The pass cost that fits where the model runs: ``GPU_PASS_COST`` on cuda, else the CPU's."""
    return GPU_PASS_COST if device.startswith("cuda") else CPU_PASS_COST


def length_groups(lengths: Sequence[int], pass_cost: int = CPU_PASS_COST) -> list[list[int]]:
    """Indices into ``lengths``, grouped so that sum(len(group) * longest + pass_cost) is least.

    Each group is in order of length, the groups in order of their lengths. An optimal
    grouping of sorted lengths is contiguous (swapping a longer item into a group of shorter
    ones never lowers a group's longest), so a dynamic programme over the sorted order finds
    it: O(n^2) for n sequences, microseconds for a worker batch.
    """
    order = sorted(range(len(lengths)), key=lambda index: (lengths[index], index))
    sizes = [lengths[index] for index in order]
    count = len(sizes)
    # best[end]: least cost of the first `end` sorted items; cut[end]: where its last group starts
    best = [0] * (count + 1)
    cut = [0] * (count + 1)
    for end in range(1, count + 1):
        longest = sizes[end - 1]
        best[end], cut[end] = min(
            (best[start] + (end - start) * longest + pass_cost, start) for start in range(end)
        )
    groups: list[list[int]] = []
    end = count
    while end > 0:
        start = cut[end]
        groups.append(order[start:end])
        end = start
    return groups[::-1]


def padded_tokens(lengths: Sequence[int], groups: Sequence[Sequence[int]]) -> int:
    """Tokens the model processes when each group is padded to its longest member."""
    return sum(len(group) * max(lengths[index] for index in group) for group in groups)
