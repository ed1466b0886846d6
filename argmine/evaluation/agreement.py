"""Inter-annotator agreement between two label sets of the same threads (``argmine agree A.jsonl B.jsonl``).

    A.jsonl, B.jsonl ──read_pair (same threads, messages, texts, else an error)──► agreement()
        stance/comments     Cohen's kappa over comments both annotators gave a stance
        stance/components   Cohen's kappa over components both marked with the same span, both with a stance
        components/label    Cohen's kappa of the component label over components with the same span
        spans               span F1 of B against A, exact and overlap-50 (argmine.evaluation.spans);
                            F1 is symmetric, so which file is "gold" does not matter for it
        counts              per-label counts of each annotator

Cohen's kappa: ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed share
of agreement and ``p_e = Σ_label p_A(label) · p_B(label)`` the agreement
expected by chance from each annotator's own label distribution. It is
``None`` where undefined (no item, or both annotators used one single label:
``p_e = 1``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InputError
from argmine.evaluation.spans import component_metrics
from argmine.readers.jsonl import read_jsonl
from argmine.thread import Thread

SPAN_KEYS = (
    "components/span_exact/micro_f1",
    "components/span_overlap50/micro_f1",
)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two aligned label lists; ``None`` when undefined (empty, or chance agreement is 1)."""
    if len(a) != len(b):
        raise InputError(f"{len(a)} labels from the first annotator but {len(b)} from the second")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def read_pair(path_a: str | Path, path_b: str | Path) -> tuple[list[Thread], list[Thread]]:
    """Both files' threads, checked to be the same threads, messages and texts (in any thread order).

    Raises ``CorpusFormatError`` naming the file and the first thread or
    message that differs.
    """
    threads_a, threads_b = list(read_jsonl(path_a)), list(read_jsonl(path_b))
    index_a = _index(threads_a, path_a)
    index_b = _index(threads_b, path_b)
    for thread_id in index_a:
        if thread_id not in index_b:
            raise CorpusFormatError(f"thread {thread_id!r} of {path_a} is missing here", source=path_b)
    for thread_id in index_b:
        if thread_id not in index_a:
            raise CorpusFormatError(f"thread {thread_id!r} is not in {path_a}", source=path_b)
    for thread_id, a in index_a.items():
        b = index_b[thread_id]
        messages_b = {m.id: m for m in b.messages()}
        ids_a = [m.id for m in a.messages()]
        if set(ids_a) != set(messages_b):
            only_a = sorted(set(ids_a) - set(messages_b))
            only_b = sorted(set(messages_b) - set(ids_a))
            raise CorpusFormatError(
                f"thread {thread_id!r} holds other messages than in {path_a}: "
                f"missing {only_a[:5]}, not in {path_a}: {only_b[:5]}",
                source=path_b,
            )
        for message in a.messages():
            if messages_b[message.id].text != message.text:
                raise CorpusFormatError(
                    f"thread {thread_id!r}, message {message.id!r}: the text differs from {path_a} "
                    "(agreement needs both annotators to label the same text)",
                    source=path_b,
                )
    return threads_a, [index_b[t.id] for t in threads_a]


def _index(threads: Sequence[Thread], path: str | Path) -> dict[str, Thread]:
    out: dict[str, Thread] = {}
    for number, thread in enumerate(threads, start=1):
        if thread.id in out:
            raise CorpusFormatError(f"thread id {thread.id!r} appears twice (again as thread {number})", source=path)
        out[thread.id] = thread
    return out


