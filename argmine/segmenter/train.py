"""Train a segmenter: messages with gold components → a checkpoint folder + dev scores.

    train messages ──word_tags + make_windows──► labelled windows ──► argmine.training.loop.fit
    dev messages ──Segmenter.predict──► components ──message_component_metrics──► pick the best epoch
    best epoch ──save_pretrained──► output_dir (argmine.json records data, settings and scores)

Typed settings (``argmine.settings``), no Hydra: the entry point builds them from its config. Under
``torchrun`` every process calls ``train_segmenter``; ``fit`` shares the batches out,
and only rank 0 evaluates and saves the checkpoint.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.evaluation.spans import message_component_metrics
from argmine.runtime import seed_everything
from argmine.segmenter.context import check_context, message_contexts
from argmine.segmenter.model import Segmenter
from argmine.thread import Component, Thread
from argmine.settings import (
    BothTask,
    ComponentsTask,
    EnsembleSettings,
    TrainSettings,
    TransformerSettings,
    recorded_settings,
    with_keywords,
)
from argmine.training.distributed import is_main_process
from argmine.training.loop import fit
from argmine.training.record import TrainingRecord

log = logging.getLogger(__name__)

# The best epoch: span-exact F1 averaged over the labels. With the micro F1, CMV runs kept an early epoch
# that finds hardly any Claim (seed 15 of 2026-12-03: Claim overlap-50 F1 0.11; the model card).
SELECT_METRIC = "components/span_exact/macro_f1"
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
            raise InputError(
                f"context {context!r} needs threads (where each message sits), not (text, components) pairs"
            )
    return out


def evaluate_segmenter(segmenter: Segmenter, data: Examples, *, batch_size: int = 32) -> dict[str, float]:
    """Component scores of the segmenter's predictions on gold messages (keys of ``argmine.evaluation.spans``)."""
    examples = messages_of(data)
    predicted = segmenter.predict(
        [text for text, _ in examples], contexts=contexts_of(data, segmenter.context), batch_size=batch_size
    )
    messages = [("", str(i), text) for i, (text, _) in enumerate(examples)]
    return message_component_metrics(messages, [c for _, c in examples], predicted, labels=segmenter.labels)


# Right after a component: space on the same line, then a sentence's final . ? ! (and closing quotes).
FINAL_STOP = re.compile(r"[^\S\n]*[.!?]+[\"”’)\]]*")


def with_final_stops(text: str, components: Sequence[Component]) -> tuple[Component, ...]:
    """``components`` with each one that stops right before its sentence's final ``. ? !`` widened over it.

    For ``task.final_stop: include``. Annotators of one corpus differ here: CMV v2.0's
    training threads take the stop into 1,014 of 1,616 components that end a sentence,
    and one thread leaves it out 174 times. Taught both ways, a model's span edges
    waver between epochs; taught one way, its spans end as most of the gold does.
    A widening never reaches into the next component.
    """
    starts = sorted(c.start for c in components)
    out = []
    for c in components:
        match = None if c.text.endswith((".", "!", "?")) else FINAL_STOP.match(text, c.end)
        following = next((s for s in starts if s >= c.end), len(text))
        if match is None or match.end() > following:
            out.append(c)
            continue
        out.append(replace(c, end=match.end(), text=text[c.start : match.end()]))
    return tuple(out)


# Names Python callers used before the settings were typed (argmine.stance.train's, mostly).
KEYWORD_ALIASES = {"lr": "learning_rate", "lora_r": "lora_rank", "cpu_threads": "threads"}


