"""What every metric key means: the glossary report.md and the runs summary print beside each number.

``HEADLINE`` names the numbers a paper would quote (each gets a bootstrap interval when it was
scored); ``describe_metric(key)`` gives the one-line definition of any key the metrics emit.
"""

from __future__ import annotations

from argmine.evaluation.stance import CALIBRATION_BINS

# The numbers a paper would quote; each gets a bootstrap interval when it was scored.
HEADLINE = (
    "components/span_exact/micro_f1",
    "components/span_overlap50/micro_f1",
    "stance/comments/macro_f1",
    "stance/components/macro_f1",
    "stance/messages/macro_f1",
)
# What a training run's metrics.json (dev scores of the best epoch) quotes, besides the keys above.
RUN_HEADLINE = HEADLINE + (
    "stance/dev/macro_f1",
    "stance/dev/comments/macro_f1",
    "stance/dev/components/macro_f1",
    "stance/dev/mean_macro_f1",  # a stance mix: the mean over its corpora's dev sets, what the epoch is picked by
    "stance/suite/mean_macro_f1",  # experiment=stance_dev_suite: the mean over every dev set
)
CI_SUFFIX = "/ci95"  # metrics.json: "<key>/ci95": [low, high]
STANCE_LEVELS = ("comments", "components", "messages")  # the order the reports list stance levels in

_LEVEL_ITEMS = {
    "comments": "reply comments",
    "messages": "reply comments and posts",
    "components": "reply components",
    "posts": "posts",
    "dev": "dev items (every level the model was trained on)",
}
_MATCH = {
    "span_exact": "match = same message, same label, exact character boundaries",
    "span_overlap50": "match = same message and label, overlap covers at least half of both spans, "
    "one-to-one, largest overlap first",
}
# What each precision / recall / F1 / support key counts, filled in by describe_metric: {match} one of
# _MATCH, {label} the key's label, {items} one of _LEVEL_ITEMS, {extra} a note on span_exact's micro F1.
_COMPONENTS_MICRO = {  # components/<match>/<metric>
    "micro_precision": "predicted components that match a gold one / all predicted components ({match})",
    "micro_recall": "gold components matched by a prediction / all gold components ({match})",
    "micro_f1": "harmonic mean of micro precision and recall ({match}){extra}",
    "macro_f1": "mean of the per-label F1 over the checkpoint's labels ({match}); a label never predicted scores 0",
}
_COMPONENTS_PER_LABEL = {  # components/<match>/<label>/<metric>
    "support": "number of gold {label} components",
    "precision": "predicted {label} components that match a gold one / all predicted {label} ({match})",
    "recall": "gold {label} components matched by a prediction / all gold {label} ({match})",
    "f1": "harmonic mean of the {label} precision and recall ({match})",
}
_STANCE_PER_LABEL = {  # stance/<level>/<label>/<metric>
    "precision": "{items} predicted {label} whose gold stance is {label} / all predicted {label}",
    "recall": "{items} with gold {label} predicted {label} / all gold {label} (support)",
    "f1": "harmonic mean of the {label} precision and recall",
    "support": "{items} whose gold stance is {label}",
}


def describe_metric(key: str) -> str:
    """One line saying what a metric key counts and how; ``""`` for a key we do not know."""
    if key in _FIXED:
        return _FIXED[key]
    parts = key.split("/")
    if parts[0] == "components" and len(parts) in (3, 4) and parts[1] in _MATCH:
        match = _MATCH[parts[1]]
        if len(parts) == 3 and parts[2] in _COMPONENTS_MICRO:
            extra = "; the literature's C-F1" if parts[1] == "span_exact" else ""
            return _COMPONENTS_MICRO[parts[2]].format(match=match, extra=extra)
        if len(parts) == 4 and parts[3] in _COMPONENTS_PER_LABEL:
            return _COMPONENTS_PER_LABEL[parts[3]].format(label=parts[2], match=match)
    if parts[:2] == ["stance", "dev"] and len(parts) >= 4 and parts[2] in _LEVEL_ITEMS:
        # a training run's dev scores of one level: stance/dev/<level>/...
        inner = describe_metric("/".join(["stance", *parts[2:]]))
        return f"dev split while training: {inner}" if inner else ""
    if parts[0] == "stance" and len(parts) >= 3 and parts[1] in _LEVEL_ITEMS:
        items = _LEVEL_ITEMS[parts[1]]
        rest = parts[2:]
        if rest == ["n"]:
            return f"{items} with a gold stance (the items scored)"
        if rest == ["accuracy"]:
            return (f"{items} whose predicted stance equals the gold one / all scored {items} "
                    "(missing predictions are wrong)")
        if rest == ["macro_f1"]:
            return "mean of the per-label F1 over every label of the checkpoint; a label never predicted scores 0"
        if rest == ["missing"]:
            if parts[1] == "components":
                return ("gold components with no predicted component of the same span; "
                        "counted wrong, not in the confusion")
            return f"gold {items} without a prediction; counted wrong"
        if rest == ["confusion"]:
            return "counts of gold (rows) by predicted (columns) stance"
        if rest == ["ece"]:
            return (f"expected calibration error: {items} in {CALIBRATION_BINS} equal-width bins of the confidence "
                    "(the predicted label's score), sum over bins of share of items × |accuracy − mean confidence|; "
                    "0 = calibrated (see the reliability table)")
        if len(rest) == 2 and rest[1] in _STANCE_PER_LABEL:
            return _STANCE_PER_LABEL[rest[1]].format(items=items, label=rest[0])
    return ""


_FIXED = {
    "checkpoint": "the checkpoint folder that was scored",
    "data": "the data config's name",
    "split": "the split of that data that was scored",
    "threads": "threads in that split (the unit the bootstrap resamples)",
    "components/token/macro_f1": (
        "IOB2 tags on whitespace tokens (\\S+ runs, tokenizer-independent): mean per-tag F1 over the tags "
        "that occur in gold or prediction, O included"
    ),
    "components/support/gold": "distinct gold components (same message, span and label count once)",
    "components/support/predicted": "distinct predicted components",
    "stance/dev/mean_macro_f1": "mean of the macro-F1 of each corpus's dev items, every corpus weighing the same",
    "stance/suite/mean_macro_f1": "mean of the macro-F1 of each dev set of the suite, every set weighing the same",
    "train/best_epoch": "the epoch whose dev score was best (its weights are the checkpoint)",
    "train/steps": "optimizer steps taken",
    "train/loss": "mean training loss of the best epoch",
    "train/seconds": "training time in seconds, dev evaluation excluded",
    "train/tokens_per_second": "real (unpadded) training tokens per second",
}
