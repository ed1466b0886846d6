"""Could a separate classifier tell Claim from Premise better than the segmenter does?

    .venv/bin/python experiments/studies/claim_or_premise.py --cmv ../shared/data/cmv-modes-v2

``segmenter_seeds.py`` shows that the shipped segmenter finds 186 of CMV dev's 258 gold components
in place and gives 138 of them (74%) the right label. A relabeller would run after the segmenter and
decide each span's label alone. This fits the cheapest one: a logistic regression on the span's
words (TF-IDF, 1-2 grams), the 40 characters before it, and where it sits (its rank among the
message's components, first or last, first in its paragraph, offset, length, whether the message
is the post or quotes it, a question mark). Trained on CMV train's gold spans, scored on CMV dev's
gold spans (the conf/data/cmv.yaml split), labels as annotated: ``claim``, ``premise`` and the
post title's ``main_claim``. Nothing here changes a model.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from argmine.readers import read_threads


def spans(path: str, split: str) -> tuple[list[tuple[str, str, list[float]]], list[str]]:
    """(span text, the 40 characters before it, position features) and the gold label of every component."""
    rows, labels = [], []
    for thread in read_threads("cmv", path, split=split):
        for message in thread.messages():
            found = sorted(message.components, key=lambda c: c.start)
            for i, c in enumerate(found):
                paragraph = message.text.rfind("\n", 0, c.start) + 1
                first_in_paragraph = not any(paragraph <= o.start < c.start for o in found)
                where = [i / max(1, len(found) - 1), i == 0, i == len(found) - 1, c.start / max(1, len(message.text)),
                         first_in_paragraph, len(c.text.split()) / 30, message.id == thread.post.id,
                         message.text.lstrip().startswith(">"), "?" in c.text]  # fmt: skip
                rows.append((c.text, message.text[max(0, c.start - 40) : c.start], [float(x) for x in where]))
                labels.append(c.label)
    return rows, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmv", required=True, help="the CMV modes v2.0 folder")
    args = parser.parse_args(argv)

    train, y_train = spans(args.cmv, "train")
    dev, y_dev = spans(args.cmv, "dev")
    print(f"train spans {dict(Counter(y_train))}; dev spans {dict(Counter(y_dev))}")
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    before = TfidfVectorizer(ngram_range=(1, 2), min_df=2)

    def features(rows: list, fit: bool) -> csr_matrix:
        text = [r[0] for r in rows]
        left = [r[1] for r in rows]
        a = words.fit_transform(text) if fit else words.transform(text)
        b = before.fit_transform(left) if fit else before.transform(left)
        return hstack([a, 0.5 * b, 3 * csr_matrix(np.array([r[2] for r in rows]))]).tocsr()

    x_train, x_dev = features(train, True), features(dev, False)
    print(f"majority label on dev: {max(Counter(y_dev).values()) / len(y_dev):.3f}")
    for c in (0.3, 1.0, 3.0, 10.0):
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x_train, y_train)
        print(f"C={c}: dev accuracy {(model.predict(x_dev) == np.array(y_dev)).mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