def train_segmenter(
    train: Examples,
    dev: Examples | None,
    *,
    labels: Sequence[str],
    output_dir: str | Path,
    trainer: TrainSettings | None = None,
    model: TransformerSettings | None = None,
    task: ComponentsTask | BothTask | None = None,
    decoding: str = "viterbi",
    eval_batch_size: int = 32,
    state_dir: str | Path | None = None,
    training_info: Mapping[str, Any] | None = None,
    card: str | None = None,
    progress: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """Fine-tune a segmenter on ``train``, keep the epoch with the best dev span-exact macro-F1, save it to ``output_dir``.

    ``trainer``, ``model`` and ``task`` are the settings of ``argmine.settings`` (their
    defaults when omitted); ``settings`` sets single fields of them by name instead
    (``epochs=3, lora_rank=4, context="position"``). All three are recorded in
    argmine.json (``training.settings``). ``train``/``dev``: threads or
    ``(text, components)`` pairs whose component labels are among ``labels`` (map
    corpus labels before calling). Without ``dev`` the last epoch is kept.
    ``state_dir`` makes the run resumable (keep it outside ``output_dir``);
    ``task.context="position"`` lets the model read where each message sits
    (``argmine.segmenter.context``; needs threads); ``training_info`` (e.g. data,
    command) goes into argmine.json and the card. ``trainer.device``: where to
    train (``auto``: the GPU of this process if there is one); the checkpoint is
    written from the CPU either way. Returns the best epoch's dev scores (keys of
    ``argmine.evaluation.spans``) plus the ``train/...`` entries of
    ``argmine.training.record.TrainingRecord.scores``.
    """
    trainer, model, task = with_keywords(
        [trainer or TrainSettings(), model or TransformerSettings(), task or ComponentsTask()],
        settings,
        KEYWORD_ALIASES,
    )
    if not isinstance(model, TransformerSettings) or isinstance(model, EnsembleSettings):
        raise InputError(f"a segmenter is a transformer: model.classifier {model.classifier!r} has no place here")
    started = time.perf_counter()
    if state_dir is not None and Path(state_dir).resolve().is_relative_to(Path(output_dir).resolve()):
        raise InputError(f"state_dir {state_dir} must lie outside output_dir {output_dir}: saving replaces that folder")
    seed_everything(trainer.seed)
    context = task.segmenter_context
    train_examples = messages_of(train)
    if task.final_stop == "include":
        train_examples = [(text, with_final_stops(text, components)) for text, components in train_examples]
    train_contexts = contexts_of(train, context)
    dev_examples = messages_of(dev) if dev is not None else []
    dev_data = dev if dev is not None else []
    if not train_examples:
        raise InputError("no training messages")

    segmenter = Segmenter.create(
        labels,
        encoder=model.encoder,
        finetune=model.finetune,
        max_length=model.max_length,
        stride=model.stride,
        decoding=decoding,
        context=context,
        lora_rank=model.lora_rank,
        lora_alpha=model.lora_alpha,
        lora_dropout=model.lora_dropout,
        full_top_layers=model.full_top_layers,
    )
    tokenized = segmenter.tokenize([text for text, _ in train_examples])
    windows = []
    for number, (tok, (_, components), where) in enumerate(zip(tokenized, train_examples, train_contexts)):
        try:
            windows += segmenter.windows(tok, components, context=where)
        except ValueError as error:
            raise InputError(f"training message {number}: {error}") from None
    if not windows:
        raise InputError("the training messages have no tokens")
    log.info(
        "%d training messages → %d windows (%d tokens); %d dev messages",
        len(train_examples),
        len(windows),
        sum(len(w) for w in windows),
        len(dev_examples),
    )

    loop = replace(trainer, select_metric=SELECT_METRIC if dev_examples else None)
    evaluate = (lambda: evaluate_segmenter(segmenter, dev_data, batch_size=eval_batch_size)) if dev_examples else None
    result = fit(
        segmenter.model,
        lengths=[len(w) for w in windows],
        collate=lambda indices: segmenter.collate([windows[i] for i in indices]),
        settings=loop,
        evaluate=evaluate,
        state_dir=state_dir,
        progress=progress,
    )

    record = TrainingRecord.of(trainer, result, time.perf_counter() - started)
    training = {
        **dict(training_info or {}),
        "train_messages": len(train_examples),
        "dev_messages": len(dev_examples),
        **record.section(),
        "settings": recorded_settings(trainer, model, task),
        "metrics": dict(result.best_metrics),
    }
    if is_main_process():  # under torchrun every rank holds the same weights; one writes them
        segmenter.with_training(training).save_pretrained(output_dir, card=card)
    return {**result.best_metrics, **record.scores()}
