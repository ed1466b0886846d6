"""The report of one evaluation, written beside its metrics.json.

    argmine evaluate ──► run folder/
                           metrics.json                 scores + ``<headline>/ci95`` bootstrap intervals
                           report.md                    every metric with its one-line definition
                           confusion_<task>.png         one confusion matrix per scored task / level
                           errors.html                  gold vs predicted per message, disagreements first

Confidence intervals come from ``bootstrap`` (over threads), definitions from ``glossary``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.evaluation.bootstrap import bootstrap_intervals
from argmine.evaluation.disagreements import error_rows
from argmine.evaluation.figures import draw_confusion
from argmine.evaluation.glossary import CI_SUFFIX, HEADLINE, STANCE_LEVELS, describe_metric
from argmine.evaluation.spans import token_confusion
from argmine.evaluation.tables import md_cell, number
from argmine.io_utils import atomic_write
from argmine.rendering.errors_page import render_errors_html
from argmine.thread import Thread

log = logging.getLogger(__name__)


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
        raise InputError(f"kind must be components or stance, got {kind!r}")
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


def _confusion_markdown(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    head = "| gold \\ predicted | " + " | ".join(md_cell(label) for label in labels) + " |"
    rule = "|---|" + "---:|" * len(labels)
    body = [f"| {md_cell(label)} | " + " | ".join(str(n) for n in row) + " |" for label, row in zip(labels, matrix)]
    return "\n".join([head, rule, *body])


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
        f"# Evaluation: {md_cell(data_name)} / {md_cell(split)}",
        "",
        f"- checkpoint: `{checkpoint}` ({kind})",
        f"- data: `{md_cell(data_name)}`, split `{md_cell(split)}`, {threads} threads, {messages} messages",
    ]
    if bootstrap:
        lines.append(
            f"- 95% intervals: percentile bootstrap, {bootstrap} resamples of the {threads} threads with "
            f"replacement (seed {seed}), each rescored with argmine.evaluation"
        )
    else:
        lines.append("- no bootstrap intervals (bootstrap=0)")
    lines += ["", "## Headline", "", "| metric | value | 95% CI | definition |", "|---|---:|---|---|"]
    for key in HEADLINE:
        if key in metrics:
            interval = ci.get(f"{key}{CI_SUFFIX}")
            shown = f"[{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "–"
            lines.append(f"| `{key}` | {number(metrics[key])} | {shown} | {md_cell(describe_metric(key))} |")
            ece = key.replace("/macro_f1", "/ece") if key.startswith("stance/") else None
            if ece in metrics:  # calibration beside the macro-F1 of its level
                lines.append(f"| `{ece}` | {number(metrics[ece])} | – | {md_cell(describe_metric(ece))} |")

    sections: dict[str, list[str]] = {}
    for key, value in metrics.items():
        if key.endswith(CI_SUFFIX) or isinstance(value, (dict, list)):
            continue
        section = "/".join(key.split("/")[:2]) if "/" in key else "run"
        sections.setdefault(section, []).append(
            f"| `{md_cell(key)}` | {number(value, key)} | {md_cell(describe_metric(key)) or '–'} |"
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
        lines += ["", f"### stance/{level} (ece {number(metrics.get(f'stance/{level}/ece', '–'))})", "",
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
