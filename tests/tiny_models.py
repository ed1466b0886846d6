"""Tiny in-process models for tests: a 2-layer BERT, a segmenter and a stance classifier on it, and helpers around them.

    build_encoder(dir)            a WordPiece vocabulary of invented words + single letters, random 2-layer BERT
    build_segmenter(encoder)      LoRA segmenter (Claim / Premise) trained for a few dozen steps on CLAIM_TEXTS
    build_stance(encoder)         LoRA stance classifier (support / attack / none), untrained: a fixed random head
    build_trained_stance(encoder, inputs, gold)  that classifier trained for a few steps on (input, label) pairs
    build_pipeline_parts(dir)     all three saved under ``dir``: (encoder, segmenter folder, stance folder)
    build_pipeline(dir)           those parts joined and saved as a pipeline checkpoint; its folder
    claim_example(claim, premise) a "claim because premise" text with its two gold components
    edit_meta(folder, **changes)  change keys of a checkpoint's argmine.json, as a hand edit would
    mine_cli(argv, capsys)        run ``argmine mine ARGV``; (exit code, stdout, stderr)
    check_minilm_delta(folder)    a LoRA checkpoint on the real encoder is small and names that encoder

Everything is seeded, so predictions are the same from run to run; they are
meant to exercise the plumbing (ids, offsets, order, streaming), not to be
right. Tests import the helpers directly (``from tiny_models import ...``) and
wrap them in their own fixtures, usually module- or session-scoped because
building takes about a second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from argmine.checkpoint import META_FILE, encoder_fingerprint, resolve_encoder
from argmine.thread import Component, make_component

WORDS = (  # noqa: SIM905 (a vocabulary reads best as one string)
    "we should build more bike lanes because cycling is cheap and clean . , the town must keep its library "
    "open since children read there it is fair not people need trees so plant parks air ? ! yes no i agree "
    "disagree this that wrong right"
).split()
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
SEGMENT_LABELS = ("Claim", "Premise")
STANCE_LABELS = ("support", "attack", "none")
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def claim_example(claim: str, premise: str, glue: str = " because ", end: str = " .") -> tuple[str, list[Component]]:
    """``claim + glue + premise + end`` and its gold components: the claim (id ``c``) and the premise (id ``p``)."""
    text = f"{claim}{glue}{premise}{end}"
    start = len(claim) + len(glue)
    return text, [
        make_component(text, 0, len(claim), "Claim", "c"),
        make_component(text, start, start + len(premise), "Premise", "p"),
    ]


# Short texts whose first part is a claim and whose part after "because"/"since" is a premise.
CLAIM_TEXTS = [
    claim_example("we should build more bike lanes", "cycling is cheap and clean"),
    claim_example("the town must keep its library open", "children read there", glue=" since "),
    claim_example("we should plant more trees", "people need clean air"),
    claim_example("it is fair", "people need parks", glue=" , because "),
] * 2
# The four distinct texts of CLAIM_TEXTS, without their gold.
TEXTS = [text for text, _ in CLAIM_TEXTS[:4]]


def vocabulary(words: Sequence[str], letters: str = LETTERS) -> list[str]:
    """BERT's special tokens, ``words``, then each letter alone and as a ``##`` continuation (duplicates dropped)."""
    return list(dict.fromkeys([*SPECIAL_TOKENS, *words, *letters, *(f"##{c}" for c in letters)]))


def build_encoder(
    folder: Path,
    *,
    vocab: Sequence[str] | None = None,
    max_positions: int = 128,
    initializer_range: float = 0.2,
    seed: int = 0,
) -> Path:
    """A random 2-layer BERT (hidden size 32) and its tokenizer, saved as an encoder folder.

    ``vocab`` defaults to the words of CLAIM_TEXTS plus single letters. The default
    ``initializer_range`` is ten times BERT's, so a random tiny encoder tells inputs apart.
    """
    from transformers import BertConfig, BertModel, BertTokenizer
    from transformers.utils import logging as hf_logging

    if vocab is None:
        vocab = vocabulary(["|", ":", "…", *WORDS])
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(dict.fromkeys(vocab))})
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        initializer_range=initializer_range,
    )
    torch.manual_seed(seed)
    hf_logging.disable_progress_bar()
    try:
        BertModel(config).save_pretrained(str(folder))
    finally:
        hf_logging.enable_progress_bar()
    return folder


