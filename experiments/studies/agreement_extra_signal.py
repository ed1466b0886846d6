"""Does reply→parent (dis)agreement data help RumourEval stance? Measured with the scikit-learn baseline.

    python experiments/studies/agreement_extra_signal.py \
        --rumoureval ../shared/data/rumoureval2019 \
        --agreement debagreement=../shared/data/debagreement-partial \
        --agreement lei2022=../shared/data/subreddit-agreement-lei2022 [--fractions 0.1 0.3 1.0]

Issue 4 names DEBAGREEMENT (Pougué-Biyong et al. 2021) and the SubReddit
agreement data of Lei et al. (2022) as optional extra signal. Both label a
Reddit reply toward the comment it answers: agree / neutral / disagree. Read
as stance toward a post (the parent standing in for the post), agree → support
and disagree → deny; neutral is dropped, since RumourEval's comment class is
about rumours, not a neutral reply (``--neutral comment`` keeps it as comment).

For each fraction of the extra pairs (0 = RumourEval alone), the baseline
(``SklearnStanceClassifier``, C=1, the value dev chose for the shipped member)
is trained and scored twice:

* ``cv``: 5-fold cross-validation over the RumourEval training threads (folds
  by a hash of the thread id, so a thread's replies stay together; extras only
  ever in the training folds), mean ± std of the folds' task-A macro-F1;
* ``dev``: trained on all training threads (+ extras), scored on the dev split.

Nothing is tuned on dev here. The extra data never enter the scored folds.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import statistics
import sys
from pathlib import Path

from argmine.evaluation.stance import label_metrics
from argmine.readers import read_threads
from argmine.stance.baseline import SklearnStanceClassifier
from argmine.stance.inputs import StanceExample, StanceInput, stance_examples

LABELS = ("support", "deny", "query", "comment")
# Each corpus: its CSV files, the parent/reply/label columns, and its label codes.
CORPORA = {
    "debagreement": (("dev.csv", "test.csv"), ("body_parent", "body_child", "label")),
    "lei2022": (
        ("SubReddit-CovidVaccine.csv", "SubReddit-MaskMandate.csv"),
        ("quote_text", "response_text", "relation"),
    ),
}
AGREEMENT = {"0": "disagree", "1": "neutral", "2": "agree"}  # the same codes in both releases


def read_agreement(name: str, folder: Path, neutral: str | None) -> list[StanceExample]:
    """The (parent, reply) pairs of one corpus as stance examples; a row that does not parse is an error."""
    files, (parent_col, reply_col, label_col) = CORPORA[name]
    to_stance = {"agree": "support", "disagree": "deny", "neutral": neutral}
    examples = []
    for file in files:
        path = folder / file
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # the Lei et al. files are Windows-1252 (0x92 for a right quote)
            text = raw.decode("cp1252")
        rows = csv.DictReader(io.StringIO(text, newline=""))  # quoted fields may hold line breaks
        missing = {parent_col, reply_col, label_col} - set(rows.fieldnames or ())
        if missing:
            sys.exit(f"{path}: no column(s) {sorted(missing)}")
        for row in rows:
            number = rows.line_num  # the physical line where the row ends
            code = row[label_col].strip()
            if code not in AGREEMENT:
                sys.exit(f"{path}:{number}: {label_col} {code!r} is not one of {sorted(AGREEMENT)}")
            stance = to_stance[AGREEMENT[code]]
            if stance is not None:
                item = StanceInput(post=row[parent_col], text=row[reply_col])
                examples.append(StanceExample(f"{name}:{file}:{number}", "", "comment", item, stance))
    return examples


def macro_f1(model: SklearnStanceClassifier, examples: list[StanceExample]) -> float:
    predicted = [s.label for s in model.predict([e.input for e in examples])]
    return label_metrics([e.label or "" for e in examples], predicted, LABELS, "x")["x/macro_f1"]


def fit(examples: list[StanceExample]) -> SklearnStanceClassifier:
    return SklearnStanceClassifier.fit([e.input for e in examples], [e.label or "" for e in examples], LABELS)


def fold_of(thread_id: str, folds: int) -> int:
    return int(hashlib.sha256(f"cv:{thread_id}".encode()).hexdigest(), 16) % folds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rumoureval", type=Path, required=True)
    parser.add_argument("--agreement", action="append", default=[], metavar="NAME=DIR", help=f"NAME in {list(CORPORA)}")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--neutral", choices=["drop", "comment"], default="drop")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    def examples(split: str) -> list[StanceExample]:
        return stance_examples(read_threads("rumoureval", args.rumoureval, split=split), "comment", include_posts=True)

    train, dev = examples("train"), examples("dev")
    extra: list[StanceExample] = []
    for spec in args.agreement:
        name, _, folder = spec.partition("=")
        if name not in CORPORA or not folder:
            sys.exit(f"--agreement {spec!r}: expected NAME=DIR with NAME one of {list(CORPORA)}")
        extra += read_agreement(name, Path(folder), None if args.neutral == "drop" else "comment")
    random.Random(13).shuffle(extra)  # a fraction is a random sample, the same for every run
    counts = {label: sum(e.label == label for e in extra) for label in LABELS}
    print(f"RumourEval: {len(train)} training, {len(dev)} dev labels; extra pairs: {len(extra)} {counts}")
    print(f"{'extra':>14} | {args.folds}-fold cv macro-F1 | dev macro-F1")
    for fraction in [0.0, *args.fractions]:
        added = extra[: round(fraction * len(extra))]
        scores = []
        for k in range(args.folds):
            held = [e for e in train if fold_of(e.thread_id, args.folds) == k]
            kept = [e for e in train if fold_of(e.thread_id, args.folds) != k]
            scores.append(macro_f1(fit(kept + added), held))
        dev_f1 = macro_f1(fit(train + added), dev)
        spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
        print(f"{len(added):>14} | {statistics.mean(scores):.4f} ± {spread:.4f} | {dev_f1:.4f}", flush=True)


if __name__ == "__main__":
    main()
