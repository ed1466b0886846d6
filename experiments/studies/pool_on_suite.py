"""Pool a cross-encoder and the n-gram baseline, choosing the weight by the mean macro-F1 over every dev set.

    .venv/bin/python experiments/studies/pool_on_suite.py --data-root DIR \
        --transformer runs/mix_xenc_s13/TIME/checkpoint --sklearn runs/mix_sklearn_s13/TIME/checkpoint \
        [--weights 0 0.1 ... 1] [--save DIR]

Both members are trained on the same mix (``experiment=threads_stance_mix``). The script reads the
sets of ``experiment=stance_dev_suite`` (CMV, RumourEval 3-way, DEBAGREEMENT, Lei et al. 2022, AAE2
claims, microtexts, our own threads), asks each member once for its probabilities on every item,
and prints, for each weight w on the transformer (p ∝ p_transformer^w · p_sklearn^(1−w)), every
set's macro-F1 and their mean. With ``--save`` it writes the pool with the best mean as a
``stance-ensemble`` checkpoint.

The weight is chosen on dev here, unlike ``model=minilm_sklearn`` (which holds out training threads):
the mean over seven dev sets is what issue 15 asks models to be chosen by, and the printed table
shows how flat it is; the saved checkpoint records that the weight was chosen on dev, so its dev
scores are optimistic by the choice of one number among the grid.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from hydra import compose, initialize_config_dir

from argmine.cli.train import data_settings
from argmine.jobs.data import gold as read_gold
from argmine.evaluation.stance import suite_metrics
from argmine.resources import conf_dir
from argmine.stance.baseline import SklearnStanceClassifier
from argmine.stance.ensemble import EnsembleStanceClassifier, pool
from argmine.stance.inputs import stance_examples
from argmine.stance.transformer import TransformerStanceClassifier
from argmine.thread import Stance


def suite_threads(data_root: str) -> dict[str, tuple[list, str]]:
    """``{set name: (gold threads of its split, stance level)}`` for every set of experiment=stance_dev_suite."""
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(
            config_name="evaluate",
            overrides=["experiment=stance_dev_suite", f"data_root={data_root}", "checkpoint=unused"],
        )
    return {
        str(name): (read_gold(data_settings(data), data.split), data.get("stance_level") or "both")
        for name, data in cfg.suite.items()
    }


def suite_examples(data_root: str) -> list:
    """Every labelled item of the dev suite, tagged with its set's name."""
    out = []
    for name, (gold, level) in suite_threads(data_root).items():
        out += [replace(e, corpus=name) for e in stance_examples(gold, level)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--transformer", required=True, type=Path)
    parser.add_argument("--sklearn", required=True, type=Path)
    parser.add_argument("--weights", type=float, nargs="+", default=[i / 10 for i in range(11)])
    parser.add_argument("--save", type=Path)
    args = parser.parse_args(argv)

    examples = suite_examples(args.data_root)
    transformer = TransformerStanceClassifier.from_pretrained(args.transformer)
    sklearn = SklearnStanceClassifier.from_pretrained(args.sklearn)
    labels = list(transformer.labels)
    inputs = [e.input for e in examples]
    p_t, p_s = transformer.predict_proba(inputs), sklearn.predict_proba(inputs)
    gold, corpora = [str(e.label) for e in examples], [e.corpus for e in examples]
    names = list(dict.fromkeys(corpora))
    print("| w on the transformer | " + " | ".join(names) + " | mean |")
    print("|---" * (len(names) + 2) + "|")
    best: tuple[float, float] | None = None
    means: dict[str, float] = {}
    for w in args.weights:
        p = pool(p_t, p_s, w)
        stances = [Stance(labels[j], float(row[j])) for row, j in zip(p, p.argmax(axis=1))]
        m = suite_metrics(gold, stances, corpora, labels)
        mean = m["stance/dev/mean_macro_f1"]
        means[f"{w:g}"] = mean
        print(f"| {w:g} | " + " | ".join(f"{m[f'stance/dev/{n}/macro_f1']:.3f}" for n in names) + f" | {mean:.3f} |")
        if best is None or mean > best[0]:
            best = (mean, w)
    assert best is not None
    print(f"best: w = {best[1]:g}, mean dev macro-F1 {best[0]:.4f}")
    if args.save:
        ensemble = EnsembleStanceClassifier.join(
            transformer,
            sklearn,
            best[1],
            settings={
                "weight_chosen_on": "mean macro-F1 over the dev suite (experiment=stance_dev_suite)",
                "suite_mean_macro_f1_by_weight": means,
                "refit": False,
            },
            training={"transformer": transformer.meta.training, "sklearn": sklearn.meta.training},
        )
        ensemble.save_pretrained(args.save)
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
