"""Reports a research group can check: one evaluation, and many runs side by side.

    argmine evaluate ──► run folder/
                           metrics.json                 scores + ``<headline>/ci95`` bootstrap intervals
                           report.md                    every metric with its one-line definition
                           confusion_<task>.png         one confusion matrix per scored task / level
                           errors.html                  gold vs predicted per message, disagreements first

    argmine report DIR... ──► runs_summary.md / .csv / .png   mean ± std and 95% CI over seeds per setting
                  [--results experiments/RESULTS.md]          the results table, regenerated from run folders

Confidence intervals of one evaluation come from a percentile bootstrap over
*threads* (comments of one thread are not independent, so threads are the unit
that is resampled); each resample is scored with the functions of
``argmine.metrics``. Intervals over seeds use Student's t.

Plain typed functions; only ``add_report_arguments`` / ``run_report`` know the
command line. Figures are drawn with matplotlib's Agg canvas (no display, no
global pyplot state).
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import itertools
import json
import logging
import math
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from argmine.commands import portable_command
from argmine.errors import ArgmineError
from argmine.io_utils import atomic_write
from argmine.metrics.components import overlap50_matches, prf, token_tags
from argmine.metrics.stance import CALIBRATION_BINS, label_metrics, stance_metrics
from argmine.thread import Component, Post, Thread

log = logging.getLogger(__name__)

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
)
CI_SUFFIX = "/ci95"
STANCE_LEVELS = ("comments", "components", "messages")

# -- metric definitions -------------------------------------------------------

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
    "train/best_epoch": "the epoch whose dev score was best (its weights are the checkpoint)",
    "train/steps": "optimizer steps taken",
    "train/loss": "mean training loss of the best epoch",
    "train/seconds": "training time in seconds, dev evaluation excluded",
    "train/tokens_per_second": "real (unpadded) training tokens per second",
}


# -- bootstrap over threads --------------------------------------------------


def bootstrap_intervals(
    gold: Sequence[Thread],
    predicted: Sequence[Thread],
    *,
    kind: str,
    labels: Sequence[str],
    keys: Iterable[str] = HEADLINE,
    samples: int = 1000,
    seed: int = 0,
    include_posts: bool = False,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of ``keys``: threads drawn with replacement, ``samples`` times.

    ``kind`` is ``components`` (span keys) or ``stance`` (stance keys); keys the
    other kind owns, or that the data does not score, are left out. Threads are
    matched by id (``ValueError`` if the two sides hold different ones). A
    resample in which a stance level has no item is skipped for that key.
    """
    if samples < 1:
        raise ValueError(f"bootstrap samples must be at least 1, got {samples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    gold = list(gold)
    pairs = _aligned(gold, predicted)
    if not pairs:
        return {}
    statistics = _statistics(pairs, kind=kind, labels=labels, include_posts=include_posts)
    wanted = [key for key in keys if key in statistics]
    if not wanted:
        return {}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(pairs), size=(samples, len(pairs)))
    values: dict[str, list[float]] = {key: [] for key in wanted}
    for draw in draws:
        for key in wanted:
            value = statistics[key](draw)
            if value is not None:
                values[key].append(value)
    tail = (1 - level) / 2 * 100
    out = {}
    for key, found in values.items():
        if found:
            low, high = np.percentile(found, [tail, 100 - tail])
            out[key] = (float(low), float(high))
        if len(found) < samples:
            log.info("bootstrap %s: %d of %d resamples had nothing to score", key, samples - len(found), samples)
    return out


Statistic = Callable[[np.ndarray], "float | None"]


def _aligned(gold: Sequence[Thread], predicted: Sequence[Thread]) -> list[tuple[Thread, Thread]]:
    by_id = {thread.id: thread for thread in predicted}
    if len(by_id) != len(predicted) or len({t.id for t in gold}) != len(gold):
        raise ValueError("thread ids must be unique on each side")
    missing = [thread.id for thread in gold if thread.id not in by_id]
    if missing or len(by_id) != len(gold):
        extra = sorted(set(by_id) - {t.id for t in gold})
        raise ValueError(f"gold and predicted threads differ: missing {missing[:5]}, unexpected {extra[:5]}")
    return [(thread, by_id[thread.id]) for thread in gold]


def _statistics(
    pairs: Sequence[tuple[Thread, Thread]], *, kind: str, labels: Sequence[str], include_posts: bool
) -> dict[str, Statistic]:
    """For each key the data scores: a function of the drawn thread indices → the metric on that resample."""
    out: dict[str, Statistic] = {}
    if kind == "components":
        # Micro P/R/F1 only depend on summed per-thread counts, so a resample is a sum of rows.
        counts = np.array([_span_counts(g, p) for g, p in pairs], dtype=np.int64)  # tp exact, tp overlap, gold, pred
        if counts[:, 2].sum() or counts[:, 3].sum():
            out["components/span_exact/micro_f1"] = lambda draw: _micro_f1(counts[draw], 0)
            out["components/span_overlap50/micro_f1"] = lambda draw: _micro_f1(counts[draw], 1)
    elif kind == "stance":
        per_thread = [_stance_pairs(g, p, labels, include_posts) for g, p in pairs]
        for level in STANCE_LEVELS:
            if any(items[level] for items in per_thread):
                out[f"stance/{level}/macro_f1"] = _stance_statistic(per_thread, level, labels)
    else:
        raise ValueError(f"kind must be components or stance, got {kind!r}")
    return out


def _micro_f1(rows: np.ndarray, column: int) -> float:
    total = rows.sum(axis=0)
    return prf(int(total[column]), int(total[2]), int(total[3]))[2]


def _span_counts(gold: Thread, pred: Thread) -> tuple[int, int, int, int]:
    """Exact matches, overlap-50 matches, gold and predicted components of one thread (as component_metrics counts)."""
    predicted = {m.id: m for m in pred.messages()}
    gold_spans: set[tuple[str, str, int, int, str]] = set()
    pred_spans: set[tuple[str, str, int, int, str]] = set()
    for message in gold.messages():
        other = predicted.pop(message.id, None)
        if other is None or other.text != message.text:
            problem = "has no prediction" if other is None else "has another text in the prediction"
            raise ValueError(f"thread {gold.id!r}: message {message.id!r} {problem}")
        gold_spans |= {(gold.id, message.id, c.start, c.end, c.label) for c in message.components}
        pred_spans |= {(gold.id, message.id, c.start, c.end, c.label) for c in other.components}
    if predicted:
        raise ValueError(f"thread {gold.id!r}: predicted messages not in gold: {sorted(predicted)[:5]}")
    return (len(gold_spans & pred_spans), overlap50_matches(gold_spans, pred_spans), len(gold_spans), len(pred_spans))