def build_segmenter(
    encoder: Path,
    *,
    examples: Sequence[tuple[str, Sequence[Component]]] = CLAIM_TEXTS,
    labels: tuple[str, ...] = SEGMENT_LABELS,
    steps: int = 40,
    max_length: int = 16,
    stride: int = 4,
):
    """A LoRA segmenter that has learnt ``examples`` (short windows, so long texts use several)."""
    from argmine.segmenter.model import Segmenter
    from argmine.runtime import seed_everything
    from argmine.settings import TrainSettings
    from argmine.training.loop import fit

    seed_everything(0)
    segmenter = Segmenter.create(
        labels, encoder=encoder, finetune="lora", max_length=max_length, stride=stride, lora_rank=4
    )
    tokenized = segmenter.tokenize([text for text, _ in examples])
    windows = [w for (_, gold), tok in zip(examples, tokenized) for w in segmenter.windows(tok, gold)]
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
    from argmine.runtime import seed_everything

    seed_everything(1)
    return TransformerStanceClassifier.create(
        labels, encoder=encoder, max_length=64, post_reserve=8, parent_reserve=6, lora_r=4, lora_alpha=8
    )


def build_trained_stance(encoder: Path, inputs: Sequence, gold: Sequence[str], *, steps: int = 12):
    """``build_stance`` trained for ``steps`` batches on ``inputs`` (StanceInput or (post, text)) and their labels."""
    from argmine.runtime import seed_everything
    from argmine.settings import TrainSettings
    from argmine.training.loop import fit

    classifier = build_stance(encoder)
    rows = classifier.tokenize(list(inputs))
    targets = [STANCE_LABELS.index(label) for label in gold]

    def collate(indices: list[int]) -> dict[str, torch.Tensor]:
        batch = classifier.collate([rows[i] for i in indices])
        batch["labels"] = torch.tensor([targets[i] for i in indices])  # the model returns its loss
        return batch

    seed_everything(2)
    fit(
        classifier.net,
        lengths=[len(r["input_ids"]) for r in rows],
        collate=collate,
        settings=TrainSettings(epochs=100, learning_rate=1e-2, batch_size=4, max_steps=steps, warmup_ratio=0.0),
        progress=False,
    )
    classifier.model.eval()
    return classifier


def build_pipeline_parts(folder: Path) -> tuple[Path, Path, Path]:
    """Encoder, segmenter checkpoint and stance checkpoint, saved under ``folder``."""
    encoder = build_encoder(folder / "encoder")
    segmenter = build_segmenter(encoder).save_pretrained(folder / "segmenter")
    stance = build_stance(encoder).save_pretrained(folder / "stance")
    return encoder, Path(segmenter), Path(stance)


def build_pipeline(folder: Path) -> Path:
    """The parts of ``build_pipeline_parts`` joined into a pipeline checkpoint, saved as ``folder/pipeline``."""
    from argmine.pipeline import ArgumentMiner

    _, segmenter, stance = build_pipeline_parts(folder)
    return Path(ArgumentMiner.from_parts(segmenter, stance).save_pretrained(folder / "pipeline"))


def edit_meta(folder: Path, **changes: object) -> None:
    """Set ``changes`` in the checkpoint's argmine.json, as someone editing it by hand might.

    A key ``settings.NAME`` (pass it as ``**{"settings.NAME": value}``) sets one entry of ``settings``.
    """
    path = folder / META_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key.startswith("settings."):
            data["settings"][key.split(".", 1)[1]] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data), encoding="utf-8")


# -- the ``argmine mine`` command ------------------------------------------------------------------


def mine_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``argmine mine ARGV`` through ``argmine.cli.main``: exit code, stdout, stderr."""
    from argmine.cli import main

    code = main(["mine", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- checkpoints on the real packaged encoder (integration tests) ------------------------------------

MIB = 1024 * 1024
SHIP_LIMIT = 10 * MIB  # what the issue allows a shipped checkpoint in git


def check_minilm_delta(folder: Path, *, adapter_limit: int) -> None:
    """A LoRA checkpoint on all-MiniLM-L6-v2 ships small (all of it, and the adapter alone) and names its encoder."""
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < SHIP_LIMIT, f"checkpoint is {size / 1e6:.1f} MB"
    assert (folder / "adapter_model.safetensors").stat().st_size < adapter_limit
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    assert meta["base_encoder"] == "minilm"
    assert meta["base_sha256"] == encoder_fingerprint(resolve_encoder("minilm"))
