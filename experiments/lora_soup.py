"""One checkpoint whose weights are the mean of several LoRA checkpoints' (a "uniform soup").

    .venv/bin/python experiments/lora_soup.py runs/stance_cues13/checkpoint runs/stance_cues14/checkpoint \
        runs/stance_cues15/checkpoint --output runs/stance_soup/checkpoint

A uniform soup (Wortsman et al. 2022, "Model soups", ICML) averages the weights of models
fine-tuned from the same pretrained encoder; it runs as fast as one of them. LoRA checkpoints start
their adapters from different random matrices, so the factors themselves cannot be averaged, but
their products can, exactly: with n checkpoints of rank r and the same alpha,

    mean_i (alpha / r) B_i A_i  =  (alpha / (n r)) [B_1 ... B_n] [A_1; ...; A_n]

so the soup is one adapter of rank n·r with the same alpha, its A factors stacked and its B
factors side by side. The modules trained in full (the classifier head, a top layer) are averaged
directly. The checkpoints must share the encoder, task, labels, targets and alpha; the first one's
``argmine.json`` is kept (its ``settings.lora.r`` raised, its ``training`` note listing the
sources), and nothing here trains or evaluates: score the soup like any checkpoint.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from argmine.io_utils import write_json

SAME = ("lora_alpha", "target_modules", "task_type", "layers_to_transform", "modules_to_save", "use_rslora", "use_dora")


def _comparable(value: object) -> object:
    # peft writes module lists in no fixed order (they are sets to it)
    return sorted(set(value)) if isinstance(value, list) else value


def soup_tensors(adapters: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The rank-stacked, averaged tensors of ``adapters`` (each an adapter_model.safetensors' contents)."""
    keys = set(adapters[0])
    for i, tensors in enumerate(adapters[1:], start=2):
        if set(tensors) != keys:
            raise SystemExit(f"checkpoint {i} has other tensors than the first: {sorted(set(tensors) ^ keys)[:3]}")
    out = {}
    for key, first in adapters[0].items():
        parts = [tensors[key].float() for tensors in adapters]
        if ".lora_A." in key:
            out[key] = torch.cat(parts, dim=0)  # (n·r, in)
        elif ".lora_B." in key:
            out[key] = torch.cat(parts, dim=1)  # (out, n·r)
        elif first.is_floating_point():
            out[key] = torch.stack(parts).mean(dim=0)
        else:
            out[key] = first
        out[key] = out[key].to(first.dtype).contiguous()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path, help="LoRA checkpoint folders (two or more)")
    parser.add_argument("--output", required=True, type=Path)
    args = parser.parse_args(argv)
    if len(args.checkpoints) < 2:
        parser.error("give two or more checkpoints")
    if args.output.exists():
        parser.error(f"{args.output} exists; choose a new folder")

    configs = [json.loads((c / "adapter_config.json").read_text(encoding="utf-8")) for c in args.checkpoints]
    for path, config in zip(args.checkpoints[1:], configs[1:]):
        for key in SAME:
            if _comparable(config.get(key)) != _comparable(configs[0].get(key)):
                parser.error(f"{path}/adapter_config.json: {key} differs from {args.checkpoints[0]}'s")
    ranks = [int(c["r"]) for c in configs]
    if len(set(ranks)) != 1:
        parser.error(f"the checkpoints have different LoRA ranks {ranks}: their products would need other weights")

    tensors = soup_tensors([load_file(str(c / "adapter_model.safetensors")) for c in args.checkpoints])
    staged = args.output.with_name(args.output.name + ".partial")
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(args.checkpoints[0], staged)
    save_file(tensors, str(staged / "adapter_model.safetensors"))
    config = dict(configs[0], r=sum(ranks))
    write_json(staged / "adapter_config.json", config)
    meta = json.loads((staged / "argmine.json").read_text(encoding="utf-8"))
    meta["settings"]["lora"]["r"] = sum(ranks)
    meta.setdefault("training", {})["soup_of"] = [str(c) for c in args.checkpoints]
    write_json(staged / "argmine.json", meta)
    staged.rename(args.output)
    print(f"{args.output}: the mean of {len(args.checkpoints)} checkpoints, LoRA rank {sum(ranks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
