"""Which decoding rules help? Each rule of argmine.segmenter.decoding, alone and added one by one, on dev.

    .venv/bin/python experiments/studies/decoding_rules.py --aae2 ../shared/data/aae2 \\
        --cmv ../shared/data/cmv-modes-v2 --threads ../shared/threads

The shipped checkpoints are run ONCE per message set (float32, as the dev metrics are measured)
and their per-word tag probabilities cached as JSON under --cache; every variant is then decoded
from the cache, so the table costs one model pass per set. Scores are argmine.evaluation.spans
on the configs' dev splits (conf/data/aae2.yaml: paragraph units read with their position, as
models/aae2-components-minilm was trained; conf/data/cmv.yaml). --threads adds the Substack page
(unlabelled: counts only) and experiments/threads/own-threads.jsonl (hand-labelled: scored too)
under the shipped default pipeline's segmenter. Nothing here trains.

Columns: span-exact and overlap-50 micro-F1, span-exact F1 per label, the number of predicted
components, how many have fewer than 3 word characters, how many hold a line break, how many a
blank line (a paragraph break in the narrow sense).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from argmine.jobs.data import load_gold
from argmine.evaluation.spans import message_component_metrics
from argmine.readers.jsonl import read_jsonl
from argmine.readers.text import read_text_page
from argmine.segmenter.context import message_contexts
from argmine.segmenter.decoding import DEFAULT, LEGACY, DecodingSettings, crosses_line_break, decode_words, word_chars
from argmine.segmenter.encoding import bio_tags
from argmine.thread import Component, Thread

REPO = Path(__file__).resolve().parents[2]
AAE2_MODEL = REPO / "models" / "aae2-components-minilm"
THREADS_MODEL = REPO / "models" / "argmine-threads-minilm" / "components"
OWN_THREADS = REPO / "experiments" / "threads" / "own-threads.jsonl"
SUBSTACK = "substack-caucasus-comments.txt"
# Our own words, not the page's (as tests/integration/test_mine_substack.py): the post the page answers.
POST = "The West should do more to support democracy in the South Caucasus."

RULES: dict[str, dict] = {  # one rule at a time, on top of Viterbi
    "split_paragraphs": {"split_paragraphs": True},
    "split_sentences": {"split_sentences": True},
    "snap_words": {"snap_words": True},
    "trim_punctuation": {"trim_punctuation": True},
    "trim_connectives": {"trim_connectives": True},
    "min_word_chars=3": {"min_word_chars": 3},
    "drop_stopword_only": {"drop_stopword_only": True},
    "label_by_span": {"label_by_span": True},
}


def variants() -> list[tuple[str, DecodingSettings]]:
    """argmax and Viterbi without rules, each rule alone on Viterbi, the rules added in RULES order, argmax with all."""
    out = [
        ("argmax, no rules", replace(LEGACY, viterbi=False)),
        ("viterbi, no rules (LEGACY: as shipped before)", LEGACY),
    ]
    out += [(f"viterbi + {name}", replace(LEGACY, **rule)) for name, rule in RULES.items()]
    cumulative = LEGACY
    names: list[str] = []
    for name, rule in RULES.items():
        cumulative, names = replace(cumulative, **rule), [*names, name]
        if len(names) > 1:
            out.append((f"cumulative, through {name}", cumulative))
    if cumulative == DEFAULT:
        out[-1] = (out[-1][0] + " (= DEFAULT)", cumulative)
    out.append(("argmax + all rules", replace(cumulative, viterbi=False)))
    if cumulative != DEFAULT:
        out.append(("DEFAULT", DEFAULT))
    return out


# -- the model pass, cached ---------------------------------------------------------------


def messages_of(threads: Sequence[Thread], context: str) -> list[dict]:
    out = []
    for thread in threads:
        for message, where in zip(thread.messages(), message_contexts(thread, context)):
            out.append({"thread": thread.id, "message": message.id, "text": message.text, "context": where,
                        "gold": [c.to_dict() for c in message.components]})
    return out


def cached_probabilities(name: str, checkpoint: Path, messages: list[dict], cache: Path) -> list[dict]:
    """``messages`` with ``words`` and ``probs`` (one row per word), from ``cache/name.json`` when it matches."""
    path = cache / f"{name}.json"
    key = [[m["thread"], m["message"], m["text"], m["context"]] for m in messages]
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["key"] == key and data["checkpoint"] == str(checkpoint):
            print(f"{name}: probabilities from {path}", file=sys.stderr)
            return [{**m, **r} for m, r in zip(messages, data["rows"])]
    import torch

    from argmine.segmenter.model import Segmenter

    torch.set_num_threads(2)
    segmenter = Segmenter.from_pretrained(checkpoint)
    print(f"{name}: running {checkpoint} on {len(messages)} messages", file=sys.stderr)
    contexts = [m["context"] for m in messages] if segmenter.context != "none" else None
    pairs = segmenter.word_probabilities([m["text"] for m in messages], contexts=contexts, batch_size=16)
    rows = [{"words": [list(w) for w in tok.words], "probs": probs.tolist()} for tok, probs in pairs]
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"checkpoint": str(checkpoint), "tags": list(segmenter.tags), "key": key,
                                "rows": rows}), encoding="utf-8")
    return [{**m, **r} for m, r in zip(messages, rows)]


# -- scoring --------------------------------------------------------------------------------


def decode_all(rows: list[dict], tags: Sequence[str], settings: DecodingSettings) -> list[list[Component]]:
    return [
        decode_words(r["text"], [tuple(w) for w in r["words"]], np.asarray(r["probs"], dtype=np.float32), tags,
                     settings)
        for r in rows
    ]


def counts(rows: list[dict], predicted: list[list[Component]]) -> dict[str, int]:
    components = [c for p in predicted for c in p]
    for row, p in zip(rows, predicted):
        for c in p:  # the Must-hold: text equal to its slice
            assert row["text"][c.start : c.end] == c.text, (row["message"], c)
    return {
        "n": len(components),
        "lt3": sum(word_chars(c.text) < 3 for c in components),
        "line": sum(crosses_line_break(c.text) for c in components),
        "blank": sum(bool(re.search(r"\n[^\S\n]*\n", c.text)) for c in components),
        **{f"n_{label}": sum(c.label == label for c in components) for label in sorted({c.label for c in components})},
    }


def table(name: str, rows: list[dict], labels: Sequence[str], scored: bool) -> list[str]:
    tags = bio_tags(labels)
    messages = [(r["thread"], r["message"], r["text"]) for r in rows]
    gold = [[Component(**{k: v for k, v in g.items() if k in ("id", "start", "end", "label", "text")})
             for g in r["gold"]] for r in rows]
    head = "| variant |" + (" span-exact | overlap-50 | " + " | ".join(f"{label} F1" for label in labels) + " |"
                            if scored else " " + " | ".join(f"# {label}" for label in labels) + " |")
    head += " components | < 3 word chars | across a line break | across a blank line |"
    lines = [f"### {name}", "", head, "|---|" + "---:|" * (head.count("|") - 2)]
    for variant, settings in variants():
        predicted = decode_all(rows, tags, settings)
        c = counts(rows, predicted)
        cells = [variant]
        if scored:
            m = message_component_metrics(messages, gold, predicted, labels=labels)
            cells += [f"{m['components/span_exact/micro_f1']:.3f}", f"{m['components/span_overlap50/micro_f1']:.3f}"]
            cells += [f"{m[f'components/span_exact/{label}/f1']:.3f}" for label in labels]
        else:
            cells += [str(c.get(f"n_{label}", 0)) for label in labels]
        cells += [str(c["n"]), str(c["lt3"]), str(c["line"]), str(c["blank"])]
        lines.append("| " + " | ".join(cells) + " |")
    if scored:
        lines.append(f"\n({len(rows)} messages, {sum(len(g) for g in gold)} gold components)")
    return lines + [""]


def data_config(name: str) -> dict:
    return yaml.safe_load((REPO / "conf" / "data" / f"{name}.yaml").read_text(encoding="utf-8"))


def dev_gold(name: str, path: Path) -> list[Thread]:
    cfg = data_config(name)
    return load_gold(cfg["format"], path, split=cfg["dev_split"], seed=cfg["seed"], unit=cfg["unit"],
                     component_labels=cfg["component_labels"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aae2", type=Path, help="the AAE2 folder (conf/data/aae2.yaml's path)")
    parser.add_argument("--cmv", type=Path, help="the CMV modes v2.0 folder (conf/data/cmv.yaml's path)")
    parser.add_argument("--threads", type=Path, help=f"the folder holding {SUBSTACK}")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/argmine-decoding-cache"))
    args = parser.parse_args(argv)
    out: list[str] = []
    if args.aae2:
        meta = json.loads((AAE2_MODEL / "argmine.json").read_text(encoding="utf-8"))
        rows = cached_probabilities("aae2-dev", AAE2_MODEL, messages_of(dev_gold("aae2", args.aae2), "position"),
                                    args.cache)
        out += table("AAE2 dev (models/aae2-components-minilm)", rows, meta["labels"], scored=True)
    meta = json.loads((THREADS_MODEL / "argmine.json").read_text(encoding="utf-8"))
    if args.cmv:
        rows = cached_probabilities("cmv-dev", THREADS_MODEL, messages_of(dev_gold("cmv", args.cmv), "none"),
                                    args.cache)
        out += table("CMV dev (models/argmine-threads-minilm/components)", rows, meta["labels"], scored=True)
    if args.threads:
        page = read_text_page(args.threads / SUBSTACK, post=POST)
        rows = cached_probabilities("substack", THREADS_MODEL, messages_of([page], "none"), args.cache)
        out += table("Substack page, with our post (components half of the default pipeline)", rows,
                     meta["labels"], scored=False)
        rows = cached_probabilities("own-threads", THREADS_MODEL, messages_of(list(read_jsonl(OWN_THREADS)), "none"),
                                    args.cache)
        out += table("experiments/threads/own-threads.jsonl (hand-labelled)", rows, meta["labels"], scored=True)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
