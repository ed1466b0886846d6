"""Assemble the default pipeline checkpoint from a trained segmenter and stance classifier, weights in bfloat16.

    .venv/bin/python experiments/ship_default.py --components DIR --stance DIR --output models/argmine-threads-minilm \
        [--stance-chain-weight 1 --stance-chain-min-agreement 0.7]

Why bfloat16 storage: a LoRA stance model with its top layer trained in full keeps 8.5 MB of
float32 weights, over the 5 MB a file in git may take; stored in bfloat16 it keeps half. Loading
casts them back to float32 (peft copies them into the float32 model), so only the rounding of the
stored weights changes: the script prints how many stance predictions on ``--check`` inputs (a
JSONL file of threads) differ between the float32 and the bfloat16-stored pipeline, to be reported
with the model.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from argmine.pipeline import ArgumentMiner
from argmine.stance.chain import ChainSettings, chain_for


def to_bfloat16(folder: Path) -> list[Path]:
    """Store every floating tensor of the adapter files under ``folder`` in bfloat16; the files rewritten."""
    changed = []
    for path in sorted(folder.rglob("adapter_model.safetensors")):
        tensors = load_file(str(path))
        save_file({k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in tensors.items()}, str(path))
        changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", required=True, type=Path)
    parser.add_argument("--stance", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--check", type=Path, help="threads (JSONL) to compare float32 and bfloat16 storage on")
    parser.add_argument("--stance-chain-weight", type=float, default=0.0,
                        help="read replies to replies through their parent (argmine.stance.chain); 0: directly")
    parser.add_argument("--stance-chain-min-agreement", type=float, default=0.0)
    args = parser.parse_args(argv)

    miner = ArgumentMiner.from_parts(args.components, args.stance, merge_lora=False, precision="float32")
    if args.stance_chain_weight > 0:
        chain = ChainSettings(args.stance_chain_weight, args.stance_chain_min_agreement)
        miner.stance_chain = chain_for(miner.stance_labels, chain)
    with tempfile.TemporaryDirectory() as scratch:
        exact = miner.save_pretrained(Path(scratch) / "float32")
        staged = Path(scratch) / "bfloat16"
        shutil.copytree(exact, staged)
        for path in to_bfloat16(staged):
            print(f"bfloat16: {path.relative_to(staged)} ({path.stat().st_size / 1e6:.1f} MB)")
        if args.check:
            from argmine.readers.jsonl import read_jsonl

            threads = list(read_jsonl(args.check))
            runs = [
                list(ArgumentMiner.from_pretrained(folder, precision="float32").mine_many(threads, progress=False))
                for folder in (exact, staged)
            ]
            stances = [[c.stance.label if c.stance else None for t in run for c in t.comments] for run in runs]
            differ = sum(a != b for a, b in zip(*stances))
            print(f"comment stances that differ between float32 and bfloat16 storage: {differ} of {len(stances[0])}")
        ArgumentMiner.from_pretrained(staged, precision="float32")  # it loads
        # Replace the folder in two renames, so a crash leaves the old one or the new one whole.
        fresh, old = args.output.with_name(f".{args.output.name}.new"), args.output.with_name(f".{args.output.name}.old")
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.copytree(staged, fresh)
        if args.output.exists():
            args.output.rename(old)
        fresh.rename(args.output)
        shutil.rmtree(old, ignore_errors=True)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
