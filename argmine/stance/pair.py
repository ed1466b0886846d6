"""A stance classifier on a frozen sentence encoder: features of the post and the comment, a linear head.

    StanceInput(post, text, parent)
      post   ──first sentence (its title or thesis: what it claims)───────┐
      text   ──windows over the whole text──► mean window, last window    ├─ frozen all-MiniLM-L6-v2,
      parent ──windows──► mean (absent for a direct reply)                 ┘  mean-pooled, unit length
    ──► features [v, u·v, |u−v|, v_last, p·v, flags] ──► multinomial logistic regression ──► Stance

Why a frozen encoder: the checkpoint keeps only the head (a few hundred KB of
JSON and safetensors) and is rebuilt on the packaged encoder after checking
its SHA-256; a post is embedded once per thread rather than once per comment;
and training embeds each text once, so fitting the head takes seconds and
many settings and corpus mixes can be compared on every dev set.

Why windows: a 900-word comment is read in full, as overlapping windows of
``window`` tokens whose embeddings are averaged (``v``); the last window
(``v_last``) is kept apart because a long comment often states its stance at
its end. The post is represented by its first sentence (a CMV title, a
thesis), not by its first tokens: ``u`` is the embedding of that sentence,
and ``u_full`` (the windows of the whole post) is available as a feature.

The head is fitted with scikit-learn's ``LogisticRegression`` and stored as
plain arrays; prediction is numpy arithmetic on the stored arrays, so a
reloaded classifier runs the very same computation.

Checkpoint folder (see ``argmine.checkpoint``):

    argmine.json        kind "stance-pair", labels, base encoder + SHA-256, settings (features, window, C, ...)
    head.safetensors    coef (labels × features), intercept
    README.md           model card
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from argmine.checkpoint import (
    CheckpointMeta,
    SavedModel,
    card_scores,
    encoder_fingerprint,
    require_files,
    resolve_encoder,
    staged_checkpoint,
    verify_base_encoder,
)
from argmine.errors import CheckpointError, InputError
from argmine.precision import convert
from argmine.stance.inputs import StanceInput, TextPair, as_input
from argmine.thread import Stance
from argmine.transformer import quiet

log = logging.getLogger(__name__)

KIND = "stance-pair"
HEAD_FILE = "head.safetensors"
# What each feature block is; ``u`` the post's first sentence, ``U`` the whole post, ``v`` the text
# (mean of its windows), ``l`` the text's last window, ``p`` the parent (zeros for a direct reply).
FEATURE_BLOCKS = {
    "v": "the text",
    "u": "the post's first sentence",
    "uv": "u·v (elementwise)",
    "absdiff": "|u − v|",
    "U": "the whole post",
    "Uv": "U·v",
    "last": "the text's last window",
    "ulast": "u·last",
    "pv": "p·v, the parent times the text",
    "flags": "has a parent, is the post itself",
}
DEFAULT_FEATURES = ("v", "uv", "absdiff", "last", "ulast", "pv", "flags")

_SENTENCE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")


def first_sentence(text: str, max_chars: int = 400) -> str:
    """The post's first sentence or line: a CMV title, a thesis; the text itself if it has no break."""
    stripped = text.strip()
    match = _SENTENCE.search(stripped)
    head = stripped[: match.start() + len(match.group(0).rstrip())] if match else stripped
    return (head.strip() or stripped)[:max_chars]


