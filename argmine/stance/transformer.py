"""A cross-encoder stance classifier: (post [+ parent], item) → support / attack / none (or a corpus's labels).

    StanceInput ──encode_pairs (to_pair with this tokenizer's counts)──► token ids ──► encoder + head ──► softmax
                                                                                             │
    list[Stance(label, score = its probability)] ◄── argmax, back in input order ◄─────────────┘

The model is the packaged encoder with a sequence-pair classification head,
fine-tuned either with LoRA (peft; the checkpoint holds the adapters, the
head and the pooler: the delta over the pinned encoder, ~1 MB for MiniLM) or
in full. The class imbalance (``none``/``comment`` dominate) is answered at
training time by a class-weighted loss (see ``argmine.stance.train``); the
classifier itself is a plain argmax.

Checkpoint folder (see ``argmine.checkpoint``): ``argmine.json`` with
kind ``stance``, the tokenizer files, a ``README.md`` card, and either
``adapter_config.json`` + ``adapter_model.safetensors`` (LoRA) or
``config.json`` + ``model.safetensors`` (full).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from argmine.checkpoint import (
    CheckpointMeta,
    encoder_fingerprint,
    read_meta,
    require_files,
    resolve_encoder,
    staged_folder,
    verify_base_encoder,
    write_meta,
)
from argmine.errors import CheckpointError
from argmine.stance.inputs import StanceInput, TextPair, as_input, to_pair
from argmine.thread import Stance
from argmine.training import length_bucketed_batches

log = logging.getLogger(__name__)

KIND = "stance"
FINETUNES = ("lora", "full")
# LoRA on every linear layer of the encoder blocks; names are suffixes of BERT module names.
DEFAULT_LORA_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")
# Trained in full and saved with the adapters: the new head, and the pooler it reads.
LORA_SAVED_MODULES = ("classifier", "pooler")


def _load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(f"{folder}: needs a fast tokenizer (tokenizer.json)")
    return tokenizer


def _base_model(encoder: Path, labels: Sequence[str]) -> nn.Module:
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            str(encoder),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
    finally:
        hf_logging.set_verbosity(verbosity)


class TransformerStanceClassifier:
    """A fine-tuned encoder that reads (post [+ parent], item) pairs; build with ``create`` or ``from_pretrained``."""

    def __init__(self, model: nn.Module, tokenizer: Any, meta: CheckpointMeta) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.max_length = int(meta.settings["max_length"])
        self.post_reserve = int(meta.settings.get("post_reserve", 64))
        self.parent_reserve = int(meta.settings.get("parent_reserve", 48))
        self.budget = self.max_length - tokenizer.num_special_tokens_to_add(pair=True)
        self.model.eval()

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
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.1,
        lora_targets: Sequence[str] = DEFAULT_LORA_TARGETS,
    ) -> TransformerStanceClassifier:
        """A new, untrained classifier over ``labels`` on the base ``encoder`` (a name or a folder)."""
        labels = tuple(labels)
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError(f"labels must be at least two distinct strings, got {list(labels)}")
        if finetune not in FINETUNES:
            raise ValueError(f"finetune must be one of {', '.join(FINETUNES)}, got {finetune!r}")
        folder = resolve_encoder(encoder)
        tokenizer = _load_tokenizer(folder)
        model = _base_model(folder, labels)
        positions = getattr(model.config, "max_position_embeddings", max_length)
        if not 16 <= max_length <= positions:
            raise ValueError(f"max_length must be between 16 and the encoder's {positions} positions, got {max_length}")
        settings: dict[str, Any] = {
            "max_length": max_length,
            "post_reserve": post_reserve,
            "parent_reserve": parent_reserve,
        }
        if finetune == "lora":
            from peft import LoraConfig, TaskType, get_peft_model

            config = LoraConfig(
                task_type=TaskType.SEQ_CLS,
                r=lora_r,
                lora_alpha=lora_alpha,
                lora_dropout=lora_dropout,
                target_modules=list(lora_targets),
                modules_to_save=list(LORA_SAVED_MODULES),
            )
            model = get_peft_model(model, config)
            settings["lora"] = {
                "r": lora_r,
                "alpha": lora_alpha,
                "dropout": lora_dropout,
                "targets": list(lora_targets),
            }
        meta = CheckpointMeta(
            kind=KIND,
            labels=labels,
            base_encoder=str(encoder),
            base_sha256=encoder_fingerprint(folder),
            finetune=finetune,
            settings=settings,
        )
        classifier = cls(model, tokenizer, meta)
        if classifier.budget < post_reserve + parent_reserve + 24:
            raise ValueError(
                f"max_length {max_length} leaves too little room after the post ({post_reserve}) and parent "
                f"({parent_reserve}) reserves"
            )
        return classifier

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> TransformerStanceClassifier:
        """Load a checkpoint written by ``save_pretrained``; a bad folder raises ``CheckpointError``."""
        folder = Path(folder)
        meta = read_meta(folder, kind=KIND)
        if meta.finetune not in FINETUNES:
            raise CheckpointError(
                f"{folder / 'argmine.json'}: finetune must be one of {FINETUNES}, got {meta.finetune!r}"
            )
        if not isinstance(meta.settings.get("max_length"), int):
            raise CheckpointError(f"{folder / 'argmine.json'}: settings.max_length must be an integer")
        require_files(folder, ["tokenizer.json", "tokenizer_config.json"])
        tokenizer = _load_tokenizer(folder)
        if meta.finetune == "lora":
            require_files(folder, ["adapter_config.json", "adapter_model.safetensors"])
            encoder = verify_base_encoder(meta, folder)
            from peft import PeftModel
            from safetensors import SafetensorError

            base = _base_model(encoder, meta.labels)
            try:
                model = PeftModel.from_pretrained(base, str(folder))
            except (RuntimeError, ValueError, OSError, KeyError, SafetensorError) as error:
                raise CheckpointError(f"{folder}: cannot load the LoRA adapter ({_first_line(error)})") from None
        else:
            require_files(folder, ["config.json", "model.safetensors"])
            model = _load_full(folder, meta.labels)
        log.info("loaded stance classifier %s (%s, labels %s)", folder, meta.finetune, ", ".join(meta.labels))
        return cls(model, tokenizer, meta)

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the checkpoint folder atomically; ``card`` replaces the generated README.md."""
        folder = Path(folder)
        with staged_folder(folder) as tmp:
            write_meta(tmp, self.meta)
            self.tokenizer.save_pretrained(str(tmp))
            if self.meta.finetune == "lora":
                # The embeddings are the base encoder's: not saving them also stops peft looking them up on the hub.
                self.model.save_pretrained(str(tmp), save_embedding_layers=False)
                _scrub_adapter_config(tmp / "adapter_config.json", self.meta.base_encoder)
            else:
                self.model.save_pretrained(str(tmp))
            (tmp / "README.md").write_text(card if card is not None else self.model_card(), encoding="utf-8")
        return folder

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
            f"- max length: {meta.settings.get('max_length')} tokens (long texts reduced to their first sentences)",
        ]
        for key in ("data", "level", "epochs", "best_epoch", "seed", "class_weighting"):
            if key in meta.training:
                lines.append(f"- {key.replace('_', ' ')}: {meta.training[key]}")
        if metrics:
            lines += ["", "Development scores:", ""]
            lines += [f"- {k}: {v:.4f}" for k, v in sorted(metrics.items()) if isinstance(v, float)]
        lines += ["", f"Written by argmine {meta.argmine_version}.", ""]
        return "\n".join(lines)

    # -- encoding ---------------------------------------------------------------

    def encode_pairs(self, inputs: Sequence[StanceInput | TextPair]) -> list[TextPair]:
        """The text pairs this model reads, each fitting ``max_length`` tokens (see ``argmine.stance.inputs``)."""
        count = lru_cache(maxsize=4096)(self.count_tokens)
        return [
            to_pair(
                as_input(item),
                budget=self.budget,
                count_tokens=count,
                post_reserve=self.post_reserve,
                parent_reserve=self.parent_reserve,
            )
            for item in inputs
        ]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens (long texts are measured, not truncated, so no warning)."""
        return len(self.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def tokenize(self, inputs: Sequence[StanceInput | TextPair]) -> list[dict[str, list[int]]]:
        """Token ids of each input's pair (no padding), checked to fit ``max_length``."""
        pairs = self.encode_pairs(inputs)
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
        """Label probabilities, one row per input in input order, columns in ``labels`` order."""
        return self.proba_of_rows(self.tokenize(inputs), batch_size=batch_size)

    def proba_of_rows(self, rows: Sequence[dict[str, list[int]]], *, batch_size: int = 32) -> np.ndarray:
        """``predict_proba`` for inputs already tokenized by ``tokenize`` (dev evaluation reuses them)."""
        out = np.zeros((len(rows), len(self.labels)), dtype=np.float32)
        if not rows:
            return out
        was_training = self.model.training
        self.model.eval()
        lengths = [len(row["input_ids"]) for row in rows]
        with torch.inference_mode():
            for indices in length_bucketed_batches(lengths, batch_size, shuffle=False):
                batch = self.collate([rows[i] for i in indices])
                logits = self.model(**batch).logits.float()
                out[indices] = torch.softmax(logits, dim=-1).numpy()
        self.model.train(was_training)
        return out

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> list[Stance]:
        """One ``Stance`` per input, in input order, scored with its probability."""
        probabilities = self.predict_proba(inputs, batch_size=batch_size)
        best = probabilities.argmax(axis=1) if len(probabilities) else []
        return [Stance(self.labels[j], float(probabilities[i, j])) for i, j in enumerate(best)]


def _load_full(folder: Path, labels: Sequence[str]) -> nn.Module:
    from transformers import AutoModelForSequenceClassification

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{folder / 'config.json'}: not valid JSON ({error})") from None
    id2label = config.get("id2label") or {}
    saved = [id2label.get(str(i)) for i in range(len(id2label))]
    if saved != list(labels):
        raise CheckpointError(f"{folder}: config.json labels {saved} differ from argmine.json labels {list(labels)}")
    from safetensors import SafetensorError

    try:
        return AutoModelForSequenceClassification.from_pretrained(str(folder))
    except (RuntimeError, ValueError, OSError, SafetensorError) as error:
        raise CheckpointError(f"{folder}: cannot load the model ({_first_line(error)})") from None


def _scrub_adapter_config(path: Path, base_encoder: str | None) -> None:
    """Record the encoder as argmine names it, not as an absolute path of the training machine."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = base_encoder
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
