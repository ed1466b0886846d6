"""End-to-end ``mine`` throughput next to the same checkpoints run naively, measured in one run.

    python experiments/benchmarks/bench_mine.py \
        --data cmv=../shared/data/cmv-modes-v2 --data rumoureval=../shared/data/rumoureval2019 \
        --checkpoint models/argmine-threads-minilm            # or: --segmenter DIR --stance DIR

Takes about ``--comments`` real comments (default 1,000), as whole threads
taken from the ``--data`` corpora in turn so that each gives about as many
comments (read with ``read_threads``; the last thread is cut, in reply-tree
order, to make the count exact), so the lengths are mixed: long CMV replies,
short RumourEval tweets. Nothing is
copied out of the corpora.

Two runs on the same threads, the same weights (LoRA merged into the encoder
on both sides), the same torch threads:

* argmine: ``ArgumentMiner.mine_many``: every text of a chunk of threads in
  length-bucketed batches, then every stance input of the chunk in
  length-bucketed batches, identical stance inputs once;
* naive: per message, a plain transformers ``pipeline("token-classification",
  aggregation_strategy="first")`` call (the post of each thread too), then per
  comment one stance call holding that comment and the claims the pipeline
  found in it. The pipeline truncates texts at the model's 512 positions, where
  argmine reads long texts in full with overlapping windows.

With ``--precision bfloat16`` argmine runs again in
that number format (``ArgumentMiner.from_pretrained(..., precision=...)``),
and the script prints how often its components and stances agree with the
float32 run's.

Prints comments/s and text tokens/s (posts + comments, tokens of the
segmenter's tokenizer) for both, model loading timed apart, the speed-up,
the 1,000-comment targets (30 s on 2 cores and 1.5x; goal 10 s and 3x), and
the peak resident memory after each phase (``resource.getrusage``; torch's
tensors live outside Python's heap, so tracemalloc would not see them). Use a
quiet machine: other processes on the cores change every number.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[2]
SMOKE = (Path("/tmp/smoke-aae/checkpoint"), Path("/tmp/smoke-cmv_stance/checkpoint"))
TARGET_SECONDS, GOAL_SECONDS = 30.0, 10.0
TARGET_SPEEDUP, GOAL_SPEEDUP = 1.5, 3.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# -- the comments ------------------------------------------------------------------------------


def take_comments(sources: list[tuple[str, str]], wanted: int) -> tuple[list, dict[str, int]]:
    """Whole threads from the corpus with the fewest comments so far, until ``wanted`` comments (the last one cut).

    Returns the threads and how many comments came from each corpus format.
    """
    from argmine.readers import read_threads
    from argmine.rendering import reply_order

    streams: list[tuple[str, Iterator]] = [(fmt, read_threads(fmt, path)) for fmt, path in sources]
    taken, count, by_corpus = [], 0, {fmt: 0 for fmt, _ in sources}
    while count < wanted and streams:
        fmt, stream = min(streams, key=lambda item: by_corpus[item[0]])  # the corpus with fewest comments so far
        thread = next((t for t in stream if t.comments), None)
        if thread is None:
            streams.remove((fmt, stream))
            continue
        quota = -(-wanted // len(sources))  # each corpus gives at most its share (one big thread cannot swamp it)
        room = min(wanted - count, max(1, quota - by_corpus[fmt]))
        if len(thread.comments) > room:  # keep a reply tree: the first `room` comments in tree order
            kept = {c.id for c, _ in list(reply_order(thread))[:room]}
            thread = replace(thread, comments=tuple(c for c in thread.comments if c.id in kept), relations=())
        taken.append(thread)
        count += len(thread.comments)
        by_corpus[fmt] += len(thread.comments)
    return taken, by_corpus


# -- timing helpers -----------------------------------------------------------------------------


class Stopwatch:
    """Total seconds spent inside the wrapped callables."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)  # its signature shows through (the reply chain asks for batch_size)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed

    def wrap_stance(self, classifier: Any) -> list[Any]:
        """Time the classifier's ``predict_proba`` (what the pipeline calls); the list keeps the inputs it was given."""
        read: list[Any] = []
        inner = classifier.predict_proba

        @functools.wraps(inner)
        def counted(inputs: Any, *args: Any, **kwargs: Any) -> Any:
            read.extend(inputs)
            return inner(inputs, *args, **kwargs)

        classifier.predict_proba = self.wrap("stance", counted)
        return read


