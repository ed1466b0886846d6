"""Behaviour tests of comment stance toward the original post (CheckList-style), run on a pipeline checkpoint.

    python experiments/behaviour/run_behaviour.py --checkpoint models/argmine-threads-minilm \
        [--cases experiments/behaviour/stance-cases.yaml] [--json results.json]

Each case of the cases file (``stance-cases.yaml`` beside this script; YAML,
or JSONL with one case object a line) is mined as its own thread: the post,
the parent when the case has one, and the comment, which replies to the parent
or else to the post. All threads go through ``ArgumentMiner.mine_many`` in one
stream (batched), and the comment's predicted stance is compared with the
case's ``expected`` label.

Prints one line per case (id, capability, expected, predicted, score,
PASS/FAIL), then the pass rate per capability, per expected label and overall,
the predicted label counts, and the paraphrase flip rate: of the comments that
appear under both wordings (``post_variant`` a and b) of a
``paraphrase_group``, the share whose predicted stance differs between the two.

Exit status: 0 whatever the pass rate (a measurement, not a gate); 2 on bad
input (a malformed cases file: one line naming the file, the case id and the
field; a missing or unreadable checkpoint; a checkpoint whose stance labels
are not the cases' labels).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
DEFAULT_CASES = HERE / "stance-cases.yaml"
LABELS = ("support", "attack", "none")
VARIANTS = ("a", "b")
REQUIRED = ("id", "capability", "post", "comment", "expected")
OPTIONAL = ("parent", "paraphrase_group", "post_variant")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # no spaces: ids head the printed lines
POST_ID, PARENT_ID, COMMENT_ID = "post", "parent", "comment"


class CaseError(Exception):
    """A malformed cases file; the message is one line naming the file, the case and the field."""


@dataclass(frozen=True)
class Case:
    id: str
    capability: str
    post: str
    comment: str
    expected: str
    parent: str | None = None
    paraphrase_group: str | None = None
    post_variant: str | None = None


# -- reading and checking the cases ----------------------------------------------------------------


def load_cases(path: str | Path) -> list[Case]:
    """The cases of ``path`` (.yaml / .yml / .jsonl), checked; a problem raises ``CaseError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CaseError(f"{path}: not UTF-8 (byte {error.start}): save the cases file as UTF-8") from None
    except OSError as error:
        raise CaseError(f"{path}: cannot read the cases file: {error.strerror or error}") from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raw = _parse_yaml(path, text)
    elif suffix == ".jsonl":
        raw = _parse_jsonl(path, text)
    else:
        raise CaseError(f"{path}: unknown cases format {suffix or '(no suffix)'!r}; use .yaml, .yml or .jsonl")
    if not isinstance(raw, list) or not raw:
        raise CaseError(f"{path}: expected a non-empty list of cases at the top level")
    cases = [_case(path, index, item) for index, item in enumerate(raw)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise CaseError(f"{path}: case {case.id}: field id: used by an earlier case too")
        seen.add(case.id)
    _check_paraphrases(path, cases)
    return cases


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CaseError(f"{path}: {where}not valid YAML: {problem}") from None


def _parse_jsonl(path: Path, text: str) -> list[Any]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise CaseError(f"{path}: line {number}: not valid JSON: {error.msg}") from None
    return out


def _case(path: Path, index: int, item: Any) -> Case:
    # Name the case by its id when it has a usable one, else by its position (1-based).
    name = f"#{index + 1}"
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip():
        name = item["id"]

    def fail(field: str, problem: str) -> CaseError:
        return CaseError(f"{path}: case {name}: field {field}: {problem}")

    if not isinstance(item, dict):
        raise fail("(case)", f"expected a mapping of fields, got {type(item).__name__}")
    unknown = [key for key in item if key not in REQUIRED + OPTIONAL]
    if unknown:
        raise fail(str(unknown[0]), f"unknown field; the fields are {', '.join(REQUIRED + OPTIONAL)}")
    values: dict[str, str | None] = {}
    for field in REQUIRED + OPTIONAL:
        value = item.get(field)
        if value is None:
            if field in REQUIRED:
                raise fail(field, "missing")
            values[field] = None
            continue
        if not isinstance(value, str):
            raise fail(field, f"expected a string, got {type(value).__name__} {value!r}")
        if not value.strip():
            raise fail(field, "empty")
        values[field] = value
    if not ID_PATTERN.match(values["id"] or ""):
        raise fail("id", f"{values['id']!r} must be letters, digits, '.', '_' or '-' (no spaces)")
    if values["expected"] not in LABELS:
        raise fail("expected", f"{values['expected']!r} is not one of {', '.join(LABELS)}")
    group, variant = values["paraphrase_group"], values["post_variant"]
    if (group is None) != (variant is None):
        missing = "post_variant" if variant is None else "paraphrase_group"
        raise fail(missing, "missing: paraphrase_group and post_variant come together")
    if variant is not None and variant not in VARIANTS:
        raise fail("post_variant", f"{variant!r} is not one of {', '.join(VARIANTS)}")
    return Case(**values)  # type: ignore[arg-type]


def _check_paraphrases(path: Path, cases: Sequence[Case]) -> None:
    """Each group: both variants, one post per variant (different between them), the same comments under both."""
    groups: dict[str, dict[str, list[Case]]] = {}
    for case in cases:
        if case.paraphrase_group is not None:
            groups.setdefault(case.paraphrase_group, {v: [] for v in VARIANTS})[case.post_variant].append(case)
    for group, by_variant in groups.items():
        for variant, members in by_variant.items():
            if not members:
                first = next(c for v in by_variant.values() for c in v)
                raise CaseError(
                    f"{path}: case {first.id}: field paraphrase_group: group {group!r} has no case with "
                    f"post_variant {variant}"
                )
            for case in members[1:]:
                if case.post != members[0].post:
                    raise CaseError(
                        f"{path}: case {case.id}: field post: differs from {members[0].id}'s, "
                        f"the post of variant {variant} of group {group!r}"
                    )
            keys = Counter(_pair_key(c) for c in members)
            repeated = next((c for c in members if keys[_pair_key(c)] > 1), None)
            if repeated is not None:
                raise CaseError(f"{path}: case {repeated.id}: field comment: repeated within variant {variant}")
        a, b = by_variant["a"], by_variant["b"]
        if a[0].post == b[0].post:
            raise CaseError(f"{path}: case {b[0].id}: field post: variant b of group {group!r} is variant a's post")
        a_keys, b_keys = {_pair_key(c) for c in a}, {_pair_key(c) for c in b}
        for case in a + b:
            if _pair_key(case) not in (b_keys if case.post_variant == "a" else a_keys):
                other = "b" if case.post_variant == "a" else "a"
                raise CaseError(
                    f"{path}: case {case.id}: field comment: not under variant {other} of group {group!r} "
                    "with the same parent and expected label"
                )


def _pair_key(case: Case) -> tuple[str | None, str, str]:
    # What must match between the two variants of a paraphrase group.
    return (case.parent, case.comment, case.expected)


# -- mining ----------------------------------------------------------------------------------------


def case_thread(case: Case):
    """The thread of one case: post, then the parent (if any), then the comment replying to it."""
    from argmine.thread import Comment, Post, Thread

    comments = []
    reply_to = POST_ID
    if case.parent is not None:
        comments.append(Comment(id=PARENT_ID, author=None, reply_to=POST_ID, text=case.parent))
        reply_to = PARENT_ID
    comments.append(Comment(id=COMMENT_ID, author=None, reply_to=reply_to, text=case.comment))
    return Thread(id=case.id, post=Post(id=POST_ID, author=None, text=case.post), comments=comments)


@dataclass(frozen=True)
class Result:
    id: str
    capability: str
    expected: str
    predicted: str
    score: float | None
    passed: bool
    paraphrase_group: str | None = None
    post_variant: str | None = None


def run_cases(miner: Any, cases: Sequence[Case], *, batch_size: int = 16) -> list[Result]:
    """Mine every case (one stream through ``mine_many``) and compare the comment's stance with ``expected``."""
    mined = miner.mine_many((case_thread(c) for c in cases), batch_size=batch_size, progress=False)
    results = []
    for case, thread in zip(cases, mined, strict=True):
        stance = thread.comments[-1].stance
        if stance is None:  # cannot happen for a non-empty post and comment; never score a missing stance as a miss
            raise RuntimeError(f"case {case.id}: the miner returned no stance for the comment")
        results.append(
            Result(
                id=case.id,
                capability=case.capability,
                expected=case.expected,
                predicted=stance.label,
                score=None if stance.score is None else float(stance.score),
                passed=stance.label == case.expected,
                paraphrase_group=case.paraphrase_group,
                post_variant=case.post_variant,
            )
        )
    return results


# -- summary ---------------------------------------------------------------------------------------


def _rate(passed: int, total: int) -> dict[str, Any]:
    return {"passed": passed, "total": total, "rate": passed / total if total else None}


def summarise(cases: Sequence[Case], results: Sequence[Result]) -> dict[str, Any]:
    """Pass rates (per capability in file order, per expected label, overall), predicted counts, flip rate."""
    by_capability: dict[str, list[bool]] = {}
    by_label: dict[str, list[bool]] = {label: [] for label in LABELS}
    for result in results:
        by_capability.setdefault(result.capability, []).append(result.passed)
        by_label[result.expected].append(result.passed)
    pairs: dict[tuple, dict[str, Result]] = {}
    for case, result in zip(cases, results, strict=True):
        if case.paraphrase_group is not None:
            pairs.setdefault((case.paraphrase_group, *_pair_key(case)), {})[case.post_variant] = result
    complete = [p for p in pairs.values() if len(p) == len(VARIANTS)]
    flipped = [p for p in complete if p["a"].predicted != p["b"].predicted]
    return {
        "capabilities": {name: _rate(sum(v), len(v)) for name, v in by_capability.items()},
        "expected_labels": {label: _rate(sum(v), len(v)) for label, v in by_label.items() if v},
        "overall": _rate(sum(r.passed for r in results), len(results)),
        "predicted": dict(Counter(r.predicted for r in results).most_common()),
        "paraphrase": {
            "groups": len({key[0] for key in pairs}),
            "pairs": len(complete),
            "flips": len(flipped),
            "flip_rate": len(flipped) / len(complete) if complete else None,
            "flipped": [
                {"a": p["a"].id, "b": p["b"].id, "predicted_a": p["a"].predicted, "predicted_b": p["b"].predicted}
                for p in flipped
            ],
        },
    }


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def report_lines(results: Sequence[Result], summary: dict[str, Any]) -> Iterable[str]:
    width = max(len(r.id) for r in results)
    cap_width = max(len(r.capability) for r in results)
    yield f"{'id':<{width}}  {'capability':<{cap_width}}  expected  predicted  score  result"
    for r in results:
        score = "  -  " if r.score is None else f"{r.score:.3f}"
        yield (
            f"{r.id:<{width}}  {r.capability:<{cap_width}}  {r.expected:<8}  {r.predicted:<9}  {score}  "
            f"{'PASS' if r.passed else 'FAIL'}"
        )
    yield ""
    yield "pass rate by capability:"
    rows = [*summary["capabilities"].items(), ("overall", summary["overall"])]
    for name, rate in rows:
        yield f"  {name:<{cap_width}}  {rate['passed']:>3}/{rate['total']:<3}  {_percent(rate['rate']):>6}"
    labels = ", ".join(f"{k} {v['passed']}/{v['total']}" for k, v in summary["expected_labels"].items())
    yield f"pass rate by expected label: {labels}"
    yield "predicted labels: " + ", ".join(f"{k} {v}" for k, v in summary["predicted"].items())
    para = summary["paraphrase"]
    if para["pairs"]:
        yield (
            f"paraphrase flip rate: {para['flips']}/{para['pairs']} = {_percent(para['flip_rate'])} "
            f"of comment stances change between post variants a and b ({para['groups']} groups)"
        )
        for flip in para["flipped"]:
            yield f"  flipped: {flip['a']} {flip['predicted_a']} / {flip['b']} {flip['predicted_b']}"
    else:
        yield "paraphrase flip rate: - (no paraphrase groups in the cases file)"


# -- command line ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_behaviour.py", description="Behaviour tests of comment stance toward the post (CheckList-style)."
    )
    parser.add_argument("--checkpoint", required=True, type=Path, help="a pipeline checkpoint folder")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help=f"cases file (default: {DEFAULT_CASES})")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write results + summary here")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per model batch (default: 16)")
    parser.add_argument(
        "--precision", default="auto",
        help="number format, as `argmine mine --precision` (default: auto = bfloat16 where native, else float32)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: our share of the cores)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except CaseError as error:
        print(f"run_behaviour: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from argmine.errors import ArgmineError

    cases = load_cases(args.cases)  # bad input surfaces before the model loads
    if args.batch_size < 1:
        raise CaseError(f"--batch-size must be at least 1, got {args.batch_size}")
    if not args.checkpoint.is_dir():
        raise CaseError(f"--checkpoint {args.checkpoint}: no such folder")

    from argmine.pipeline import ArgumentMiner
    from argmine.runtime import use_cpu_threads

    started = time.perf_counter()
    try:
        miner = ArgumentMiner.from_pretrained(args.checkpoint, precision=args.precision)
    except (ArgmineError, ValueError, OSError) as error:
        raise CaseError(f"--checkpoint {args.checkpoint}: {error}") from None
    missing = [label for label in LABELS if label not in miner.stance_labels]
    if missing:
        raise CaseError(
            f"--checkpoint {args.checkpoint}: its stance labels are {', '.join(miner.stance_labels)}; "
            f"the cases need {', '.join(LABELS)}"
        )
    threads = use_cpu_threads(args.threads)
    loaded = time.perf_counter()
    results = run_cases(miner, cases, batch_size=args.batch_size)
    done = time.perf_counter()
    summary = summarise(cases, results)

    print(
        f"behaviour: {len(cases)} cases from {args.cases}; checkpoint {args.checkpoint} "
        f"({miner.precision}, {threads} torch thread{'s' if threads != 1 else ''})"
    )
    for line in report_lines(results, summary):
        print(line)
    print(f"took {done - started:.1f} s: load {loaded - started:.1f} s, mining {done - loaded:.1f} s")

    if args.json is not None:
        record = {
            "checkpoint": str(args.checkpoint),
            "cases": str(args.cases),
            "precision": miner.precision,
            "date": datetime.date.today().isoformat(),
            "results": [asdict(r) for r in results],
            "summary": summary,
        }
        try:
            args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            raise CaseError(f"--json {args.json}: cannot write: {error.strerror or error}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