def _has_gold_stance(thread: Thread, include_posts: bool) -> bool:
    """Whether stance_metrics scores anything in this thread (its rules: replies, their components, posts if asked)."""
    if include_posts and thread.post.stance is not None:
        return True
    return any(c.stance is not None or any(x.stance is not None for x in c.components) for c in thread.comments)


def _stance_pairs(
    gold: Thread, pred: Thread, labels: Sequence[str], include_posts: bool
) -> dict[str, list[tuple[str, str | None]]]:
    """The (gold, predicted) label pairs of one thread per level, read back from ``stance_metrics`` on that thread.

    ``label_metrics`` depends only on the multiset of pairs, which the
    confusion matrix plus the per-label ``missing`` counts give exactly.
    """
    out: dict[str, list[tuple[str, str | None]]] = {level: [] for level in STANCE_LEVELS}
    if not _has_gold_stance(gold, include_posts):
        return out
    metrics = stance_metrics([gold], [pred], labels, include_posts=include_posts)
    for level in STANCE_LEVELS:
        confusion = metrics.get(f"stance/{level}/confusion")
        if confusion is None:
            continue
        names, matrix = confusion["labels"], confusion["matrix"]
        for i, g in enumerate(names):
            for j, p in enumerate(names):
                out[level] += [(g, p)] * matrix[i][j]
            unmatched = metrics[f"stance/{level}/{g}/support"] - sum(matrix[i])
            out[level] += [(g, None)] * unmatched
    return out


def _stance_statistic(
    per_thread: Sequence[Mapping[str, list[tuple[str, str | None]]]], level: str, labels: Sequence[str]
) -> Statistic:
    def statistic(draw: np.ndarray) -> float | None:
        items = [pair for i in draw for pair in per_thread[i][level]]
        if not items:
            return None
        gold, predicted = zip(*items)
        return label_metrics(gold, predicted, labels, "s")["s/macro_f1"]

    return statistic


# -- the evaluation report ---------------------------------------------------


def write_evaluation_report(
    run_dir: str | Path,
    gold: Sequence[Thread],
    predicted: Sequence[Thread],
    metrics: Mapping[str, Any],
    *,
    kind: str,
    labels: Sequence[str],
    checkpoint: str | Path,
    data_name: str,
    split: str,
    bootstrap: int = 1000,
    seed: int = 0,
    include_posts: bool = False,
) -> dict[str, list[float]]:
    """Write report.md, confusion_*.png and errors.html into ``run_dir``; return the ``<key>/ci95`` entries.

    ``kind`` is ``components`` or ``stance`` (what the checkpoint predicts);
    ``metrics`` are the scores already computed on ``gold`` vs ``predicted``.
    The caller merges the returned intervals into metrics.json. ``bootstrap=0``
    skips the intervals.
    """
    if kind not in ("components", "stance"):
        raise ValueError(f"kind must be components or stance, got {kind!r}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    intervals: dict[str, tuple[float, float]] = {}
    if bootstrap:
        intervals = bootstrap_intervals(
            gold, predicted, kind=kind, labels=labels, samples=bootstrap, seed=seed, include_posts=include_posts
        )
    ci = {f"{key}{CI_SUFFIX}": [low, high] for key, (low, high) in intervals.items()}

    figures: list[tuple[str, str, str]] = []  # (title, file name, markdown table)
    if kind == "components":
        tags, matrix = token_confusion(gold, predicted, labels)
        name = "confusion_components_tokens.png"
        draw_confusion(run_dir / name, tags, matrix, title="components: IOB2 tags of whitespace tokens")
        figures.append(("components: token-level IOB2 tags (rows gold, columns predicted)", name,
                        _confusion_markdown(tags, matrix)))
    for level in STANCE_LEVELS:
        confusion = metrics.get(f"stance/{level}/confusion")
        if kind == "stance" and confusion:
            name = f"confusion_stance_{level}.png"
            missing = int(metrics.get(f"stance/{level}/missing", 0))
            note = f" ({missing} without a prediction, not shown)" if missing else ""
            draw_confusion(run_dir / name, confusion["labels"], confusion["matrix"], title=f"stance/{level}{note}")
            figures.append((f"stance/{level} (rows gold, columns predicted){note}", name,
                            _confusion_markdown(confusion["labels"], confusion["matrix"])))

    rows, disagreeing = error_rows(gold, predicted, kind=kind, include_posts=include_posts)
    with atomic_write(run_dir / "errors.html") as handle:
        handle.write(render_errors_html(rows, labels=labels, kind=kind, title=f"{data_name} {split}: {checkpoint}"))

    text = render_report_markdown(
        metrics, ci, kind=kind, checkpoint=str(checkpoint), data_name=data_name, split=split,
        threads=len(gold), bootstrap=bootstrap, seed=seed, figures=figures,
        messages=len(rows), disagreeing=disagreeing,
    )
    with atomic_write(run_dir / "report.md") as handle:
        handle.write(text)
    log.info("wrote %s, errors.html and %d confusion matrices", run_dir / "report.md", len(figures))
    return ci


def token_confusion(
    gold: Sequence[Thread], predicted: Sequence[Thread], labels: Sequence[str]
) -> tuple[list[str], list[list[int]]]:
    """Gold × predicted IOB2 tags of every whitespace token (the tags of ``components/token/macro_f1``)."""
    counts: dict[tuple[str, str], int] = {}
    for g_thread, p_thread in _aligned(list(gold), list(predicted)):
        other = {m.id: m for m in p_thread.messages()}
        for message in g_thread.messages():
            if message.id not in other:
                raise ValueError(f"thread {g_thread.id!r}: message {message.id!r} has no prediction")
            pred = other[message.id]
            for g, p in zip(token_tags(message.text, message.components), token_tags(message.text, pred.components)):
                counts[(g, p)] = counts.get((g, p), 0) + 1
    tags = ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]
    tags += sorted({t for pair in counts for t in pair} - set(tags))
    index = {tag: i for i, tag in enumerate(tags)}
    matrix = [[0] * len(tags) for _ in tags]
    for (g, p), n in counts.items():
        matrix[index[g]][index[p]] += n
    return tags, matrix


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save_png(figure: Any, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())


def draw_confusion(path: str | Path, labels: Sequence[str], matrix: Sequence[Sequence[int]], *, title: str) -> None:
    """A confusion matrix as a PNG: counts in the cells, colour = share of the gold row (recall)."""
    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = 1.2 + 0.6 * len(labels)
    figure = _figure(size + 1.5, size)
    axes = figure.add_subplot()
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            axes.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=8,
                      color="white" if share[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=axes, label="share of the gold row")
    _save_png(figure, Path(path))


