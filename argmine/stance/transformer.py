"""A cross-encoder stance classifier: (post [+ parent], item) → support / attack / none (or a corpus's labels).

    StanceInput ──encode_pairs (to_pair with this tokenizer's counts)──► token ids ──► encoder + head ──► softmax
         │  (a long text, settings.long_text = windows_*: window_pairs, one pair per window) │
         │                                                   windows pooled (pool_windows) ◄─┤
    list[Stance(label, score = its probability)] ◄── argmax, back in input order ◄─────────────┘

Training reads each text's head (``encode_pairs``: one pair, one label); prediction reads a long text
in full when the checkpoint says so (a stance is often taken in a comment's last paragraph).

The model is the packaged encoder with a sequence-pair classification head,
reading either the first token's pooled state (``pooling="cls"``, the Hugging
Face default) or the mean of the token states (``pooling="mean"``, how
all-MiniLM-L6-v2 was trained to summarise a text; see ``MeanPooled``),
fine-tuned either with LoRA (peft; the checkpoint holds the adapters, the
head and the pooler: the delta over the pinned encoder, ~1 MB for MiniLM) or
in full; building, saving and loading it is ``argmine.transformer``'s. The class imbalance (``none``/``comment`` dominate) is answered at
training time by a class-weighted loss (see ``argmine.stance.train``); the
classifier itself is a plain argmax.

Checkpoint folder (see ``argmine.checkpoint``): ``argmine.json`` with
kind ``stance``, the tokenizer files, a ``README.md`` card, and either
``adapter_config.json`` + ``adapter_model.safetensors`` (LoRA) or
``config.json`` + ``model.safetensors`` (full).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from argmine.checkpoint import META_FILE, CheckpointMeta, card_scores
from argmine.errors import CheckpointError, InputError
from argmine.stance.inputs import LONG_TEXT_READINGS, StanceInput, TextPair, as_input, to_pair, to_window_pairs
from argmine.thread import Stance
from argmine.runtime import length_bucketed_batches
from argmine.transformer import FineTunedModel, LoraSettings, build_model, check_finetune, load_transformer

log = logging.getLogger(__name__)

KIND = "stance"
# LoRA on every linear layer of the encoder blocks; names are suffixes of BERT module names.
DEFAULT_LORA_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")
# Trained in full and saved with the adapters: the new head, and (for cls pooling) the pooler it reads.
LORA_SAVED_MODULES = {"cls": ("classifier", "pooler"), "mean": ("classifier",)}
POOLINGS = tuple(LORA_SAVED_MODULES)
MIN_LENGTH = 16  # tokens: the shortest max_length a pair of texts can be encoded in


class MeanPooled(nn.Module):
    """A BERT-style sequence classifier whose head reads the mean of the token states, not the pooled first token.

    Wraps the Hugging Face model (plain or peft) without changing it, so its
    weights save and load as usual; only the forward pass differs. The encoder
    still computes its pooler, which is frozen here (it is unused, and an
    unused trainable weight would stall data-parallel training).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        head = getattr(inner, "classifier", None)
        linear = getattr(head, "original_module", head)  # under LoRA the head is peft's trainable copy of it
        if not isinstance(linear, nn.Module) or not isinstance(getattr(inner, "dropout", None), nn.Dropout):
            raise ValueError(
                f"mean pooling needs a BERT-style head (dropout + a classifier layer); {type(inner).__name__} has none"
            )
        # The model's own modules (shared, not copies): LoRA adapters and trained heads stay in use.
        self.encoder, self.head, self.dropout = getattr(inner, inner.base_model_prefix), head, inner.dropout
        pooler = getattr(self.encoder, "pooler", None)
        for weight in pooler.parameters() if pooler is not None else ():
            weight.requires_grad_(False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **rest: torch.Tensor) -> Any:
        from transformers.modeling_outputs import SequenceClassifierOutput

        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **rest).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return SequenceClassifierOutput(logits=self.head(self.dropout(mean)))


