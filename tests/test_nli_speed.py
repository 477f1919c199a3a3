"""The NLI reader's speed work gives the same numbers: length grouping, DeBERTa's relative
attention without its per-pass table work, and int8 on request (close, not equal)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
import torch

from adapters.models.length_groups import (
    CPU_PASS_COST,
    GPU_PASS_COST,
    length_groups,
    padded_tokens,
    pass_cost_for,
)
from adapters.models.nli_backend import ZeroShotCaptionReader
from adapters.models.relative_attention import speed_up_relative_attention
from tests.fixtures_models import tiny_models  # noqa: F401  (session fixture)

KOREAN = "비가 오지만 오늘 좋은 일이 있어서 신나!"
LONG = "rainy but happy " * 12


@pytest.fixture(scope="module")
def reader(tiny_models) -> ZeroShotCaptionReader:  # noqa: F811
    return ZeroShotCaptionReader.load(str(tiny_models.nli))


@pytest.fixture(scope="module")
def stock_model(tiny_models) -> Any:  # noqa: F811
    """The tiny NLI model exactly as transformers runs it."""
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(tiny_models.nli).eval()


class Recorder:
    """Records the keyword arguments of every call of ``owner.name`` (then restores it)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.calls: list[dict[str, Any]] = []
        self.inputs: list[torch.Tensor] = []
        original = getattr(owner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs)
            self.inputs.extend(arg for arg in args if isinstance(arg, torch.Tensor))
            return original(*args, **kwargs)

        self._owner, self._name = owner, name
        setattr(owner, name, recorded)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        delattr(self._owner, self._name)


# ---------------------------------------------------------------- length_groups


def _all_partitions(items: list[int]) -> Any:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _all_partitions(rest):
        yield [[first], *partition]
        for index in range(len(partition)):
            yield [*partition[:index], [first, *partition[index]], *partition[index + 1 :]]


def _cost(lengths: list[int], groups: list[list[int]], pass_cost: int) -> int:
    return padded_tokens(lengths, groups) + pass_cost * len(groups)


@pytest.mark.parametrize("seed", range(12))
def test_length_groups_are_the_cheapest_of_all_partitions(seed):
    """Against brute force over every way to split the batch (not only contiguous ones)."""
    rng = random.Random(seed)
    lengths = [rng.randint(3, 60) for _ in range(rng.randint(1, 7))]
    pass_cost = rng.choice([0, 4, 16, 100])
    groups = length_groups(lengths, pass_cost)
    assert sorted(itertools.chain.from_iterable(groups)) == list(range(len(lengths)))
    best = min(
        _cost(lengths, partition, pass_cost)
        for partition in _all_partitions(list(range(len(lengths))))
    )
    assert _cost(lengths, groups, pass_cost) == best


def test_length_groups_split_only_where_padding_costs_more_than_a_pass():
    assert length_groups([]) == []
    assert length_groups([20, 21, 20, 22], pass_cost=16) == [[0, 2, 1, 3]]  # 4 pad < a pass
    assert length_groups([20, 200, 21], pass_cost=16) == [[0, 2], [1]]
    assert length_groups([5, 5, 9], pass_cost=0) == [[0, 1], [2]]  # no padding at all


# ---------------------------------------------------------------- the reader


def test_a_short_and_a_long_caption_are_not_padded_to_each_other(reader):
    """Before grouping, the short caption's six pairs were padded to the long one's length."""
    captions = ["hi", LONG]
    with Recorder(reader.model, "forward") as forward:
        reader.read(captions)
    pad = reader.tokenizer.pad_token_id
    sent = [call["input_ids"] for call in forward.calls]
    real = sum(int((ids != pad).sum()) for ids in sent)
    processed = sum(ids.numel() for ids in sent)
    assert processed <= 1.1 * real
    assert len(sent) >= 2


def test_on_a_gpu_a_caption_batch_goes_in_one_pass():
    """A GPU pass is mostly fixed launch cost (bench.gpu): there, padding is cheaper."""
    assert pass_cost_for("cpu") == CPU_PASS_COST
    assert pass_cost_for("cuda") == pass_cost_for("cuda:1") == GPU_PASS_COST
    assert length_groups([20, 200, 21], pass_cost_for("cuda")) == [[0, 2, 1]]
    assert length_groups([20, 200, 21], pass_cost_for("cpu")) == [[0, 2], [1]]


def test_the_reader_groups_by_the_pass_cost_it_was_given(reader):
    one_pass = ZeroShotCaptionReader(reader.tokenizer, reader.model, pass_cost=GPU_PASS_COST)
    captions = ["hi", LONG]
    with Recorder(reader.model, "forward") as forward:
        readings = one_pass.read(captions)
    assert len(forward.calls) == 1  # the two captions' 12 pairs padded together
    assert forward.calls[0]["input_ids"].shape[0] == 12
    for padded, grouped in zip(readings, reader.read(captions), strict=True):
        assert list(padded.valence.scores.values()) == pytest.approx(
            list(grouped.valence.scores.values()), abs=1e-5
        )


