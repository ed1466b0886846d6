"""Train a segmenter: messages with gold components → a checkpoint folder + dev scores.

    train messages ──word_tags + make_windows──► labelled windows ──► argmine.training.fit
    dev messages ──Segmenter.predict──► components ──message_component_metrics──► pick the best epoch
    best epoch ──save_pretrained──► output_dir (argmine.json records data, settings and scores)

Plain typed arguments, no Hydra: the entry point maps its config onto them. Under
``torchrun`` every process calls ``train_segmenter``; ``fit`` shares the batches out,
and only rank 0 evaluates and saves the checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from argmine.metrics.components import message_component_metrics
from argmine.segmenter.context import check_context, message_contexts
from argmine.segmenter.model import Segmenter
from argmine.thread import Component, Thread
from argmine.training import TrainSettings, fit, is_main_process, seed_everything, use_cpu_threads

log = logging.getLogger(__name__)

SELECT_METRIC = "components/span_exact/micro_f1"
Example = tuple[str, Sequence[Component]]  # a message text and its gold components
Examples = Sequence[Example] | Sequence[Thread]


def messages_of(data: Examples) -> list[Example]:
    """``(text, components)`` of every post and comment of threads (tuples pass through unchanged).

    Every message counts, also those without components (all words ``O``):
    drop messages that were not annotated before calling.
    """
    out: list[Example] = []
    for item in data:
        if isinstance(item, Thread):
            out += [(m.text, tuple(m.components)) for m in item.messages()]
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append((item[0], tuple(item[1])))
        else:
            raise TypeError(f"expected Thread or (text, components) items, got {type(item).__name__}")
    return out


def contexts_of(data: Examples, context: str) -> list[str]:
    """The context of every message ``messages_of`` returns, in the same order (see ``argmine.segmenter.context``).

    ``(text, components)`` pairs carry no position, so they need ``context="none"``.
    """
    out: list[str] = []
    for item in data:
        if isinstance(item, Thread):
            out += message_contexts(item, context)
        elif check_context(context) == "none":
            out.append("")
        else:
            raise ValueError(
                f"context {context!r} needs threads (where each message sits), not (text, components) pairs"
            )
    return out


def evaluate_segmenter(segmenter: Segmenter, data: Examples, *, batch_size: int = 32) -> dict[str, float]:
    """Component scores of the segmenter's predictions on gold messages (keys of ``argmine.metrics.components``)."""
    examples = messages_of(data)
    predicted = segmenter.predict(
        [text for text, _ in examples], contexts=contexts_of(data, segmenter.context), batch_size=batch_size
    )
    messages = [("", str(i), text) for i, (text, _) in enumerate(examples)]
    return message_component_metrics(messages, [c for _, c in examples], predicted, labels=segmenter.labels)


