"""``argmine stats --format F SRC [--json]``: counts of threads, components, relations and stances.

``thread_stats`` counts what a reader produced, including what it skipped or repaired
(``argmine convert`` prints a line of it too); ``format_stats`` is the table the command prints.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from argmine.cli.inputs import add_input_arguments, read_input
from argmine.thread import Thread

HELP = "count threads, components, relations and stances"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    stats = thread_stats(read_input(args))
    print(json.dumps(stats, indent=2, ensure_ascii=False) if args.json else format_stats(stats))
    return 0


def thread_stats(threads: Iterable[Thread]) -> dict[str, Any]:
    """Threads, messages, components, relations and stances, counted by label."""
    counts: Counter[str] = Counter()
    components: Counter[str] = Counter()
    relations: Counter[str] = Counter()
    post_stances: Counter[str] = Counter()
    comment_stances: Counter[str] = Counter()
    component_stances: Counter[str] = Counter()
    # Corpora that split themselves (meta["split"]) and CSV corpora that say how each file was decoded.
    splits: dict[str, dict[str, Counter[str]]] = {}
    encodings: dict[str, str] = {}
    # What readers kept out of components / relations, or repaired, by reason (meta["skipped"] / ["repaired"]).
    skipped: Counter[str] = Counter()
    repaired: Counter[str] = Counter()
    for thread in threads:
        counts["threads"] += 1
        counts["posts"] += 1
        counts["comments"] += len(thread.comments)
        counts["empty_posts"] += not thread.post.text
        counts["characters"] += sum(len(m.text) for m in thread.messages())
        counts["offsets_repaired"] += int(thread.meta.get("offsets_repaired", 0))
        counts["truncated_branches"] += int(thread.meta.get("truncated_branches", 0))  # RumourEval's "_" placeholders
        counts["deleted_texts"] += sum(bool(m.meta.get("deleted")) for m in thread.messages())
        # Copied comment pages: what the text reader skipped or guessed (argmine.readers.text).
        counts["chrome_lines_skipped"] += int(thread.meta.get("skipped_chrome_lines", 0))
        counts["unparsed_lines"] += len(thread.meta.get("unparsed") or ())
        counts["avatars_skipped"] += len(thread.meta.get("skipped_avatars") or ())
        counts["inferred_replies"] += sum(bool(c.meta.get("reply_inferred")) for c in thread.comments)
        encodings.update(thread.meta.get("encodings") or {})
        skipped.update(thread.meta.get("skipped") or {})
        repaired.update(thread.meta.get("repaired") or {})
        if thread.meta.get("split") is not None:
            side = splits.setdefault(str(thread.meta["split"]), {"counts": Counter(), "comment_stances": Counter()})
            side["counts"].update(threads=1, comments=len(thread.comments))
            side["comment_stances"].update(c.stance.label for c in thread.comments if c.stance)
        relations.update(r.label for r in thread.relations)
        if thread.post.stance:
            post_stances[thread.post.stance.label] += 1
        comment_stances.update(c.stance.label for c in thread.comments if c.stance)
        for _, component in thread.components():
            components[component.label] += 1
            if component.stance:
                component_stances[component.stance.label] += 1
    return {
        **{key: counts[key] for key in ("threads", "posts", "comments", "empty_posts", "characters")},
        "messages": counts["posts"] + counts["comments"],
        "components": dict(sorted(components.items())),
        "relations": dict(sorted(relations.items())),
        "stances": {
            "post": dict(sorted(post_stances.items())),
            "comment": dict(sorted(comment_stances.items())),
            "component": dict(sorted(component_stances.items())),
        },
        "offsets_repaired": counts["offsets_repaired"],
        "truncated_branches": counts["truncated_branches"],
        "deleted_texts": counts["deleted_texts"],
        "text_pages": {key: counts[key] for key in _PAGE_COUNTS},
        "splits": {
            name: {**dict(side["counts"]), "comment_stances": dict(sorted(side["comment_stances"].items()))}
            for name, side in sorted(splits.items(), key=lambda item: _SPLIT_ORDER.get(item[0], 9))
        },
        "encodings": dict(sorted(encodings.items())),
        "skipped": dict(sorted(skipped.items())),
        "repaired": dict(sorted(repaired.items())),
    }


_SPLIT_ORDER = {"train": 0, "dev": 1, "test": 2}
_PAGE_COUNTS = ("chrome_lines_skipped", "unparsed_lines", "avatars_skipped", "inferred_replies")


def format_stats(stats: dict[str, Any]) -> str:
    """A short plain-text table of ``thread_stats``."""
    lines = [
        f"threads            {stats['threads']}",
        f"messages           {stats['messages']}  (posts {stats['posts']}, comments {stats['comments']}, "
        f"empty posts {stats['empty_posts']})",
    ]

    def block(title: str, counter: dict[str, int]) -> None:
        total = sum(counter.values())
        detail = ", ".join(f"{label} {n}" for label, n in counter.items()) or "-"
        lines.append(f"{title:<19}{total}  ({detail})")

    block("components", stats["components"])
    block("relations", stats["relations"])
    block("post stances", stats["stances"]["post"])
    block("comment stances", stats["stances"]["comment"])
    block("component stances", stats["stances"]["component"])
    if stats["offsets_repaired"]:
        lines.append(f"offsets repaired   {stats['offsets_repaired']}")
    if stats["truncated_branches"]:
        lines.append(f"truncated branches {stats['truncated_branches']}  (placeholders for replies not in the data)")
    if stats.get("deleted_texts"):
        lines.append(f"deleted texts      {stats['deleted_texts']}  ([deleted]/[removed], kept with meta.deleted)")
    page = stats.get("text_pages") or {}
    if any(page.values()):
        lines.append(
            f"copied pages       {page['chrome_lines_skipped']} chrome lines skipped, {page['unparsed_lines']} "
            f"unrecognised lines (meta.unparsed), {page['avatars_skipped']} avatars without a comment, "
            f"{page['inferred_replies']} reply links inferred"
        )
    if stats.get("skipped"):
        block("skipped", stats["skipped"])
    if stats.get("repaired"):
        block("repaired", stats["repaired"])
    for name, side in (stats.get("splits") or {}).items():
        detail = ", ".join(f"{label} {n}" for label, n in side["comment_stances"].items()) or "-"
        lines.append(f"{'split ' + name:<19}threads {side['threads']}, comments {side['comments']}  ({detail})")
    for file, encoding in (stats.get("encodings") or {}).items():
        lines.append(f"encoding           {file}: {encoding}")
    return "\n".join(lines)
