"""Zero-shot reading of captions on the valence and energy axes with an NLI model, and of the
destination a caption asks for (a journey playlist).

This is what transformers' zero-shot pipeline does with ``multi_label=False`` (each label
is a hypothesis; a softmax over the entailment logits picks one), done by hand so that all
(caption, hypothesis) pairs of both axes and of all captions in a batch share forward passes,
instead of one pass per pair. Pairs are padded only among pairs of similar length
(``length_groups``), so a batch costs about the sum of its parts; DeBERTa's input-independent
relative-position work is done once at load (``relative_attention``).

The destination reading (``read_destinations``) runs its pairs in passes of their own: padded
into the axes' passes they would change the axes' numbers in the last bits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from adapters.models.length_groups import length_groups, pass_cost_for
from adapters.models.loading import load_pretrained
from adapters.models.quantize import quantize_int8
from adapters.models.relative_attention import speed_up_relative_attention
from core.errors import ModelLoadError
from core.mood import NO_DESTINATION, AxisReading, DestinationReading, TextReading
from core.text_axes import (
    DESTINATION_LABELS,
    TEXT_AXES,
    TextAxis,
    destination_hypotheses,
    hypotheses_for,
)

# Tokenizers without a configured limit report a huge sentinel as their max length.
_UNSET_MAX_LENGTH = 1_000_000


class ZeroShotCaptionReader:
    """Reads a caption's valence and energy direction with an NLI classifier."""

    def __init__(
        self, tokenizer: Any, model: Any, device: str = "cpu", *, pass_cost: int | None = None
    ) -> None:
        """``pass_cost``: what one forward pass is worth in padded tokens (``length_groups``);
        by default the figure for ``device``."""
        self._tokenizer = tokenizer
        self._model = model
        self._device = torch.device(device)
        self._pass_cost = pass_cost_for(device) if pass_cost is None else pass_cost
        name = getattr(model, "name_or_path", "") or "the NLI model"
        self._entailment = entailment_index(model.config.label2id, name)
        self._max_length = _max_length(tokenizer, model.config)

    @classmethod
    def load(
        cls, model_id_or_path: str, device: str = "cpu", *, int8: bool = False
    ) -> ZeroShotCaptionReader:
        """Load an NLI sequence classifier and its tokenizer from a hub id or local folder;
        with ``int8``, its Linear layers run dynamically quantised (``quantize_int8``)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        def load() -> ZeroShotCaptionReader:
            tokenizer = AutoTokenizer.from_pretrained(model_id_or_path)
            model = AutoModelForSequenceClassification.from_pretrained(model_id_or_path)
            model.to(device).eval()
            speed_up_relative_attention(model)  # before int8: its stored products stay fp32
            if int8:
                quantize_int8(model)
            return cls(tokenizer, model, device)

        return load_pretrained("NLI", model_id_or_path, "AIDJ_NLI_MODEL", "--nli-model", load)

    @property
    def model(self) -> Any:
        """The underlying classifier (for instrumentation and memory accounting)."""
        return self._model

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def read(self, captions: list[str]) -> list[TextReading]:
        """One reading per caption; empty captions are neutral and cost no model time."""
        texts = [caption.strip() for caption in captions]
        pairs = [
            (text, hypothesis)
            for text in texts
            if text
            for axis in TEXT_AXES
            for hypothesis in hypotheses_for(text, axis)
        ]
        logits = iter(self._entailment_logits(pairs))
        return [self._reading(logits) if text else TextReading.neutral() for text in texts]

    def read_destinations(self, captions: list[str]) -> list[DestinationReading | None]:
        """Which destination each caption asks for, if any (None for an empty caption):
        a softmax over the destination hypotheses' entailment logits, "no change asked"
        among them."""
        texts = [caption.strip() for caption in captions]
        pairs = [
            (text, hypothesis)
            for text in texts
            if text
            for hypothesis in destination_hypotheses(text)
        ]
        logits = iter(self._entailment_logits(pairs))
        return [_destination_reading(logits) if text else None for text in texts]

    def _entailment_logits(self, pairs: list[tuple[str, str]]) -> list[float]:
        """The entailment logit of every (premise, hypothesis) pair, in input order: one
        forward pass per group of pairs of similar length."""
        if not pairs:
            return []
        premises, hypotheses = zip(*pairs, strict=True)
        encoded = self._tokenizer(
            list(premises),
            list(hypotheses),
            truncation="only_first",  # cut the caption, never the hypothesis
            max_length=self._max_length,
        )
        keys = list(encoded.keys())
        rows = [dict(zip(keys, row, strict=True)) for row in zip(*encoded.values(), strict=True)]
        logits = [0.0] * len(pairs)
        for group in length_groups([len(row["input_ids"]) for row in rows], self._pass_cost):
            inputs = self._tokenizer.pad([rows[index] for index in group], return_tensors="pt")
            with torch.inference_mode():
                output = self._model(**{key: inputs[key].to(self._device) for key in keys})
            values = output.logits[:, self._entailment].float().cpu().tolist()
            for index, value in zip(group, values, strict=True):
                logits[index] = value
        return logits

    def _reading(self, logits: Iterator[float]) -> TextReading:
        """Consume one caption's logits (valence axis first, then energy) from ``logits``."""
        valence, energy = (_axis_reading(axis, logits) for axis in TEXT_AXES)
        return TextReading(valence=valence, energy=energy)


def _axis_reading(axis: TextAxis, logits: Iterator[float]) -> AxisReading:
    """Softmax over the axis' entailment logits: which hypothesis fits best, and how well."""
    axis_logits = torch.tensor([next(logits) for _ in axis.labels])
    probabilities = axis_logits.softmax(dim=0).tolist()
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    label = axis.labels[best]
    return AxisReading(
        label=label.name,
        direction=label.direction,
        confidence=probabilities[best],
        scores={lab.name: p for lab, p in zip(axis.labels, probabilities, strict=True)},
    )


def _destination_reading(logits: Iterator[float]) -> DestinationReading:
    """Consume one caption's destination logits (``DESTINATION_LABELS`` order)."""
    values = torch.tensor([next(logits) for _ in DESTINATION_LABELS])
    probabilities = values.softmax(dim=0).tolist()
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    return DestinationReading(
        destination=DESTINATION_LABELS[best].destination,
        confidence=probabilities[best],
        scores={
            (label.destination or NO_DESTINATION): p
            for label, p in zip(DESTINATION_LABELS, probabilities, strict=True)
        },
    )


def entailment_index(label2id: dict[str, int], model_name: str) -> int:
    """The id of the entailment label, matched case-insensitively as the pipeline does."""
    for label, index in label2id.items():
        if label.lower().startswith("entail"):
            return int(index)
    labels = ", ".join(label2id) or "none"
    raise ModelLoadError(
        f"The NLI model {model_name!r} has no 'entailment' label (its labels: {labels}); "
        "set AIDJ_NLI_MODEL (or pass --nli-model) to an NLI model (MNLI/XNLI)."
    )


def _max_length(tokenizer: Any, config: Any) -> int:
    """The tokenizer's limit, else the model's position limit, else BERT's 512."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _UNSET_MAX_LENGTH:
        return limit
    positions = getattr(config, "max_position_embeddings", None)
    return positions if isinstance(positions, int) and positions > 0 else 512
