"""The claim / premise segmenter: an encoder with a BIO token-classification head.

    texts ──tokenize / make_windows──► windows ──► encoder + head ──► softmax per token
                                                                         │
    list[list[Component]] ◄── merge windows ─► decoding.decode_words (Viterbi IOB2, span rules) ◄┘

The model is a Hugging Face token classifier over a base encoder (the
packaged all-MiniLM-L6-v2 by default), fine-tuned either with LoRA (peft: the
checkpoint keeps the adapters and the new head, the delta over the pinned
encoder, about 1.5 MB for MiniLM) or in full (the whole model); building,
saving and loading it is ``argmine.transformer``'s. Encoding and decoding are
the pure functions of ``argmine.segmenter.encoding`` and ``argmine.segmenter.decoding``.

Checkpoint folder (see ``argmine.checkpoint``): ``argmine.json`` with kind
``components``, the component labels, and settings ``tags``, ``max_length``,
``stride``, ``decoding`` (the rules of ``argmine.segmenter.decoding.DecodingSettings``; a
checkpoint without it decodes as before the rules), ``context`` (and ``lora``); the tokenizer
files; a ``README.md`` card; and ``adapter_config.json`` + ``adapter_model.safetensors`` (LoRA) or
``config.json`` + ``model.safetensors`` (full).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from argmine.checkpoint import META_FILE, CheckpointMeta, card_scores
from argmine.commands import portable_command
from argmine.errors import CheckpointError
from argmine.segmenter.context import CONTEXTS, check_context, message_contexts
from argmine.segmenter.decoding import DEFAULT, DecodingSettings, decode_words, decoding_settings
from argmine.segmenter.encoding import (
    IGNORE,
    TokenizedText,
    Window,
    bio_tags,
    make_windows,
    merge_windows,
    special_tokens,
    tokenize,
    word_tags,
)
from argmine.thread import Component, Thread, with_components
from argmine.runtime import length_bucketed_batches
from argmine.transformer import FineTunedModel, LoraSettings, build_model, check_finetune, load_transformer

log = logging.getLogger(__name__)

KIND = "components"
MIN_LENGTH = 8  # tokens in a window, special tokens included
MAX_CONTEXT_TOKENS = 32  # a context names a genre and a position in a few words; it must leave the window for the text
# LoRA on every linear layer of the encoder blocks (names are suffixes of BERT module names).
DEFAULT_LORA_TARGETS = ("query", "key", "value", "dense")
# Trained in full and saved beside the adapters: the new token-classification head.
LORA_SAVED_MODULES = ("classifier",)


class Segmenter(FineTunedModel):
    """Finds claims / premises in texts; build with ``create`` (untrained) or ``from_pretrained``."""

    KIND = KIND

    def __init__(self, model: nn.Module, tokenizer: Any, meta: CheckpointMeta, *, precision: str = "float32") -> None:
        self.model = model
        self.precision = precision
        self.tokenizer = tokenizer
        self.meta = meta
        self.tags = bio_tags(meta.labels)
        self.max_length = int(meta.settings["max_length"])
        self.stride = int(meta.settings["stride"])
        # Without the key (checkpoints from before the span rules): decoding.LEGACY, as they were scored.
        self.decoding: DecodingSettings = decoding_settings(meta.settings.get("decoding"))
        self.context = str(meta.settings.get("context", "none"))  # checkpoints from before the option read none
        self.prefix, self.suffix = special_tokens(tokenizer)
        self._context_prefixes: dict[str, tuple[int, ...]] = {"": self.prefix}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.model.eval()

    @property
    def labels(self) -> tuple[str, ...]:
        """The component labels (``Claim``, ``Premise``, ...), in the order their tags are numbered."""
        return self.meta.labels

    @property
    def finetune(self) -> str:
        return str(self.meta.finetune)

    # -- building -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        labels: Sequence[str],
        *,
        encoder: str | Path = "minilm",
        finetune: str = "lora",
        max_length: int = 256,
        stride: int = 64,
        decoding: str | Mapping[str, Any] | DecodingSettings = "viterbi",
        context: str = "none",
        lora_rank: int = 8,
        lora_alpha: int | None = None,
        lora_dropout: float = 0.1,
        full_top_layers: int = 0,
        lora_targets: Sequence[str] = DEFAULT_LORA_TARGETS,
    ) -> Segmenter:
        """A new, untrained segmenter for ``labels`` on the base ``encoder`` (a name or a folder).

        ``max_length`` is the window in tokens (special tokens included),
        ``stride`` how many tokens consecutive windows share. ``decoding``:
        ``DecodingSettings`` or its fields as a mapping; a string names the tag
        decoder (``viterbi`` / ``argmax``) and takes the span rules of
        ``decoding.DEFAULT``, so new models get them. ``context``:
        ``position`` reads where each message sits before it
        (``argmine.segmenter.context``), ``none`` the message alone. ``lora_alpha``
        defaults to ``2 * lora_rank``. Seed torch first for a reproducible head.
        """
        from transformers import AutoModelForTokenClassification

        labels = tuple(labels)
        tags = bio_tags(labels)  # validates the labels
        if isinstance(decoding, str):
            decoding = decoding_settings({**DEFAULT.record(), "viterbi": decoding_settings(decoding).viterbi})
        decoding = decoding_settings(decoding)  # validates
        check_context(context)
        model, tokenizer, meta = build_model(
            AutoModelForTokenClassification,
            encoder,
            kind=KIND,
            labels=labels,
            id2label=tags,
            settings={
                "tags": list(tags),
                "max_length": max_length,
                "stride": stride,
                "decoding": decoding.record(),
                "context": context,
            },
            min_length=MIN_LENGTH,
            finetune=finetune,
            lora=LoraSettings(
                lora_rank, lora_alpha, lora_dropout, tuple(lora_targets), LORA_SAVED_MODULES, full_top_layers
            ),
            task_type="TOKEN_CLS",
        )
        if not 0 <= stride <= max_length // 2:
            raise ValueError(f"stride must be between 0 and max_length / 2 = {max_length // 2}, got {stride}")
        return cls(model, tokenizer, meta)

    @classmethod
    def from_meta(cls, folder: Path, meta: CheckpointMeta) -> Segmenter:
        """The segmenter saved in ``folder`` whose ``argmine.json`` is ``meta`` (read by ``from_pretrained``).

        Checks the tags, window and decoding settings, then reads only JSON,
        safetensors and tokenizer files, never the network. A LoRA checkpoint
        is rebuilt on its base encoder after checking the encoder's fingerprint.
        """
        from transformers import AutoModelForTokenClassification

        check_finetune(folder, meta)
        where = folder / META_FILE
        try:
            tags = bio_tags(meta.labels)
        except ValueError as error:
            raise CheckpointError(f"{where}: {error}") from None
        if meta.settings.get("tags", list(tags)) != list(tags):
            raise CheckpointError(
                f"{where}: settings.tags {meta.settings['tags']} do not match labels {list(meta.labels)}"
            )
        for key in ("max_length", "stride"):
            if not isinstance(meta.settings.get(key), int) or isinstance(meta.settings.get(key), bool):
                raise CheckpointError(f"{where}: settings.{key} must be an integer")
        try:
            decoding_settings(meta.settings.get("decoding"))
        except ValueError as error:
            raise CheckpointError(f"{where}: {error}") from None
        if meta.settings.get("context", "none") not in CONTEXTS:
            raise CheckpointError(f"{where}: settings.context must be one of {', '.join(CONTEXTS)}")
        if not 0 <= meta.settings["stride"] <= meta.settings["max_length"] // 2:
            raise CheckpointError(
                f"{where}: settings.stride {meta.settings['stride']} must lie between 0 and max_length / 2"
            )
        model, tokenizer = load_transformer(
            folder, meta, AutoModelForTokenClassification, tags, head_unit="tags", min_length=MIN_LENGTH
        )
        log.info("loaded segmenter %s (%s, labels %s)", folder, meta.finetune, ", ".join(meta.labels))
        return cls(model, tokenizer, meta)

    def with_training(self, training: dict[str, Any]) -> Segmenter:
        """The same segmenter with ``training`` (data, command, metrics...) recorded for its card and argmine.json."""
        meta = replace(self.meta, training=dict(training))
        return Segmenter(self.model, self.tokenizer, meta, precision=self.precision)

    def model_card(self) -> str:
        """A README.md from what argmine.json knows: labels, encoder, settings, data, command, scores, limits."""
        meta, training = self.meta, self.meta.training
        lines = [
            "# argmine component segmenter",
            "",
            "Finds argument components (" + ", ".join(meta.labels) + ") in a text and returns them as",
            "character spans, by BIO tagging of words with a fine-tuned transformer encoder.",
            "",
            f"- base encoder: {meta.base_encoder} (weights sha256 {meta.base_sha256})",
            f"- fine-tuning: {meta.finetune}"
            + (
                f" (LoRA r={meta.settings['lora']['r']}, alpha={meta.settings['lora']['alpha']})"
                if "lora" in meta.settings
                else ""
            ),
            f"- windows: {meta.settings['max_length']} tokens, overlapping by {meta.settings['stride']}",
            f"- decoding: {self.decoding.describe()}",
            f"- context: {meta.settings.get('context', 'none')}"
            + {
                "position": " (reads where each message sits: argmine.segmenter.context)",
                "genre": " (reads each message's genre and where it sits: argmine.segmenter.context)",
            }.get(self.context, ""),
        ]
        for key in (
            "data",
            "command",
            "train_messages",
            "dev_messages",
            "epochs",
            "best_epoch",
            "seed",
            "learning_rate",
        ):
            if key in training:
                value = portable_command(training[key]) if key == "command" else training[key]  # no machine paths
                lines.append(f"- {key.replace('_', ' ')}: {value}")
        metrics = {k: v for k, v in (training.get("metrics") or {}).items() if "/support" not in k}
        lines += card_scores(metrics, "Development scores (best epoch)")
        lines += [
            "",
            "Limits:",
            "",
            "- spans are whole words of the encoder's tokenizer: a component that starts or ends inside a word",
            "  is predicted from that word's start or to its end;",
            "- BIO tags cannot represent overlapping or nested components;",
            "- trained on the data above only (English); expect lower scores on other genres.",
            "",
            f"Written by argmine {meta.argmine_version}. Load with",
            "`argmine.segmenter.model.Segmenter.from_pretrained(folder)`.",
            "",
        ]
        return "\n".join(lines)

    # -- encoding ---------------------------------------------------------------

    def tokenize(self, texts: Sequence[str]) -> list[TokenizedText]:
        return tokenize(texts, self.tokenizer)

    def windows(
        self, tokenized: TokenizedText, components: Sequence[Component] | None = None, context: str = ""
    ) -> list[Window]:
        """The model inputs of one text; with gold ``components``, labelled for training.

        A non-empty ``context`` goes first in every window, as the first text of a pair.
        """
        labels = word_tags(tokenized, components, self.tags) if components is not None else None
        return make_windows(
            tokenized,
            labels,
            max_length=self.max_length,
            stride=self.stride,
            prefix=self._context_prefix(context),
            suffix=self.suffix,
        )

    def _context_prefix(self, context: str) -> tuple[int, ...]:
        """``[CLS] context [SEP]`` (``[CLS]`` alone for no context), tokenized once per distinct context."""
        if context not in self._context_prefixes:
            ids = tuple(self.tokenizer(context, add_special_tokens=False)["input_ids"])
            if len(ids) > MAX_CONTEXT_TOKENS:
                raise ValueError(f"context {context!r} has {len(ids)} tokens; at most {MAX_CONTEXT_TOKENS} fit")
            self._context_prefixes[context] = self.prefix + ids + self.suffix
        return self._context_prefixes[context]

    def contexts(self, texts: Sequence[str], contexts: Sequence[str] | None) -> list[str]:
        """The context of each text as the model reads it: all empty unless it was trained with ``position``."""
        if self.context == "none":
            return [""] * len(texts)
        if contexts is None or len(contexts) != len(texts):
            given = "no contexts" if contexts is None else f"{len(contexts)} contexts"
            raise ValueError(
                f"this segmenter reads where each message sits (context {self.context!r}): got {given} for "
                f"{len(texts)} texts; use predict_threads, or pass contexts= from "
                "argmine.segmenter.context.message_contexts"
            )
        return list(contexts)

    def collate(self, windows: Sequence[Window]) -> dict[str, torch.Tensor]:
        """Pad windows into a batch: input_ids, attention_mask (and labels when the windows have them)."""
        longest = max(len(w) for w in windows)
        ids = torch.full((len(windows), longest), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(windows), longest), dtype=torch.long)
        labels = torch.full((len(windows), longest), IGNORE, dtype=torch.long)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = torch.tensor(window.input_ids)
            mask[row, : len(window)] = 1
            if window.labels is not None:
                labels[row, : len(window)] = torch.tensor(window.labels)
        batch = {"input_ids": ids, "attention_mask": mask}
        if all(w.labels is not None for w in windows):
            batch["labels"] = labels
        return batch

    # -- prediction ---------------------------------------------------------------

    def window_probabilities(self, windows: Sequence[Window], *, batch_size: int = 16) -> list[np.ndarray]:
        """Tag probabilities of each window (one row per input id), in the given order."""
        out: list[np.ndarray] = [np.zeros((0, len(self.tags)), dtype=np.float32)] * len(windows)
        if not windows:
            return out
        was_training = self.model.training
        self.model.eval()
        device = next(self.model.parameters()).device
        try:
            with torch.inference_mode():
                for indices in length_bucketed_batches([len(w) for w in windows], batch_size, shuffle=False):
                    batch = self.collate([windows[i] for i in indices])
                    batch.pop("labels", None)
                    logits = self.model(**{k: v.to(device) for k, v in batch.items()}).logits
                    probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
                    for row, i in enumerate(indices):
                        out[i] = probs[row, : len(windows[i])]
        finally:
            self.model.train(was_training)
        return out

    def predict(
        self, texts: Sequence[str], *, contexts: Sequence[str] | None = None, batch_size: int = 16
    ) -> list[list[Component]]:
        """The components of each text, in input order (``[]`` for an empty text); ids ``c1, c2, ...`` per text.

        Each component's ``score`` is the mean probability, over its words, of being inside a component
        of its label. ``contexts`` (one per text) is required by, and only read by, a segmenter trained
        with ``context: position``.
        """
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not a single string")
        return [
            decode_words(tok.text, tok.words, merged, self.tags, self.decoding)
            for tok, merged in self.word_probabilities(texts, contexts=contexts, batch_size=batch_size)
        ]

    def word_probabilities(
        self, texts: Sequence[str], *, contexts: Sequence[str] | None = None, batch_size: int = 16
    ) -> list[tuple[TokenizedText, np.ndarray]]:
        """Each text tokenized, with one tag-probability row per word (windows merged): what decoding reads.

        Studies of decoding cache these and call ``decoding.decode_words`` on them.
        """
        tokenized = self.tokenize(texts)
        per_text = [self.windows(t, context=c) for t, c in zip(tokenized, self.contexts(texts, contexts))]
        flat = [w for windows in per_text for w in windows]
        probabilities = self.window_probabilities(flat, batch_size=batch_size)
        out = []
        position = 0
        for tok, windows in zip(tokenized, per_text):
            probs = probabilities[position : position + len(windows)]
            position += len(windows)
            merged = merge_windows(tok, windows, probs) if tok.words else np.zeros((0, len(self.tags)), np.float32)
            out.append((tok, merged))
        return out

    def predict_threads(self, threads: Sequence[Thread], *, batch_size: int = 16) -> list[Thread]:
        """Copies of the threads whose posts and comments hold the predicted components instead of the gold ones.

        Component ids are ``<message id>.c<k>``; relations (which name gold
        components) are dropped. The input threads are not changed.
        """
        messages = [m for thread in threads for m in thread.messages()]
        contexts = [c for thread in threads for c in message_contexts(thread, self.context)]
        predicted = iter(self.predict([m.text for m in messages], contexts=contexts, batch_size=batch_size))
        out = []
        for thread in threads:
            renamed = []
            for message in thread.messages():
                components = [replace(c, id=f"{message.id}.{c.id}") for c in next(predicted)]
                renamed.append(with_components(message, components))
            out.append(replace(thread, post=renamed[0], comments=tuple(renamed[1:]), relations=()))
        return out