class SentenceEncoder:
    """A frozen encoder read as all-MiniLM-L6-v2 was trained to be read: mean of token states, unit length.

    ``encode`` embeds each distinct text once, as windows of ``window`` tokens
    (``stride`` shared between neighbours) covering the whole text; it returns
    the mean window (renormalised) and the last window of each text.
    """

    def __init__(self, model: nn.Module, tokenizer: Any, *, window: int = 128, stride: int = 32) -> None:
        if window < 8 or not 0 <= stride < window - 2:
            raise InputError(f"window must be ≥ 8 tokens and stride below window − 2, got {window} and {stride}")
        self.model, self.tokenizer, self.window, self.stride = model.eval(), tokenizer, window, stride
        self.precision = "float32"  # what the weights are in: float32 unless to_precision converted them

    def to_precision(self, precision: str) -> SentenceEncoder:
        """Run in ``precision`` (``argmine.precision``) from now on, converted in place; returns ``self``."""
        self.model, self.precision = convert(self.model, self.precision, precision)
        return self

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def _windows(self, text: str) -> list[list[int]]:
        # verbose=False: a text longer than the encoder's positions is expected here, it is cut into windows
        ids = self.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        room = self.window - 2  # [CLS] and [SEP]
        step = room - self.stride
        starts = range(0, max(len(ids) - self.stride, 1), step) if len(ids) > room else [0]
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        return [[cls, *ids[s : s + room], sep] for s in starts]

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """(mean, last): two arrays of shape (len(texts), dim), one row per text, float32, unit length."""
        windows: list[list[int]] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for w in self._windows(text):
                windows.append(w)
                owner.append(i)
        vectors = np.zeros((len(windows), self.dim), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda k: len(windows[k]))  # similar lengths pad little
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                batch = order[s : s + batch_size]
                longest = max(len(windows[k]) for k in batch)
                ids = torch.full((len(batch), longest), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), longest), dtype=torch.long)
                for row, k in enumerate(batch):
                    ids[row, : len(windows[k])] = torch.tensor(windows[k])
                    mask[row, : len(windows[k])] = 1
                states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(states.dtype)
                mean = (states * weights).sum(1) / weights.sum(1).clamp(min=1)
                vectors[batch] = nn.functional.normalize(mean.float(), dim=-1).numpy()
        mean_of = np.zeros((len(texts), self.dim), dtype=np.float32)
        last_of = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts = np.zeros(len(texts), dtype=np.float32)
        for k, i in enumerate(owner):
            mean_of[i] += vectors[k]
            counts[i] += 1
            last_of[i] = vectors[k]  # windows come in text order: the last one written stays
        mean_of /= np.maximum(counts, 1)[:, None]
        mean_of /= np.maximum(np.linalg.norm(mean_of, axis=1, keepdims=True), 1e-12)
        return mean_of, last_of


def load_encoder(folder: Path) -> tuple[nn.Module, Any]:
    """A base encoder folder as a plain ``AutoModel`` and its tokenizer: local files, safetensors, no code."""
    from transformers import AutoModel, AutoTokenizer

    with quiet():
        model = AutoModel.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    return model.eval(), tokenizer


def pair_features(
    encoder: SentenceEncoder, inputs: Sequence[StanceInput], features: Sequence[str], *, batch_size: int = 32
) -> np.ndarray:
    """The feature rows of ``inputs`` (see ``FEATURE_BLOCKS``); each distinct text is embedded once."""
    unknown = [f for f in features if f not in FEATURE_BLOCKS]
    if unknown:
        raise InputError(f"unknown pair features {unknown}; expected some of {', '.join(FEATURE_BLOCKS)}")
    texts: dict[str, int] = {}

    def slot(text: str) -> int:
        return texts.setdefault(text, len(texts))

    rows = []
    for item in inputs:
        rows.append(
            (
                slot(first_sentence(item.post)),
                slot(item.post),
                slot(item.text),
                slot(item.parent) if item.parent is not None else None,
            )
        )
    mean, last = encoder.encode(list(texts), batch_size=batch_size)
    zeros = np.zeros(encoder.dim, dtype=np.float32)
    out = []
    for item, (head, whole, text, parent) in zip(inputs, rows):
        u, big_u, v, tail = mean[head], mean[whole], mean[text], last[text]
        p = mean[parent] if parent is not None else zeros
        block = {
            "v": lambda: v,
            "u": lambda: u,
            "uv": lambda: u * v,
            "absdiff": lambda: np.abs(u - v),
            "U": lambda: big_u,
            "Uv": lambda: big_u * v,
            "last": lambda: tail,
            "ulast": lambda: u * tail,
            "pv": lambda: p * v,
            "flags": lambda: np.array([parent is not None, item.post == item.text], dtype=np.float32),
        }
        out.append(np.concatenate([block[name]() for name in features]))
    return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