class TransformerStanceClassifier(FineTunedModel):
    """A fine-tuned encoder that reads (post [+ parent], item) pairs; build with ``create`` or ``from_pretrained``."""

    KIND = KIND

    def __init__(self, model: nn.Module, tokenizer: Any, meta: CheckpointMeta) -> None:
        self.tokenizer = tokenizer
        self.meta = meta
        self.max_length = int(meta.settings["max_length"])
        self.post_reserve = int(meta.settings.get("post_reserve", 64))
        self.parent_reserve = int(meta.settings.get("parent_reserve", 48))
        self.pooling = str(meta.settings.get("pooling", "cls"))  # checkpoints from before the option are cls
        if self.pooling not in POOLINGS:
            raise CheckpointError(f"settings.pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        self.long_text = str(meta.settings.get("long_text", "head"))
        if self.long_text not in LONG_TEXT_READINGS:
            raise CheckpointError(
                f"settings.long_text must be one of {', '.join(LONG_TEXT_READINGS)}, got {self.long_text!r}"
            )
        self.budget = self.max_length - tokenizer.num_special_tokens_to_add(pair=True)
        self._run(model)

    def _run(self, model: nn.Module) -> None:
        # ``net`` is what the batches go through: the model itself, or the model under a mean-pooling forward.
        self.model = model.eval()
        self.net: nn.Module = MeanPooled(model) if self.pooling == "mean" else model

    @property
    def labels(self) -> tuple[str, ...]:
        return self.meta.labels

    # -- building -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        labels: Sequence[str],
        *,
        encoder: str | Path = "minilm",
        finetune: str = "lora",
        max_length: int = 256,
        post_reserve: int = 64,
        parent_reserve: int = 48,
        pooling: str = "cls",
        long_text: str = "windows_sided_max",
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.1,
        lora_targets: Sequence[str] = DEFAULT_LORA_TARGETS,
        full_top_layers: int = 0,
    ) -> TransformerStanceClassifier:
        """A new, untrained classifier over ``labels`` on the base ``encoder`` (a name or a folder)."""
        from transformers import AutoModelForSequenceClassification

        labels = tuple(labels)
        if pooling not in POOLINGS:
            raise InputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        if long_text not in LONG_TEXT_READINGS:
            raise InputError(f"long_text must be one of {', '.join(LONG_TEXT_READINGS)}, got {long_text!r}")
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise InputError(f"labels must be at least two distinct strings, got {list(labels)}")
        model, tokenizer, meta = build_model(
            AutoModelForSequenceClassification,
            encoder,
            kind=KIND,
            labels=labels,
            id2label=labels,
            settings={
                "max_length": max_length,
                "post_reserve": post_reserve,
                "parent_reserve": parent_reserve,
                "pooling": pooling,
                "long_text": long_text,
            },
            min_length=MIN_LENGTH,
            finetune=finetune,
            lora=LoraSettings(
                lora_r, lora_alpha, lora_dropout, tuple(lora_targets), LORA_SAVED_MODULES[pooling], full_top_layers
            ),
            task_type="SEQ_CLS",
        )
        classifier = cls(model, tokenizer, meta)
        if classifier.budget < post_reserve + parent_reserve + 24:
            raise InputError(
                f"max_length {max_length} leaves too little room after the post ({post_reserve}) and parent "
                f"({parent_reserve}) reserves"
            )
        return classifier

    @classmethod
    def from_meta(cls, folder: Path, meta: CheckpointMeta) -> TransformerStanceClassifier:
        """The classifier saved in ``folder`` whose ``argmine.json`` is ``meta`` (read by ``from_pretrained``).

        Checks ``max_length`` against the post and parent reserves, then loads the weights as the segmenter does.
        """
        from transformers import AutoModelForSequenceClassification

        check_finetune(folder, meta)
        where = folder / META_FILE
        for key in ("max_length", "post_reserve", "parent_reserve"):
            value = meta.settings.get(key, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise CheckpointError(f"{where}: settings.{key} must be a non-negative integer, got {value!r}")
        reserves = meta.settings.get("post_reserve", 64) + meta.settings.get("parent_reserve", 48)
        if meta.settings.get("max_length", 0) < reserves + 24:  # create() asks this and room for special tokens
            raise CheckpointError(
                f"{where}: settings.max_length {meta.settings.get('max_length')} leaves too little room after the "
                f"post and parent reserves ({reserves} tokens)"
            )
        model, tokenizer = load_transformer(
            folder, meta, AutoModelForSequenceClassification, meta.labels, min_length=MIN_LENGTH
        )
        log.info("loaded stance classifier %s (%s, labels %s)", folder, meta.finetune, ", ".join(meta.labels))
        return cls(model, tokenizer, meta)

    def model_card(self) -> str:
        meta = self.meta
        metrics = meta.training.get("metrics") or {}
        lines = [
            "# argmine stance classifier",
            "",
            "Reads (original post [+ the parent comment], a comment or component) and says its stance toward the post.",
            "",
            f"- labels: {', '.join(meta.labels)}",
            f"- base encoder: {meta.base_encoder} (weights sha256 {meta.base_sha256})",
            f"- fine-tuning: {meta.finetune}",
            f"- max length: {meta.settings.get('max_length')} tokens; a longer text read as "
            f"{meta.settings.get('long_text', 'head')} (head: its first sentences; windows: all of it, pooled)",
            f"- pooling: {meta.settings.get('pooling', 'cls')}",
        ]
        for key in ("data", "level", "epochs", "best_epoch", "seed", "class_weighting"):
            if key in meta.training:
                lines.append(f"- {key.replace('_', ' ')}: {meta.training[key]}")
        lines += card_scores(metrics)
        lines += ["", f"Written by argmine {meta.argmine_version}.", ""]
        return "\n".join(lines)

    # -- encoding ---------------------------------------------------------------

    def encode_pairs(self, inputs: Sequence[StanceInput | TextPair]) -> list[TextPair]:
        """The text pairs this model reads, each fitting ``max_length`` tokens (see ``argmine.stance.inputs``)."""
        return self._pairs(to_pair, inputs)

    def window_pairs(self, inputs: Sequence[StanceInput | TextPair]) -> list[list[TextPair]]:
        """Each input's text read in full: one pair per window of it (``argmine.stance.inputs.to_window_pairs``)."""
        return self._pairs(to_window_pairs, inputs)

    def _pairs(self, make: Callable[..., Any], inputs: Sequence[StanceInput | TextPair]) -> list[Any]:
        count = lru_cache(maxsize=4096)(self.count_tokens)  # a post is counted once for all its comments
        reserves = {"post_reserve": self.post_reserve, "parent_reserve": self.parent_reserve}
        return [make(as_input(item), budget=self.budget, count_tokens=count, **reserves) for item in inputs]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens (long texts are measured, not truncated, so no warning)."""
        return len(self.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def tokenize(self, inputs: Sequence[StanceInput | TextPair]) -> list[dict[str, list[int]]]:
        """Token ids of each input's pair (no padding), checked to fit ``max_length``."""
        return self.tokenize_pairs(self.encode_pairs(inputs))

    def tokenize_pairs(self, pairs: Sequence[TextPair]) -> list[dict[str, list[int]]]:
        """Token ids of text pairs made by ``encode_pairs`` or ``window_pairs``."""
        if not pairs:
            return []
        encoded = self.tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=False, padding=False)
        rows = [{key: encoded[key][i] for key in encoded} for i in range(len(pairs))]
        longest = max(len(row["input_ids"]) for row in rows)
        if longest > self.max_length:  # to_pair counts with this tokenizer, so this is a bug, not bad input
            raise RuntimeError(f"an encoded pair has {longest} tokens, more than max_length {self.max_length}")
        return rows

    def collate(self, rows: Sequence[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        return dict(self.tokenizer.pad(list(rows), padding=True, return_tensors="pt"))

    # -- prediction ---------------------------------------------------------------

    def predict_proba(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> np.ndarray:
        """Label probabilities, one row per input in input order, columns in ``labels`` order.

        A long text is read as ``settings.long_text`` says: its head, or all its windows pooled.
        """
        if self.long_text == "head":
            return self.proba_of_rows(self.tokenize(inputs), batch_size=batch_size)
        groups = self.window_pairs(inputs)
        windows = self.proba_of_rows(self.tokenize_pairs([pair for group in groups for pair in group]), batch_size=batch_size)
        starts = np.cumsum([0] + [len(group) for group in groups])
        return np.stack([self.pool_windows(windows[a:b]) for a, b in zip(starts[:-1], starts[1:])]) if groups else windows

    def pool_windows(self, p: np.ndarray) -> np.ndarray:
        """One probability row from a text's windows (rows of ``p``, in text order)."""
        if len(p) == 1:
            return p[0]
        if self.long_text == "windows_mean":
            return p.mean(axis=0)
        # windows_sided_max: each side as sure as its surest window, `none` as its least sure (a window that
        # takes a side decides the text)
        out = p.max(axis=0)
        if "none" in self.labels:
            k = self.labels.index("none")
            out[k] = p[:, k].min()
        return out / out.sum()

    def proba_of_rows(self, rows: Sequence[dict[str, list[int]]], *, batch_size: int = 32) -> np.ndarray:
        """``predict_proba`` for inputs already tokenized by ``tokenize`` (dev evaluation reuses them).

        Batches go to wherever the model is (``fit`` evaluates on the training device).
        """
        out = np.zeros((len(rows), len(self.labels)), dtype=np.float32)
        if not rows:
            return out
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.net.eval()
        lengths = [len(row["input_ids"]) for row in rows]
        with torch.inference_mode():
            for indices in length_bucketed_batches(lengths, batch_size, shuffle=False):
                batch = {k: v.to(device) for k, v in self.collate([rows[i] for i in indices]).items()}
                logits = self.net(**batch).logits.float()
                out[indices] = torch.softmax(logits, dim=-1).cpu().numpy()
        self.net.train(was_training)
        return out

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> list[Stance]:
        """One ``Stance`` per input, in input order, scored with its probability."""
        probabilities = self.predict_proba(inputs, batch_size=batch_size)
        best = probabilities.argmax(axis=1) if len(probabilities) else []
        return [Stance(self.labels[j], float(probabilities[i, j])) for i, j in enumerate(best)]
