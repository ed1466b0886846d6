"""The claim / premise segmenter: an encoder with a BIO token-classification head.

    texts ──tokenize / make_windows──► windows ──► encoder + head ──► softmax per token
                                                                         │
    list[list[Component]] ◄── decode (merge windows, Viterbi IOB2, char offsets) ◄┘

The model is a Hugging Face token classifier over a base encoder (the
packaged all-MiniLM-L6-v2 by default), fine-tuned either with LoRA (peft: the
checkpoint keeps the adapters and the new head, the delta over the pinned
encoder, about 1.5 MB for MiniLM) or in full (the whole model). Encoding and
decoding are the pure functions of ``argmine.segmenter.encoding``.

Checkpoint folder (see ``argmine.checkpoint``): ``argmine.json`` with kind
``components``, the component labels, and settings ``tags``, ``max_length``,
``stride``, ``decoding`` (and ``lora``); the tokenizer files; a ``README.md``
card; and ``adapter_config.json`` + ``adapter_model.safetensors`` (LoRA) or
``config.json`` + ``model.safetensors`` (full).
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from argmine.checkpoint import (
    META_FILE,
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
from argmine.segmenter.encoding import (
    IGNORE,
    TokenizedText,
    Window,
    bio_tags,
    decode,
    make_windows,
    special_tokens,
    tokenize,
    word_tags,
)
from argmine.thread import Component, Thread, with_components
from argmine.training import length_bucketed_batches

log = logging.getLogger(__name__)

KIND = "components"
FINETUNES = ("lora", "full")
DECODINGS = ("viterbi", "argmax")
# LoRA on every linear layer of the encoder blocks (names are suffixes of BERT module names).
DEFAULT_LORA_TARGETS = ("query", "key", "value", "dense")
# Trained in full and saved beside the adapters: the new token-classification head.
LORA_SAVED_MODULES = ("classifier",)
HEAD_WEIGHT = "classifier.weight"


class Segmenter:
    """Finds claims / premises in texts; build with ``create`` (untrained) or ``from_pretrained``."""

    def __init__(self, model: nn.Module, tokenizer: Any, meta: CheckpointMeta) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.tags = bio_tags(meta.labels)
        self.max_length = int(meta.settings["max_length"])
        self.stride = int(meta.settings["stride"])
        self.decoding = str(meta.settings.get("decoding", "viterbi"))
        self.prefix, self.suffix = special_tokens(tokenizer)
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
        decoding: str = "viterbi",
        lora_rank: int = 8,
        lora_alpha: int | None = None,
        lora_dropout: float = 0.1,
        lora_targets: Sequence[str] = DEFAULT_LORA_TARGETS,
    ) -> Segmenter:
        """A new, untrained segmenter for ``labels`` on the base ``encoder`` (a name or a folder).

        ``max_length`` is the window in tokens (special tokens included),
        ``stride`` how many tokens consecutive windows share. ``lora_alpha``
        defaults to ``2 * lora_rank``. Seed torch first for a reproducible head.
        """
        labels = tuple(labels)
        tags = bio_tags(labels)  # validates the labels
        if finetune not in FINETUNES:
            raise ValueError(f"finetune must be one of {', '.join(FINETUNES)}, got {finetune!r}")
        if decoding not in DECODINGS:
            raise ValueError(f"decoding must be one of {', '.join(DECODINGS)}, got {decoding!r}")
        folder = resolve_encoder(encoder)
        tokenizer = _load_tokenizer(folder)
        model = _base_model(folder, tags)
        positions = getattr(model.config, "max_position_embeddings", max_length)
        if not 8 <= max_length <= positions:
            raise ValueError(f"max_length must be between 8 and the encoder's {positions} positions, got {max_length}")
        if not 0 <= stride <= max_length // 2:
            raise ValueError(f"stride must be between 0 and max_length / 2 = {max_length // 2}, got {stride}")
        settings: dict[str, Any] = {
            "tags": list(tags),
            "max_length": max_length,
            "stride": stride,
            "decoding": decoding,
        }
        if finetune == "lora":
            from peft import LoraConfig, TaskType, get_peft_model

            if lora_rank < 1:
                raise ValueError(f"lora_rank must be at least 1, got {lora_rank}")
            alpha = 2 * lora_rank if lora_alpha is None else lora_alpha
            config = LoraConfig(
                task_type=TaskType.TOKEN_CLS,
                r=lora_rank,
                lora_alpha=alpha,
                lora_dropout=lora_dropout,
                target_modules=list(lora_targets),
                modules_to_save=list(LORA_SAVED_MODULES),
            )
            with _quiet():
                model = get_peft_model(model, config)
            settings["lora"] = {"r": lora_rank, "alpha": alpha, "dropout": lora_dropout, "targets": list(lora_targets)}
        meta = CheckpointMeta(
            kind=KIND,
            labels=labels,
            base_encoder=str(encoder),
            base_sha256=encoder_fingerprint(folder),
            finetune=finetune,
            settings=settings,
        )
        return cls(model, tokenizer, meta)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> Segmenter:
        """Load a checkpoint written by ``save_pretrained``; a bad folder raises ``CheckpointError``.

        Reads only JSON, safetensors and tokenizer files, never the network. A
        LoRA checkpoint is rebuilt on its base encoder after checking the
        encoder's fingerprint.
        """
        folder = Path(folder)
        meta = read_meta(folder, kind=KIND)
        where = folder / META_FILE
        if meta.finetune not in FINETUNES:
            raise CheckpointError(f"{where}: finetune must be one of {', '.join(FINETUNES)}, got {meta.finetune!r}")
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
        if meta.settings.get("decoding", "viterbi") not in DECODINGS:
            raise CheckpointError(f"{where}: settings.decoding must be one of {', '.join(DECODINGS)}")
        require_files(folder, ["tokenizer.json", "tokenizer_config.json"])
        if meta.finetune == "lora":
            require_files(folder, ["adapter_config.json", "adapter_model.safetensors"])
            _check_head(folder / "adapter_model.safetensors", len(tags))
            encoder = verify_base_encoder(meta, folder)
            model = _load_lora(folder, encoder, tags)
        else:
            require_files(folder, ["config.json", "model.safetensors"])
            _check_head(folder / "model.safetensors", len(tags))
            model = _load_full(folder, tags)
        tokenizer = _load_tokenizer(folder)
        log.info("loaded segmenter %s (%s, labels %s)", folder, meta.finetune, ", ".join(meta.labels))
        return cls(model, tokenizer, meta)

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the checkpoint folder atomically; ``card`` replaces the generated README.md."""
        folder = Path(folder)
        with staged_folder(folder) as tmp:
            write_meta(tmp, self.meta)
            self.tokenizer.save_pretrained(str(tmp))
            with _quiet():
                if self.finetune == "lora":
                    # The embeddings are never trained; without this, peft looks the base model's
                    # config up by name (a network lookup for "minilm") to decide whether to save them.
                    self.model.save_pretrained(str(tmp), save_embedding_layers=False)
                else:
                    self.model.save_pretrained(str(tmp))
            if self.finetune == "lora":
                _scrub_adapter_config(tmp / "adapter_config.json", self.meta.base_encoder)
            (tmp / "README.md").write_text(card if card is not None else self.model_card(), encoding="utf-8")
        log.info("saved segmenter to %s", folder)
        return folder

    def with_training(self, training: dict[str, Any]) -> Segmenter:
        """The same segmenter with ``training`` (data, command, metrics...) recorded for its card and argmine.json."""
        return Segmenter(self.model, self.tokenizer, replace(self.meta, training=dict(training)))

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
            f"- decoding: {meta.settings.get('decoding', 'viterbi')}",
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
                lines.append(f"- {key.replace('_', ' ')}: {training[key]}")
        metrics = training.get("metrics") or {}
        if metrics:
            lines += ["", "Development scores (best epoch):", ""]
            lines += [
                f"- {k}: {v:.4f}" for k, v in sorted(metrics.items()) if isinstance(v, float) and "/support" not in k
            ]
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

    def windows(self, tokenized: TokenizedText, components: Sequence[Component] | None = None) -> list[Window]:
        """The model inputs of one text; with gold ``components``, labelled for training."""
        labels = word_tags(tokenized, components, self.tags) if components is not None else None
        return make_windows(
            tokenized, labels, max_length=self.max_length, stride=self.stride, prefix=self.prefix, suffix=self.suffix
        )

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

    def predict(self, texts: Sequence[str], *, batch_size: int = 16) -> list[list[Component]]:
        """The components of each text, in input order (``[]`` for an empty text); ids ``c1, c2, ...`` per text.

        Each component's ``score`` is the mean probability, over its words, of being inside a component
        of its label.
        """
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not a single string")
        tokenized = self.tokenize(texts)
        per_text = [self.windows(t) for t in tokenized]
        flat = [w for windows in per_text for w in windows]
        probabilities = self.window_probabilities(flat, batch_size=batch_size)
        results: list[list[Component]] = []
        position = 0
        for tok, windows in zip(tokenized, per_text):
            probs = probabilities[position : position + len(windows)]
            position += len(windows)
            results.append(decode(tok, windows, probs, self.tags, method=self.decoding))
        return results

    def predict_threads(self, threads: Sequence[Thread], *, batch_size: int = 16) -> list[Thread]:
        """Copies of the threads whose posts and comments hold the predicted components instead of the gold ones.

        Component ids are ``<message id>.c<k>``; relations (which name gold
        components) are dropped. The input threads are not changed.
        """
        messages = [m for thread in threads for m in thread.messages()]
        predicted = iter(self.predict([m.text for m in messages], batch_size=batch_size))
        out = []
        for thread in threads:
            renamed = []
            for message in thread.messages():
                components = [replace(c, id=f"{message.id}.{c.id}") for c in next(predicted)]
                renamed.append(with_components(message, components))
            out.append(replace(thread, post=renamed[0], comments=tuple(renamed[1:]), relations=()))
        return out


