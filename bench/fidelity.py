"""How far each speed-up moves the numbers, on the full-size models of ``bench.analyze``.

With randomly initialised weights these figures measure numerical fidelity only (how much
the arithmetic changes), not accuracy: a random model's labels mean nothing, and its logits
sit closer together than a trained model's, which makes label flips likelier than they
would be on the real weights. Run ``aidj eval`` on the real models for accuracy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

EVAL_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "caption_eval.csv"


def measure_fidelity(setup: Any) -> dict[str, Any]:
    """``setup``: ``bench.analyze_paths._Setup`` (its models and inputs)."""
    return {
        "grouped_vs_alone": _grouped_vs_alone(setup),
        "attention_vs_transformers": _attention_vs_transformers(setup),
        "pixels_vs_processor": _pixels_vs_processor(setup),
        "int8": _int8_vs_fp32(setup),
        "int8_clip": _clip_vs_fp32(setup, setup.int8.scorer),
        "onnx_clip": _clip_vs_fp32(setup, setup.onnx_clip),
    }


def _grouped_vs_alone(setup: Any) -> float:
    """Largest change of any axis probability between a caption read in the batch (grouped
    by length, padded within its group) and read alone."""
    reader = setup.fp32.reader
    together = reader.read(setup.captions)
    worst = 0.0
    for caption, batched in zip(setup.captions, together, strict=True):
        alone = reader.read([caption])[0]
        for a, b in ((batched.valence, alone.valence), (batched.energy, alone.energy)):
            worst = max(worst, *(abs(a.scores[k] - b.scores[k]) for k in a.scores))
    return worst


def _attention_vs_transformers(setup: Any) -> dict[str, float]:
    """Logits of the reader's model (``relative_attention``) vs transformers' own model (the
    naive path's pipeline), on one padded batch of every bench pair."""
    reader = setup.fp32.reader
    pairs = setup._pairs()
    inputs = reader.tokenizer(
        [p for p, _ in pairs], [h for _, h in pairs], padding=True, return_tensors="pt"
    )
    with torch.inference_mode():
        fast = reader.model(**inputs).logits
        stock = setup.naive.classifier.model(**inputs).logits
    return {"max_abs": float((fast - stock).abs().max()), "spread": float(_spread(stock))}


def _pixels_vs_processor(setup: Any) -> dict[str, float]:
    """CLIP's category probabilities with ``clip_pixels`` vs with the image processor."""
    scorer = setup.fp32.scorer
    images = [setup.load(data) for data in setup.photos]
    processor = scorer._processor.image_processor
    pixels = scorer._pixels(images)
    processed = processor(images=images, return_tensors="pt")["pixel_values"]
    ours, theirs = _clip_probabilities(scorer, pixels), _clip_probabilities(scorer, processed)
    steps = (pixels - processed).abs() * torch.tensor(processor.image_std).view(1, 3, 1, 1) * 255
    return {
        "max_probability": float((ours - theirs).abs().max()),
        "same_top": int((ours.argmax(-1) == theirs.argmax(-1)).sum()),
        "photos": len(images),
        "mean_steps": float(steps.mean()),
        "max_steps": float(steps.max()),
    }


def _clip_probabilities(scorer: Any, pixels: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        features = scorer.model.get_image_features(pixel_values=pixels).pooler_output
    embeddings = features / features.norm(dim=-1, keepdim=True)
    return (scorer.logit_scale * embeddings @ scorer.category_embeddings.T).softmax(-1)


def _int8_vs_fp32(setup: Any) -> dict[str, Any]:
    """Entailment logits of the int8 reader vs the fp32 one on the evaluation set and the
    bench captions, and how often the label they pick agrees (the label is the argmax of an
    axis' three entailment logits, as the reader's softmax picks it)."""
    from core.caption_eval import load_labelled_captions
    from core.text_axes import TEXT_AXES, hypotheses_for

    cases = load_labelled_captions(EVAL_SET)
    captions = [case.caption for case in cases] + setup.captions
    pairs = [(c, h) for c in captions for axis in TEXT_AXES for h in hypotheses_for(c, axis)]
    logits = {
        name: torch.tensor(reader._entailment_logits(pairs)).view(len(captions), len(TEXT_AXES), -1)
        for name, reader in (("fp32", setup.fp32.reader), ("int8", setup.int8.reader))
    }
    labels = {name: values[: len(cases)].argmax(-1) for name, values in logits.items()}
    same = (labels["fp32"] == labels["int8"]).float().mean(0)
    best_two = logits["fp32"].topk(2, dim=-1).values
    return {
        "captions": len(cases),
        "max_abs": float((logits["int8"] - logits["fp32"]).abs().max()),
        "median_abs": float((logits["int8"] - logits["fp32"]).abs().median()),
        # how far apart an axis' two best hypotheses are: what a change must cross to flip
        "median_margin": float((best_two[..., 0] - best_two[..., 1]).median()),
        "spread": float(_spread(logits["fp32"])),
        "agreement": {axis.name: float(share) for axis, share in zip(TEXT_AXES, same, strict=True)},
    }


def _clip_vs_fp32(setup: Any, other: Any) -> dict[str, Any]:
    """CLIP's category probabilities with another image tower (int8, ONNX Runtime) vs the
    fp32 torch one, on the same pixels."""
    fp32 = setup.fp32.scorer
    images = [setup.load(data) for data in setup.photos]
    theirs = _clip_probabilities(fp32, fp32._pixels(images))
    ours = torch.tensor([list(reading.distribution.values()) for reading in other.score(images)])
    return {
        "max_probability": float((ours - theirs).abs().max()),
        "spread": float(_spread(theirs)),
        "same_top": int((ours.argmax(-1) == theirs.argmax(-1)).sum()),
        "photos": len(setup.photos),
    }


def _spread(values: torch.Tensor) -> torch.Tensor:
    return values.max() - values.min()
