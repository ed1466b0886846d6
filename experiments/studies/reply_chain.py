"""Stance through the reply chain: does composing a reply's agreement with its parent help on dev?

    .venv/bin/python experiments/studies/reply_chain.py --data-root DIR --checkpoint models/argmine-threads-minilm \
        [--weights 0 0.5 1] [--min-agreement 0.7]

A comment that argues against a reply to the post stands with the post when that reply attacked it.
Read with its parent beside it, the shipped cross-encoder says ``none`` for nearly every reply to a
reply (issue 15: reply-to-reply behaviour cases 0 of 5). ``argmine.stance.chain`` composes the
reply's agreement with its parent (the same model on the pair parent → reply) with the parent's
stance toward the post. The script prints, for each weight of the chain, every dev set's macro-F1
(the sets of experiment=stance_dev_suite), their mean, and the accuracy on the replies to replies
alone, then each set's per-label F1. Only CMV, RumourEval and our own threads have replies to
replies; the other sets cannot change. ``--min-agreement``: only replies at least this sure that
they agree or disagree with their parent are chained. The checkpoint's own chain setting is
ignored: the script sets it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from pool_on_suite import suite_threads  # this folder: the scripts run as python experiments/studies/NAME.py

from argmine.evaluation.stance import suite_metrics
from argmine.stance.chain import ChainSettings, predict_stances
from argmine.stance.inputs import stance_examples
from argmine.stance.predict import load_stance_classifier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--weights", type=float, nargs="+", default=[0, 0.25, 0.5, 0.75, 1])
    parser.add_argument("--min-agreement", type=float, default=0.0,
                        help="chain only the replies whose agreement or disagreement with the parent is at least this sure")
    args = parser.parse_args(argv)

    folder = Path(args.checkpoint)
    classifier = load_stance_classifier(folder / "stance" if (folder / "stance").is_dir() else folder)
    classifier = _Cached(classifier)
    labels = list(classifier.labels)
    sets = suite_threads(args.data_root)
    rows: dict[float, list[float]] = {w: [] for w in args.weights}
    nested: dict[float, tuple[list[str], list[str]]] = {w: ([], []) for w in args.weights}
    names = list(sets)
    per_label: dict[tuple[str, float], list[float]] = {}
    for name, (threads, level) in sets.items():
        examples = stance_examples(threads, level)
        gold = [str(e.label) for e in examples]
        for w in args.weights:
            chained = predict_stances(classifier, threads, level=level,
                                      chain=ChainSettings(weight=w, min_agreement=args.min_agreement))
            said = [chained[(e.thread_id, e.item_id)] for e in examples]
            m = suite_metrics(gold, said, [name] * len(gold), labels)
            rows[w].append(m[f"stance/dev/{name}/macro_f1"])
            per_label[(name, w)] = [m.get(f"stance/dev/{name}/{label}/f1", float("nan")) for label in labels]
            deep = _nested_items(threads)
            for e, s in zip(examples, said):
                if (e.thread_id, e.item_id) in deep:
                    nested[w][0].append(str(e.label))
                    nested[w][1].append(s.label)
        print(f"{name}: {len(examples)} items, {len(_nested_items(threads) & {(e.thread_id, e.item_id) for e in examples})} in replies to replies", file=sys.stderr)
    print("| w on the chain | " + " | ".join(names) + " | mean | replies to replies: accuracy |")
    print("|---" * (len(names) + 3) + "|")
    for w in args.weights:
        g, p = nested[w]
        acc = sum(a == b for a, b in zip(g, p)) / len(g) if g else float("nan")
        print(f"| {w:g} | " + " | ".join(f"{x:.3f}" for x in rows[w]) + f" | {np.mean(rows[w]):.3f} | {acc:.3f} ({len(g)}) |")
    print()
    print("| set | w | " + " | ".join(f"{label} F1" for label in labels) + " |")
    print("|---" * (len(labels) + 2) + "|")
    for name in names:
        for w in args.weights:
            print(f"| {name} | {w:g} | " + " | ".join(f"{x:.3f}" for x in per_label[(name, w)]) + " |")
    g, _ = nested[args.weights[0]]
    print("\nreplies to replies, gold: " + ", ".join(f"{label} {g.count(label)}" for label in labels))
    return 0


class _Cached:
    """The classifier with its probabilities remembered per input: each weight re-reads the same pairs."""

    def __init__(self, inner) -> None:
        self.inner, self.labels, self.memo = inner, inner.labels, {}

    def predict_proba(self, inputs, *, batch_size: int = 32) -> np.ndarray:
        new = list(dict.fromkeys(i for i in inputs if i not in self.memo))
        if new:
            for item, row in zip(new, self.inner.predict_proba(new, batch_size=batch_size)):
                self.memo[item] = row
        return np.stack([self.memo[i] for i in inputs])


def _nested_items(threads) -> set[tuple[str, str]]:
    out = set()
    for thread in threads:
        for comment in thread.comments:
            if comment.reply_to != thread.post.id:
                out.add((thread.id, comment.id))
                out |= {(thread.id, c.id) for c in comment.components}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
