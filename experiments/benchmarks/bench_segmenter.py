"""Segmenter inference speed next to a plain transformers token-classification pipeline, same weights, one run.

    python experiments/benchmarks/bench_segmenter.py --checkpoint models/aae2-components-minilm \
        --format aae --data /data/ArgumentAnnotatedEssays-2.0 --split dev --limit 300

Prints tokens per second for both (model loading timed apart) and the ratio. The
plain pipeline gets the same weights (LoRA merged into the encoder), the same
two CPU threads, and its default settings: one text at a time, truncating at
the model's window. argmine batches length-bucketed windows and covers long
texts completely, so it also does more work on texts over the window. A
checkpoint trained with ``context: position`` also reads where each message
sits (a few tokens more per window); the plain pipeline cannot take that pair
and gets the text alone.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--format", default="aae")
    parser.add_argument("--data", required=True, help="corpus folder or JSONL file")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=300, help="number of messages")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import torch
    from transformers import pipeline

    from argmine.readers import read_threads
    from argmine.segmenter.context import message_contexts
    from argmine.segmenter.model import Segmenter
    from argmine.runtime import use_cpu_threads

    use_cpu_threads(args.threads)
    started = time.perf_counter()
    segmenter = Segmenter.from_pretrained(args.checkpoint)
    load_seconds = time.perf_counter() - started

    threads = read_threads(args.format, args.data, split=args.split)
    placed = [
        (m.text, where)
        for t in threads
        for m, where in zip(t.messages(), message_contexts(t, segmenter.context))
        if m.text
    ]
    texts = [text for text, _ in placed[: args.limit]]
    contexts = [where for _, where in placed[: args.limit]]
    tokens = sum(len(segmenter.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)

    plain_model = Segmenter.from_pretrained(args.checkpoint).model
    if hasattr(plain_model, "merge_and_unload"):  # LoRA: the pipeline gets the merged weights
        plain_model = plain_model.merge_and_unload()
    plain_model.eval()
    plain = pipeline("token-classification", model=plain_model, tokenizer=segmenter.tokenizer, device=-1)

    segmenter.predict(texts[:8], contexts=contexts[:8])  # warm-up, both sides
    plain(texts[:8])

    started = time.perf_counter()
    segmenter.predict(texts, contexts=contexts, batch_size=args.batch_size)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    with torch.inference_mode():
        for text in texts:
            plain(text)
    naive = time.perf_counter() - started

    print(f"messages {len(texts)}, tokens {tokens}, threads {torch.get_num_threads()}")
    print(f"checkpoint load                  {load_seconds:6.2f} s")
    print(f"argmine Segmenter.predict        {ours:6.2f} s  {tokens / ours:8.0f} tokens/s")
    print(f"transformers pipeline, per text  {naive:6.2f} s  {tokens / naive:8.0f} tokens/s")
    print(f"speed-up                         {naive / ours:6.2f}x")


if __name__ == "__main__":
    main()
