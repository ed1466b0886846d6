"""Tiny in-process models for pipeline tests: a 2-layer BERT, a segmenter and a stance classifier on it.

    build_encoder(dir)            a WordPiece vocabulary of invented words + single letters, random 2-layer BERT
    build_segmenter(encoder)      LoRA segmenter (Claim / Premise) trained for a few dozen steps on CLAIM_TEXTS
    build_stance(encoder)         LoRA stance classifier (support / attack / none), untrained: a fixed random head
    build_pipeline_parts(dir)     all three saved under ``dir``: (encoder, segmenter folder, stance folder)

Everything is seeded, so predictions are the same from run to run; they are
meant to exercise the plumbing (ids, offsets, order, streaming), not to be
right. Tests import the helpers directly (``from tiny_models import ...``) and
wrap them in their own fixtures, usually module- or session-scoped because
building takes about a second.
"""

from __future__ import annotations

from pathlib import Path

import torch

from argmine.thread import Component, make_component

WORDS = (  # noqa: SIM905 (a vocabulary reads best as one string)
    "we should build more bike lanes because cycling is cheap and clean . , the town must keep its library "
    "open since children read there it is fair not people need trees so plant parks air ? ! yes no i agree "
    "disagree this that wrong right"
).split()
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
SEGMENT_LABELS = ("Claim", "Premise")
STANCE_LABELS = ("support", "attack", "none")


def _claim_example(claim: str, premise: str, glue: str = " because ") -> tuple[str, list[Component]]:
    text = f"{claim}{glue}{premise} ."
    start = len(claim) + len(glue)
    return text, [
        make_component(text, 0, len(claim), "Claim", "c"),
        make_component(text, start, start + len(premise), "Premise", "p"),
    ]


# Short texts whose first part is a claim and whose part after "because"/"since" is a premise.
CLAIM_TEXTS = [
    _claim_example("we should build more bike lanes", "cycling is cheap and clean"),
    _claim_example("the town must keep its library open", "children read there", glue=" since "),
    _claim_example("we should plant more trees", "people need clean air"),
    _claim_example("it is fair", "people need parks", glue=" , because "),
] * 2


def build_encoder(folder: Path, *, seed: int = 0) -> Path:
    """A random 2-layer BERT (hidden size 32) and its tokenizer, saved as an encoder folder."""
    from transformers import BertConfig, BertModel, BertTokenizer
    from transformers.utils import logging as hf_logging

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "|", ":", "…", *WORDS, *LETTERS, *(f"##{c}" for c in LETTERS)]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(dict.fromkeys(vocab))})
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=0.2,  # a random tiny encoder then tells inputs apart
    )
    torch.manual_seed(seed)
    hf_logging.disable_progress_bar()
    try:
        BertModel(config).save_pretrained(str(folder))
    finally:
        hf_logging.enable_progress_bar()
    return folder


def build_segmenter(encoder: Path, *, steps: int = 40, max_length: int = 16, stride: int = 4):
    """A LoRA segmenter that has learnt ``CLAIM_TEXTS`` (short windows, so long texts use several)."""
    from argmine.segmenter.model import Segmenter
    from argmine.training import TrainSettings, fit, seed_everything

    seed_everything(0)
    segmenter = Segmenter.create(
        SEGMENT_LABELS, encoder=encoder, finetune="lora", max_length=max_length, stride=stride, lora_rank=4
    )
    tokenized = segmenter.tokenize([text for text, _ in CLAIM_TEXTS])
    windows = [w for (_, gold), tok in zip(CLAIM_TEXTS, tokenized) for w in segmenter.windows(tok, gold)]
    fit(
        segmenter.model,
        lengths=[len(w) for w in windows],
        collate=lambda ix: segmenter.collate([windows[i] for i in ix]),
        settings=TrainSettings(epochs=100, learning_rate=2e-2, batch_size=4, max_steps=steps, warmup_ratio=0.0),
        progress=False,
    )
    segmenter.model.eval()
    return segmenter


def build_stance(encoder: Path, *, labels: tuple[str, ...] = STANCE_LABELS):
    """An untrained LoRA stance classifier (seeded head): its labels are arbitrary but deterministic."""
    from argmine.stance.transformer import TransformerStanceClassifier
    from argmine.training import seed_everything

    seed_everything(1)
    return TransformerStanceClassifier.create(
        labels, encoder=encoder, max_length=64, post_reserve=8, parent_reserve=6, lora_r=4, lora_alpha=8
    )


def build_pipeline_parts(folder: Path) -> tuple[Path, Path, Path]:
    """Encoder, segmenter checkpoint and stance checkpoint, saved under ``folder``."""
    encoder = build_encoder(folder / "encoder")
    segmenter = build_segmenter(encoder).save_pretrained(folder / "segmenter")
    stance = build_stance(encoder).save_pretrained(folder / "stance")
    return encoder, Path(segmenter), Path(stance)
