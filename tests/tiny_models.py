"""Tiny, randomly initialised CLIP and DeBERTa-v2 NLI models, built fully offline.

Why: tests must run the real transformers code paths (from_pretrained, processors,
tokenizers, forward passes) without the Hugging Face hub, and in seconds. The models are
random, so their readings mean nothing; they are only right in shape, determinism and
plumbing. Tokenizers are trained with the ``tokenizers`` library on a small corpus that holds
every category prompt and every caption hypothesis, so those texts tokenize to real pieces.

Usage: ``python -m tests.tiny_models OUT_DIR`` (or ``build_tiny_models(Path(...))``). A build
is skipped when OUT_DIR already holds a complete one of the same recipe version.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers.models import BPE, Unigram

from adapters.models.loading import quiet_loading
from core.categories import CATEGORIES
from core.text_axes import TEXT_AXES

# Bump when the recipe changes, so cached builds (``.tiny-models``) are rebuilt.
RECIPE_VERSION = "2"
MARKER_NAME = "BUILD_COMPLETE"
SEED = 1234

NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}

EXTRA_CAPTIONS = (
    "비가 오지만 오늘 좋은 일이 있어서 신나!",
    "오늘은 조용히 책을 읽고 싶어.",
    "친구들이랑 파티하러 간다!",
    "너무 피곤하고 우울한 하루였다.",
    "바다 보러 가는 길, 날씨 최고",
    "rainy but happy",
    "caption number 1",
    "What a calm and quiet evening by the window.",
    "Let's go, the party starts now!",
    "I feel sad and tired today.",
    "Sunny beach day with my friends",
    "Just coffee and a good book.",
)
# Every lowercase letter and digit as a word of its own, so any ASCII word tokenizes to
# known pieces (no unknown tokens from letters the prompts happen not to end a word with).
ALPHABET_LINE = " ".join("abcdefghijklmnopqrstuvwxyz0123456789") + " . , ! ? ' -"

CLIP_SPECIAL = ("<|startoftext|>", "<|endoftext|>")
# DeBERTa-v2/mDeBERTa order: [PAD]=0, [CLS]=1, [SEP]=2, [UNK]=3.
NLI_SPECIAL = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")
_UNIGRAM_PENALTY_STEP = 1e-4  # tokenizers' Unigram trainer: score step for put-back characters


@dataclass(frozen=True)
class TinyModelPaths:
    clip: Path
    nli: Path


def clip_corpus() -> list[str]:
    """The CLIP tokenizer's training lines: all category prompts, a few captions, letters."""
    prompts = [prompt for category in CATEGORIES for prompt in category.prompts]
    return [*prompts, *EXTRA_CAPTIONS, ALPHABET_LINE]


def nli_corpus() -> list[str]:
    """The NLI tokenizer's training lines: every hypothesis in both languages, captions."""
    hypotheses = [
        text
        for axis in TEXT_AXES
        for label in axis.labels
        for text in (label.hypothesis_en, label.hypothesis_ko)
    ]
    return [*hypotheses, *EXTRA_CAPTIONS, ALPHABET_LINE]


# ---------------------------------------------------------------- tokenizers


def train_clip_tokenizer(lines: list[str], vocab_size: int = 1000, model_max_length: int = 77):
    """A ``CLIPTokenizer`` whose byte-level BPE vocab and merges are trained on ``lines``.

    The normaliser and pre-tokenizer match the ones ``CLIPTokenizer`` builds itself, so the
    trained merges are the ones it will apply.
    """
    from transformers import CLIPTokenizer

    backend = Tokenizer(
        BPE(unk_token=CLIP_SPECIAL[1], end_of_word_suffix="</w>", continuing_subword_prefix="")
    )
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(
                    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
                ),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    # The trainer gives word-final symbols ("a</w>") ids in hash-map order, and breaks ties
    # between equally frequent merges by symbol id; naming every word-final symbol up front
    # (sorted) fixes those ids, so the training, and the build, are deterministic.
    words = [
        word
        for line in lines
        for word, _ in backend.pre_tokenizer.pre_tokenize_str(
            backend.normalizer.normalize_str(line)
        )
    ]
    word_final = sorted({word[-1] + "</w>" for word in words})
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[*CLIP_SPECIAL, *word_final],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    backend.train_from_iterator(lines, trainer)
    model = json.loads(backend.to_str())["model"]
    merges = [tuple(pair) for pair in model["merges"]]
    return CLIPTokenizer(vocab=model["vocab"], merges=merges, model_max_length=model_max_length)


def train_nli_tokenizer(lines: list[str], vocab_size: int = 400, model_max_length: int = 512):
    """A ``DebertaV2Tokenizer`` whose Unigram vocab is trained on ``lines`` (Korean+English)."""
    from transformers import DebertaV2Tokenizer

    backend = Tokenizer(Unigram())
    backend.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"\s{2,}|[\n\r\t]"), " "),
            normalizers.NFC(),
            normalizers.Strip(left=False, right=True),
        ]
    )
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=list(NLI_SPECIAL),
        unk_token="[UNK]",
        show_progress=False,
    )
    backend.train_from_iterator(lines, trainer)
    return DebertaV2Tokenizer(vocab=_canonical_unigram(backend), model_max_length=model_max_length)