# -- loading helpers -------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence transformers' load report ("newly initialized: classifier", expected here) and its progress bars."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{folder}: cannot load the tokenizer ({_first_line(error)})") from None
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(f"{folder}: the segmenter needs a fast tokenizer (tokenizer.json) for character offsets")
    return tokenizer


def _label_maps(tags: Sequence[str]) -> dict[str, Any]:
    return {"num_labels": len(tags), "id2label": dict(enumerate(tags)), "label2id": {t: i for i, t in enumerate(tags)}}


def _base_model(encoder: Path, tags: Sequence[str]) -> nn.Module:
    from transformers import AutoModelForTokenClassification

    with _quiet():
        return AutoModelForTokenClassification.from_pretrained(str(encoder), local_files_only=True, **_label_maps(tags))


def _check_head(weights: Path, n_tags: int) -> None:
    """The head's output size must be the number of tags: catches a label list edited after training."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as handle:
            heads = [k for k in handle.keys() if k == HEAD_WEIGHT or k.endswith("." + HEAD_WEIGHT)]  # noqa: SIM118
            rows = handle.get_slice(heads[0]).get_shape()[0] if heads else None
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({_first_line(error)})") from None
    if rows is None:
        raise CheckpointError(f"{weights}: no {HEAD_WEIGHT} tensor (not a segmenter's weights?)")
    if rows != n_tags:
        raise CheckpointError(
            f"{weights}: the head predicts {rows} tags but argmine.json's labels make {n_tags} "
            "(labels edited after training?)"
        )


def _load_lora(folder: Path, encoder: Path, tags: Sequence[str]) -> nn.Module:
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
    from safetensors import safe_open

    base = _base_model(encoder, tags)
    try:
        with _quiet():
            model = PeftModel.from_pretrained(base, str(folder), is_trainable=False)
    except (RuntimeError, ValueError, OSError, KeyError, TypeError) as error:
        raise CheckpointError(f"{folder}: cannot load the LoRA adapter ({_first_line(error)})") from None
    with safe_open(str(folder / "adapter_model.safetensors"), framework="pt") as handle:
        saved = set(handle.keys())
    for config in model.peft_config.values():  # the folder it was really built from, not the name in the file
        config.base_model_name_or_path = str(encoder)
    expected = set(get_peft_model_state_dict(model, save_embedding_layers=False).keys())
    if saved != expected:
        missing = sorted(expected - saved)
        raise CheckpointError(
            f"{folder / 'adapter_model.safetensors'}: does not match adapter_config.json "
            f"({len(missing)} tensors missing, e.g. {missing[:2]}; {len(saved - expected)} unexpected)"
        )
    return model


def _load_full(folder: Path, tags: Sequence[str]) -> nn.Module:
    from transformers import AutoModelForTokenClassification

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{folder / 'config.json'}: not valid JSON ({error})") from None
    id2label = config.get("id2label") or {}
    saved = [id2label.get(str(i)) for i in range(len(id2label))]
    if saved != list(tags):
        raise CheckpointError(f"{folder}: config.json tags {saved} differ from argmine.json's {list(tags)}")
    try:
        with _quiet():
            model, info = AutoModelForTokenClassification.from_pretrained(
                str(folder), local_files_only=True, output_loading_info=True
            )
    except (RuntimeError, ValueError, OSError) as error:
        raise CheckpointError(f"{folder}: cannot load the model ({_first_line(error)})") from None
    if info.get("missing_keys") or info.get("mismatched_keys"):
        missing = sorted(info.get("missing_keys") or []) + [str(k) for k in info.get("mismatched_keys") or []]
        raise CheckpointError(f"{folder / 'model.safetensors'}: incomplete weights, e.g. {missing[:2]}")
    return model


def _scrub_adapter_config(path: Path, base_encoder: str | None) -> None:
    """Record the encoder as argmine names it, not as an absolute path of the training machine."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = base_encoder
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
