"""Hydra entry points: ``argmine train`` and ``argmine evaluate``.

Only this module knows Hydra. It maps the composed config (``conf/``) onto the
plain typed functions of the library and writes the run folder:

    runs/<name>/<time>/
      .hydra/config.yaml   the resolved config (Hydra writes it)
      train.log            the log
      checkpoint/          the trained model (train)
      state/               what a resumed run continues from (train)
      metrics.json         the scores (written atomically)

Under ``torchrun`` / ``accelerate launch`` (WORLD_SIZE > 1) every process runs
``argmine train``: they agree on rank 0's run folder, train data-parallel
(``argmine.training.fit``), and only rank 0 writes the run folder. The other
ranks' Hydra output goes to a scratch folder that is deleted at the end, and
they log warnings only.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from argmine.data import load_gold, model_labels
from argmine.errors import ArgmineError
from argmine.io_utils import write_json
from argmine.resources import conf_dir
from argmine.stance.predict import STANCE_KINDS

log = logging.getLogger(__name__)

# $ARGMINE_CONF, else conf/ inside the installed wheel or beside the package in a checkout.
CONF_DIR = conf_dir()


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def _gold(data: DictConfig, split: str, path: str | None = None) -> list:
    return load_gold(
        data.format,
        path or data.path,
        split=split,
        seed=data.get("seed"),
        unit=data.get("unit"),
        component_labels=_plain(data.get("component_labels")),
        relation_polarity=_plain(data.get("relation_polarity")),
        stance_map=_plain(data.get("stance_map")),
        limit=data.get("limit"),
    )


EXTRA_USES = ("components", "stance", "both")


def _extra_train(data: DictConfig) -> dict[str, tuple[str, list]]:
    """``data.extra_train``: more corpora for the train set, each ``name → (use, threads of its train split)``.

    Each entry is a data config of its own (placed with ``/data@data.extra_train.NAME: aae2`` in an
    experiment's defaults) plus ``use``: which half it trains, ``components``, ``stance`` or ``both``.
    Its label maps must give the main data's labels. The dev split, which picks the best epoch, stays
    the main data's alone: extra corpora are there to help on it. ``data.limit`` (smoke runs) applies
    to an extra corpus that sets no limit of its own.
    """
    out = {}
    for name, extra in (data.get("extra_train") or {}).items():
        use = extra.get("use")
        if use not in EXTRA_USES:
            raise ValueError(f"data.extra_train.{name}.use must be one of {', '.join(EXTRA_USES)}, got {use!r}")
        unknown = sorted(
            set(model_labels(extra.component_labels or {})) - set(model_labels(data.component_labels or {}))
        )
        if use != "stance" and unknown:
            raise ValueError(
                f"data.extra_train.{name}.component_labels map to {unknown}, not among data.component_labels' targets"
            )
        if extra.get("limit") is None and data.get("limit") is not None:  # a smoke run stays small throughout
            extra = OmegaConf.merge(extra, {"limit": data.limit})
        out[name] = (use, _gold(extra, extra.train_split))
    return out


def _for(part: str, train: list, extras: dict[str, tuple[str, list]]) -> list:
    """The main train threads plus those of every extra corpus whose ``use`` covers ``part``."""
    return train + [t for use, threads in extras.values() if use in (part, "both") for t in threads]


def run_train(cfg: DictConfig, run_dir: Path, command: str) -> dict[str, Any]:
    """Train the configured task on ``data.train_split``, select on ``data.dev_split``; return the metrics.

    ``task.kind`` is ``components`` (a segmenter), ``stance`` (a stance
    classifier) or ``both``: the two trained one after the other on the same
    data and joined into one pipeline checkpoint (``argmine mine`` loads it).
    """
    data, task, trainer = cfg.data, cfg.task, cfg.trainer
    train = _gold(data, data.train_split)
    extras = _extra_train(data)
    dev = _gold(data, data.dev_split, data.get("dev_path")) if data.get("dev_split") else None
    state_dir = run_dir / "state"
    if state_dir.exists() and not trainer.resume:
        raise ValueError(f"{state_dir} exists: pass trainer.resume=true to continue that run, or use a new run folder")
    info = {
        "experiment": cfg.name,
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
            for name, (use, threads) in extras.items()
        }
    checkpoint = run_dir / "checkpoint"
    writer = _is_rank0()  # under torchrun all ranks train; rank 0 alone writes the run folder
    if task.kind == "components":
        metrics = _train_components(cfg, _for("components", train, extras), dev, checkpoint, state_dir, info)
    elif task.kind == "stance":
        metrics = _train_stance(cfg, _for("stance", train, extras), dev, checkpoint, state_dir, info)
    elif task.kind == "both":
        from argmine.pipeline import ArgumentMiner

        parts = run_dir / "parts"
        stance_trainer = {"epochs": task.stance_epochs}
        if task.get("stance_learning_rate") is not None:  # LoRA on pairs wants a gentler rate than on tagging
            stance_trainer["learning_rate"] = task.stance_learning_rate
        stance_cfg = OmegaConf.merge(cfg, {"trainer": stance_trainer})
        metrics = {}
        components_train, stance_train = _for("components", train, extras), _for("stance", train, extras)
        for part, scores in (
            (
                "components",
                _train_components(cfg, components_train, dev, parts / "components", state_dir / "components", info),
            ),
            ("stance", _train_stance(stance_cfg, stance_train, dev, parts / "stance", state_dir / "stance", info)),
        ):
            # train/seconds etc. exist for both halves: keep each as train/<part>/...
            metrics |= {
                k.replace("train/", f"train/{part}/", 1) if k.startswith("train/") else k: v for k, v in scores.items()
            }
        if writer:
            miner = ArgumentMiner.from_parts(parts / "components", parts / "stance", merge_lora=False)
            miner.save_pretrained(checkpoint)
            shutil.rmtree(parts)  # both now live inside the pipeline checkpoint
    else:
        raise ValueError(f"task.kind must be components, stance or both, got {task.kind!r}")
    metrics = {key: value for key, value in metrics.items() if key != "checkpoint"}
    if writer:
        write_json(run_dir / "metrics.json", metrics)
        shutil.rmtree(state_dir, ignore_errors=True)  # the run finished: nothing left to resume
    return metrics


def _train_components(
    cfg: DictConfig, train: list, dev: list | None, output_dir: Path, state_dir: Path, info: dict
) -> dict[str, Any]:
    from argmine.segmenter.train import train_segmenter

    data, model, task, trainer = cfg.data, cfg.model, cfg.task, cfg.trainer
    return train_segmenter(
        train,
        dev,
        labels=model_labels(data.component_labels),
        output_dir=output_dir,
        encoder=model.encoder,
        finetune=model.finetune,
        epochs=trainer.epochs,
        learning_rate=trainer.learning_rate,
        batch_size=trainer.batch_size,
        seed=trainer.seed,
        max_length=model.max_length,
        stride=model.stride,
        lora_rank=model.lora_rank,
        lora_alpha=model.lora_alpha,
        lora_dropout=model.lora_dropout,
        full_top_layers=model.get("full_top_layers") or 0,
        max_steps=trainer.max_steps,
        max_tokens=trainer.max_tokens,
        weight_decay=trainer.weight_decay,
        warmup_ratio=trainer.warmup_ratio,
        context=task.get("context") or "none",
        state_dir=state_dir,
        threads=trainer.threads,
        device=trainer.device,
        training_info=info,
    )


def _train_stance(
    cfg: DictConfig, train: list, dev: list | None, output_dir: Path, state_dir: Path, info: dict
) -> dict[str, Any]:
    from argmine.stance.inputs import stance_examples
    from argmine.stance.train import train_stance

    data, model, task, trainer = cfg.data, cfg.model, cfg.task, cfg.trainer

    def examples(threads: list) -> list:
        return stance_examples(threads, task.level, include_posts=task.include_posts)

    transformer = model.classifier in ("transformer", "ensemble")  # a learning rate to pass on
    return train_stance(
        examples(train),
        examples(dev or []),
        classifier=model.classifier,
        labels=list(data.stance_labels),
        output_dir=output_dir,
        encoder=model.encoder or "minilm",
        finetune=model.finetune or "lora",
        epochs=trainer.epochs,
        lr=trainer.learning_rate if transformer else None,
        batch_size=trainer.batch_size,
        seed=trainer.seed,
        max_steps=trainer.max_steps,
        max_length=task.get("max_length") or model.max_length or 256,
        max_tokens=trainer.max_tokens,
        class_weighting=task.class_weighting,
        lora_r=model.lora_rank or 8,
        lora_alpha=model.lora_alpha or 16,
        lora_dropout=model.lora_dropout or 0.1,
        full_top_layers=model.get("full_top_layers") or 0,
        post_reserve=task.post_reserve,
        parent_reserve=task.parent_reserve,
        pooling=task.get("pooling") or "cls",
        state_dir=state_dir if model.classifier == "transformer" else None,  # an ensemble run is not resumable
        sklearn_c=tuple(model.get("sklearn_c") or (1.0,)),
        **_ensemble_settings(model),
        cpu_threads=trainer.threads,
        device=trainer.device,
        training_info=info,
    )


def _ensemble_settings(model: DictConfig) -> dict[str, Any]:
    """``model.ensemble.*`` as train_stance's ``ensemble_*`` arguments (absent keys keep its defaults)."""
    given = model.get("ensemble") or {}
    names = {
        "holdout": "ensemble_holdout",
        "weights": "ensemble_weights",
        "refit": "ensemble_refit",
        "sklearn_only": "ensemble_sklearn_only",
    }
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"model.ensemble has unknown keys {unknown}; known: {', '.join(names)}")
    return {names[key]: _plain(value) for key, value in given.items()}


