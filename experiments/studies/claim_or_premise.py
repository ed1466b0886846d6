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

With ``--segmenter DIR`` (repeatable) the relabeller does not replace the segmenter's label but is
joined with it: both estimate P(Claim) for a span the segmenter found, so their log-odds are added
and the training prior's log-odds subtracted once (a product of two experts, no weight fitted),
for a regression on the position features alone and for the full one (labels mapped as
conf/data/cmv.yaml maps them: claim and main_claim → Claim). Scored on CMV dev as ``argmine
evaluate`` scores, decoding with ``decoding.DEFAULT``.
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


def span_rows(thread, message, found: list) -> list[tuple[str, str, list[float]]]:
    """(span text, the 40 characters before it, position features) of each span in ``found`` (in text order)."""
    rows = []
    for i, c in enumerate(found):
        paragraph = message.text.rfind("\n", 0, c.start) + 1
        first_in_paragraph = not any(paragraph <= o.start < c.start for o in found)
        where = [i / max(1, len(found) - 1), i == 0, i == len(found) - 1, c.start / max(1, len(message.text)),
                 first_in_paragraph, len(c.text.split()) / 30, message.id == thread.post.id,
                 message.text.lstrip().startswith(">"), "?" in c.text]  # fmt: skip
        rows.append((c.text, message.text[max(0, c.start - 40) : c.start], [float(x) for x in where]))
    return rows


def spans(path: str, split: str) -> tuple[list[tuple[str, str, list[float]]], list[str]]:
    """``span_rows`` and the gold label of every component."""
    rows, labels = [], []
    for thread in read_threads("cmv", path, split=split):
        for message in thread.messages():
            found = sorted(message.components, key=lambda c: c.start)
            rows += span_rows(thread, message, found)
            labels += [c.label for c in found]
    return rows, labels


def claim_share(model: LogisticRegression, x: csr_matrix) -> np.ndarray:
    """P(Claim) from a regression over the annotated labels (main_claim is a Claim too)."""
    p = model.predict_proba(x)
    return sum(p[:, i] for i, label in enumerate(model.classes_) if label != "premise")


def joined(cmv: str, segmenter_dir: str, models: dict, featurize) -> None:
    """One segmenter's CMV dev scores with its own labels and with each relabeller joined to it."""
    from dataclasses import replace

    from argmine.evaluation.spans import message_component_metrics
    from argmine.segmenter.decoding import DEFAULT, decode_words
    from argmine.segmenter.model import Segmenter

    threads = list(read_threads("cmv", cmv, split="dev"))
    mapped = {"claim": "Claim", "main_claim": "Claim", "premise": "Premise"}
    messages = [(t.id, m.id, m.text) for t in threads for m in t.messages()]
    gold = [[replace(c, label=mapped[c.label]) for c in m.components] for t in threads for m in t.messages()]
    segmenter = Segmenter.from_pretrained(segmenter_dir)
    tags = list(segmenter.tags)
    claim_cols = [tags.index("B-Claim"), tags.index("I-Claim")]
    premise_cols = [tags.index("B-Premise"), tags.index("I-Premise")]
    found, claim_odds = [], []
    for tok, probs in segmenter.word_probabilities([m[2] for m in messages]):
        spans_here = sorted(decode_words(tok.text, tok.words, probs, tags, DEFAULT), key=lambda c: c.start)
        starts, ends = np.array([w[0] for w in tok.words]), np.array([w[1] for w in tok.words])
        odds = []
        for c in spans_here:
            inside = np.flatnonzero((starts < c.end) & (ends > c.start))
            claim, premise = probs[inside][:, claim_cols].sum(1).mean(), probs[inside][:, premise_cols].sum(1).mean()
            odds.append(np.log(claim / premise))
        found.append(spans_here)
        claim_odds.append(odds)

    def line(name: str, predicted: list) -> None:
        m = message_component_metrics(messages, gold, predicted, labels=["Claim", "Premise"])
        keys = ("span_exact/micro_f1", "span_overlap50/micro_f1",
                "span_overlap50/Claim/f1", "span_overlap50/Premise/f1")
        print(f"| {segmenter_dir} | {name} | " + " | ".join(f"{m['components/' + k]:.3f}" for k in keys) + " |")

    line("segmenter's labels", found)
    for name, (model, x_of, prior) in models.items():
        relabelled = []
        for t_m, spans_here, odds in zip([(t, m) for t in threads for m in t.messages()], found, claim_odds):
            if not spans_here:
                relabelled.append([])
                continue
            share = np.clip(claim_share(model, x_of(featurize(*t_m, spans_here))), 1e-6, 1 - 1e-6)
            total = np.array(odds) + np.log(share / (1 - share)) - np.log(prior / (1 - prior))
            relabelled.append([replace(c, label="Claim" if z > 0 else "Premise") for c, z in zip(spans_here, total)])
        line(f"joined with {name}", relabelled)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmv", required=True, help="the CMV modes v2.0 folder")
    parser.add_argument("--segmenter", action="append", default=[], help="join the relabellers to this segmenter")
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
    if not args.segmenter:
        return 0

    prior = float(np.mean([label != "premise" for label in y_train]))
    where_train = csr_matrix(np.array([r[2] for r in train]))
    models = {
        "position features": (LogisticRegression(max_iter=2000).fit(where_train, y_train),
                              lambda rows: csr_matrix(np.array([r[2] for r in rows])), prior),
        "words + position": (LogisticRegression(C=1.0, max_iter=2000).fit(x_train, y_train),
                             lambda rows: features(rows, False), prior),
    }
    print("\n| segmenter | labels | span-exact | overlap-50 | Claim overlap-50 | Premise overlap-50 |")
    print("|---|---|---|---|---|---|")
    for segmenter_dir in args.segmenter:
        joined(args.cmv, segmenter_dir, models, span_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