def _canonical_unigram(backend: Tokenizer) -> list[tuple[str, float]]:
    """The trained pieces in a fixed order with fixed scores.

    Two things vary from run to run in the Unigram trainer: its parallel EM sums floats in
    varying order (scores differ in the last digits), and characters that EM dropped are put
    back at the end with scores ``min + k * 1e-4`` in hash-set order. Rounding, giving those
    put-back characters one shared score, and sorting make every token id the same on every
    build.
    """
    pieces = json.loads(backend.to_str())["model"]["vocab"]
    learned = {piece: float(score) for piece, score in pieces if piece not in NLI_SPECIAL}
    floor = min(learned.values())
    put_back = floor + _UNIGRAM_PENALTY_STEP * (len(learned) + 1)
    canonical = {
        piece: round(floor if len(piece) == 1 and score <= put_back else score, 6)
        for piece, score in learned.items()
    }
    ordered = sorted(canonical.items(), key=lambda item: (-item[1], item[0]))
    return [*((piece, 0.0) for piece in NLI_SPECIAL), *ordered]


# ---------------------------------------------------------------- configs


def clip_config(tokenizer, *, full_size: bool = False):
    """A tiny CLIPConfig (or the default ViT-B/32-sized one) wired to ``tokenizer``'s ids."""
    from transformers import CLIPConfig

    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if full_size:
        config = CLIPConfig()
        for key, value in ids.items():
            setattr(config.text_config, key, value)
        return config
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "max_position_embeddings": 77,
        **ids,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 8,
    }
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)


def nli_config(tokenizer, *, full_size: bool = False):
    """A tiny DeBERTa-v2 NLI config (or one shaped like mDeBERTa-v3-base)."""
    from transformers import DebertaV2Config

    common = {
        "relative_attention": True,
        "pos_att_type": ["p2c", "c2p"],
        "max_relative_positions": -1,
        "norm_rel_ebd": "layer_norm",
        "share_att_key": True,
        "position_biased_input": False,
        "type_vocab_size": 0,
        "max_position_embeddings": 512,
        "layer_norm_eps": 1e-7,
        "pad_token_id": tokenizer.pad_token_id,
        "num_labels": 3,
        "id2label": dict(NLI_LABELS),
        "label2id": {label: index for index, label in NLI_LABELS.items()},
    }
    if full_size:
        sizes = {
            "vocab_size": 250102,
            "hidden_size": 768,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "intermediate_size": 3072,
            "position_buckets": 256,
        }
    else:
        sizes = {
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "position_buckets": 32,
            # Large random weights spread the logits, so the tiny model's winners are clear
            # (near-ties would flip on float noise between batch sizes).
            "initializer_range": 0.5,
        }
    return DebertaV2Config(**sizes, **common)


# ---------------------------------------------------------------- builders


def save_clip(out: Path, *, full_size: bool = False) -> Path:
    """Build and save a random CLIPModel + CLIPProcessor at ``out``."""
    from transformers import CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    tokenizer = train_clip_tokenizer(clip_corpus())
    config = clip_config(tokenizer, full_size=full_size)
    side = config.vision_config.image_size
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    )
    torch.manual_seed(SEED)
    model = CLIPModel(config).eval()
    model.save_pretrained(out)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


def save_nli(out: Path, *, full_size: bool = False, tokenizer=None) -> Path:
    """Build and save a random DeBERTa-v2 sequence classifier + tokenizer at ``out``."""
    from transformers import DebertaV2ForSequenceClassification

    tokenizer = tokenizer if tokenizer is not None else train_nli_tokenizer(nli_corpus())
    config = nli_config(tokenizer, full_size=full_size)
    torch.manual_seed(SEED)
    model = DebertaV2ForSequenceClassification(config).eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` so concurrent test runs don't build over each other."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_tiny_models(out_dir: Path) -> TinyModelPaths:
    """Build the tiny models under ``out_dir`` unless a complete build is already there.

    The marker file is written last, so an interrupted build is redone, never half-used.
    """
    out_dir = Path(out_dir)
    paths = TinyModelPaths(clip=out_dir / "clip", nli=out_dir / "nli")
    marker = out_dir / MARKER_NAME
    with _locked(out_dir):
        if marker.is_file() and marker.read_text().strip() == RECIPE_VERSION:
            return paths
        marker.unlink(missing_ok=True)
        for path in (paths.clip, paths.nli):
            shutil.rmtree(path, ignore_errors=True)
        with quiet_loading():
            save_clip(paths.clip)
            save_nli(paths.nli)
        marker.write_text(RECIPE_VERSION + "\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tests.tiny_models OUT_DIR", file=sys.stderr)
        return 2
    paths = build_tiny_models(Path(args[0]))
    print(f"clip: {paths.clip}\nnli:  {paths.nli}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
