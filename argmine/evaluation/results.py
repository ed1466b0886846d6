"""The many-runs outputs of ``argmine report``: runs_summary.md / .csv / .png and the results file.

    report_runs(dirs) ──find_runs, group_runs──► RunGroups

    RunGroups ──write_runs_report──► runs_summary.md, runs_summary.csv, runs_headline.png
              ──render_results──►    experiments/RESULTS.md, ending in its run records, so that a
                                     later report merges new runs into it by run (merge_results)
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argmine.commands import portable_command
from argmine.errors import ArgmineError
from argmine.evaluation.figures import draw_headline
from argmine.evaluation.glossary import RUN_HEADLINE, describe_metric
from argmine.evaluation.runs import (
    IGNORED_KEYS,
    SEED_KEYS,
    MetricSummary,
    RunGroup,
    RunRecord,
    find_checkpoints,
    find_runs,
    group_runs,
    load_json,
)
from argmine.evaluation.tables import md_cell, number
from argmine.io_utils import atomic_write

log = logging.getLogger(__name__)


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
            lines.append(f"| {md_cell(g.label)} ({g.command_kind}) | {len(g.runs)} | {md_cell(g.seeds)} | {cells} |")
    for g in groups:
        lines += ["", f"## {md_cell(g.label)} ({g.command_kind})", "",
                  f"Seeds {md_cell(g.seeds)}; runs: " + ", ".join(f"`{_display(r.path)}`" for r in g.runs), "",
                  "| metric | n | mean | std | 95% CI | definition |", "|---|---:|---:|---:|---|---|"]
        for key, s in g.summary.items():
            std = f"{s.std:.4f}" if s.std is not None else "–"
            interval = f"[{s.ci95[0]:.4f}, {s.ci95[1]:.4f}]" if s.ci95 else "–"
            lines.append(f"| `{md_cell(key)}` | {s.n} | {s.mean:.4f} | {std} | {interval} | {md_cell(describe_metric(key))} |")
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
        shown = f"`{md_cell(commands[0])}`" + (f" (+{len(commands) - 1} more)" if len(commands) > 1 else "")
        lines.append(f"| {md_cell(g.label)} | {g.command_kind} × {len(g.runs)} | {md_cell(scored)} | {md_cell(g.seeds)} | "
                     f"{heads} | {shown} |")
    for g in groups:
        lines += ["", f"## {md_cell(g.label)} ({g.command_kind})", "", "Commands:", "", "```"]
        lines += _commands(g)
        keys = [k for k in RUN_HEADLINE if k in g.summary]
        lines += ["```", "", "| " + " | ".join(["run", "seed", "overrides", "checkpoint", *(f"`{k}`" for k in keys)])
                  + " |", "|---|---|---|---|" + "---:|" * len(keys)]
        for run in g.runs:
            cells = [f"`{_display(run.path)}`", md_cell(run.seed), md_cell(portable_command(" ".join(run.overrides))) or "–",
                     f"`{_display(run.checkpoint)}`", *(number(run.metrics.get(k, "–")) for k in keys)]
            lines.append("| " + " | ".join(cells) + " |")
    if checkpoints:
        lines += ["", "## Checkpoints outside run folders", "",
                  "| checkpoint | kind | experiment | seed | data | command | dev headline (at training) |",
                  "|---|---|---|---|---|---|---|"]
        for folder in checkpoints:
            meta = (checkpoint_meta or {}).get(folder) or load_json(folder / "argmine.json")
            info = dict(meta.get("training") or {})
            dev = dict(info.get("metrics") or {})
            numbers = [k for k in RUN_HEADLINE if isinstance(dev.get(k), (int, float))]
            heads = "<br>".join(f"`{k}` {dev[k]:.4f}" for k in numbers) or "–"
            data = info.get("data") or {}
            lines.append(
                f"| `{_display(folder)}` | {md_cell(meta.get('kind'))} | {md_cell(info.get('experiment', '–'))} | "
                f"{md_cell(info.get('seed', '–'))} | {md_cell(data.get('name', '–'))} / {md_cell(data.get('dev', '–'))} | "
                f"`{md_cell(portable_command(info.get('command', '–')))}` | {heads} |"
            )
    base = os.path.dirname(os.path.abspath(results_path))  # paths relative to the file: no machine paths in it
    records = [{"roots": [os.path.relpath(r, base) for r in roots]}]
    records += [{"run": _run_record(run, base)} for g in groups for run in g.runs]
    records += [{"checkpoint": {"path": os.path.relpath(c, base), "meta": _checkpoint_record(
        (checkpoint_meta or {}).get(c) or load_json(c / "argmine.json"))}} for c in checkpoints]
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


@dataclass(frozen=True)
class RunsReport:
    """What ``report_runs`` read and wrote."""

    runs: tuple[RunRecord, ...]
    groups: tuple[RunGroup, ...]
    written: tuple[Path, ...]
    merged: tuple[int, int] | None = None  # runs kept from the results file merged into, and dropped from it


def report_runs(
    dirs: Sequence[Path], *, out: Path | None = None, results: Path | None = None, force: bool = False,
    seed_keys: Sequence[str] = SEED_KEYS, ignore: Sequence[str] = IGNORED_KEYS,
) -> RunsReport:
    """Summarize the run folders below ``dirs`` into ``out`` (default: the first of ``dirs``), and ``results``.

    An existing ``results`` file is merged into by run unless ``force`` (see ``merge_results``);
    an ``ArgmineError`` when no run folder is found.
    """
    runs = find_runs(dirs, seed_keys=seed_keys, ignore=ignore)
    if not runs:
        raise ArgmineError(
            f"no run folder (metrics.json beside .hydra/config.yaml) below {', '.join(map(str, dirs))}"
        )
    groups = group_runs(runs)
    written = write_runs_report(groups, out or dirs[0])
    merged = None
    if results is not None:
        metas = {c: load_json(c / "argmine.json") for c in find_checkpoints(dirs, runs)}
        results_runs, roots = list(runs), [os.path.abspath(d) for d in dirs]
        if results.is_file() and not force:
            results_runs, metas, roots, kept, dropped = merge_results(read_results_records(results), runs, metas, dirs)
            merged = (kept, dropped)
        text = render_results(group_runs(results_runs), sorted(metas), roots=roots, results_path=results,
                              checkpoint_meta=metas)
        with atomic_write(results) as handle:
            handle.write(text)
        written.append(results)
    log.info("%d runs in %d settings; wrote %s", len(runs), len(groups), ", ".join(map(str, written)))
    return RunsReport(tuple(runs), tuple(groups), tuple(written), merged)
