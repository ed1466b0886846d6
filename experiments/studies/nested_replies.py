"""Does a stance classifier say ``none`` to a reply to a reply because of the parent beside it?

    .venv/bin/python experiments/studies/nested_replies.py --data-root ../shared/data \
        --checkpoint models/argmine-threads-minilm/stance

Prints two tables:

1. the labels of the training mix (``experiment=threads_stance_mix`` with the explicit-stance
   threads, as the shipped stance half was trained) and of the dev suite, by corpus, level and
   reply depth: a direct reply to the post, or a reply to a reply (whose pair carries its parent);
2. every dev set of ``experiment=stance_dev_suite`` scored with each reply read directly (no reply
   chain), the replies to replies read twice: with their parent in the pair, as trained, and
   without it. Then, for our own threads, each reply to a reply's predicted and gold label.

Nothing here trains.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from argmine.cli.train import data_settings
from argmine.evaluation.stance import suite_metrics
from argmine.jobs.data import gold
from argmine.jobs.train import extra_train
from argmine.resources import conf_dir
from argmine.stance.inputs import stance_examples
from argmine.stance.transformer import TransformerStanceClassifier
from argmine.thread import Stance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pool_on_suite import suite_examples  # noqa: E402  (a sibling study script)


def training_mix(data_root: str) -> list:
    """The stance examples of the shipped recipe's training data, each tagged with its corpus."""
    overrides = ["experiment=threads_stance_mix", f"data_root={data_root}", "+data@data.extra_train.cues=stance_cues"]
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    data = data_settings(cfg.data)
    out = [replace(e, corpus=data.name) for e in stance_examples(gold(data, data.train_split), "both")]
    for name, (_, threads, _) in extra_train(data).items():
        out += [replace(e, corpus=name) for e in stance_examples(threads, "both")]
    return out


def label_table(examples: list, title: str) -> None:
    counts: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    for e in examples:
        counts[(e.corpus, e.level, "reply to a reply" if e.input.parent else "direct")][e.label] += 1
    print(f"\n{title}\n\n| corpus | level | reply | support | attack | none | none share |\n|---|---|---|---|---|---|---|")
    for (corpus, level, depth), c in sorted(counts.items()):
        total = sum(c.values())
        print(f"| {corpus} | {level} | {depth} | {c['support']} | {c['attack']} | {c['none']} | "
              f"{c['none'] / total:.2f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--checkpoint", required=True, type=Path, help="a transformer stance checkpoint folder")
    args = parser.parse_args(argv)

    label_table(training_mix(args.data_root), "Training mix")
    examples = suite_examples(args.data_root)
    label_table(examples, "Dev suite")

    model = TransformerStanceClassifier.from_pretrained(args.checkpoint).merged()
    labels = list(model.labels)
    nested = [i for i, e in enumerate(examples) if e.input.parent]
    direct = [i for i, e in enumerate(examples) if not e.input.parent]
    rows = np.zeros((len(examples), len(labels)), dtype=np.float32)
    rows[direct] = model.predict_proba([examples[i].input for i in direct])
    readings = {
        "with the parent (as trained)": model.predict_proba([examples[i].input for i in nested]),
        "without the parent": model.predict_proba([replace(examples[i].input, parent=None) for i in nested]),
    }
    gold_labels, corpora = [str(e.label) for e in examples], [e.corpus for e in examples]
    names = list(dict.fromkeys(corpora))
    print(f"\n{len(examples)} dev items, {len(nested)} of them replies to replies\n")
    print("| replies to replies read | " + " | ".join(names) + " | mean |\n" + "|---" * (len(names) + 2) + "|")
    own = [i for i in nested if corpora[i] == "own_threads"]
    shown = []
    for reading, nested_rows in readings.items():
        rows[nested] = nested_rows
        stances = [Stance(labels[int(r.argmax())], float(r.max())) for r in rows]
        m = suite_metrics(gold_labels, stances, corpora, labels)
        cells = " | ".join(f"{m[f'stance/dev/{n}/macro_f1']:.3f}" for n in names)
        print(f"| {reading} | {cells} | {m['stance/dev/mean_macro_f1']:.3f} |")
        shown.append((reading, [stances[i].label for i in own]))
    print(f"\nOur own threads, its {len(own)} replies to replies:")
    print(f"  gold: {' '.join(gold_labels[i][0] for i in own)}")
    for reading, predicted in shown:
        right = sum(p == gold_labels[i] for p, i in zip(predicted, own))
        print(f"  {reading}: {' '.join(p[0] for p in predicted)} ({right} right)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