def test_grouped_readings_equal_readings_alone(reader):
    captions = ["hi", KOREAN, LONG, "rainy but happy", "비"]
    together = reader.read(captions)
    for caption, batched in zip(captions, together, strict=True):
        alone = reader.read([caption])[0]
        for axis_together, axis_alone in (
            (batched.valence, alone.valence),
            (batched.energy, alone.energy),
        ):
            assert axis_together.label == axis_alone.label
            assert list(axis_together.scores.values()) == pytest.approx(
                list(axis_alone.scores.values()), abs=1e-5
            )


# ---------------------------------------------------------------- relative attention


def _attention_modules(model: Any) -> list[Any]:
    return [module for module in model.modules() if hasattr(module, "pos_ebd_size")]


def test_the_position_table_is_not_projected_in_every_pass(reader):
    """transformers projects all 2 x position_buckets table rows in each layer, each pass."""
    attention = _attention_modules(reader.model)
    table_rows = 2 * attention[0].pos_ebd_size
    recorders = [
        Recorder(getattr(module, name), "forward")
        for module in attention
        for name in ("query_proj", "key_proj")
    ]
    try:
        reader.read([KOREAN, "rainy but happy"])
    finally:
        for recorder in recorders:
            recorder.__exit__()
    shapes = [tuple(x.shape) for recorder in recorders for x in recorder.inputs]
    assert shapes  # the projections did run, on the tokens
    assert all(shape[-2] != table_rows for shape in shapes)


@pytest.mark.parametrize(("rows", "length"), [(1, 3), (3, 20), (2, 45), (2, 300)])
def test_relative_attention_gives_transformers_numbers(tiny_models, stock_model, rows, length):  # noqa: F811
    """Padded batches, short sequences and ones far past the position buckets (clamped)."""
    from transformers import AutoModelForSequenceClassification

    fast = AutoModelForSequenceClassification.from_pretrained(tiny_models.nli).eval()
    assert speed_up_relative_attention(fast) == len(_attention_modules(fast))
    generator = torch.Generator().manual_seed(length)
    ids = torch.randint(5, fast.config.vocab_size, (rows, length), generator=generator)
    mask = torch.ones(rows, length, dtype=torch.long)
    mask[0, length // 2 :] = 0  # the first row is padded
    with torch.inference_mode():
        expected = stock_model(input_ids=ids, attention_mask=mask).logits
        got = fast(input_ids=ids, attention_mask=mask).logits
    assert torch.allclose(got, expected, atol=1e-5, rtol=0)


def test_training_mode_falls_back_to_transformers_code(tiny_models, stock_model):  # noqa: F811
    """Dropout on the table would make stored products wrong: training runs the original."""
    from transformers import AutoModelForSequenceClassification

    fast = AutoModelForSequenceClassification.from_pretrained(tiny_models.nli)
    speed_up_relative_attention(fast.eval())
    fast.train()
    ids = torch.randint(5, fast.config.vocab_size, (2, 12))
    with Recorder(_attention_modules(fast)[0].key_proj, "forward") as key_proj:
        fast(input_ids=ids)
    table_rows = 2 * _attention_modules(fast)[0].pos_ebd_size
    assert any(x.shape[-2] == table_rows for x in key_proj.inputs)


def test_a_model_without_relative_attention_is_left_alone():
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
    assert speed_up_relative_attention(BertForSequenceClassification(config).eval()) == 0


# ---------------------------------------------------------------- int8


def _entailment_logits(reader: ZeroShotCaptionReader, captions: list[str]) -> torch.Tensor:
    from core.text_axes import TEXT_AXES, hypotheses_for

    pairs = [
        (caption, hypothesis)
        for caption in captions
        for axis in TEXT_AXES
        for hypothesis in hypotheses_for(caption, axis)
    ]
    return torch.tensor(reader._entailment_logits(pairs))


def test_int8_quantises_the_large_linear_layers_and_stays_close(tiny_models, reader):  # noqa: F811
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    int8 = ZeroShotCaptionReader.load(str(tiny_models.nli), int8=True)
    kinds = {name: type(module) for name, module in int8.model.named_modules()}
    assert sum(kind is DynamicInt8Linear for kind in kinds.values()) >= 12
    assert kinds["classifier"] is torch.nn.Linear  # 32 x 3: too small to gain anything
    captions = [KOREAN, "rainy but happy", "I feel sad and tired today.", LONG]
    fp32_logits = _entailment_logits(reader, captions)
    int8_logits = _entailment_logits(int8, captions)
    assert not torch.equal(int8_logits, fp32_logits)  # it did change the arithmetic
    # The tiny model's large random weights (initializer_range 0.5) are hard on int8; the
    # benchmark measures the full-size model. Here: the same numbers, roughly.
    spread = fp32_logits.max() - fp32_logits.min()
    assert (int8_logits - fp32_logits).abs().max() < 0.2 * spread
    assert torch.corrcoef(torch.stack([int8_logits, fp32_logits]))[0, 1] > 0.95