# -- the naive run ------------------------------------------------------------------------------


def naive_run(threads: list, pipe: Any, stance: Any, claim_labels: tuple[str, ...], watch: Stopwatch) -> dict[str, int]:
    """One message at a time through the plain pipeline, one stance call per comment."""
    import torch

    from argmine.stance.inputs import comment_input, component_input

    claims = inputs = 0
    segment = watch.wrap("segmentation", pipe)
    classify = watch.wrap("stance", stance.predict)
    with torch.inference_mode():
        for thread in threads:
            if thread.post.text.strip():
                segment(thread.post.text)
            for comment in thread.comments:
                if not comment.text.strip():
                    continue
                found = segment(comment.text)
                if not thread.post.text.strip():
                    continue
                texts = [comment.text[e["start"] : e["end"]] for e in found if e["entity_group"] in claim_labels]
                claims += len(texts)
                batch = [comment_input(thread, comment)] + [component_input(thread, comment, t) for t in texts]
                inputs += len(batch)
                classify(batch, batch_size=len(batch))
    return {"claims": claims, "stance_inputs": inputs}


def stance_inputs(threads: list, mined: list) -> list:
    """The distinct stance inputs argmine built: each non-empty comment, and each of its claims."""
    from argmine.stance.inputs import comment_input, component_input

    items = {}
    for thread, result in zip(threads, mined):
        for comment, predicted in zip(thread.comments, result.comments):
            if predicted.stance is not None:
                items[comment_input(thread, comment)] = None
            for component in predicted.components:
                if component.stance is not None:
                    items[component_input(thread, comment, component.text)] = None
    return list(items)


def agreement(reference: list, other: list) -> tuple[int, int, int]:
    """(components in ``reference``, of them also in ``other`` with the same span and label, components in ``other``)."""

    def spans(thread: Any) -> set[tuple[str, int, int, str]]:
        return {(m.id, c.start, c.end, c.label) for m in thread.messages() for c in m.components}

    total = shared = found = 0
    for a, b in zip(reference, other):
        total, found = total + len(spans(a)), found + len(spans(b))
        shared += len(spans(a) & spans(b))
    return total, shared, found