def train_segmenter(
    train: Examples,
    dev: Examples | None,
    *,
    labels: Sequence[str],
    output_dir: str | Path,
    encoder: str | Path = "minilm",
    finetune: str = "lora",
    epochs: int = 10,
    learning_rate: float = 5e-4,
    batch_size: int = 16,
    seed: int = 0,
    max_length: int = 256,
    stride: int = 64,
    lora_rank: int = 8,
    lora_alpha: int | None = None,
    lora_dropout: float = 0.1,
    full_top_layers: int = 0,
    max_steps: int | None = None,
    max_tokens: int | None = None,
    weight_decay: float = 0.01,
    warmup_ratio: float = 0.1,
    decoding: str = "viterbi",
    context: str = "none",
    eval_batch_size: int = 32,
    state_dir: str | Path | None = None,
    threads: int | None = None,
    device: str | None = "auto",
    training_info: Mapping[str, Any] | None = None,
    card: str | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Fine-tune a segmenter on ``train``, keep the epoch with the best dev span-exact F1, save it to ``output_dir``.

    ``train``/``dev``: threads or ``(text, components)`` pairs whose component
    labels are among ``labels`` (map corpus labels before calling). Without
    ``dev`` the last epoch is kept. ``state_dir`` makes the run resumable
    (keep it outside ``output_dir``); ``max_steps`` cuts the run short for
    smoke tests; ``context="position"`` lets the model read where each message
    sits (``argmine.segmenter.context``; needs threads); ``training_info`` (e.g. data, command) goes into argmine.json
    and the card. ``device``: where to train (``auto``: the GPU of this process
    if there is one; see ``argmine.training.pick_device``); the checkpoint is
    written from the CPU either way. Returns the best epoch's dev scores (keys of
    ``argmine.metrics.components``) plus ``train/best_epoch``, ``train/steps``,
    ``train/loss``, ``train/seconds``, ``train/tokens_per_second``.
    """
    started = time.perf_counter()
    if state_dir is not None and Path(state_dir).resolve().is_relative_to(Path(output_dir).resolve()):
        raise ValueError(f"state_dir {state_dir} must lie outside output_dir {output_dir}: saving replaces that folder")
    use_cpu_threads(threads)
    seed_everything(seed)
    train_examples = messages_of(train)
    train_contexts = contexts_of(train, context)
    dev_examples = messages_of(dev) if dev is not None else []
    dev_data = dev if dev is not None else []
    if not train_examples:
        raise ValueError("no training messages")

    segmenter = Segmenter.create(
        labels,
        encoder=encoder,
        finetune=finetune,
        max_length=max_length,
        stride=stride,
        decoding=decoding,
        context=context,
        lora_rank=lora_rank,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        full_top_layers=full_top_layers,
    )
    tokenized = segmenter.tokenize([text for text, _ in train_examples])
    windows = []
    for number, (tok, (_, components), where) in enumerate(zip(tokenized, train_examples, train_contexts)):
        try:
            windows += segmenter.windows(tok, components, context=where)
        except ValueError as error:
            raise ValueError(f"training message {number}: {error}") from None
    if not windows:
        raise ValueError("the training messages have no tokens")
    log.info(
        "%d training messages → %d windows (%d tokens); %d dev messages",
        len(train_examples),
        len(windows),
        sum(len(w) for w in windows),
        len(dev_examples),
    )

    settings = TrainSettings(
        epochs=epochs,
        learning_rate=learning_rate,
        batch_size=batch_size,
        seed=seed,
        max_tokens=max_tokens,
        weight_decay=weight_decay,
        warmup_ratio=warmup_ratio,
        max_steps=max_steps,
        select_metric=SELECT_METRIC if dev_examples else None,
        device=device,
    )
    evaluate = (lambda: evaluate_segmenter(segmenter, dev_data, batch_size=eval_batch_size)) if dev_examples else None
    result = fit(
        segmenter.model,
        lengths=[len(w) for w in windows],
        collate=lambda indices: segmenter.collate([windows[i] for i in indices]),
        settings=settings,
        evaluate=evaluate,
        state_dir=state_dir,
        progress=progress,
    )

    best = result.history[result.best_epoch - 1]
    metrics: dict[str, float] = dict(result.best_metrics)
    metrics.update(
        {
            "train/best_epoch": float(result.best_epoch),
            "train/steps": float(result.steps),
            "train/loss": best.train_loss,
            "train/seconds": time.perf_counter() - started,
            "train/tokens_per_second": result.tokens_per_second,
        }
    )
    training = {
        **dict(training_info or {}),
        "train_messages": len(train_examples),
        "dev_messages": len(dev_examples),
        "epochs": epochs,
        "best_epoch": result.best_epoch,
        "steps": result.steps,
        "seed": seed,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_tokens": max_tokens,
        "max_steps": max_steps,
        "metrics": dict(result.best_metrics),
        "history": [
            {"epoch": r.epoch, "train_loss": r.train_loss, SELECT_METRIC: r.metrics.get(SELECT_METRIC)}
            for r in result.history
        ],
    }
    if is_main_process():  # under torchrun every rank holds the same weights; one writes them
        segmenter.with_training(training).save_pretrained(output_dir, card=card)
    return metrics
