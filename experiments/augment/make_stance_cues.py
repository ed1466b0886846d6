"""Build stance-cues.jsonl, explicit-stance training threads, from stance-cues.src.yaml.

    stance-cues.src.yaml ──seeded expansion──► one thread per topic ──behaviour-case filter──► stance-cues.jsonl

Each topic's post gets comments that say their side in so many words ("I disagree.", "I don't
agree with this.", "Can't argue with that." + a reason), comments whose reason alone takes a side,
and comments that take none (a question, thanks, an off-topic line, a neutral fact). Every comment
replies to the post and carries its stance toward it; there are no components.

Kept out of training: any comment too close to a behaviour case's comment
(experiments/behaviour/stance-cases.yaml), i.e. equal to it or sharing at least ``--max-overlap`` of
their word types (Jaccard); the script prints how many it dropped. The behaviour tests then test
whether the cues generalise to new wordings and new topics, not whether they were memorised.

Run from the repository root::

    python experiments/augment/make_stance_cues.py          # (re)write stance-cues.jsonl
    python experiments/augment/make_stance_cues.py --check  # fail if the JSONL is out of date
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from argmine.readers.jsonl import write_jsonl
from argmine.thread import Comment, Post, Stance, Thread

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "stance-cues.src.yaml"
OUTPUT = HERE / "stance-cues.jsonl"
BEHAVIOUR_CASES = HERE.parent / "behaviour" / "stance-cases.yaml"

# How many comments of each kind one topic gets (explicit cues are drawn without repeats).
PER_TOPIC = {"support": 10, "negated_support": 5, "attack": 10, "negated_attack": 6}
SIDE = {"support": "support", "negated_support": "support", "attack": "attack", "negated_attack": "attack"}
REASON_FOR = {"support": "pro", "attack": "con"}


def word_types(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'")))


def too_close(text: str, held_out: Sequence[frozenset[str]], max_overlap: float) -> bool:
    words = word_types(text)
    return any(len(words & other) / max(1, len(words | other)) >= max_overlap for other in held_out)


def join_opener(opener: str, cue: str) -> str:
    """``opener + cue``, the cue's capital dropped after a comma ("Honestly, agreed.") but kept for "I"."""
    if opener.endswith(" ") and not opener.endswith(". ") and not re.match(r"I\b", cue):
        return opener + cue[0].lower() + cue[1:]
    return opener + cue


def cue_comment(rng: random.Random, cue: str, topic: Mapping[str, str], side: str, source: Mapping[str, Any]) -> str:
    """A cue, sometimes after an opener, alone, with the side's reason, or at the end of a long comment."""
    text = join_opener(rng.choice(source["openers"] + source.get(f"{side}_openers", [])), cue)
    shape = rng.random()
    if shape < 0.4:
        return text
    reason = topic[REASON_FOR[side]]
    if shape < 0.85:
        return f"{text} {reason}"
    return f"{topic['fact']} {topic['question']}\n\n{join_opener('Anyway, ', text)} {reason}"


def topic_comments(rng: random.Random, topic: Mapping[str, str], source: Mapping[str, Any]) -> list[tuple[str, str]]:
    comments: list[tuple[str, str]] = []
    for kind, count in PER_TOPIC.items():
        for cue in rng.sample(source[kind], count):
            comments.append((cue_comment(rng, cue, topic, SIDE[kind], source), SIDE[kind]))
    comments.append((topic["pro"], "support"))
    comments.append((topic["con"], "attack"))
    neutral = [topic["question"], topic["fact"], f"{topic['fact']} {rng.choice(source['generic_questions'])}",
               rng.choice(source["generic_questions"]), *rng.sample(source["thanks"], 3), *rng.sample(source["off_topic"], 3)]
    comments.extend((text, "none") for text in neutral)
    return comments


def build(source: Mapping[str, Any], held_out: Sequence[frozenset[str]], max_overlap: float, seed: int) -> tuple[list[Thread], Counter]:
    rng = random.Random(seed)
    threads: list[Thread] = []
    counts: Counter = Counter()
    for number, topic in enumerate(source["topics"], start=1):
        seen: set[str] = set()
        comments: list[Comment] = []
        for text, label in topic_comments(rng, topic, source):
            if text in seen:
                counts["dropped: repeated in its thread"] += 1
                continue
            if too_close(text, held_out, max_overlap):
                counts["dropped: too close to a behaviour case"] += 1
                continue
            seen.add(text)
            counts[label] += 1
            comments.append(Comment(id=f"c{len(comments) + 1}", author=None, reply_to="post", text=text,
                                    stance=Stance(label)))
        threads.append(Thread(id=f"stance-cues-{number:02d}", post=Post(id="post", author=None, text=topic["post"]),
                              comments=tuple(comments), meta={"source": "experiments/augment/stance-cues.src.yaml"}))
    return threads, counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if stance-cues.jsonl is not what the source gives")
    parser.add_argument("--max-overlap", type=float, default=0.5, help="word-type Jaccard at which a comment counts as a behaviour case's")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    source = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    held_out = [word_types(case["comment"]) for case in yaml.safe_load(BEHAVIOUR_CASES.read_text(encoding="utf-8"))]
    threads, counts = build(source, held_out, args.max_overlap, args.seed)
    print(", ".join(f"{key} {value}" for key, value in sorted(counts.items())))
    if args.check:
        with tempfile.TemporaryDirectory() as folder:
            fresh = Path(folder) / OUTPUT.name
            write_jsonl(threads, fresh)
            if not OUTPUT.is_file() or fresh.read_bytes() != OUTPUT.read_bytes():
                print(f"{OUTPUT} is out of date: run python experiments/augment/make_stance_cues.py", file=sys.stderr)
                return 1
        return 0
    written = write_jsonl(threads, OUTPUT)
    print(f"wrote {written} threads to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
