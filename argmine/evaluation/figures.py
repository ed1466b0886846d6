"""The figures of the reports: confusion matrices and the runs' headline panels, as PNG files.

Drawn with matplotlib's Agg canvas (no display, no global pyplot state), imported only when a
figure is drawn.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from argmine.io_utils import atomic_write

if TYPE_CHECKING:
    from argmine.evaluation.runs import RunGroup


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
