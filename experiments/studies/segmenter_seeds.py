"""Would several training seeds of the segmenter, joined, find better components than one?

    .venv/bin/python experiments/studies/segmenter_seeds.py --cmv ../shared/data/cmv-modes-v2 \
        runs/cmv_fs13/checkpoint runs/cmv_fs14/checkpoint runs/cmv_fsm15/checkpoint

Scores on CMV dev (conf/data/cmv.yaml's split), decoding with ``decoding.DEFAULT``:

* each checkpoint alone;
* their probability mean: every word's tag probabilities averaged over the checkpoints, then
  decoded once (an ensemble: one segmenter pass per checkpoint at inference);
* their weight mean (a "uniform soup", Wortsman et al. 2022): each LoRA merged into the encoder,
  every weight averaged, one model (one pass at inference).

Columns: span-exact and overlap-50 micro-F1, Claim and Premise overlap-50 F1, predicted components.
Then, for the first checkpoint, where overlap-50 is lost: the score with the label ignored, which
gold spans are found in place and with which label, and what a bias between the two labels'
probabilities or a minimum component score would change. Nothing here trains.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from argmine.evaluation.spans import message_component_metrics
from argmine.segmenter.decoding import DEFAULT, decode_words
from argmine.segmenter.model import Segmenter
from argmine.thread import Component

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decoding_rules import dev_gold, messages_of  # noqa: E402  (a sibling study script)

KEYS = ("span_exact/micro_f1", "span_overlap50/micro_f1", "span_overlap50/Claim/f1", "span_overlap50/Premise/f1")


def overlap(a: Component, b: Component) -> float:
    shared = max(0, min(a.end, b.end) - max(a.start, b.start))
    return shared / max(a.end - a.start, b.end - b.start)


def label_errors(probabilities: list, segmenter: Segmenter, messages: list, gold: list) -> None:
    """How much of overlap-50 the label costs, for one segmenter's predictions."""
    labels, tags = list(segmenter.labels), list(segmenter.tags)
    predicted = [decode_words(t.text, t.words, p, tags, DEFAULT) for t, p in probabilities]

    def ov50(pred: list, ref: list) -> float:
        return message_component_metrics(messages, ref, pred, labels=labels)["components/span_overlap50/micro_f1"]

    def one_label(items: list) -> list:
        return [[replace(c, label=labels[0]) for c in cs] for cs in items]

    print(f"\nfirst checkpoint: overlap-50 {ov50(predicted, gold):.3f}, "
          f"{ov50(one_label(predicted), one_label(gold)):.3f} with the label ignored")
    found: Counter = Counter()
    for pred, ref in zip(predicted, gold):
        for g in ref:
            best = max(pred, key=lambda c: overlap(c, g), default=None)
            if best is not None and overlap(best, g) >= 0.5:
                found[(g.label, best.label)] += 1
    print(f"gold spans found in place: {sum(found.values())} of {sum(map(len, gold))}; (gold, predicted) label: "
          + ", ".join(f"{g}→{p} {n}" for (g, p), n in sorted(found.items())))
    columns = {label: [tags.index(f"B-{label}"), tags.index(f"I-{label}")] for label in labels}
    for bias in (-0.2, -0.1, 0.1, 0.2):  # toward the first label
        relabelled = []
        for (tok, p), pred in zip(probabilities, predicted):
            starts, ends = np.array([w[0] for w in tok.words]), np.array([w[1] for w in tok.words])
            out = []
            for c in pred:
                inside = np.flatnonzero((starts < c.end) & (ends > c.start))
                mass = {label: p[inside][:, cols].sum(axis=1).mean() for label, cols in columns.items()}
                first = mass[labels[0]] + bias > mass[labels[1]]
                out.append(replace(c, label=labels[0] if first else labels[1]))
            relabelled.append(out)
        print(f"bias {bias:+.1f} toward {labels[0]}: overlap-50 {ov50(relabelled, gold):.3f}")
    for floor in (0.5, 0.6, 0.7):
        kept = [[c for c in pred if c.score >= floor] for pred in predicted]
        print(f"components scored under {floor} dropped: overlap-50 {ov50(kept, gold):.3f}, "
              f"{sum(map(len, kept))} components")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmv", required=True, type=Path)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    args = parser.parse_args(argv)

    rows = messages_of(dev_gold("cmv", args.cmv), "none")
    texts = [r["text"] for r in rows]
    messages = [(r["thread"], r["message"], r["text"]) for r in rows]
    gold = [[Component(**{k: v for k, v in g.items() if k in ("id", "start", "end", "label", "text")})
             for g in r["gold"]] for r in rows]  # fmt: skip
    segmenters = [Segmenter.from_pretrained(c) for c in args.checkpoints]
    labels = list(segmenters[0].labels)

    def line(name: str, probabilities: list, segmenter: Segmenter) -> str:
        predicted = [decode_words(t.text, t.words, p, segmenter.tags, DEFAULT) for t, p in probabilities]
        m = message_component_metrics(messages, gold, predicted, labels=labels)
        cells = " | ".join(f"{m[f'components/{k}']:.3f}" for k in KEYS)
        return f"| {name} | {cells} | {sum(map(len, predicted))} |"

    print("| segmenter | span-exact | overlap-50 | Claim overlap-50 | Premise overlap-50 | components |")
    print("|---|---|---|---|---|---|")
    each = []
    for path, segmenter in zip(args.checkpoints, segmenters):
        each.append(segmenter.word_probabilities(texts))
        print(line(str(path), each[-1], segmenter), flush=True)
    mean = [(each[0][i][0], np.mean([p[i][1] for p in each], axis=0)) for i in range(len(texts))]
    print(line("probability mean", mean, segmenters[0]), flush=True)
    label_errors(each[0], segmenters[0], messages, gold)
    merged = [s.merged() for s in segmenters]
    states = [m.model.state_dict() for m in merged]
    soup = {
        key: (sum(s[key].float() for s in states) / len(states)).to(value.dtype) if value.is_floating_point() else value
        for key, value in states[0].items()
    }
    merged[0].model.load_state_dict(soup)
    print(line("weight mean (soup)", merged[0].word_probabilities(texts), merged[0]))
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