def plain_model(model: Any) -> Any:
    """A transformers model with LoRA folded in, for the plain pipeline (which takes no peft wrapper)."""
    import copy
    import warnings

    model = copy.deepcopy(model)
    if hasattr(model, "merge_and_unload"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "already merged": the miner merged them; this unloads the wrapper
            model = model.merge_and_unload()
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, metavar="FORMAT=PATH",
                        help="a corpus to take comments from, e.g. cmv=DIR or rumoureval=DIR (repeatable)")
    parser.add_argument("--checkpoint", help="a pipeline checkpoint folder")
    parser.add_argument("--segmenter", help="with --stance: build the pipeline from these two checkpoints")
    parser.add_argument("--stance")
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--skip-naive", action="store_true", help="time argmine only")
    parser.add_argument("--precision", action="append", default=[], choices=("bfloat16",),
                        help="also time argmine in this number format, and how often it agrees with the float32 "
                        "run (repeatable)")
    args = parser.parse_args(argv)

    import torch

    from argmine.pipeline import ArgumentMiner
    from argmine.runtime import available_cores, use_cpu_threads

    use_cpu_threads(args.threads)
    sources = []
    for item in args.data:
        fmt, _, path = item.partition("=")
        if not path:
            parser.error(f"--data {item}: expected FORMAT=PATH")
        sources.append((fmt, path))

    started = time.perf_counter()
    threads, by_corpus = take_comments(sources, args.comments)
    read_seconds = time.perf_counter() - started
    comments = [c for t in threads for c in t.comments]

    if args.checkpoint:
        origin = args.checkpoint

        def load(precision: str = "float32") -> ArgumentMiner:
            return ArgumentMiner.from_pretrained(args.checkpoint, precision=precision)
    else:
        segmenter_dir, stance_dir = (args.segmenter, args.stance) if args.segmenter else SMOKE
        if not (Path(segmenter_dir).is_dir() and Path(stance_dir).is_dir()):
            parser.error("give --checkpoint DIR or --segmenter DIR --stance DIR (the /tmp smoke runs are absent)")
        origin = f"{segmenter_dir} + {stance_dir}"

        def load(precision: str = "float32") -> ArgumentMiner:
            return ArgumentMiner.from_parts(segmenter_dir, stance_dir, precision=precision)

    started = time.perf_counter()
    miner = load()
    load_seconds = time.perf_counter() - started
    rss_loaded = peak_rss_mb()

    tokenizer = miner.segmenter.tokenizer
    def count(texts: list[str]) -> list[int]:
        encoded = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(ids) for ids in encoded]

    lengths = count([c.text for c in comments])
    post_tokens = sum(count([t.post.text for t in threads]))
    tokens = sum(lengths) + post_tokens

    print(f"pipeline: {origin}")
    print(f"comments: {len(comments)} in {len(threads)} threads ({', '.join(f'{n} {k}' for k, n in by_corpus.items())}); "
          f"read in {read_seconds:.1f} s")
    print(f"comment tokens: min {min(lengths)}, median {statistics.median(lengths):.0f}, max {max(lengths)}; "
          f"text tokens with the posts: {tokens:,}")
    print(f"torch threads: {torch.get_num_threads()} of {available_cores()} cores; batch size {args.batch_size}; "
          f"load average {os.getloadavg()[0]:.2f} at start")

    miner.mine(threads[0].__class__(id="warm", post=threads[0].post, comments=threads[0].comments[:2]))  # warm-up
    ours_watch = Stopwatch()
    miner.segmenter.predict = ours_watch.wrap("segmentation", miner.segmenter.predict)  # type: ignore[method-assign]
    our_pairs = ours_watch.wrap_stance(miner.stance)
    started = time.perf_counter()
    mined = list(miner.mine_many(threads, batch_size=args.batch_size, progress=False))
    ours = time.perf_counter() - started
    rss_ours = peak_rss_mb()
    del miner.segmenter.predict, miner.stance.predict_proba  # the class methods again: the naive run times its own
    assert sum(len(t.comments) for t in mined) == len(comments)
    our_claims = sum(1 for t in mined for c in t.comments for k in c.components if k.stance is not None)
    stance_items = stance_inputs(threads, mined)
    pair_tokens = sum(len(row["input_ids"]) for row in miner.stance.tokenize(stance_items)) if hasattr(
        miner.stance, "tokenize") else 0
    # a long text read in full is one pair per window (settings.long_text); counted after the clock stopped
    windows = (sum(len(group) for group in miner.stance.window_pairs(our_pairs))
               if getattr(miner.stance, "long_text", "head") != "head" else len(our_pairs))

    print()
    print(f"load pipeline checkpoint           {load_seconds:7.2f} s   (peak RSS {rss_loaded:,.0f} MB)")
    print(f"argmine mine_many                  {ours:7.2f} s   {len(comments) / ours:7.1f} comments/s   "
          f"{tokens / ours:8.0f} tokens/s   (segmentation {ours_watch.seconds.get('segmentation', 0):.1f} s, "
          f"stance {ours_watch.seconds.get('stance', 0):.1f} s; {our_claims} claims, {len(stance_items)} distinct stance "
          f"items of {pair_tokens:,} pair tokens; {len(our_pairs)} pairs asked for, replies' agreement with their parent "
          f"included, read as {windows} windows)")

    if not args.skip_naive:
        from transformers import pipeline

        started = time.perf_counter()
        pipe = pipeline(
            "token-classification",
            model=plain_model(miner.segmenter.model),
            tokenizer=tokenizer,
            aggregation_strategy="first",  # word-level spans, as argmine decodes
            device=-1,
        )
        naive_load = time.perf_counter() - started
        pipe(threads[0].comments[0].text)  # warm-up
        naive_watch = Stopwatch()
        started = time.perf_counter()
        counts = naive_run(threads, pipe, miner.stance, miner.claim_labels, naive_watch)
        naive = time.perf_counter() - started
        rss_naive = peak_rss_mb()
        print(f"naive pipeline + per-comment stance {naive:7.2f} s   {len(comments) / naive:7.1f} comments/s   "
              f"{tokens / naive:8.0f} tokens/s   (segmentation {naive_watch.seconds.get('segmentation', 0):.1f} s, "
              f"stance {naive_watch.seconds.get('stance', 0):.1f} s; {counts['claims']} claims, "
              f"{counts['stance_inputs']} stance items; pipeline built in {naive_load:.2f} s)")
        ratio = naive / ours
        print(f"speed-up                           {ratio:7.2f}x  (target {TARGET_SPEEDUP}x, goal {GOAL_SPEEDUP}x: "
              f"{'met' if ratio >= TARGET_SPEEDUP else 'NOT met'} / {'met' if ratio >= GOAL_SPEEDUP else 'not met'})")
        # The two sides do different amounts of work: per unit of work, the speed-up of each stage.
        our_stance = ours_watch.seconds.get("stance", 0) / max(1, len(stance_items))
        naive_stance = naive_watch.seconds.get("stance", 0) / max(1, counts["stance_inputs"])
        print(f"  per stance item: argmine {1000 * our_stance:.1f} ms, naive {1000 * naive_stance:.1f} ms "
              f"({naive_stance / our_stance if our_stance else 0:.2f}x); segmentation: argmine reads every token, "
              f"the pipeline cuts texts at 512 tokens and finds {counts['claims']} claims where argmine finds "
              f"{our_claims}")
        print(f"peak RSS after the naive run        {rss_naive:,.0f} MB")
    runs = [("argmine", ours)]
    for precision in args.precision:
        started = time.perf_counter()
        converted = load(precision)
        converted_load = time.perf_counter() - started
        converted.mine(threads[0].__class__(id="warm", post=threads[0].post, comments=threads[0].comments[:2]))
        watch = Stopwatch()
        converted.segmenter.predict = watch.wrap("segmentation", converted.segmenter.predict)  # type: ignore
        watch.wrap_stance(converted.stance)
        started = time.perf_counter()
        mined_here = list(converted.mine_many(threads, batch_size=args.batch_size, progress=False))
        seconds = time.perf_counter() - started
        spans, shared, spans_here = agreement(mined, mined_here)
        same_stance = sum(
            (a.stance.label if a.stance else None) == (b.stance.label if b.stance else None)
            for t, t_here in zip(mined, mined_here) for a, b in zip(t.comments, t_here.comments)
        )
        name = f"argmine {precision}"
        print(f"{name:<35}{seconds:7.2f} s   {len(comments) / seconds:7.1f} comments/s   "
              f"{tokens / seconds:8.0f} tokens/s   ({ours / seconds:.2f}x the float32 run: segmentation "
              f"{watch.seconds.get('segmentation', 0):.1f} s, stance {watch.seconds.get('stance', 0):.1f} s; "
              f"loaded in {converted_load:.2f} s)")
        print(f"  {precision} vs float32: {shared} of {spans} float32 components found with the same span and label "
              f"({shared / max(1, spans):.1%}; {precision} found {spans_here}); comment stance label the same for "
              f"{same_stance} of {len(comments)} ({same_stance / len(comments):.1%})")
        if not args.skip_naive:
            print(f"  speed-up over naive                {naive / seconds:7.2f}x")
        runs.append((name, seconds))
    for name, seconds in runs:
        per_1000 = seconds * 1000 / len(comments)
        print(f"1,000 comments, {name:<15}    {per_1000:7.2f} s  (target {TARGET_SECONDS:.0f} s, goal "
              f"{GOAL_SECONDS:.0f} s: {'met' if per_1000 <= TARGET_SECONDS else 'NOT met'} / "
              f"{'met' if per_1000 <= GOAL_SECONDS else 'not met'})")
    print(f"peak RSS after argmine             {rss_ours:,.0f} MB")
    print(f"load average at the end            {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
