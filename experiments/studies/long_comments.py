"""Read long comments in full: score every window of a text and pool the windows' probabilities.

    .venv/bin/python experiments/studies/long_comments.py --data-root DIR \
        --checkpoint models/argmine-threads-minilm/stance [--save-probabilities FILE.npz]

A transformer stance classifier reads a (post, text) pair of ``max_length`` tokens; a longer text
is reduced to its head (``argmine.stance.inputs.head_within``), so a comment whose stance is in its
last paragraph is judged on its first. Here each text that does not fit is cut into consecutive
windows (``windows_within``), each window read with the same post (and parent), and the windows'
probabilities pooled by each rule below. Every set of ``experiment=stance_dev_suite`` is scored
once per rule (each reply read directly, no reply chain); texts that fit are read as before, so
only the long ones can change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from argmine.evaluation.stance import suite_metrics
from argmine.stance.transformer import TransformerStanceClassifier
from argmine.thread import Stance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pool_on_suite import suite_examples  # noqa: E402  (a sibling study script)


def _reading(model: TransformerStanceClassifier, reading: str):
    # the classifier's own pooling (argmine.stance.transformer.pool_windows), as a checkpoint would set it
    def pool(p: np.ndarray) -> np.ndarray:
        model.long_text = reading
        return model.pool_windows(p)

    return pool


def pools(model: TransformerStanceClassifier) -> dict:
    """Each rule: the windows' probabilities (rows, in text order) → one row."""
    return {
        "head (as before)": lambda p: p[0],
        "last window": lambda p: p[-1],
        "head + last, mean": lambda p: (p[0] + p[-1]) / 2,
        "all windows, mean": _reading(model, "windows_mean"),
        "all windows, geometric mean": lambda p: (lambda g: g / g.sum())(np.exp(np.log(p + 1e-9).mean(axis=0))),
        "all windows, sided max": _reading(model, "windows_sided_max"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--checkpoint", required=True, type=Path, help="a transformer stance checkpoint folder")
    parser.add_argument("--save-probabilities", type=Path)
    args = parser.parse_args(argv)

    examples = suite_examples(args.data_root)
    model = TransformerStanceClassifier.from_pretrained(args.checkpoint).merged()
    labels = list(model.labels)
    groups = model.window_pairs([e.input for e in examples])
    flat = [pair for group in groups for pair in group]
    p = model.proba_of_rows(model.tokenize_pairs(flat))
    starts = np.cumsum([0] + [len(g) for g in groups])
    gold, corpora = [str(e.label) for e in examples], [e.corpus for e in examples]
    names = list(dict.fromkeys(corpora))
    long = [i for i, g in enumerate(groups) if len(g) > 1]
    print(f"{len(examples)} items, {len(long)} longer than one window, {len(flat)} windows in all")
    for name in names:
        n = sum(1 for i in long if corpora[i] == name)
        print(f"  {name}: {n} long of {corpora.count(name)}")
    if args.save_probabilities:
        np.savez(args.save_probabilities, p=p, starts=starts, gold=np.array(gold), corpora=np.array(corpora))
    print("| pooling of the windows | " + " | ".join(names) + " | mean |")
    print("|---" * (len(names) + 2) + "|")
    for rule, pool in pools(model).items():
        rows = [pool(p[starts[i] : starts[i + 1]]) for i in range(len(groups))]
        stances = [Stance(labels[int(r.argmax())], float(r.max())) for r in rows]
        m = suite_metrics(gold, stances, corpora, labels)
        cells = " | ".join(f"{m[f'stance/dev/{n}/macro_f1']:.3f}" for n in names)
        print(f"| {rule} | {cells} | {m['stance/dev/mean_macro_f1']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
