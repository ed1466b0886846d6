#!/usr/bin/env bash
# A seed sweep through Hydra's submitit launcher with its LOCAL executor: the same launcher code path as on
# SLURM (jobs pickled, started as separate processes, logs under .submitit/), on this machine, in a minute.
#
#   bash experiments/sweeps/run_local_submitit.sh [OUT_DIR]
#
# Needs: pip install hydra-submitit-launcher (see experiments/sweeps/README.md).
# It writes a tiny hand-made JSONL corpus (4 threads, written here: no corpus text), trains the real
# all-MiniLM-L6-v2 segmenter for 2 steps per seed (debug=smoke) for seeds 1 and 2, then summarizes
# the two run folders with `argmine report`. The scores mean nothing; it checks the plumbing.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
argmine="${ARGMINE:-$repo/.venv/bin/argmine}"
out="${1:-$(mktemp -d /tmp/argmine-submitit.XXXXXX)}"
mkdir -p "$out"

"$python" - "$out/tiny.jsonl" <<'PY'
import sys
from argmine.readers.jsonl import write_jsonl
from argmine.thread import Comment, Post, Thread, make_component

def thread(i: int) -> Thread:
    text = f"We should plant more trees in town {i}. They cool the streets in summer."
    claim_end = text.index(".")
    premise = text.index("They")
    components = [
        make_component(text, 0, claim_end, "Claim", f"t{i}-k0"),
        make_component(text, premise, len(text) - 1, "Premise", f"t{i}-k1"),
    ]
    reply = Comment(id=f"t{i}-c0", author=None, text=text, reply_to=f"t{i}-op", components=components)
    return Thread(id=f"t{i}", post=Post(id=f"t{i}-op", author=None, text="What should the town do?"), comments=[reply])

write_jsonl([thread(i) for i in range(4)], sys.argv[1])
PY

# -m goes last: argmine puts its own hydra.job.name override before the ones given here.
# trainer.threads=1: the local executor starts both jobs at once on a 2-core machine.
"$argmine" train experiment=cmv_components data=jsonl "data.path=$out/tiny.jsonl" debug=smoke \
    trainer.seed=1,2 trainer.threads=1 \
    hydra/launcher=submitit_local hydra.launcher.timeout_min=20 hydra.launcher.cpus_per_task=1 \
    "hydra.sweep.dir=$out/multirun" -m

"$argmine" report "$out/multirun" --out "$out/summary"
echo "sweep folders: $out/multirun/{0,1}; submitit logs: $out/multirun/.submitit/; summary: $out/summary"