def _confusion_markdown(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    head = "| gold \\ predicted | " + " | ".join(_md(label) for label in labels) + " |"
    rule = "|---|" + "---:|" * len(labels)
    body = [f"| {_md(label)} | " + " | ".join(str(n) for n in row) + " |" for label, row in zip(labels, matrix)]
    return "\n".join([head, rule, *body])


def _md(value: Any) -> str:
    """A value safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


_COUNTS = ("/n", "/support", "/missing", "/gold", "/predicted", "threads", "/best_epoch", "/steps")


def _number(value: Any, key: str = "") -> str:
    """Counts as integers, scores with four decimals, anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _md(value)
    if isinstance(value, int) or (key.endswith(_COUNTS) and float(value).is_integer()):
        return str(int(value))
    return f"{value:.4f}"


def render_report_markdown(
    metrics: Mapping[str, Any],
    ci: Mapping[str, Sequence[float]],
    *,
    kind: str,
    checkpoint: str,
    data_name: str,
    split: str,
    threads: int,
    bootstrap: int,
    seed: int,
    figures: Sequence[tuple[str, str, str]] = (),
    messages: int = 0,
    disagreeing: int = 0,
) -> str:
    """report.md: what was scored, the headline numbers with intervals, every metric with its definition."""
    lines = [
        f"# Evaluation: {_md(data_name)} / {_md(split)}",
        "",
        f"- checkpoint: `{checkpoint}` ({kind})",
        f"- data: `{_md(data_name)}`, split `{_md(split)}`, {threads} threads, {messages} messages",
    ]
    if bootstrap:
        lines.append(
            f"- 95% intervals: percentile bootstrap, {bootstrap} resamples of the {threads} threads with "
            f"replacement (seed {seed}), each rescored with argmine.metrics"
        )
    else:
        lines.append("- no bootstrap intervals (bootstrap=0)")
    lines += ["", "## Headline", "", "| metric | value | 95% CI | definition |", "|---|---:|---|---|"]
    for key in HEADLINE:
        if key in metrics:
            interval = ci.get(f"{key}{CI_SUFFIX}")
            shown = f"[{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "–"
            lines.append(f"| `{key}` | {_number(metrics[key])} | {shown} | {_md(describe_metric(key))} |")
            ece = key.replace("/macro_f1", "/ece") if key.startswith("stance/") else None
            if ece in metrics:  # calibration beside the macro-F1 of its level
                lines.append(f"| `{ece}` | {_number(metrics[ece])} | – | {_md(describe_metric(ece))} |")

    sections: dict[str, list[str]] = {}
    for key, value in metrics.items():
        if key.endswith(CI_SUFFIX) or isinstance(value, (dict, list)):
            continue
        section = "/".join(key.split("/")[:2]) if "/" in key else "run"
        sections.setdefault(section, []).append(
            f"| `{_md(key)}` | {_number(value, key)} | {_md(describe_metric(key)) or '–'} |"
        )
    lines += ["", "## Every metric"]
    for section, rows in sections.items():
        lines += ["", f"### {section}", "", "| metric | value | definition |", "|---|---:|---|", *rows]

    lines += _reliability_markdown(metrics)
    if figures:
        lines += ["", "## Confusion matrices"]
        if kind == "components":
            lines += ["", ("Components are compared token by token: each whitespace token gets the IOB2 tag of "
                           "the component covering it (as in `components/token/macro_f1`), gold in rows, "
                           "prediction in columns.")]
    for title, name, table in figures:
        lines += ["", f"### {title}", "", f"![{title}]({name})", "", table]
    lines += [
        "",
        "## Errors",
        "",
        (f"[errors.html](errors.html): gold and predicted side by side for each of the {messages} messages, "
        f"the {disagreeing} with a disagreement first."),
        "",
    ]
    return "\n".join(lines)


def _reliability_markdown(metrics: Mapping[str, Any]) -> list[str]:
    """The reliability table of each stance level that has one (what its ``ece`` is computed from)."""
    levels = [level for level in STANCE_LEVELS if isinstance(metrics.get(f"stance/{level}/reliability"), Mapping)]
    if not levels:
        return []
    lines = ["", "## Calibration", "", (
        "Per bin of confidence (the score of the predicted label): how many items fall in it, their mean "
        "confidence and how many of them are right. A calibrated model's accuracy equals its confidence in "
        "every bin; `ece` is the item-weighted mean gap. Items without a prediction are left out."
    )]
    for level in levels:
        lines += ["", f"### stance/{level} (ece {_number(metrics.get(f'stance/{level}/ece', '–'))})", "",
                  "| confidence | count | mean confidence | accuracy | gap |", "|---|---:|---:|---:|---:|"]
        for row in metrics[f"stance/{level}/reliability"]["bins"]:
            closing = "]" if row["high"] >= 1 else ")"
            span = f"[{row['low']:.1f}, {row['high']:.1f}{closing}"
            if row["count"]:
                gap = row["accuracy"] - row["confidence"]
                lines.append(f"| {span} | {row['count']} | {row['confidence']:.4f} | {row['accuracy']:.4f} | "
                             f"{gap:+.4f} |")
            else:
                lines.append(f"| {span} | 0 | – | – | – |")
    return lines


# -- errors.html --------------------------------------------------------------


@dataclass(frozen=True)
class ErrorRow:
    """One message, gold beside predicted, and what differs."""

    thread_id: str
    message: Post
    predicted: Post
    is_post: bool
    problems: tuple[str, ...]


def error_rows(
    gold: Sequence[Thread], predicted: Sequence[Thread], *, kind: str, include_posts: bool = False
) -> tuple[list[ErrorRow], int]:
    """Every message as an ``ErrorRow``, those with a disagreement first (then in corpus order); and their count.

    ``components``: a message disagrees when its gold and predicted component
    sets differ. ``stance``: when a gold stance (comment, component matched by
    span, post if ``include_posts``) differs from the prediction.
    """
    rows: list[ErrorRow] = []
    for g_thread, p_thread in _aligned(list(gold), list(predicted)):
        other = {m.id: m for m in p_thread.messages()}
        for message in g_thread.messages():
            pred = other.get(message.id)
            if pred is None:
                raise ValueError(f"thread {g_thread.id!r}: message {message.id!r} has no prediction")
            is_post = message.id == g_thread.post.id
            problems = _problems(message, pred, kind, is_post, include_posts)
            rows.append(ErrorRow(g_thread.id, message, pred, is_post, problems))
    bad = [row for row in rows if row.problems]
    return bad + [row for row in rows if not row.problems], len(bad)


def _key(c: Component) -> tuple[int, int, str]:
    return (c.start, c.end, c.label)


def _problems(gold: Post, pred: Post, kind: str, is_post: bool, include_posts: bool) -> tuple[str, ...]:
    out: list[str] = []
    if kind == "components":
        g = {_key(c) for c in gold.components}
        p = {_key(c) for c in pred.components}
        out += [f"missed {label} [{s}, {e})" for s, e, label in sorted(g - p)]
        out += [f"extra {label} [{s}, {e})" for s, e, label in sorted(p - g)]
        return tuple(out)
    if gold.stance is not None and (include_posts or not is_post):
        said = pred.stance.label if pred.stance else None
        if said != gold.stance.label:
            out.append(f"stance {gold.stance.label} → {said or 'no prediction'}")
    if not is_post:
        spans = {c.span: c for c in pred.components}
        for component in gold.components:
            if component.stance is None:
                continue
            match = spans.get(component.span)
            said = match.stance.label if match is not None and match.stance else None
            if said != component.stance.label:
                out.append(f"{component.label} [{component.start}, {component.end}) stance "
                           f"{component.stance.label} → {said or 'no prediction'}")
    return tuple(out)


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1em; margin: 0 0 .4em; }
section { border: 1px solid #ccc; border-radius: 4px; padding: .6em .8em; margin: .8em 0; }
section.disagree { border-left: 5px solid #c0392b; } section.agree { border-left: 5px solid #27ae60; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.side h3 { font-size: .85em; text-transform: uppercase; color: #666; margin: .2em 0; }
.text { white-space: pre-wrap; background: #fafafa; padding: .4em; }
mark { padding: 0 1px; border-radius: 2px; } sup.lab { font-size: .7em; color: #555; }
.problems { color: #c0392b; margin: .3em 0; } ul.spans { font-size: .85em; margin: .3em 0; padding-left: 1.2em; }
.l0 { background: #f9e79f; } .l1 { background: #aed6f1; } .l2 { background: #abebc6; } .l3 { background: #f5b7b1; }
.l4 { background: #d7bde2; } .l5 { background: #f8c471; } .lx { background: #d5d8dc; }
"""


def _esc(value: Any) -> str:
    from argmine.render import visible  # control characters shown as escapes, as on every page for people

    return html.escape(visible(str(value), for_html=True), quote=True)


def render_errors_html(rows: Sequence[ErrorRow], *, labels: Sequence[str], kind: str, title: str) -> str:
    """A self-contained page (inline CSS, no script, no link out); every corpus string is HTML-escaped."""
    classes = {label: f"l{i}" if i < 6 else "lx" for i, label in enumerate(labels)}
    bad = sum(1 for row in rows if row.problems)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Errors: {_esc(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Gold vs predicted: {_esc(title)}</h1>",
        (f"<p>{len(rows)} messages, {bad} with a disagreement ({'components' if kind == 'components' else 'stance'}); "
        "those come first. Marked text: components, label in superscript.</p>"),
    ]
    for row in rows:
        state = "disagree" if row.problems else "agree"
        where = "post" if row.is_post else f"comment, reply to {row.message.reply_to}"  # type: ignore[attr-defined]
        parts.append(f'<section class="{state}">')
        parts.append(f"<h2>thread {_esc(row.thread_id)} · {_esc(row.message.id)} ({_esc(where)})</h2>")
        if row.problems:
            parts.append('<ul class="problems">' + "".join(f"<li>{_esc(p)}</li>" for p in row.problems) + "</ul>")
        parts.append('<div class="pair">')
        for side, message in (("gold", row.message), ("predicted", row.predicted)):
            stance = f" · stance: {_esc(message.stance.label)}" if message.stance else ""
            parts.append(f'<div class="side"><h3>{side}{stance}</h3>')
            parts.append(f'<div class="text">{_marked(message.text, message.components, classes)}</div>')
            if message.components:
                items = "".join(
                    f"<li>{_esc(c.label)} [{c.start}, {c.end})"
                    + (f" · stance {_esc(c.stance.label)}" if c.stance else "")
                    + f": {_esc(_clip(c.text))}</li>"
                    for c in sorted(message.components, key=lambda c: (c.start, c.end))
                )
                parts.append(f'<ul class="spans">{items}</ul>')
            parts.append("</div>")
        parts.append("</div></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _marked(text: str, components: Sequence[Component], classes: Mapping[str, str]) -> str:
    """The text with each component in a <mark>; where components overlap, the one that starts first is shown."""
    cuts = sorted({0, len(text), *(c.start for c in components), *(c.end for c in components)})
    starts: dict[int, list[Component]] = {}
    for c in components:
        starts.setdefault(c.start, []).append(c)
    out = []
    for begin, end in itertools.pairwise(cuts):
        for c in starts.get(begin, []):
            out.append(f'<sup class="lab">{_esc(c.label)}</sup>')
        covering = [c for c in components if c.start <= begin and end <= c.end]
        piece = _esc(text[begin:end])
        if covering:
            first = min(covering, key=lambda c: (c.start, -c.end))
            out.append(f'<mark class="{classes.get(first.label, "lx")}" title="{_esc(first.label)}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


# -- many runs: argmine report ----------------------------------------------

SEED_KEYS = ("trainer.seed",)
# Settings that change how a run is executed, not what it computes.
IGNORED_KEYS = ("trainer.resume", "trainer.threads", "trainer.device")  # where a run ran, not what it is


@dataclass(frozen=True)
class RunRecord:
    """One run folder as ``argmine report`` reads it."""

    path: Path
    name: str
    command_kind: str  # "train" (metrics on the dev split while training) or "evaluate"
    config: Mapping[str, Any]  # flattened: "trainer.seed" → 13
    identity: Mapping[str, Any]  # what must be equal for two runs to be the same setting
    seed: Any
    metrics: Mapping[str, Any]
    overrides: tuple[str, ...] = ()
    command: str | None = None  # as recorded in checkpoint/argmine.json (training.command)
    checkpoint: Path | None = None
    data: str = ""
    split: str = ""
    source: str = ".hydra/config.yaml"


@dataclass(frozen=True)
class MetricSummary:
    n: int
    mean: float
    std: float | None  # sample standard deviation (n - 1); None for one run
    ci95: tuple[float, float] | None  # Student's t interval of the mean; None for one run
    values: tuple[float, ...]


@dataclass(frozen=True)
class RunGroup:
    """Runs of one experiment that differ only by seed."""

    name: str
    command_kind: str
    setting: Mapping[str, Any]  # the keys that tell this group from others of the same name
    runs: tuple[RunRecord, ...]
    summary: Mapping[str, MetricSummary] = field(default_factory=dict)

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.setting.items())
        return f"{self.name} [{shown}]" if shown else self.name

    @property
    def seeds(self) -> list[Any]:
        return [run.seed for run in self.runs]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists are kept as values (as JSON text, so they compare and print)."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        if not data and prefix:
            out[prefix[:-1]] = "{}"
    elif isinstance(data, list):
        out[prefix[:-1]] = json.dumps(data, sort_keys=True, default=str)
    else:
        out[prefix[:-1]] = data
    return out


def fold_extra_train(config: Mapping[str, Any]) -> dict[str, Any]:
    """A flattened run config with ``data.extra_train`` as one readable value: ``NAME=DATA (use)`` per corpus.

    Its paths say where the corpus lay, not what the run is, and the other keys of each extra data
    config are those of its named config: the name and use tell the settings apart.
    """
    prefix = "data.extra_train."
    out = {k: v for k, v in config.items() if not k.startswith(prefix)}
    names = sorted({k[len(prefix) :].split(".", 1)[0] for k in config if k.startswith(prefix)})
    if names:
        out["data.extra_train"] = ", ".join(
            f"{n}={config.get(f'{prefix}{n}.name')} ({config.get(f'{prefix}{n}.use')})" for n in names
        )
    return out


def _load_yaml(path: Path) -> Any:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    def unreadable(error: Exception) -> ArgmineError:  # one line: YAML and OmegaConf errors span several
        return ArgmineError(f"{path}: cannot read as YAML ({' '.join(str(error).split())})")

    try:
        node = OmegaConf.load(path)
    except (OSError, OmegaConfBaseException, ValueError, YAMLError) as error:
        raise unreadable(error) from None
    try:
        return OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException:  # an interpolation that needs Hydra's resolvers: keep it as written
        try:
            return OmegaConf.to_container(node, resolve=False)
        except OmegaConfBaseException as error:
            raise unreadable(error) from None


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArgmineError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ArgmineError(f"{path}: expected a JSON object")
    return data


def _training_info(checkpoint: Path) -> dict[str, Any]:
    meta = checkpoint / "argmine.json"
    if not meta.is_file():
        return {}
    return dict(_load_json(meta).get("training") or {})


def read_run(
    path: str | Path, *, seed_keys: Sequence[str] = SEED_KEYS, ignore: Sequence[str] = IGNORED_KEYS
) -> RunRecord:
    """A run folder: metrics.json plus .hydra/config.yaml (or, for an older run without it, checkpoint/argmine.json)."""
    path = Path(path)
    metrics = _load_json(path / "metrics.json")
    config_file = path / ".hydra" / "config.yaml"
    checkpoint = path / "checkpoint"
    if config_file.is_file():
        loaded = _load_yaml(config_file)
        if not isinstance(loaded, dict):
            raise ArgmineError(f"{config_file}: expected a mapping of settings, got a {type(loaded).__name__}")
        config = fold_extra_train(flatten(loaded))
        overrides_file = path / ".hydra" / "overrides.yaml"
        overrides = _load_yaml(overrides_file) if overrides_file.is_file() else []
        if not isinstance(overrides, list):
            raise ArgmineError(f"{overrides_file}: expected a list of overrides")
        evaluate = "checkpoint" in config and "trainer.seed" not in config
        if evaluate and not isinstance(config["checkpoint"], str):
            raise ArgmineError(f"{config_file}: checkpoint must be a folder path, got {config['checkpoint']!r}")
        info = _training_info(Path(config["checkpoint"]) if evaluate else checkpoint)
        # A null key counts as absent: settings added later default to null (= the old behaviour),
        # so a run from before the key existed is the same setting as one with it left null.
        identity = {k: v for k, v in config.items() if k not in seed_keys and k not in ignore and v is not None}
        seed = next((config[k] for k in seed_keys if k in config), None)
        if evaluate:
            # The checkpoint path differs per seed; what it was trained with is the setting.
            identity.pop("checkpoint", None)
            trained = _checkpoint_run_config(Path(config["checkpoint"]))
            identity.update({f"trained.{k}": v for k, v in trained.items() if k not in seed_keys and k not in ignore})
            if not trained and info:
                identity["trained.experiment"] = info.get("experiment")
            seed = trained.get(seed_keys[0], info.get("seed")) if seed is None else seed
        name = str(config.get("name", path.name))
        return RunRecord(
            path=path,
            name=name,
            command_kind="evaluate" if evaluate else "train",
            config=config,
            identity=identity,
            seed=seed,
            metrics=metrics,
            overrides=tuple(str(o) for o in overrides),
            command=info.get("command") if not evaluate else None,
            checkpoint=(Path(config["checkpoint"]) if evaluate else checkpoint if checkpoint.is_dir() else None),
            data=str(config.get("data.name", "")),
            split=str(config.get("data.split" if evaluate else "data.dev_split", "")),
        )
    info = _training_info(checkpoint)
    if not info:
        raise ArgmineError(f"{path}: a run folder needs .hydra/config.yaml (or checkpoint/argmine.json)")
    outcome = {"seed", "command", "metrics", "history", "steps", "best_epoch", "train_messages", "dev_messages"}
    config = flatten({k: v for k, v in info.items() if k not in outcome})
    data = info.get("data") or {}
    return RunRecord(
        path=path,
        name=str(info.get("experiment") or path.name),
        command_kind="train",
        config=config,
        identity={k: v for k, v in config.items() if k not in ("data.path",)},
        seed=info.get("seed"),
        metrics=metrics,
        command=info.get("command"),
        checkpoint=checkpoint,
        data=str(data.get("name", "")),
        split=str(data.get("dev", "")),
        source="checkpoint/argmine.json",
    )


def _checkpoint_run_config(checkpoint: Path) -> dict[str, Any]:
    config = checkpoint.parent / ".hydra" / "config.yaml"
    return fold_extra_train(flatten(_load_yaml(config))) if config.is_file() else {}


def find_runs(roots: Iterable[str | Path], *, seed_keys: Sequence[str] = SEED_KEYS,
              ignore: Sequence[str] = IGNORED_KEYS) -> list[RunRecord]:
    """Every run folder at or below ``roots`` (sorted by path); a missing root is an error."""
    found: dict[Path, RunRecord] = {}
    for root in map(Path, roots):
        if not root.is_dir():
            raise ArgmineError(f"{root}: no such folder")
        for metrics in sorted(root.rglob("metrics.json")):
            folder = metrics.parent
            if (folder / ".hydra" / "config.yaml").is_file() or (folder / "checkpoint" / "argmine.json").is_file():
                found.setdefault(folder.resolve(), read_run(folder, seed_keys=seed_keys, ignore=ignore))
    return [found[key] for key in sorted(found)]


def find_checkpoints(roots: Iterable[str | Path], runs: Sequence[RunRecord]) -> list[Path]:
    """Checkpoint folders (an argmine.json) below ``roots`` that are not the checkpoint of one of ``runs``."""
    owned = {run.checkpoint.resolve() for run in runs if run.checkpoint is not None and run.checkpoint.is_dir()}
    out = set()
    for root in map(Path, roots):
        for meta in root.rglob("argmine.json"):
            if meta.parent.resolve() not in owned and not meta.parent.name.startswith("."):
                out.add(meta.parent)
    return sorted(out)


def summarize(values: Sequence[float]) -> MetricSummary:
    """Mean, sample std and Student's t 95% interval of the mean (``None`` for a single value)."""
    if not values:
        raise ValueError("nothing to summarize")
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return MetricSummary(1, mean, None, None, tuple(array.tolist()))
    from scipy.stats import t

    std = float(array.std(ddof=1))
    half = float(t.ppf(0.975, len(array) - 1)) * std / math.sqrt(len(array))
    return MetricSummary(len(array), mean, std, (mean - half, mean + half), tuple(array.tolist()))


def _scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v) for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not k.endswith(CI_SUFFIX)
    }


def group_runs(runs: Sequence[RunRecord]) -> list[RunGroup]:
    """Runs with the same name, kind and identity (everything but the seed) form a group, with its summary."""
    buckets: dict[tuple[str, str, str], list[RunRecord]] = {}
    for run in runs:
        key = (run.name, run.command_kind, json.dumps(dict(run.identity), sort_keys=True, default=str))
        buckets.setdefault(key, []).append(run)
    by_name: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (name, kind, _), members in buckets.items():
        by_name.setdefault((name, kind), []).append(dict(members[0].identity))
    groups = []
    # by name, then by the first run's path (run folders are named by time: older settings first)
    for (name, kind, _), members in sorted(buckets.items(), key=lambda item: (item[0][:2], str(item[1][0].path))):
        siblings = by_name[(name, kind)]
        identity = dict(members[0].identity)
        differing = sorted({k for other in siblings for k in set(other) | set(identity)
                            if any(o.get(k) != identity.get(k) for o in siblings)})
        seeds = [run.seed for run in members]
        if len(set(map(str, seeds))) < len(seeds):
            log.warning("%s: several runs share a seed (%s); each counts as one point", name, seeds)
        per_metric: dict[str, list[float]] = {}
        for run in members:
            for key, value in _scalar_metrics(run.metrics).items():
                per_metric.setdefault(key, []).append(value)
        summary = {key: summarize(values) for key, values in per_metric.items()}
        groups.append(RunGroup(name, kind, {k: identity.get(k) for k in differing}, tuple(members), summary))
    return groups


def _format_summary(s: MetricSummary | None) -> str:
    if s is None:
        return "–"
    if s.std is None:
        return f"{s.mean:.4f} (1 run)"
    return f"{s.mean:.4f} ± {s.std:.4f} [{s.ci95[0]:.4f}, {s.ci95[1]:.4f}]"  # type: ignore[index]


def _display(path: Path | None) -> str:
    """A path relative to the working folder when it lies below it (as the repo's commands are run), else absolute."""
    if path is None:
        return "–"
    absolute = Path(os.path.abspath(path))
    here = Path.cwd()
    return str(absolute.relative_to(here)) if absolute.is_relative_to(here) else str(absolute)


def write_runs_report(groups: Sequence[RunGroup], out_dir: str | Path) -> list[Path]:
    """runs_summary.md, runs_summary.csv (one row per group × metric) and runs_headline.png; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, csv_path, png = out_dir / "runs_summary.md", out_dir / "runs_summary.csv", out_dir / "runs_headline.png"

    lines = [
        "# Runs summary",
        "",
        (f"{sum(len(g.runs) for g in groups)} runs in {len(groups)} settings. Each cell: mean ± sample std over "
        "seeds [95% CI of the mean, Student's t]; a setting = same experiment name and config except the seed."),
        "",
    ]
    headline = [key for key in RUN_HEADLINE if any(key in g.summary for g in groups)]
    if headline:
        lines += ["| setting | runs | seeds | " + " | ".join(f"`{k}`" for k in headline) + " |",
                  "|---|---:|---|" + "---|" * len(headline)]
        for g in groups:
            cells = " | ".join(_format_summary(g.summary.get(k)) for k in headline)
            lines.append(f"| {_md(g.label)} ({g.command_kind}) | {len(g.runs)} | {_md(g.seeds)} | {cells} |")
    for g in groups:
        lines += ["", f"## {_md(g.label)} ({g.command_kind})", "",
                  f"Seeds {_md(g.seeds)}; runs: " + ", ".join(f"`{_display(r.path)}`" for r in g.runs), "",
                  "| metric | n | mean | std | 95% CI | definition |", "|---|---:|---:|---:|---|---|"]
        for key, s in g.summary.items():
            std = f"{s.std:.4f}" if s.std is not None else "–"
            interval = f"[{s.ci95[0]:.4f}, {s.ci95[1]:.4f}]" if s.ci95 else "–"
            lines.append(f"| `{_md(key)}` | {s.n} | {s.mean:.4f} | {std} | {interval} | {_md(describe_metric(key))} |")
    with atomic_write(md) as handle:
        handle.write("\n".join(lines) + "\n")

    with atomic_write(csv_path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["experiment", "kind", "setting", "metric", "n", "mean", "std", "ci95_low", "ci95_high",
                         "seeds", "values"])
        for g in groups:
            setting = json.dumps(dict(g.setting), sort_keys=True, default=str)
            for key, s in g.summary.items():
                writer.writerow([
                    g.name, g.command_kind, setting, key, s.n, repr(s.mean),
                    "" if s.std is None else repr(s.std),
                    "" if s.ci95 is None else repr(s.ci95[0]), "" if s.ci95 is None else repr(s.ci95[1]),
                    json.dumps(g.seeds, default=str), json.dumps(list(s.values)),
                ])
    written = [md, csv_path]
    if headline:
        draw_headline(groups, headline, png)
        written.append(png)
    return written


def draw_headline(groups: Sequence[RunGroup], keys: Sequence[str], path: str | Path) -> None:
    """One panel per headline metric: a point per run (seed), the mean with its 95% interval as a bar."""
    figure = _figure(max(5.0, 1.2 * len(groups) + 2), 3.2 * len(keys))
    for row, key in enumerate(keys):
        axes = figure.add_subplot(len(keys), 1, row + 1)
        for x, g in enumerate(groups):
            s = g.summary.get(key)
            if s is None:
                continue
            offsets = np.linspace(-0.15, 0.15, len(s.values)) if len(s.values) > 1 else [0.0]
            axes.scatter([x + o for o in offsets], s.values, s=18, color="tab:blue", zorder=3)
            if s.ci95 is not None:
                axes.errorbar([x + 0.3], [s.mean], yerr=[[s.mean - s.ci95[0]], [s.ci95[1] - s.mean]],
                              fmt="D", color="tab:red", capsize=3, markersize=4)
            else:
                axes.scatter([x + 0.3], [s.mean], marker="D", color="tab:red", s=16)
        axes.set_xticks(range(len(groups)), [textwrap.fill(g.label, 32) for g in groups], rotation=15, ha="right",
                       fontsize=7)
        axes.set_title(f"{key}: runs (blue), mean and 95% CI over seeds (red)", fontsize=8)
        axes.grid(axis="y", alpha=0.3)
    _save_png(figure, Path(path))


def render_results(groups: Sequence[RunGroup], checkpoints: Sequence[Path], *, roots: Sequence[str | Path],
                   results_path: str | Path, checkpoint_meta: Mapping[Path, Mapping[str, Any]] | None = None) -> str:
    """experiments/RESULTS.md: every experiment setting and shipped checkpoint with command, data, seeds, numbers.

    ``checkpoint_meta`` gives a checkpoint's ``argmine.json`` (what the table shows of it) instead of
    reading it: a checkpoint kept from the results file being merged into may be gone from disk.
    The file ends in its run records (see ``merge_results``), invisible in rendered Markdown.
    """
    roots_shown = " ".join(_display(Path(r)) for r in roots)
    lines = [
        "# Results",
        "",
        (f"Generated by `argmine report {roots_shown} --results {_display(Path(results_path))}` from the run folders; "
        "do not edit by hand, rerun the command. Numbers: mean ± sample std over seeds [95% CI, Student's t]. "
        "Train runs score the dev split while training (the checkpoint is the best dev epoch); evaluate runs score "
        "the split named."),
        "",
        "| experiment | runs | scored on | seeds | headline | command |",
        "|---|---|---|---|---|---|",
    ]
    for g in groups:
        first = g.runs[0]
        scored = f"{first.data} / {first.split}" if first.data else "–"
        heads = "<br>".join(f"`{k}` {_format_summary(g.summary[k])}" for k in RUN_HEADLINE if k in g.summary) or "–"
        commands = _commands(g)
        shown = f"`{_md(commands[0])}`" + (f" (+{len(commands) - 1} more)" if len(commands) > 1 else "")
        lines.append(f"| {_md(g.label)} | {g.command_kind} × {len(g.runs)} | {_md(scored)} | {_md(g.seeds)} | "
                     f"{heads} | {shown} |")
    for g in groups:
        lines += ["", f"## {_md(g.label)} ({g.command_kind})", "", "Commands:", "", "```"]
        lines += _commands(g)
        keys = [k for k in RUN_HEADLINE if k in g.summary]
        lines += ["```", "", "| " + " | ".join(["run", "seed", "overrides", "checkpoint", *(f"`{k}`" for k in keys)])
                  + " |", "|---|---|---|---|" + "---:|" * len(keys)]
        for run in g.runs:
            cells = [f"`{_display(run.path)}`", _md(run.seed), _md(portable_command(" ".join(run.overrides))) or "–",
                     f"`{_display(run.checkpoint)}`", *(_number(run.metrics.get(k, "–")) for k in keys)]
            lines.append("| " + " | ".join(cells) + " |")
    if checkpoints:
        lines += ["", "## Checkpoints outside run folders", "",
                  "| checkpoint | kind | experiment | seed | data | command | dev headline (at training) |",
                  "|---|---|---|---|---|---|---|"]
        for folder in checkpoints:
            meta = (checkpoint_meta or {}).get(folder) or _load_json(folder / "argmine.json")
            info = dict(meta.get("training") or {})
            dev = dict(info.get("metrics") or {})
            numbers = [k for k in RUN_HEADLINE if isinstance(dev.get(k), (int, float))]
            heads = "<br>".join(f"`{k}` {dev[k]:.4f}" for k in numbers) or "–"
            data = info.get("data") or {}
            lines.append(
                f"| `{_display(folder)}` | {_md(meta.get('kind'))} | {_md(info.get('experiment', '–'))} | "
                f"{_md(info.get('seed', '–'))} | {_md(data.get('name', '–'))} / {_md(data.get('dev', '–'))} | "
                f"`{_md(portable_command(info.get('command', '–')))}` | {heads} |"
            )
    base = os.path.dirname(os.path.abspath(results_path))  # paths relative to the file: no machine paths in it
    records = [{"roots": [os.path.relpath(r, base) for r in roots]}]
    records += [{"run": _run_record(run, base)} for g in groups for run in g.runs]
    records += [{"checkpoint": {"path": os.path.relpath(c, base), "meta": _checkpoint_record(
        (checkpoint_meta or {}).get(c) or _load_json(c / "argmine.json"))}} for c in checkpoints]
    lines += ["", RECORDS_BEGIN]
    # ">" only occurs inside JSON strings, where \u003e means the same: no record can end the comment early.
    lines += [json.dumps(r, ensure_ascii=False, sort_keys=True, default=str).replace(">", "\\u003e") for r in records]
    lines.append(RECORDS_END)
    return "\n".join(lines) + "\n"


# -- merging into an existing results file ------------------------------------

# The results file carries what it was made from, so that a report of new runs merges into it by run.
RECORDS_BEGIN = "<!-- argmine report records v1: the runs above, read back to merge new runs in; do not edit"
RECORDS_END = "-->"


def _run_record(run: RunRecord, base: str) -> dict[str, Any]:
    """What ``group_runs`` and ``render_results`` read of a run (headline metrics only); paths relative to ``base``."""
    return {
        "path": os.path.relpath(run.path, base), "name": run.name, "kind": run.command_kind,
        "identity": dict(run.identity),
        "seed": run.seed, "metrics": {k: run.metrics[k] for k in RUN_HEADLINE if k in run.metrics},
        "overrides": list(run.overrides), "command": run.command, "data": run.data, "split": run.split,
        "checkpoint": os.path.relpath(run.checkpoint, base) if run.checkpoint is not None else None,
    }


def _checkpoint_record(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What the "Checkpoints outside run folders" table shows of an ``argmine.json``."""
    info = dict(meta.get("training") or {})
    keep = ("experiment", "seed", "data", "command")
    training = {k: info[k] for k in keep if k in info}
    training["metrics"] = {k: v for k, v in dict(info.get("metrics") or {}).items() if k in RUN_HEADLINE}
    return {"kind": meta.get("kind"), "training": training}


@dataclass(frozen=True)
class ResultsRecords:
    """The run records at the end of a results file."""

    roots: tuple[str, ...]
    runs: tuple[RunRecord, ...]
    checkpoints: Mapping[Path, Mapping[str, Any]]


def read_results_records(path: str | Path) -> ResultsRecords:
    """The records ``render_results`` wrote at the end of ``path``; an ``ArgmineError`` when it has none."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise ArgmineError(f"{path}: cannot read the results file to merge into ({error})") from None
    if RECORDS_BEGIN not in lines:
        raise ArgmineError(
            f"{path}: exists and holds no run records of `argmine report` (written by hand or by an older version), "
            "so new runs cannot be merged into it: give --force to replace it with the runs given, or another file"
        )
    start = lines.index(RECORDS_BEGIN) + 1
    base = Path(os.path.dirname(os.path.abspath(path)))  # recorded paths are relative to the file

    def where(recorded: str) -> Path:
        return Path(os.path.normpath(base / recorded))

    roots: list[str] = []
    runs: list[RunRecord] = []
    checkpoints: dict[Path, Mapping[str, Any]] = {}
    for number, line in enumerate(lines[start:], start=start + 1):
        if line == RECORDS_END:
            break
        try:
            record = json.loads(line)
            if "roots" in record:
                roots += [str(where(r)) for r in record["roots"]]
            elif "run" in record:
                r = record["run"]
                runs.append(RunRecord(
                    path=where(r["path"]), name=str(r["name"]), command_kind=str(r["kind"]), config={},
                    identity=dict(r["identity"]), seed=r["seed"], metrics=dict(r["metrics"]),
                    overrides=tuple(map(str, r["overrides"])), command=r["command"],
                    checkpoint=where(r["checkpoint"]) if r["checkpoint"] else None, data=str(r["data"]),
                    split=str(r["split"]), source=str(path),
                ))
            else:
                checkpoints[where(record["checkpoint"]["path"])] = dict(record["checkpoint"]["meta"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ArgmineError(f"{path}:{number}: malformed run record ({error}); --force replaces the file") from None
    else:
        raise ArgmineError(f"{path}: the run records have no end ({RECORDS_END!r}); --force replaces the file")
    return ResultsRecords(tuple(roots), tuple(runs), checkpoints)


def merge_results(
    previous: ResultsRecords, runs: Sequence[RunRecord], checkpoints: Mapping[Path, Mapping[str, Any]],
    roots: Sequence[str | Path],
) -> tuple[list[RunRecord], dict[Path, Mapping[str, Any]], list[str], int, int]:
    """Merge by run: a run read now replaces the record of the same folder; other records are kept.

    A recorded run below one of ``roots`` that is no longer found there was deleted or moved by its
    owner and is dropped (the folder just read is the truth about what lies below it). Returns the
    runs, the checkpoints and the roots of the merged file, how many runs were kept and dropped.
    """
    def key(path: str | Path) -> str:
        return os.path.abspath(path)

    fresh = {key(run.path) for run in runs}
    scanned = [key(root) for root in roots]
    kept, dropped = [], 0
    for run in previous.runs:
        if key(run.path) in fresh:
            continue
        if any(Path(key(run.path)).is_relative_to(root) for root in scanned):
            dropped += 1
            continue
        kept.append(run)
    merged = sorted([*kept, *runs], key=lambda run: key(run.path))
    owned = {key(run.checkpoint) for run in merged if run.checkpoint is not None}
    old = {p: m for p, m in previous.checkpoints.items()
           if key(p) not in owned and not any(Path(key(p)).is_relative_to(root) for root in scanned)}
    all_roots = list(dict.fromkeys([*previous.roots, *scanned]))
    return merged, {**old, **checkpoints}, all_roots, len(kept), dropped


def _commands(group: RunGroup) -> list[str]:
    """The recorded commands of a group's runs (or, where none is recorded, the one their overrides spell)."""
    out: list[str] = []
    for run in group.runs:
        command = run.command or (
            f"argmine {run.command_kind} {' '.join(run.overrides)}  # from .hydra/overrides.yaml" if run.overrides
            else None
        )
        command = portable_command(command) if command else None  # no paths of the machine it ran on
        if command and command not in out:
            out.append(command)
    return out or ["(no command recorded)"]


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``argmine report DIR... [--out DIR] [--results FILE]``."""
    parser.add_argument("dirs", nargs="+", type=Path, help="run or multirun folders; every run folder below is read")
    parser.add_argument("--out", type=Path, default=None, help="where runs_summary.* go (default: the first DIR)")
    parser.add_argument("--results", type=Path, default=None, help="also write this results file, e.g. "
                        "experiments/RESULTS.md; an existing one is merged into by run (its other runs' rows are kept)")
    parser.add_argument("--force", action="store_true", help="--results: replace the file with the runs given only "
                        "(needed for a file without run records, e.g. written by hand)")
    parser.add_argument("--seed-key", action="append", default=None, metavar="KEY",
                        help=f"config key that holds the seed (default {', '.join(SEED_KEYS)}); repeatable")
    parser.add_argument("--ignore", action="append", default=None, metavar="KEY",
                        help=f"config key that does not tell settings apart (default {', '.join(IGNORED_KEYS)}); "
                        "repeatable")


def run_report(args: argparse.Namespace) -> int:
    """Summarize the run folders below ``args.dirs``; exit status 0."""
    seed_keys = tuple(args.seed_key or SEED_KEYS)
    ignore = tuple(args.ignore or IGNORED_KEYS)
    runs = find_runs(args.dirs, seed_keys=seed_keys, ignore=ignore)
    if not runs:
        raise ArgmineError(
            f"no run folder (metrics.json beside .hydra/config.yaml) below {', '.join(map(str, args.dirs))}"
        )
    groups = group_runs(runs)
    written = write_runs_report(groups, args.out or args.dirs[0])
    merged = ""
    if args.results is not None:
        metas = {c: _load_json(c / "argmine.json") for c in find_checkpoints(args.dirs, runs)}
        results_runs, roots = list(runs), [os.path.abspath(d) for d in args.dirs]
        if args.results.is_file() and not getattr(args, "force", False):
            results_runs, metas, roots, kept, dropped = merge_results(
                read_results_records(args.results), runs, metas, args.dirs
            )
            merged = f" (merged: {kept} runs kept from it" + (
                f", {dropped} dropped that are no longer below {', '.join(map(str, args.dirs))})" if dropped else ")"
            )
        results_groups = group_runs(results_runs)
        text = render_results(results_groups, sorted(metas), roots=roots, results_path=args.results,
                              checkpoint_meta=metas)
        with atomic_write(args.results) as handle:
            handle.write(text)
        written.append(args.results)
    print(f"{len(runs)} runs in {len(groups)} settings; wrote " + ", ".join(map(str, written)) + merged)
    return 0


__all__ = [
    "HEADLINE",
    "RUN_HEADLINE",
    "ErrorRow",
    "MetricSummary",
    "RunGroup",
    "RunRecord",
    "add_report_arguments",
    "bootstrap_intervals",
    "describe_metric",
    "draw_confusion",
    "error_rows",
    "find_checkpoints",
    "find_runs",
    "group_runs",
    "read_run",
    "render_errors_html",
    "render_report_markdown",
    "merge_results",
    "read_results_records",
    "render_results",
    "run_report",
    "summarize",
    "token_confusion",
    "write_evaluation_report",
    "write_runs_report",
]
