"""Training speed in float32 against bfloat16 autocast (``trainer.autocast``), side by side in one run.

    python experiments/benchmarks/bench_train.py --config cmv --data ../shared/data/cmv-modes-v2 --steps 12

Trains the segmenter (MiniLM, LoRA, the settings of ``conf/``) for ``--steps`` optimizer steps on the
corpus' train split, once per precision from the same seed, and prints seconds per step, training
tokens per second, the ratio, and the mean loss of each run (bf16 should track float32 closely).
Nothing is saved but a scratch checkpoint in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="cmv", help="a data config of conf/data/ (its label map applies)")
    parser.add_argument("--data", required=True, help="corpus folder")
    parser.add_argument("--split", default="train")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import yaml

    from argmine.jobs.data import DataSettings, gold
    from argmine.resources import conf_dir
    from argmine.segmenter.train import train_segmenter

    config = yaml.safe_load((conf_dir() / "data" / f"{args.config}.yaml").read_text(encoding="utf-8"))
    threads = gold(DataSettings.from_mapping({**config, "path": args.data}), args.split)
    labels = sorted({c.label for t in threads for m in t.messages() for c in m.components})
    print(f"load average {os.getloadavg()[0]:.2f}; {len(threads)} {args.config} {args.split} threads; labels {labels}")
    results = {}
    for precision in ("float32", "bfloat16"):
        with tempfile.TemporaryDirectory() as scratch:
            began = time.perf_counter()
            scores = train_segmenter(
                threads, None, labels=labels, output_dir=scratch, epochs=1, max_steps=args.steps,
                threads=args.threads, autocast=precision, learning_rate=1e-3, seed=13, progress=False,
            )
            seconds = time.perf_counter() - began
        results[precision] = (seconds, scores)
        tokens = scores.get("train/tokens_per_second")
        print(f"{precision:9s} {seconds:7.1f} s for {args.steps} steps ({seconds / args.steps:.2f} s/step, set-up "
              f"included); train tokens/s {tokens}; mean loss {scores.get('train/loss')}")
    ratio = results["float32"][0] / results["bfloat16"][0]
    print(f"bfloat16 autocast is {ratio:.2f}x the speed of float32 here")


if __name__ == "__main__":
    main()
