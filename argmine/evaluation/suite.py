"""``report.md`` of a stance dev suite (``argmine evaluate experiment=stance_dev_suite``): one table, every set.

    | set | items | macro-F1 | F1 per label | unpredicted gold labels | constant | ECE |
    ...
    mean macro-F1 over the sets: what models are chosen by (no single small dev set decides)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from argmine.io_utils import atomic_write

PREFIX = "stance/suite"


def suite_table(metrics: Mapping[str, Any], labels: Sequence[str]) -> list[str]:
    """The Markdown lines of the suite's table and its mean."""
    sets = metrics.get("suite") or {}
    lines = [
        "| set | data, split, level | items | macro-F1 | " + " | ".join(f"{label} F1" for label in labels)
        + " | gold labels never predicted | constant output | ECE |",
        "|---|---|---|---|" + "---|" * len(labels) + "---|---|---|",
    ]
    for name, size in sets.items():
        where = f"{PREFIX}/{name}"
        used = metrics.get(f"{where}/macro_f1_labels") or []
        per_label = [
            f"{metrics[f'{where}/{label}/f1']:.3f}" if label in used else "–" for label in labels
        ]
        ece = metrics.get(f"{where}/ece")
        lines.append(
            f"| {name} | {size['data']}, {size['split']}, {size['level']} | {size['items']} "
            f"| {metrics[f'{where}/macro_f1']:.3f} | " + " | ".join(per_label)
            + f" | {', '.join(metrics.get(f'{where}/unpredicted') or []) or '—'}"
            + f" | {'yes' if metrics.get(f'{where}/constant') else 'no'}"
            + f" | {'' if ece is None else f'{ece:.3f}'} |"
        )
    lines += ["", f"Mean macro-F1 over the {len(sets)} sets: **{metrics[f'{PREFIX}/mean_macro_f1']:.3f}**"]
    return lines


def write_suite_report(path: str | Path, metrics: Mapping[str, Any], labels: Sequence[str]) -> None:
    lines = [
        "# Stance on every dev set",
        "",
        f"Checkpoint: `{metrics.get('checkpoint')}`",
        "",
        "A set's macro-F1 averages the F1 of the labels its gold uses (a `–` marks a label it does not use:",
        "AAE claims and microtext ADUs are never `none`); ECE is the expected calibration error of the",
        "predicted label's score over 10 equal-width bins.",
        "",
        *suite_table(metrics, labels),
        "",
    ]
    with atomic_write(path) as handle:
        handle.write("\n".join(lines))
