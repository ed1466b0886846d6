"""Should the cross-encoder abstain on `deny` in the RumourEval pool? Both rules on the same members.

    .venv/bin/python experiments/studies/ensemble_abstention.py --rumoureval ../shared/data/rumoureval2019 \\
        runs/re_abstain_s13/*/checkpoint runs/re_unrefit_s14/*/checkpoint runs/re_abstain_s15/*/checkpoint

Each CHECKPOINT is a stance ensemble trained with ``model.ensemble.refit=false``, so its members
never saw the threads it held out. For each, the script splits the training threads again as the
run did (its recorded held-out fraction and seed), takes both members' probabilities on the
held-out threads and on dev, and for two pooling rules chooses the weight on the held-out threads
(the run's weight grid) and scores dev, task-A macro-F1 as SemEval-2019 scored it:

- ``votes``: the cross-encoder votes on every label (``model.ensemble.sklearn_only=[]``);
- ``abstains``: the labels ``--abstain`` (default ``deny``) take the baseline's probability alone.

As a check, the rule the checkpoint was trained with must choose the weight the checkpoint records.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from argmine.evaluation.stance import label_metrics
from argmine.readers import read_threads
from argmine.stance.ensemble import EnsembleStanceClassifier, choose_weight, pool, split_holdout
from argmine.stance.inputs import StanceExample, stance_examples

RULES = ("votes", "abstains")


def scores(gold: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    predicted = [labels[j] for j in probabilities.argmax(axis=1)]
    metrics = label_metrics(gold, predicted, labels, "dev")
    return {"macro_f1": metrics["dev/macro_f1"], **{label: metrics[f"dev/{label}/f1"] for label in labels}}


def study(checkpoint: Path, train: list[StanceExample], dev: list[StanceExample], abstain: Sequence[str]) -> dict:
    ensemble = EnsembleStanceClassifier.from_pretrained(checkpoint)
    settings, labels = ensemble.meta.settings, list(ensemble.labels)
    if settings.get("refit", True):
        raise SystemExit(f"{checkpoint}: trained with refit, so its members saw the held-out threads; use refit=false")
    _, held = split_holdout(train, lambda e: e.thread_id, settings["holdout_fraction"], settings["holdout_seed"])
    if len(held) != settings["holdout_examples"]:
        raise SystemExit(
            f"{checkpoint}: {len(held)} held-out examples here, {settings['holdout_examples']} in training"
        )
    grid = sorted(float(w) for w in settings["holdout_macro_f1_by_weight"])
    members = {name: [e.input for e in part] for name, part in (("held", held), ("dev", dev))}
    p_t = {name: ensemble.transformer.predict_proba(inputs) for name, inputs in members.items()}
    p_s = {name: ensemble.sklearn.predict_proba(inputs) for name, inputs in members.items()}
    held_gold, dev_gold = [e.label or "" for e in held], [e.label or "" for e in dev]
    replies = [i for i, e in enumerate(dev) if e.level != "post"]
    out = {"seed": settings["holdout_seed"], "held": len(held)}
    for rule in RULES:
        columns = [labels.index(label) for label in abstain] if rule == "abstains" else []
        weight, held_scores = choose_weight(p_t["held"], p_s["held"], held_gold, labels, grid, columns)
        if [labels[j] for j in columns] == list(ensemble.sklearn_only) and weight != ensemble.weight:
            raise SystemExit(
                f"{checkpoint}: rule {rule} chose weight {weight}, the checkpoint records {ensemble.weight}"
            )
        pooled = pool(p_t["dev"], p_s["dev"], weight, columns)
        out[rule] = {
            "weight": weight,
            "held_f1": held_scores[f"{weight:g}"],
            **scores(dev_gold, pooled, labels),
            "replies_f1": scores([dev_gold[i] for i in replies], pooled[replies], labels)["macro_f1"],
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rumoureval", type=Path, required=True, help="the RumourEval 2019 folder")
    parser.add_argument("--abstain", nargs="+", default=["deny"], help="labels the cross-encoder abstains on")
    parser.add_argument("checkpoints", type=Path, nargs="+", help="stance ensembles trained with refit=false")
    args = parser.parse_args(argv)

    def examples(split: str) -> list[StanceExample]:
        return stance_examples(read_threads("rumoureval", args.rumoureval, split=split), "comment", include_posts=True)

    train, dev = examples("train"), examples("dev")
    results = [study(checkpoint, train, dev, args.abstain) for checkpoint in args.checkpoints]
    labels = [k for k in results[0]["votes"] if k not in ("weight", "held_f1", "macro_f1", "replies_f1")]
    print(
        "| seed | held-out labels | rule | weight (held-out F1) | dev macro-F1 | replies only | "
        + " | ".join(f"{label} F1" for label in labels)
        + " |"
    )
    print("|---" * (6 + len(labels)) + "|")
    for result in results:
        for rule in RULES:
            r = result[rule]
            print(
                f"| {result['seed']} | {result['held']} | {rule} | {r['weight']:g} ({r['held_f1']:.3f}) "
                f"| {r['macro_f1']:.4f} | {r['replies_f1']:.4f} | "
                + " | ".join(f"{r[label]:.3f}" for label in labels)
                + " |"
            )
    for rule in RULES:
        values = [result[rule]["macro_f1"] for result in results]
        spread = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
        print(f"{rule}: dev macro-F1 mean {statistics.mean(values):.4f}{spread} over {len(values)} checkpoint(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