def run_evaluate(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Score ``cfg.checkpoint`` on ``data.split`` of the configured gold data; write metrics.json."""
    from argmine.checkpoint import read_meta

    checkpoint = Path(cfg.checkpoint)
    meta = read_meta(checkpoint)
    gold = _gold(cfg.data, cfg.data.split)
    if not gold:
        raise ValueError(f"{cfg.data.name} split {cfg.data.split!r} at {cfg.data.path} holds no thread")
    metrics: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "data": cfg.data.name,
        "split": cfg.data.split,
        "threads": len(gold),
    }
    # Each part: (kind, labels, predicted threads) for the report, its scores merged into metrics.
    parts: list[tuple[str, list[str], list]] = []
    if meta.kind in ("components", "pipeline"):
        if meta.kind == "pipeline":
            from argmine.pipeline import ArgumentMiner

            miner = ArgumentMiner.from_pretrained(checkpoint, precision="float32")  # the dev metrics are float32
            segmenter, classifier = miner.segmenter, miner.stance
        else:
            from argmine.segmenter.model import Segmenter

            segmenter, classifier = Segmenter.from_pretrained(checkpoint), None
        parts.append(_score_components(segmenter, gold, cfg, metrics))
        if classifier is not None:
            parts.append(_score_stance(classifier, gold, cfg, metrics))
    elif meta.kind in STANCE_KINDS:
        from argmine.stance.predict import load_stance_classifier

        parts.append(_score_stance(load_stance_classifier(checkpoint), gold, cfg, metrics))
    else:
        raise ValueError(f"{checkpoint}: cannot evaluate a {meta.kind!r} checkpoint")
    if cfg.get("report", True):
        from argmine.report import write_evaluation_report

        for kind, labels, predicted in parts:
            # report.md, confusion_*.png, errors.html (per part when a pipeline has two);
            # the bootstrap intervals go into metrics.json as <key>/ci95.
            folder = run_dir / kind if len(parts) > 1 else run_dir
            metrics.update(
                write_evaluation_report(
                    folder,
                    gold,
                    predicted,
                    metrics,
                    kind=kind,
                    labels=labels,
                    checkpoint=checkpoint,
                    data_name=cfg.data.name,
                    split=cfg.data.split,
                    bootstrap=cfg.get("bootstrap", 1000),
                    seed=cfg.get("bootstrap_seed", 0),
                    include_posts=cfg.include_posts,
                )
            )
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def _score_components(segmenter: Any, gold: list, cfg: DictConfig, metrics: dict) -> tuple[str, list[str], list]:
    from argmine.metrics.components import component_metrics

    gold_labels = {c.label for t in gold for _, c in t.components()}
    unknown = sorted(gold_labels - set(segmenter.labels))
    if unknown:
        raise ValueError(
            f"gold labels {unknown} are not among the checkpoint's {list(segmenter.labels)}: check data.component_labels"
        )
    predicted = segmenter.predict_threads(gold, batch_size=cfg.batch_size)
    metrics.update(component_metrics(gold, predicted, labels=segmenter.labels))
    return "components", list(segmenter.labels), predicted


def _score_stance(classifier: Any, gold: list, cfg: DictConfig, metrics: dict) -> tuple[str, list[str], list]:
    """Stance on the gold comments and gold spans, so the classifier is measured alone."""
    from argmine.metrics.stance import stance_metrics
    from argmine.stance.predict import predict_threads

    predicted = predict_threads(
        classifier, gold, level=cfg.stance_level, include_posts=cfg.include_posts, batch_size=cfg.batch_size
    )
    metrics.update(stance_metrics(gold, predicted, classifier.labels, include_posts=cfg.include_posts))
    return "stance", list(classifier.labels), predicted


def _summary(metrics: dict[str, Any]) -> str:
    scalars = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    width = max((len(k) for k in scalars), default=0)
    return "\n".join(
        f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}"
        for key, value in scalars.items()
    )


def main(command: str, overrides: Sequence[str]) -> int:
    """Run ``train`` or ``evaluate`` with Hydra overrides (``-m`` for sweeps).

    Under ``torchrun`` every rank runs ``train`` (data-parallel; rank 0's run
    folder); ``evaluate`` runs on rank 0 only.
    """
    import hydra
    from hydra.core.hydra_config import HydraConfig

    failures: list[BaseException] = []
    parent = os.getpid()
    rank, world_size = _launch()
    flags = _flags_with_values(overrides)
    rest = [o for o in overrides if o not in flags]
    scratch: str | None = None
    if world_size > 1:
        if {"-m", "--multirun"} & set(flags):
            raise ValueError("a sweep (-m) cannot run under torchrun: launch each run of it on its own")
        if command == "evaluate" and rank != 0:
            return 0  # evaluation is one process's work
        if rank != 0:
            # Hydra names its run folder by the time, which may differ between ranks: these ranks
            # work in rank 0's run folder (see job) and give Hydra a scratch folder, deleted below.
            scratch = tempfile.mkdtemp(prefix=f"argmine-rank{rank}-")
            rest += [f"hydra.run.dir={scratch}", "hydra.output_subdir=null", "hydra.job_logging.root.level=WARNING"]
    group: list[bool] = []  # whether job created the process group

    def job(cfg: DictConfig) -> None:
        run_dir = Path(HydraConfig.get().runtime.output_dir)
        try:
            missing = sorted(OmegaConf.missing_keys(cfg))  # "???" in conf/: a path only the user knows
            if missing:
                raise ValueError(
                    f"missing setting{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                    f"give {'each' if len(missing) > 1 else 'it'} on the command line, e.g. {missing[0]}=DIR"
                )
            if command == "train":
                if world_size > 1:
                    from argmine.training import broadcast_object, pick_device, start_distributed

                    group.append(start_distributed(pick_device(cfg.trainer.device)))
                    run_dir = Path(broadcast_object(str(run_dir)))
                metrics = run_train(cfg, run_dir, command=" ".join(["argmine", command, *overrides]))
            else:
                metrics = run_evaluate(cfg, run_dir)
        except (ArgmineError, ValueError, OSError) as error:
            # Hydra would print its own traceback; hand bad input back to the CLI's one-line report.
            log.error("%s", error)
            if os.getpid() != parent:
                raise  # a launcher's worker process (joblib, submitit): let the sweep see the failure
            failures.append(error)
            return
        if rank == 0:
            print(_summary(metrics))
            print(f"run folder: {run_dir}")

    entry = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=command)(job)
    saved = sys.argv
    # hydra.job.name names the log file: train.log / evaluate.log
    # Hydra's parser wants its flags (-m, --cfg job, ...) before the overrides.
    sys.argv = [f"argmine {command}", *flags, f"hydra.job.name={command}", *rest]
    try:
        entry()
    finally:
        sys.argv = saved
        if any(group):
            from argmine.training import stop_distributed

            stop_distributed()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        raise failures[0]
    return 0


def _launch() -> tuple[int, int]:
    """(RANK, WORLD_SIZE) that torchrun / accelerate launch set; (0, 1) for a process started alone.

    Read from the environment rather than ``argmine.training.Launch``, so that
    ``evaluate`` and the scikit-learn runs import no torch for it.
    """
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ValueError("RANK and WORLD_SIZE must be integers (set by torchrun)") from None


def _is_rank0() -> bool:
    return _launch()[0] == 0


def _flags_with_values(overrides: Sequence[str]) -> list[str]:
    out = []
    for i, item in enumerate(overrides):
        if item.startswith("-") or (i and overrides[i - 1] in _VALUED_FLAGS):
            out.append(item)
    return out


_VALUED_FLAGS = ("--cfg", "-c", "--package", "-p", "--info", "-i", "--config-name", "-cn", "--config-dir", "-cd")
