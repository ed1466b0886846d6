"""An evaluation run: a checkpoint scored on a data config's split, or its stance half on a dev suite.

``run_evaluation`` writes ``metrics.json`` into the run folder and, with ``settings.report``,
the evaluation report beside it (``report.md``, ``confusion_*.png``, ``errors.html``; per
part when a pipeline has two). Components are scored on the gold threads' text; stance on
the gold comments and spans, so the classifier is measured alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.io_utils import write_json
from argmine.jobs.data import DataSettings, gold
from argmine.settings import EvaluateSettings
from argmine.stance.predict import STANCE_KINDS


def run_evaluation(
    settings: EvaluateSettings,
    data: DataSettings | None,
    run_dir: Path,
    *,
    suite: Mapping[str, DataSettings] | None = None,
) -> dict[str, Any]:
    """Score ``settings.checkpoint`` on ``data.split`` (or on every set of ``suite``); write metrics.json."""
    from argmine.checkpoint import read_meta

    checkpoint = Path(settings.checkpoint)
    meta = read_meta(checkpoint)
    if suite:
        return _evaluate_suite(suite, settings, meta, run_dir)
    if data is None:
        raise InputError("nothing to evaluate on: give a data config or a suite")
    threads = gold(data, data.split)
    if not threads:
        raise InputError(f"{data.name} split {data.split!r} at {data.path} holds no thread")
    metrics: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "data": data.name,
        "split": data.split,
        "threads": len(threads),
    }
    # Each part: (kind, labels, predicted threads) for the report, its scores merged into metrics.
    parts: list[tuple[str, list[str], list]] = []
    if meta.kind in ("components", "pipeline"):
        if meta.kind == "pipeline":
            from argmine.pipeline import ArgumentMiner

            miner = ArgumentMiner.from_pretrained(checkpoint, precision="float32")  # the dev metrics are float32
            segmenter, classifier, chain = miner.segmenter, miner.stance, miner.stance_chain
        else:
            from argmine.segmenter.model import Segmenter

            segmenter, classifier, chain = Segmenter.from_pretrained(checkpoint), None, None
        parts.append(_score_components(segmenter, threads, settings, metrics))
        if classifier is not None:
            parts.append(_score_stance(classifier, threads, settings, metrics, chain=chain))
    elif meta.kind in STANCE_KINDS:
        from argmine.stance.predict import load_stance_classifier

        parts.append(_score_stance(load_stance_classifier(checkpoint), threads, settings, metrics))
    else:
        raise InputError(f"{checkpoint}: cannot evaluate a {meta.kind!r} checkpoint")
    if settings.report:
        from argmine.evaluation.report import write_evaluation_report

        for kind, labels, predicted in parts:
            # report.md, confusion_*.png, errors.html (per part when a pipeline has two);
            # the bootstrap intervals go into metrics.json as <key>/ci95.
            folder = run_dir / kind if len(parts) > 1 else run_dir
            report = write_evaluation_report(folder, threads, predicted, metrics, kind=kind, labels=labels,
                                             checkpoint=checkpoint, data_name=data.name, split=data.split,
                                             bootstrap=settings.bootstrap, seed=settings.bootstrap_seed,
                                             include_posts=settings.include_posts)
            metrics.update(report)
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def _score_components(
    segmenter: Any, gold_threads: list, settings: EvaluateSettings, metrics: dict
) -> tuple[str, list[str], list]:
    from argmine.evaluation.spans import component_metrics

    gold_labels = {c.label for t in gold_threads for _, c in t.components()}
    unknown = sorted(gold_labels - set(segmenter.labels))
    if unknown:
        raise InputError(
            f"gold labels {unknown} are not among the checkpoint's {list(segmenter.labels)}: check data.component_labels"
        )
    predicted = segmenter.predict_threads(gold_threads, batch_size=settings.batch_size)
    metrics.update(component_metrics(gold_threads, predicted, labels=segmenter.labels))
    return "components", list(segmenter.labels), predicted


def _score_stance(
    classifier: Any, gold_threads: list, settings: EvaluateSettings, metrics: dict, *, chain: Any = None
) -> tuple[str, list[str], list]:
    """Stance on the gold comments and gold spans, so the classifier is measured alone (with the pipeline's reply chain)."""
    from argmine.evaluation.stance import stance_metrics
    from argmine.stance.predict import predict_threads

    predicted = predict_threads(
        classifier,
        gold_threads,
        level=settings.stance_level,
        include_posts=settings.include_posts,
        chain=chain,
        batch_size=settings.batch_size,
    )
    if chain is not None:
        metrics["stance/chain"] = chain.to_json()
    metrics.update(stance_metrics(gold_threads, predicted, classifier.labels, include_posts=settings.include_posts))
    return "stance", list(classifier.labels), predicted


def _evaluate_suite(
    suite: Mapping[str, DataSettings], settings: EvaluateSettings, meta: Any, run_dir: Path
) -> dict[str, Any]:
    """Stance on every dev set of ``suite`` at once: each set's scores and their mean macro-F1.

    Each entry is a data config (its ``split`` is scored) plus an optional ``stance_level``
    (default: the evaluation's). The stance part of a pipeline checkpoint is what is scored, on the
    gold comments and spans, so the classifier is measured alone. Every set is read before the
    checkpoint loads, so a missing corpus fails in seconds.
    """
    from argmine.evaluation.stance import suite_metrics
    from argmine.stance.chain import predict_stances
    from argmine.stance.inputs import check_level, stance_examples

    if meta.kind not in (*STANCE_KINDS, "pipeline"):
        raise InputError(f"{settings.checkpoint}: a {meta.kind!r} checkpoint has no stance to score on a suite")
    examples = []
    sizes = {}
    sets = []  # (threads, level) of each set: a reply chain is composed within its own threads
    for name, data in suite.items():
        level = check_level(data.stance_level or settings.stance_level)
        threads = gold(data, data.split)
        found = [replace(e, corpus=str(name)) for e in stance_examples(threads, level)]
        if not found:
            raise InputError(f"suite.{name}: {data.name} split {data.split!r} at {data.path} has no gold stance")
        examples += found
        sets.append((threads, level))
        sizes[str(name)] = {"data": data.name, "split": data.split, "level": level, "threads": len(threads),
                            "items": len(found)}
    if meta.kind == "pipeline":
        from argmine.pipeline import ArgumentMiner

        miner = ArgumentMiner.from_pretrained(Path(settings.checkpoint), precision="float32")
        classifier, chain = miner.stance, miner.stance_chain
    else:
        from argmine.stance.predict import load_stance_classifier

        classifier, chain = load_stance_classifier(settings.checkpoint), None
    by_item = {}
    for name, (threads, level) in zip(suite, sets):
        found = predict_stances(classifier, threads, level=level, labelled_only=True, chain=chain,
                                batch_size=settings.batch_size)
        by_item |= {(str(name), *key): stance for key, stance in found.items()}
    predicted = [by_item[(e.corpus, e.thread_id, e.item_id)] for e in examples]
    labels = list(classifier.labels)
    unknown = sorted({str(e.label) for e in examples} - set(labels))
    if unknown:
        raise InputError(f"the suite's gold labels {unknown} are not among the checkpoint's labels {labels}")
    metrics: dict[str, Any] = {"checkpoint": str(settings.checkpoint), "suite": sizes}
    if chain is not None:
        metrics["stance/chain"] = chain.to_json()
    metrics |= suite_metrics([str(e.label) for e in examples], predicted, [e.corpus for e in examples], labels,
                             prefix="stance/suite")
    write_json(run_dir / "metrics.json", metrics)
    if settings.report:
        from argmine.evaluation.suite import write_suite_report

        write_suite_report(run_dir / "report.md", metrics, labels)
    return metrics
