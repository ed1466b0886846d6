"""A training run: the task's model(s) trained on a data config's train split, selected on its dev split.

``run_settings`` checks the trainer, model and task settings in milliseconds, before anything
loads; ``run_training`` reads the data and trains ``task.kind``: ``components`` (a segmenter),
``stance`` (a stance classifier) or ``both``, the two one after the other on the same data,
joined into one pipeline checkpoint (what ``argmine mine`` loads). It writes into the run folder:

    checkpoint/    the trained model
    state/         what a resumed run continues from (removed once the run finished)
    metrics.json   the scores (written atomically)

Under ``torchrun`` (WORLD_SIZE > 1) every rank trains data-parallel and rank 0 alone writes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.io_utils import write_json
from argmine.jobs.data import DataSettings, gold, model_labels
from argmine.settings import (
    BothTask,
    ComponentsTask,
    SettingsError,
    StanceModel,
    StanceTask,
    TrainSettings,
    TransformerSettings,
    from_mapping,
    model_settings,
    task_settings,
)

EXTRA_USES = ("components", "stance", "both")


@dataclass(frozen=True)
class RunSettings:
    """The ``trainer``, ``model`` and ``task`` groups of a training config, built and checked."""

    trainer: TrainSettings
    model: StanceModel
    task: ComponentsTask | StanceTask | BothTask
    stance_model: StanceModel  # the stance half's model of task=both: the ``stance_model`` group, else ``model``


def run_settings(
    trainer: Mapping[str, Any] | None,
    model: Mapping[str, Any] | None,
    task: Mapping[str, Any] | None,
    stance_model: Mapping[str, Any] | None = None,
) -> RunSettings:
    """The config groups (plain mappings) as typed settings: every key known, of its type and in range."""
    trainer_settings = from_mapping(TrainSettings, trainer, "trainer")
    model_ = model_settings(model)
    task_ = task_settings(task)
    if task_.kind in ("components", "both") and type(model_) is not TransformerSettings:
        raise SettingsError(
            f"model.classifier={model_.classifier}: task.kind={task_.kind} trains a segmenter, "
            "which needs a transformer model (model=minilm)"
        )
    stance = model_
    if stance_model is not None:
        if task_.kind != "both":
            raise SettingsError("stance_model: only task=both has a stance half of its own; set model= instead")
        stance = model_settings(stance_model, "stance_model")
    return RunSettings(trainer_settings, model_, task_, stance)


def launch() -> tuple[int, int]:
    """(RANK, WORLD_SIZE) that torchrun / accelerate launch set; (0, 1) for a process started alone.

    Read from the environment rather than ``argmine.training.distributed.Launch``, so that
    ``evaluate`` and the scikit-learn runs import no torch for it.
    """
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise InputError("RANK and WORLD_SIZE must be integers (set by torchrun)") from None


def is_rank0() -> bool:
    return launch()[0] == 0


def extra_train(data: DataSettings) -> dict[str, tuple[str, list, list]]:
    """``data.extra_train``: more corpora for the train set, each ``name → (use, train threads, dev threads)``.

    Each entry is a data config of its own (placed with ``/data@data.extra_train.NAME: aae2`` in an
    experiment's defaults) plus ``use``: which half it trains, ``components``, ``stance`` or ``both``.
    Its label maps must give the main data's labels. The dev split, which picks the best epoch, stays
    the main data's alone: extra corpora are there to help on it. ``data.limit`` (smoke runs) applies
    to an extra corpus that sets no limit of its own. With ``select_on_dev: true`` its dev split is read
    too: the pair stance classifier picks its settings by the mean macro-F1 over every dev set it is
    given (one small dev set alone is too easily fooled); other models ignore it.
    """
    out = {}
    for name, extra in data.extra_train.items():
        if extra.use not in EXTRA_USES:
            raise SettingsError(
                f"data.extra_train.{name}.use must be one of {', '.join(EXTRA_USES)}, got {extra.use!r}"
            )
        unknown = sorted(set(model_labels(extra.component_labels or {})) - set(model_labels(data.component_labels or {})))
        if extra.use != "stance" and unknown:
            raise SettingsError(
                f"data.extra_train.{name}.component_labels map to {unknown}, not among data.component_labels' targets"
            )
        if extra.limit is None and data.limit is not None:  # a smoke run stays small throughout
            extra = replace(extra, limit=data.limit)
        dev = gold(extra, extra.dev_split) if extra.select_on_dev and extra.dev_split else []
        out[name] = (extra.use, gold(extra, extra.train_split), dev)
    return out


def _for(part: str, train: list, extras: dict[str, tuple[str, list, list]]) -> list:
    """The main train threads plus those of every extra corpus whose ``use`` covers ``part``."""
    return train + [t for use, threads, _ in extras.values() if use in (part, "both") for t in threads]


def run_training(
    settings: RunSettings, data: DataSettings, run_dir: Path, *, experiment: str, command: str
) -> dict[str, Any]:
    """Train ``settings.task`` on ``data.train_split``, select on ``data.dev_split``; return the metrics.

    ``experiment`` and ``command`` are recorded in the checkpoint (``argmine.json`` ``training``).
    """
    task, trainer = settings.task, settings.trainer
    state_dir = run_dir / "state"
    if state_dir.exists() and not trainer.resume:
        raise InputError(f"{state_dir} exists: pass trainer.resume=true to continue that run, or use a new run folder")
    train = gold(data, data.train_split)
    extras = extra_train(data)
    dev = gold(data, data.dev_split, data.dev_path) if data.dev_split else None
    info: dict[str, Any] = {
        "experiment": experiment,
        "command": command,
        "data": {"name": data.name, "train": data.train_split, "dev": data.dev_split},
    }
    if extras:
        info["data"]["extra_train"] = {
            name: {
                "name": data.extra_train[name].name,
                "split": data.extra_train[name].train_split,
                "use": use,
                "threads": len(threads),
            }
            for name, (use, threads, _) in extras.items()
        }
    checkpoint = run_dir / "checkpoint"
    writer = is_rank0()  # under torchrun all ranks train; rank 0 alone writes the run folder
    labels = {"components": model_labels(data.component_labels or {}), "stance": list(data.stance_labels)}
    threads = _Threads(labels, (data.name, train, dev), extras)
    if task.kind == "components":
        components_train = _for("components", train, extras)
        metrics = _train_components(settings, labels, components_train, dev, checkpoint, state_dir, info)
    elif task.kind == "stance":
        metrics = _train_stance(settings, threads, checkpoint, state_dir, info)
    else:
        metrics = _train_both(settings, threads, run_dir, info, writer)
    metrics = {key: value for key, value in metrics.items() if key != "checkpoint"}
    if writer:
        write_json(run_dir / "metrics.json", metrics)
        shutil.rmtree(state_dir, ignore_errors=True)  # the run finished: nothing left to resume
    return metrics


@dataclass(frozen=True)
class _Threads:
    """What a run trains on: the model's labels, the main data's (name, train, dev) threads, the extras."""

    labels: dict[str, list[str]]
    main: tuple[str, list, list | None]
    extras: dict[str, tuple[str, list, list]]


def _train_both(settings: RunSettings, threads: _Threads, run_dir: Path, info: dict, writer: bool) -> dict[str, Any]:
    """task=both: the segmenter, then the stance half, joined into ``run_dir/checkpoint``."""
    from argmine.pipeline import ArgumentMiner
    from argmine.stance.chain import ChainSettings, chain_for

    task, trainer, state_dir, parts = settings.task, settings.trainer, run_dir / "state", run_dir / "parts"
    labels, (_, train, dev), extras = threads.labels, threads.main, threads.extras
    # The stance half: its own epochs (and learning rate, when set) under the same trainer settings.
    stance_trainer = replace(
        trainer,
        epochs=task.stance_epochs,
        learning_rate=trainer.learning_rate if task.stance_learning_rate is None else task.stance_learning_rate,
    )
    metrics: dict[str, Any] = {}
    components_train = _for("components", train, extras)
    for part, scores in (
        (
            "components",
            _train_components(
                settings, labels, components_train, dev, parts / "components", state_dir / "components", info
            ),
        ),
        (
            "stance",
            _train_stance(
                replace(settings, trainer=stance_trainer, model=settings.stance_model),
                threads,
                parts / "stance",
                state_dir / "stance",
                info,
            ),
        ),
    ):
        # train/seconds etc. exist for both halves: keep each as train/<part>/...
        metrics |= {
            k.replace("train/", f"train/{part}/", 1) if k.startswith("train/") else k: v for k, v in scores.items()
        }
    if writer:
        miner = ArgumentMiner.from_parts(parts / "components", parts / "stance", merge_lora=False)
        if settings.task.stance_chain_weight > 0:
            chain = ChainSettings(settings.task.stance_chain_weight, settings.task.stance_chain_min_agreement)
            miner.stance_chain = chain_for(miner.stance_labels, chain)
        miner.save_pretrained(run_dir / "checkpoint")
        shutil.rmtree(parts)  # both now live inside the pipeline checkpoint
    return metrics


def _train_components(settings: RunSettings, labels: dict[str, list[str]], train: list, dev: list | None,
                      output_dir: Path, state_dir: Path, info: dict) -> dict[str, Any]:
    from argmine.segmenter.train import train_segmenter

    return train_segmenter(train, dev, labels=labels["components"], **_fit_options(settings, output_dir, state_dir, info))


def _train_stance(
    settings: RunSettings, threads: _Threads, output_dir: Path, state_dir: Path, info: dict
) -> dict[str, Any]:
    """The stance half on the main data's (name, train, dev) threads and the extras that train stance.

    Every example carries the name of its corpus (``StanceExample.corpus``): the main data's name, or
    the extra's key. Dev is the main data's, plus the dev splits of extras read with ``select_on_dev``.
    """
    from argmine.stance.inputs import stance_examples
    from argmine.stance.train import train_stance

    task = settings.task

    def examples(threads: list, corpus: str) -> list:
        return [replace(e, corpus=corpus) for e in stance_examples(threads, task.level, include_posts=task.include_posts)]

    name, train, dev = threads.main
    sources = [(name, train, dev or [])] + [
        (key, extra, extra_dev) for key, (use, extra, extra_dev) in threads.extras.items() if use in ("stance", "both")
    ]
    return train_stance(
        [e for corpus, part, _ in sources for e in examples(part, corpus)],
        [e for corpus, _, part in sources for e in examples(part, corpus)],
        labels=threads.labels["stance"],
        **_fit_options(settings, output_dir, state_dir, info),
    )


def _fit_options(settings: RunSettings, output_dir: Path, state_dir: Path, info: dict) -> dict[str, Any]:
    """The keywords both trainers take: where to save, the settings, the run state, what to record."""
    return {"output_dir": output_dir, "trainer": settings.trainer, "model": settings.model, "task": settings.task,
            "state_dir": state_dir, "training_info": info}
