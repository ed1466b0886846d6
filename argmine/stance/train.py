"""Train a stance classifier from ``StanceExample`` lists: typed settings (``argmine.settings``), no Hydra.

    threads ──stance_examples(level)──► train / dev examples ──train_stance──► checkpoint folder + dev metrics

The transformer is trained with ``argmine.training.loop.fit`` (length-bucketed
batches, best epoch by dev macro-F1, resumable with ``state_dir``) and a
class-weighted cross-entropy: ``class_weighting`` is

* ``balanced``: weight of a class = n / (k · its count), as scikit-learn's
  ``class_weight="balanced"``; every class weighs the same in the loss in all,
  which is what macro-F1 rewards;
* ``sqrt``: the square root of that, a milder correction when the rare
  classes are noisy;
* ``none``: plain cross-entropy;
* ``corpus+class`` (the transformer only): a weight per example, so that every
  training corpus weighs the same in all and each label the same within it
  (``argmine.stance.pair_train.example_weights``, as the pair model's head):
  the dev suite averages corpora, and DEBAGREEMENT or RumourEval would
  otherwise outweigh the microtexts tenfold;
* ``reply+class`` (the transformer only): a weight per example, class-balanced
  within direct replies and within replies to replies
  (``argmine.stance.objective.reply_class_weights``): CMV and RumourEval
  would otherwise teach that a reply to a reply takes no side.

With dev examples from several corpora the best epoch is the one with the best
mean dev macro-F1 over them (``stance/dev/mean_macro_f1``), not the best over
all dev items pooled, which the two largest dev sets decide.

The scikit-learn baseline is always class-balanced; it picks ``C`` among
``sklearn_c`` by dev macro-F1 (the first value wins ties, and is the one used
without dev examples).

Under ``torchrun`` every process calls ``train_stance``: the transformer trains
data-parallel (see ``argmine.training``), and only rank 0 evaluates and saves.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.evaluation.stance import suite_metrics
from argmine.settings import (
    MODEL_KINDS,
    EnsembleSettings,
    PairSettings,
    SklearnSettings,
    StanceModel,
    StanceTask,
    TrainSettings,
    TransformerSettings,
    recorded_settings,
    with_keywords,
)
from argmine.stance.inputs import StanceExample
from argmine.stance.objective import (  # class_weights: also imported from here by callers
    SELECT_METRIC,
    SELECT_METRIC_SUITE,
    class_weights,
    dev_metrics,
    gold_labels,
    reply_class_weights,
    scalar_metrics,
)
from argmine.thread import Stance

log = logging.getLogger(__name__)

# Names Python callers used before the settings were typed: they name the same fields.
KEYWORD_ALIASES = {"lr": "learning_rate", "lora_r": "lora_rank", "cpu_threads": "threads"}


def stance_settings(
    trainer: TrainSettings | None, model: StanceModel | None, task: StanceTask | None, keywords: dict[str, Any]
) -> tuple[TrainSettings, StanceModel, StanceTask]:
    """The three settings of a stance run: those given (defaults for the rest) with ``keywords`` set by name.

    ``classifier=NAME`` among the keywords picks the model kind (``argmine.settings.MODEL_KINDS``);
    a name no setting has is a TypeError, as for any unknown keyword.
    """
    keywords = dict(keywords)
    kind = keywords.pop("classifier", None)
    if kind is not None:
        if kind not in MODEL_KINDS:
            raise InputError(f"classifier must be one of {', '.join(MODEL_KINDS)}, got {kind!r}")
        if model is not None and model.classifier != kind:
            raise InputError(f"classifier {kind!r} contradicts the model settings' {model.classifier!r}")
        model = model or MODEL_KINDS[kind]()
    # task before model: a keyword max_length is the stance pair's, as it always was
    trainer, task, model = with_keywords(
        [trainer or TrainSettings(), task or StanceTask(), model or TransformerSettings()], keywords, KEYWORD_ALIASES
    )
    return trainer, model, task


@dataclass(frozen=True)
class _Run:
    """One stance run as ``train_stance`` checked it: what the trainer of each model kind reads."""

    train: Sequence[StanceExample]
    dev: Sequence[StanceExample]
    gold: list[str]  # the training examples' labels (the dev examples' are checked too)
    labels: tuple[str, ...]
    output_dir: Path
    trainer: TrainSettings
    task: StanceTask
    state_dir: str | Path | None  # a transformer's run state; the other kinds have nothing to resume
    info: dict[str, Any]  # argmine.json's ``training`` so far: data, counts, settings
    training_info: Mapping[str, Any] | None  # the caller's part of ``info``, handed on to ensemble members
    card: str | None
    progress: bool
    began: float  # perf_counter() when the kind's trainer was called

    def save(self, classifier: Any, metrics: Mapping[str, Any], *, writer: bool | None = None, **facts: Any) -> None:
        """Record ``info``, ``facts`` and the scalar dev ``metrics`` in argmine.json; the writer saves.

        The writer is rank 0 of a torchrun launch unless told (read from RANK: no torch import here).
        """
        classifier.meta = replace(classifier.meta, training={**self.info, **facts, "metrics": scalar_metrics(metrics)})
        if writer if writer is not None else os.environ.get("RANK", "0") == "0":
            classifier.save_pretrained(self.output_dir, card=self.card)


def train_stance(
    train_examples: Sequence[StanceExample],
    dev_examples: Sequence[StanceExample],
    *,
    labels: Sequence[str],
    output_dir: str | Path,
    trainer: TrainSettings | None = None,
    model: StanceModel | None = None,
    task: StanceTask | None = None,
    state_dir: str | Path | None = None,
    training_info: Mapping[str, Any] | None = None,
    card: str | None = None,
    progress: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """Train, save the best model to ``output_dir``, and return its dev metrics plus ``train/...`` facts.

    ``trainer``, ``model`` and ``task`` are the settings of ``argmine.settings`` (their defaults
    when omitted); ``settings`` sets single fields by name instead (``classifier="sklearn"``,
    ``learning_rate=1e-3``, ``ensemble_refit=False`` for ``model.ensemble.refit``). The kind of
    ``model`` (``model.classifier``) picks what trains: ``transformer``, ``sklearn`` or
    ``ensemble`` (both, pooled: see ``argmine.stance.ensemble`` and ``_train_ensemble``). All
    three settings are recorded in argmine.json (``training.settings``), as the segmenter does.
    ``state_dir`` makes a transformer run resumable (an ensemble's is not). ``training_info``
    (data name, command, ...) is recorded in ``argmine.json`` and the model card. Without dev
    examples the last epoch is kept and no dev metrics are returned. ``trainer.device`` is where
    the transformer trains (``auto``: this process's GPU if there is one); it is saved from the
    CPU either way. Under ``torchrun`` ranks other than 0 save nothing and return only the best
    epoch's scalar dev metrics and the ``train/...`` facts.
    """
    trainer, model, task = stance_settings(trainer, model, task, settings)
    if model.classifier not in _TRAINERS:
        raise InputError(f"classifier must be one of {', '.join(_TRAINERS)}, got {model.classifier!r}")
    labels = tuple(labels)
    gold = gold_labels(train_examples, labels, "training")
    dev_gold = gold_labels(dev_examples, labels, "dev")
    if not gold:
        raise InputError("no training examples")
    info: dict[str, Any] = {
        "classifier": model.classifier,
        "level": ",".join(sorted({e.level for e in train_examples})),
        "seed": trainer.seed,
        "train_examples": len(gold),
        "dev_examples": len(dev_gold),
        "train_label_counts": dict(Counter(gold)),
        **(training_info or {}),
        "settings": recorded_settings(trainer, model, task),
    }
    run = _Run(
        train_examples,
        dev_examples,
        gold,
        labels,
        Path(output_dir),
        trainer,
        task,
        state_dir,
        info,
        training_info,
        card,
        progress,
        began=time.perf_counter(),
    )
    return _TRAINERS[model.classifier](run, model)


def _train_sklearn(run: _Run, model: SklearnSettings) -> dict[str, Any]:
    from argmine.stance.baseline import SklearnStanceClassifier

    if run.task.class_weighting != "balanced":
        raise InputError(
            f"task.class_weighting={run.task.class_weighting}: the scikit-learn baseline is always class-balanced"
        )
    classifier = SklearnStanceClassifier.fit(
        [e.input for e in run.train],
        run.gold,
        run.labels,
        c_values=tuple(model.sklearn_c) if run.dev else tuple(model.sklearn_c)[:1],
        dev_inputs=[e.input for e in run.dev],
        dev_gold=[str(e.label) for e in run.dev],
        max_features=model.sklearn_max_features,
        seed=run.trainer.seed,
    )
    metrics: dict[str, Any] = {}
    if run.dev:
        metrics = dev_metrics(run.dev, [s.label for s in classifier.predict([e.input for e in run.dev])], run.labels)
    seconds = time.perf_counter() - run.began
    run.save(classifier, metrics)
    return {**metrics, "train/seconds": seconds, "train/examples": len(run.gold), "checkpoint": str(run.output_dir)}


def _train_ensemble(run: _Run, model: EnsembleSettings) -> dict[str, Any]:
    """Train both members, choose their pooling weight on held-out training threads, save the ensemble.

    1. the training threads are split (``split_holdout``, by ``seed``) into
       a part to train on and ``holdout`` of them held out;
    2. the transformer and the baseline train on the first part (dev picks
       the transformer's epoch and the baseline's C, as when trained alone);
    3. the weight is the one of ``weights`` with the best held-out macro-F1
       (the labels ``sklearn_only`` taken from the baseline alone);
    4. with ``refit`` both train again on all training threads (the held-out
       ones included); without, the members of step 2 are kept.

    Members are trained in a work folder beside ``output_dir``, loaded back,
    and the folder removed (also when training fails); the ensemble then
    saves them inside its own folder. Dev metrics are the pooled model's, with each
    member's alone under ``member/<name>/...`` and, with ``refit``, the pool
    of step 2's members under ``unrefit/...``. Each member checks its own gold labels;
    members are not resumable (``run.state_dir`` is not used).
    """
    import shutil

    from argmine.stance.baseline import SklearnStanceClassifier
    from argmine.stance.ensemble import MEMBERS, EnsembleStanceClassifier, choose_weight, label_columns, split_holdout
    from argmine.stance.transformer import TransformerStanceClassifier

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise InputError("the ensemble trains in one process; run it without torchrun")
    train_examples, dev_examples, labels, output_dir, task = run.train, run.dev, run.labels, run.output_dir, run.task
    pool = model.ensemble
    holdout, weights, refit, sklearn_only = pool.holdout, pool.weights, pool.refit, pool.sklearn_only
    abstained = label_columns(labels, sklearn_only)  # checked before anything trains
    members = {"transformer": model.transformer(), "sklearn": model.sklearn()}
    # task.class_weighting is the transformer's loss; the baseline is always class-balanced
    tasks = {"transformer": task, "sklearn": replace(task, class_weighting="balanced")}
    kept, held = split_holdout(train_examples, lambda e: e.thread_id, holdout, run.trainer.seed)
    work = output_dir.parent / f".{output_dir.name}.members"
    shutil.rmtree(work, ignore_errors=True)

    def train_members(examples: Sequence[StanceExample], stage: str) -> tuple[Any, Any, dict[str, Any]]:
        scores: dict[str, Any] = {}
        for name in MEMBERS:
            log.info("ensemble, %s: training the %s on %d examples", stage, name, len(examples))
            folder = work / stage / name
            scores[name] = train_stance(
                examples,
                dev_examples,
                labels=labels,
                output_dir=folder,
                trainer=run.trainer,
                model=members[name],
                task=tasks[name],
                training_info=run.training_info,
                progress=run.progress,
            )
        return (
            TransformerStanceClassifier.from_pretrained(work / stage / "transformer"),
            SklearnStanceClassifier.from_pretrained(work / stage / "sklearn"),
            scores,
        )

    def pooled_dev_metrics(ensemble: EnsembleStanceClassifier) -> dict[str, Any]:
        if not dev_examples:
            return {}
        predicted = [s.label for s in ensemble.predict([e.input for e in dev_examples])]
        return dev_metrics(dev_examples, predicted, labels)

    try:
        transformer, sklearn, scores = train_members(kept, "holdout")
        held_inputs = [e.input for e in held]
        weight, holdout_scores = choose_weight(
            transformer.predict_proba(held_inputs),
            sklearn.predict_proba(held_inputs),
            [e.label or "" for e in held],
            labels,
            weights,
            abstained,
        )
        log.info("ensemble: weight %.2f on the transformer (held-out F1 %.4f)", weight, holdout_scores[f"{weight:g}"])
        # The pool before refitting (what refit=false would have shipped), for comparison.
        unrefit = (
            pooled_dev_metrics(EnsembleStanceClassifier.join(transformer, sklearn, weight, sklearn_only=sklearn_only))
            if refit
            else {}
        )
        if refit:
            transformer, sklearn, scores = train_members(train_examples, "all")
    finally:  # the members live on inside the ensemble's folder; a failed run leaves no half-trained ones
        shutil.rmtree(work, ignore_errors=True)
    ensemble = EnsembleStanceClassifier.join(
        transformer,
        sklearn,
        weight,
        sklearn_only=sklearn_only,
        settings={
            "holdout_fraction": holdout,
            "holdout_seed": run.trainer.seed,
            "holdout_examples": len(held),
            "holdout_macro_f1_by_weight": holdout_scores,
            "refit": refit,
        },
    )
    metrics = pooled_dev_metrics(ensemble)
    metrics |= {f"unrefit/{k}": v for k, v in scalar_metrics(unrefit).items()}
    for name, member_scores in scores.items():
        metrics |= {f"member/{name}/{k}": v for k, v in scalar_metrics(member_scores).items() if k.startswith("stance/dev/")}
    seconds = time.perf_counter() - run.began
    run.save(ensemble, metrics, writer=True)  # one process: refused under torchrun above
    log.info("stance ensemble saved to %s (%.0f s)", output_dir, seconds)
    return {
        **metrics,
        "train/seconds": seconds,
        "train/examples": len(train_examples),
        "train/holdout_examples": len(held),
        "train/ensemble_weight": weight,
        "checkpoint": str(output_dir),
    }


def _train_transformer(run: _Run, model: TransformerSettings) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    from argmine.runtime import seed_everything
    from argmine.stance.transformer import TransformerStanceClassifier
    from argmine.training.distributed import is_main_process
    from argmine.training.loop import fit
    from argmine.stance.pair_train import example_weights
    from argmine.training.record import TrainingRecord

    settings, task, labels, dev_examples = model, run.task, run.labels, run.dev
    weights = class_weights(run.gold, labels, task.class_weighting)
    seed_everything(run.trainer.seed)
    model = TransformerStanceClassifier.create(
        labels,
        encoder=settings.encoder,
        finetune=settings.finetune,
        max_length=task.pair_length(settings),
        post_reserve=task.post_reserve,
        parent_reserve=task.parent_reserve,
        pooling=task.pooling,
        long_text=task.long_text,
        lora_r=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        full_top_layers=settings.full_top_layers,
    )
    rows = model.tokenize([e.input for e in run.train])
    targets = [labels.index(g) for g in run.gold]
    dev_rows = model.tokenize([e.input for e in dev_examples]) if dev_examples else []
    weight = torch.tensor(weights, dtype=torch.float32)
    per_example = None  # task.class_weighting corpus+class or reply+class: each example's own weight (mean 1)
    groups = [e.corpus for e in run.train]  # what the recorded example weights are keyed by, with the label
    if task.class_weighting == "corpus+class":
        per_example = torch.tensor(example_weights(run.gold, groups, "corpus+class"), dtype=torch.float32)
    elif task.class_weighting == "reply+class":
        groups = ["reply to a reply" if e.input.parent is not None else "direct reply" for e in run.train]
        per_example = torch.tensor(reply_class_weights(run.gold, [g != "direct reply" for g in groups]),
                                   dtype=torch.float32)  # fmt: skip
    dev_corpora = [e.corpus for e in dev_examples]
    select = SELECT_METRIC_SUITE if len(set(dev_corpora)) > 1 else SELECT_METRIC

    def collate(indices: list[int]) -> dict[str, torch.Tensor]:
        batch = model.collate([rows[i] for i in indices])
        batch["labels"] = torch.tensor([targets[i] for i in indices])
        if per_example is not None:
            batch["example_weights"] = per_example[indices]
        return batch

    def compute_loss(net: torch.nn.Module, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k not in ("labels", "example_weights")}
        logits = net(**inputs).logits
        if "example_weights" in batch:
            losses = F.cross_entropy(logits, batch["labels"], reduction="none")
            return (losses * batch["example_weights"].to(logits.device)).mean()
        return F.cross_entropy(logits, batch["labels"], weight=weight.to(logits.device))

    def evaluate() -> dict[str, Any]:  # fit calls it with the model on the training device
        probabilities = model.proba_of_rows(dev_rows, batch_size=max(run.trainer.batch_size, 32))
        best = probabilities.argmax(axis=1)
        metrics = dev_metrics(dev_examples, [labels[j] for j in best], labels)
        if select == SELECT_METRIC_SUITE:
            stances = [Stance(labels[j], float(row[j])) for row, j in zip(probabilities, best)]
            metrics |= suite_metrics([e.label or "" for e in dev_examples], stances, dev_corpora, labels)
        return metrics

    result = fit(
        model.net,
        lengths=[len(r["input_ids"]) for r in rows],
        collate=collate,
        settings=replace(run.trainer, select_metric=select if dev_examples else None),
        evaluate=(lambda: scalar_metrics(evaluate())) if dev_examples else None,
        state_dir=run.state_dir,
        compute_loss=compute_loss,
        progress=run.progress,
    )
    writer = is_main_process()  # under torchrun every rank holds the same weights; one writes them
    metrics: dict[str, Any] = dict(result.best_metrics)  # what ranks other than 0 return
    if dev_examples and writer:
        metrics = evaluate()
    record = TrainingRecord.of(run.trainer, result, time.perf_counter() - run.began)
    facts: dict[str, Any] = {"class_weighting": task.class_weighting, "class_weights": dict(zip(labels, weights))}
    if per_example is not None:  # what each (corpus or reply depth, label) example weighed
        facts["example_weights"] = {
            f"{group}/{g}": round(float(w), 4) for group, g, w in zip(groups, run.gold, per_example.tolist())
        }
    if dev_examples:
        facts["select_metric"] = select
    run.save(model, metrics, writer=writer, **record.section(), **facts)
    if writer:
        log.info(
            "stance classifier saved to %s (best epoch %d, %.0f s)", run.output_dir, record.best_epoch, record.seconds
        )
    return {**metrics, **record.scores(), "train/examples": len(run.gold), "checkpoint": str(run.output_dir)}


def _train_pair(run: _Run, model: PairSettings) -> dict[str, Any]:
    """Embed every text once, fit a head per ``pair_c``, keep the one with the best mean dev macro-F1.

    The mean is over the corpora of the dev examples (``StanceExample.corpus``; see
    ``argmine.stance.pair_train.choose_head``). The dev metrics are the chosen head's:
    ``stance/dev/...`` over all dev examples, and per corpus ``stance/dev/<corpus>/...``, with
    their mean as ``stance/dev/mean_macro_f1``. Gold labels are read per corpus here; a head fits
    in seconds, so there is nothing to resume (``run.state_dir``).
    """
    import numpy as np

    from argmine.runtime import use_cpu_threads
    from argmine.stance.pair import PairStanceClassifier
    from argmine.stance.pair_train import by_corpus, choose_head, corpus_features, example_weights, label_counts

    if run.task.class_weighting != "balanced":
        raise InputError(
            f"task.class_weighting={run.task.class_weighting}: the pair head weighs by model.balance instead"
        )
    trainer, labels, dev_examples = run.trainer, run.labels, run.dev
    use_cpu_threads(trainer.threads)
    classifier = PairStanceClassifier.create(
        labels, encoder=model.encoder, features=model.features, window=model.window, stride=model.stride
    )
    train_by_corpus, dev_by_corpus = by_corpus(run.train), by_corpus(dev_examples)
    x, y, corpus_of = corpus_features(classifier, train_by_corpus, batch_size=trainer.batch_size)
    x_dev, y_dev, dev_corpus_of = corpus_features(classifier, dev_by_corpus, batch_size=trainer.batch_size)
    weights = example_weights(y, corpus_of, model.balance)
    embedded = time.perf_counter() - run.began
    log.info("pair stance: %d training and %d dev texts embedded in %.0f s", len(y), len(y_dev), embedded)
    dev = (x_dev, y_dev, dev_corpus_of) if dev_examples else None
    chosen, (coef, intercept), tried = choose_head(x, y, labels, weights, model.pair_c, dev)
    counts = label_counts(train_by_corpus)
    classifier = classifier.with_head(
        coef, intercept, C=chosen, balance=model.balance, train_counts=counts, mean_dev_macro_f1_by_c=tried
    )
    metrics: dict[str, Any] = {}
    if dev_examples:
        probabilities = classifier.proba_of_features(np.asarray(x_dev))
        stances = [Stance(labels[j], float(row[j])) for row, j in zip(probabilities, probabilities.argmax(axis=1))]
        in_feature_order = [e for items in dev_by_corpus.values() for e in items]  # as corpus_features reads them
        metrics = dev_metrics(in_feature_order, [s.label for s in stances], labels)
        metrics |= suite_metrics(y_dev, stances, dev_corpus_of, labels)
    seconds = time.perf_counter() - run.began
    run.save(classifier, metrics)
    return {
        **metrics,
        "train/seconds": seconds,
        "train/embedding_seconds": embedded,
        "train/examples": len(y),
        "checkpoint": str(run.output_dir),
    }


# What trains each model kind (``model.classifier``); a new kind adds its function here and its
# settings dataclass to argmine.settings.MODEL_KINDS.
_TRAINERS = {
    "transformer": _train_transformer,
    "sklearn": _train_sklearn,
    "ensemble": _train_ensemble,
    "pair": _train_pair,
}