def agreement(threads_a: Sequence[Thread], threads_b: Sequence[Thread]) -> dict[str, Any]:
    """Agreement of annotator B with annotator A over the same threads (see the module docstring for the keys)."""
    by_id = {t.id: t for t in threads_b}
    comments: tuple[list[str], list[str]] = ([], [])
    component_stances: tuple[list[str], list[str]] = ([], [])
    component_labels: tuple[list[str], list[str]] = ([], [])
    comments_one_side = 0
    components_one_side = 0
    counts: dict[str, dict[str, Counter[str]]] = {
        side: {"components": Counter(), "comment_stances": Counter(), "component_stances": Counter()}
        for side in ("a", "b")
    }
    for a in threads_a:
        b = by_id.get(a.id)
        if b is None:
            raise InputError(f"thread {a.id!r} is not in the second label set")
        messages_b = {m.id: m for m in b.messages()}
        for side, thread in (("a", a), ("b", b)):
            for message in thread.messages():
                counts[side]["components"].update(c.label for c in message.components)
                counts[side]["component_stances"].update(c.stance.label for c in message.components if c.stance)
            counts[side]["comment_stances"].update(c.stance.label for c in thread.comments if c.stance)
        for comment in a.comments:
            other = messages_b.get(comment.id)
            if other is None:
                raise InputError(f"thread {a.id!r}: comment {comment.id!r} is not in the second label set")
            if comment.stance and other.stance:
                comments[0].append(comment.stance.label)
                comments[1].append(other.stance.label)
            elif comment.stance or other.stance:
                comments_one_side += 1
        for message in a.messages():
            spans_b = {c.span: c for c in messages_b[message.id].components}
            for component in message.components:
                match = spans_b.get(component.span)
                if match is None:
                    continue
                component_labels[0].append(component.label)
                component_labels[1].append(match.label)
                if component.stance and match.stance:
                    component_stances[0].append(component.stance.label)
                    component_stances[1].append(match.stance.label)
                elif component.stance or match.stance:
                    components_one_side += 1

    spans = component_metrics(threads_a, threads_b)
    out: dict[str, Any] = {
        "threads": len(threads_a),
        "stance/comments/kappa": cohen_kappa(*comments),
        "stance/comments/n": len(comments[0]),
        "stance/comments/agreement": _observed(*comments),
        "stance/comments/one_side_only": comments_one_side,
        "stance/components/kappa": cohen_kappa(*component_stances),
        "stance/components/n": len(component_stances[0]),
        "stance/components/agreement": _observed(*component_stances),
        "stance/components/one_side_only": components_one_side,
        "components/label/kappa": cohen_kappa(*component_labels),
        "components/label/n": len(component_labels[0]),
        "components/label/agreement": _observed(*component_labels),
    }
    out.update({key: spans[key] for key in SPAN_KEYS})
    for label in sorted(set(counts["a"]["components"]) | set(counts["b"]["components"])):
        out[f"components/span_exact/{label}/f1"] = spans.get(f"components/span_exact/{label}/f1", 0.0)
    out["counts"] = {
        side: {what: dict(sorted(counter.items())) for what, counter in by_what.items()}
        for side, by_what in counts.items()
    }
    return out


def _observed(a: Sequence[str], b: Sequence[str]) -> float | None:
    return sum(x == y for x, y in zip(a, b)) / len(a) if a else None


def format_agreement(result: dict[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    """A plain-text table of ``agreement``'s result."""

    def show(value: Any) -> str:
        return "undefined" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = [f"threads: {result['threads']}", "", f"{'measure':<36}{'kappa':>10}{'observed':>10}{'items':>8}"]
    for key, title in (
        ("stance/comments", "comment stance"),
        ("stance/components", "component stance (same span)"),
        ("components/label", "component label (same span)"),
    ):
        lines.append(
            f"{title:<36}{show(result[f'{key}/kappa']):>10}{show(result[f'{key}/agreement']):>10}"
            f"{result[f'{key}/n']:>8}"
        )
    lines.append(
        f"stance given by one annotator only: comments {result['stance/comments/one_side_only']}, "
        f"components {result['stance/components/one_side_only']}"
    )
    lines += ["", "span F1 between annotators:"]
    for key in SPAN_KEYS:
        lines.append(f"  {key.split('/')[1]:<28}{show(result[key]):>10}")
    for key, value in result.items():
        if key.startswith("components/span_exact/") and key.endswith("/f1") and key not in SPAN_KEYS:
            lines.append(f"  {'exact, ' + key.split('/')[2]:<28}{show(value):>10}")
    lines += ["", f"{'counts':<36}{name_a[:10]:>10}{name_b[:10]:>10}"]
    for what in ("components", "comment_stances", "component_stances"):
        labels = sorted(set(result["counts"]["a"][what]) | set(result["counts"]["b"][what]))
        for label in labels:
            lines.append(
                f"  {what.replace('_', ' ') + ': ' + label:<34}"
                f"{result['counts']['a'][what].get(label, 0):>10}{result['counts']['b'][what].get(label, 0):>10}"
            )
    return "\n".join(lines)
