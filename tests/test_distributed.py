"""Data-parallel training for real: ``torchrun`` with two CPU processes over gloo.

    test ──torchrun (2 ranks)──► this file as a script ──► fit on a tiny model ──► OUT/rank<r>.json ──► compare
    test ──torchrun (2 ranks)──► argmine.cli train experiment=cmv_components debug=smoke (tiny encoder) ──► run folder

The first test checks the loop itself: disjoint shards with half the steps of one
process, the same weights on both ranks after every step (gradients averaged), and
one writer (rank 0 evaluates and saves). The second runs the real entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from argmine.runtime import length_bucketed_batches, seed_everything
from argmine.settings import TrainSettings
from argmine.training.loop import fit

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch has no torch.distributed")

REPO = Path(__file__).resolve().parent.parent
OWN = str(REPO / "experiments" / "threads" / "own-threads.jsonl")

# 68 examples of varied length in batches of 8: 9 batches per epoch, so each rank takes 4 and one is left out.
N = 68
X = torch.randn(N, 4, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] > 0).long()
LENGTHS = [1 + (7 * i) % 23 for i in range(N)]
SETTINGS = TrainSettings(epochs=3, learning_rate=0.05, batch_size=8, select_metric="accuracy", device="auto")


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(4, 2)

    def forward(self, x, labels):
        return SimpleNamespace(loss=nn.functional.cross_entropy(self.out(self.drop(x)), labels))


def _launch(args: list[str], cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(cwd / "tmp")}
    (cwd / "tmp").mkdir(exist_ok=True)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]
    done = subprocess.run(command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"torchrun failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done


def worker(out: Path) -> None:
    """One rank: train Tiny with a state folder, recording what this rank saw and did."""
    from argmine.training.state import RunState

    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    saves: list[int] = []
    save = RunState.save

    def counted_save(self, epoch, *args, **kwargs):
        saves.append(epoch)
        return save(self, epoch, *args, **kwargs)

    RunState.save = counted_save
    seed_everything(0)
    model = Tiny()
    seen: list[list[int]] = []
    weights_at_step: list[list[float]] = []
    evaluated = []

    def collate(indices):
        seen.append(list(indices))
        return {"x": X[indices], "labels": Y[indices]}

    def compute_loss(net, batch):
        assert isinstance(net, torch.nn.parallel.DistributedDataParallel)
        weights_at_step.append([float(v) for p in model.parameters() for v in p.detach().flatten()])
        return net(**batch).loss

    def evaluate():
        evaluated.append(rank)
        with torch.no_grad():
            return {"accuracy": float((model.out(X).argmax(1) == Y).float().mean())}

    result = fit(
        model,
        lengths=LENGTHS,
        collate=collate,
        settings=SETTINGS,
        evaluate=evaluate,
        state_dir=out / "state",
        compute_loss=compute_loss,
        progress=False,
    )
    report = {
        "steps": result.steps,
        "best_epoch": result.best_epoch,
        "history": [[r.epoch, r.steps, r.train_loss, r.tokens, r.metrics] for r in result.history],
        "seen": seen,
        "weights_at_step": weights_at_step,
        "weights": [float(v) for p in model.parameters() for v in p.detach().flatten()],
        "evaluated": len(evaluated),
        "saves": saves,
        "group_left": not torch.distributed.is_initialized(),
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report), encoding="utf-8")


def test_fit_under_torchrun_shards_batches_averages_gradients_and_writes_once(tmp_path):
    torch.set_num_threads(1)
    seed_everything(0)
    single = fit(
        Tiny(),
        lengths=LENGTHS,
        collate=lambda ix: {"x": X[ix], "labels": Y[ix]},
        settings=TrainSettings(epochs=3, learning_rate=0.05, batch_size=8),
        progress=False,
    )
    assert single.steps == 3 * 9

    _launch([str(Path(__file__).resolve()), str(tmp_path)], cwd=tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]

    for r in ranks:
        assert r["steps"] == 3 * 4 == len(r["seen"])  # per shard: 9 // 2 batches an epoch, half of one process's
        assert r["group_left"]  # fit created the process group, so it destroyed it too
    for epoch in range(3):
        shards = [{i for batch in r["seen"][epoch * 4 : epoch * 4 + 4] for i in batch} for r in ranks]
        assert not shards[0] & shards[1]
        plan = length_bucketed_batches(LENGTHS, 8, shuffle=True, seed=epoch)
        assert shards[0] | shards[1] == {i for batch in plan[:8] for i in batch}  # the 9th batch is left out
        assert ranks[0]["history"][epoch][3] == sum(LENGTHS[i] for shard in shards for i in shard)  # all ranks' tokens
    # Both ranks held the same weights before every step: DDP averaged the gradients.
    assert ranks[0]["weights_at_step"] == ranks[1]["weights_at_step"]
    assert ranks[0]["weights_at_step"][0] != ranks[0]["weights_at_step"][-1]
    assert ranks[0]["weights"] == ranks[1]["weights"]
    # One writer and one judge; the same decision everywhere.
    assert (ranks[0]["evaluated"], ranks[1]["evaluated"]) == (3, 0)
    assert (ranks[0]["saves"], ranks[1]["saves"]) == ([1, 2, 3], [])
    assert ranks[0]["history"] == ranks[1]["history"] and ranks[0]["best_epoch"] == ranks[1]["best_epoch"]
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["world_size"] == 2 and state["step"] == 12 and state["settings"]["device"] == "auto"


def test_argmine_train_under_torchrun_writes_one_run_folder(tmp_path):
    from tiny_models import build_encoder

    encoder = build_encoder(tmp_path / "encoder")
    run = tmp_path / "run"
    done = _launch(
        [
            "-m",
            "argmine.cli",
            "train",
            "experiment=cmv_components",
            "debug=smoke",
            "data=own_threads",
            f"data.path={OWN}",
            f"model.encoder={encoder}",
            "model.max_length=32",
            "model.stride=8",
            "trainer.threads=1",
            "trainer.max_steps=3",
            f"hydra.run.dir={run}",
        ],
        cwd=tmp_path,
        timeout=180,
    )
    assert done.stdout.count("run folder:") == 1  # rank 0 reports, rank 1 is quiet
    assert sorted(p.name for p in run.iterdir()) == [".hydra", "checkpoint", "metrics.json", "train.log"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train/steps"] == 3
    assert "components/span_exact/micro_f1" in metrics
    assert json.loads((run / "checkpoint" / "argmine.json").read_text())["training"]["steps"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encoder", "run", "tmp"]  # no second run folder
    assert not list((tmp_path / "tmp").glob("argmine-rank*"))  # rank 1's scratch Hydra folder is gone


if __name__ == "__main__":  # a rank started by torchrun in the first test
    worker(Path(sys.argv[1]))