class PairStanceClassifier(SavedModel):
    """Stance from frozen-encoder features of (post, text, parent) and a logistic-regression head."""

    KIND = KIND

    def __init__(self, encoder: SentenceEncoder, coef: np.ndarray, intercept: np.ndarray, meta: CheckpointMeta) -> None:
        features = tuple(meta.settings.get("features") or ())
        if coef.ndim != 2 or coef.shape[0] != len(meta.labels) or intercept.shape != (len(meta.labels),):
            raise ValueError(f"head of shape {coef.shape} + {intercept.shape} does not fit {len(meta.labels)} labels")
        self.encoder, self.coef, self.intercept, self.meta = encoder, coef, intercept, meta
        self.features = features

    @property
    def labels(self) -> tuple[str, ...]:
        return self.meta.labels

    @property
    def precision(self) -> str:
        return self.encoder.precision

    def merged(self) -> PairStanceClassifier:
        """``self``: a frozen encoder has no adapters to merge."""
        return self

    def to_precision(self, precision: str) -> PairStanceClassifier:
        """Run the encoder in ``precision`` from now on, converted in place; returns ``self``.

        The head stays float32 and can still be saved: the encoder is not part of the checkpoint.
        """
        self.encoder.to_precision(precision)
        return self

    @classmethod
    def create(
        cls,
        labels: Sequence[str],
        *,
        encoder: str = "minilm",
        features: Sequence[str] = DEFAULT_FEATURES,
        window: int = 128,
        stride: int = 32,
    ) -> PairStanceClassifier:
        """An untrained classifier (a zero head) on the encoder ``encoder`` (a packaged name or a local folder)."""
        folder = resolve_encoder(encoder)
        model, tokenizer = load_encoder(folder)
        sentence = SentenceEncoder(model, tokenizer, window=window, stride=stride)
        width = len(pair_features(sentence, [StanceInput("a.", "b.", "c.")], features)[0])
        meta = CheckpointMeta(
            kind=KIND,
            labels=tuple(labels),
            base_encoder=str(encoder),
            base_sha256=encoder_fingerprint(folder),
            finetune="frozen",
            settings={"features": list(features), "window": window, "stride": stride},
        )
        return cls(sentence, np.zeros((len(labels), width), np.float32), np.zeros(len(labels), np.float32), meta)

    def features_of(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> np.ndarray:
        return pair_features(self.encoder, [as_input(x) for x in inputs], self.features, batch_size=batch_size)

    def with_head(self, coef: np.ndarray, intercept: np.ndarray, **settings: Any) -> PairStanceClassifier:
        """The same encoder with a new head; ``settings`` are added to the recorded ones."""
        meta = CheckpointMeta(
            kind=KIND,
            labels=self.meta.labels,
            base_encoder=self.meta.base_encoder,
            base_sha256=self.meta.base_sha256,
            finetune=self.meta.finetune,
            settings={**self.meta.settings, **settings},
            training=dict(self.meta.training),
        )
        return PairStanceClassifier(self.encoder, coef.astype(np.float32), intercept.astype(np.float32), meta)

    def proba_of_features(self, x: np.ndarray) -> np.ndarray:
        return softmax_rows(x @ self.coef.T + self.intercept)

    def predict_proba(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> np.ndarray:
        """Label probabilities, one row per input, columns in ``labels`` order."""
        if not inputs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self.proba_of_features(self.features_of(inputs, batch_size=batch_size))

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> list[Stance]:
        """One ``Stance`` per input, in input order, scored with its probability."""
        probabilities = self.predict_proba(inputs, batch_size=batch_size)
        return [Stance(self.labels[j], float(row[j])) for row, j in zip(probabilities, probabilities.argmax(axis=1))]

    # -- checkpoints ----------------------------------------------------------------

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the folder atomically: ``argmine.json``, the head's arrays, the card."""
        from safetensors.numpy import save_file

        card = card if card is not None else self.model_card()
        with staged_checkpoint(folder, self.meta, card) as tmp:
            save_file({"coef": self.coef, "intercept": self.intercept}, str(tmp / HEAD_FILE))
        return Path(folder)

    @classmethod
    def from_meta(cls, folder: Path, meta: CheckpointMeta) -> PairStanceClassifier:
        """The classifier saved in ``folder`` whose ``argmine.json`` is ``meta`` (read by ``from_pretrained``).

        Checks the features, windows and head, and rebuilds it on the verified base encoder.
        """
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        require_files(folder, [HEAD_FILE])
        where = folder / "argmine.json"
        settings = meta.settings
        features = settings.get("features")
        if not isinstance(features, list) or not features or any(f not in FEATURE_BLOCKS for f in features):
            raise CheckpointError(f"{where}: settings.features must be a list of {', '.join(FEATURE_BLOCKS)}")
        for key in ("window", "stride"):
            if isinstance(settings.get(key), bool) or not isinstance(settings.get(key), int):
                raise CheckpointError(f"{where}: settings.{key} must be an integer, got {settings.get(key)!r}")
        try:
            arrays = load_file(str(folder / HEAD_FILE))
        except (SafetensorError, OSError) as error:
            raise CheckpointError(f"{folder / HEAD_FILE}: not a readable safetensors file ({error})") from None
        coef, intercept = arrays.get("coef"), arrays.get("intercept")
        if coef is None or intercept is None:
            raise CheckpointError(f"{folder / HEAD_FILE}: needs the arrays coef and intercept")
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise CheckpointError(f"{folder / HEAD_FILE}: the head holds NaN or infinite values")
        encoder_folder = verify_base_encoder(meta, folder)
        model, tokenizer = load_encoder(encoder_folder)
        max_positions = int(getattr(model.config, "max_position_embeddings", 512))
        if settings["window"] > max_positions:
            raise CheckpointError(f"{where}: settings.window {settings['window']} exceeds the encoder's {max_positions}")
        try:
            sentence = SentenceEncoder(model, tokenizer, window=settings["window"], stride=settings["stride"])
            classifier = cls(sentence, coef.astype(np.float32), intercept.astype(np.float32), meta)
            width = classifier.features_of([StanceInput("a.", "b.")]).shape[1]
        except ValueError as error:
            raise CheckpointError(f"{where}: {error}") from None
        if coef.shape != (len(meta.labels), width):
            raise CheckpointError(
                f"{folder / HEAD_FILE}: coef has shape {coef.shape}, expected {(len(meta.labels), width)} "
                "for these labels and features"
            )
        return classifier

    def model_card(self) -> str:
        settings = self.meta.settings
        lines = [
            "# argmine stance classifier: frozen sentence encoder + linear head",
            "",
            "Stance toward the original post from mean-pooled embeddings of the post's first sentence, the",
            "whole comment (windows), its last window and the parent comment, under a logistic-regression head.",
            "",
            f"- labels: {', '.join(self.labels)}",
            f"- base encoder: {self.meta.base_encoder} (sha256 {self.meta.base_sha256}), frozen",
            f"- features: {', '.join(settings.get('features', []))}",
            f"- windows of {settings.get('window')} tokens, {settings.get('stride')} shared",
        ]
        if settings.get("C") is not None:
            lines.append(f"- inverse regularisation C: {settings['C']}")
        lines += card_scores(self.meta.training.get("metrics") or {})
        lines += ["", f"Written by argmine {self.meta.argmine_version}.", ""]
        return "\n".join(lines)
