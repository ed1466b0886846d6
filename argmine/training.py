"""The training loop every argmine transformer model shares.

    lengths (one per example) ──► length_bucketed_batches ──► collate(indices) ──► model ──► loss
                                                                                    │
    after each epoch: evaluate() on dev ──► keep the best epoch by one metric ◄─────┘
                      state_dir/ ◄── trainable weights, optimizer, scheduler, RNG: a resumable run

A model plugs in with its own ``collate`` (indices → a dict of tensors for
``model(**batch)``) and ``evaluate`` (→ a dict of dev metrics); the loop knows
nothing about tokens, labels or spans. We use this plain loop rather than the
transformers ``Trainer``: on a 2-core CPU what matters is no padding waste
(length-bucketed batches, sized by examples or by tokens), and that a resumable
state holds only the *trainable* parameters (a LoRA run's state is a few MB),
written as safetensors + JSON, never pickles.

The run folder (``state_dir``) holds, after each finished epoch:

    state.json              epoch, step, best epoch, history, settings, processes, Python/NumPy RNG
    last.safetensors        the trainable parameters after that epoch
    best.safetensors        the trainable parameters of the best epoch so far
    optimizer.safetensors   optimizer moments + torch RNG (its param groups are in state.json)

Calling ``fit`` again with the same ``state_dir`` and settings continues after
the last finished epoch with the same batch order it would have had (on any
device: tensors are saved from the CPU; but with as many processes).

Data-parallel training: under ``torchrun`` or ``accelerate launch`` (WORLD_SIZE > 1)
``fit`` joins the process group (nccl on a GPU, gloo on the CPU) and wraps the model in
``DistributedDataParallel``. Every rank builds the same seeded batch plan and takes every
WORLD_SIZE-th batch of it, so all ranks take the same number of steps on disjoint data
and DDP averages their gradients; the optimizer and schedule are the same everywhere.
(The last ``len % WORLD_SIZE`` batches of an epoch are left out; see ``shard_batches``.)
A step thus sees WORLD_SIZE batches, and an epoch has 1/WORLD_SIZE of the steps; the
learning rate is not scaled for that. Dropout is seeded per rank and epoch.
Rank 0 alone evaluates, logs, draws progress bars and writes ``state_dir``; it sends
each epoch's record (loss, dev metrics) to the other ranks, so all pick the same best
epoch. ``state_dir`` must be readable by every rank (one machine, or a shared disk) to
resume.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from argmine.io_utils import write_json
from argmine.settings import DEVICES, TrainSettings, is_device_name

log = logging.getLogger(__name__)

Batch = Mapping[str, torch.Tensor]


# -- set-up -----------------------------------------------------------------


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch: the one seeding function of the project."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def available_cores() -> int:
    """The CPU cores this process may run on (respects affinity and containers' cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def use_cpu_threads(n: int | None = None) -> int:
    """Let torch use ``n`` intra-op threads (default: our share of the cores); returns ``n``.

    The default is every core we may run on, divided among the processes that
    ``torchrun`` started on this machine (LOCAL_WORLD_SIZE). More threads than
    cores only adds contention on a small CPU.
    """
    if n is None:
        n = max(1, available_cores() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set before the first parallel op; harmless afterwards
        pass
    return n


def length_bucketed_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    max_tokens: int | None = None,
    chunk_batches: int = 50,
) -> list[list[int]]:
    """Group example indices into batches of similar length, so little padding is computed.

    With ``shuffle``, the indices are shuffled (by ``seed``), cut into chunks of
    ``chunk_batches`` batches, each chunk sorted by length and cut into batches,
    and the batches shuffled: random but nearly padding-free. Without
    ``shuffle`` (prediction), all examples are sorted by length, longest first.

    A batch holds at most ``batch_size`` examples and, when ``max_tokens`` is
    set, at most ``max_tokens`` padded tokens (examples × longest length); a
    single example longer than ``max_tokens`` gets a batch of its own.
    Every index appears exactly once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if chunk_batches < 1:
        raise ValueError(f"chunk_batches must be at least 1, got {chunk_batches}")
    order = list(range(len(lengths)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(order)
        chunk = batch_size * chunk_batches
        chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    else:
        chunks = [order]
    batches: list[list[int]] = []
    for part in chunks:
        part = sorted(part, key=lambda i: -lengths[i])  # stable: ties keep their (shuffled) order
        batch: list[int] = []
        longest = 0
        for index in part:
            size = max(longest, lengths[index])
            too_many = len(batch) >= batch_size
            too_long = max_tokens is not None and batch and (len(batch) + 1) * size > max_tokens
            if batch and (too_many or too_long):
                batches.append(batch)
                batch, size = [], lengths[index]
            batch.append(index)
            longest = size
        if batch:
            batches.append(batch)
    if shuffle:
        rng.shuffle(batches)
    return batches


# -- devices and processes ---------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """This process's place in a ``torchrun`` / ``accelerate launch`` job; rank 0 of 1 when started alone."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Launch:
        """Read RANK, WORLD_SIZE and LOCAL_RANK, the variables both launchers set for each process."""
        try:
            return cls(
                rank=int(os.environ.get("RANK", "0")),
                world_size=int(os.environ.get("WORLD_SIZE", "1")),
                local_rank=int(os.environ.get("LOCAL_RANK", "0")),
            )
        except ValueError:
            raise ValueError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (set by torchrun)") from None

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(name: str, *, local_rank: int | None = None) -> torch.device:
    """The device ``name`` means for this process.

    ``auto``: ``cuda:LOCAL_RANK`` where CUDA is available, else the CPU;
    ``cuda``: ``cuda:LOCAL_RANK`` (an error without CUDA); ``cpu``; ``cuda:N`` as given.
    """
    if not is_device_name(name):
        raise ValueError(f"device must be one of {', '.join(DEVICES)} or cuda:N, got {name!r}")
    if local_rank is None:
        local_rank = Launch.from_env().local_rank
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: CUDA is not available here (use device=cpu or device=auto)")
    return torch.device(f"cuda:{local_rank}" if name == "cuda" else name)


def start_distributed(device: torch.device) -> bool:
    """Join the process group of a ``torchrun`` / ``accelerate launch`` job; True if this call created it.

    Nothing happens when the process was started alone (WORLD_SIZE 1) or the group
    exists already. The backend is nccl for a CUDA device, gloo for the CPU; where
    to meet comes from the launcher's MASTER_ADDR/MASTER_PORT (``env://``).
    """
    import torch.distributed as dist

    if not Launch.from_env().distributed or dist.is_initialized():
        return False
    if not dist.is_available():
        raise ValueError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if device.type == "cuda":
        torch.cuda.set_device(device)  # nccl's collectives (and broadcast_object_list) use the current device
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return True


def stop_distributed() -> None:
    """Leave the process group (if there is one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def process_rank() -> tuple[int, int]:
    """(rank, world size) in the running process group, else of the launch (0, 1 when started alone)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    launch = Launch.from_env()
    return launch.rank, launch.world_size


def is_main_process() -> bool:
    """Whether this process writes files: rank 0, or the only process."""
    return process_rank()[0] == 0


def broadcast_object(value: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``value`` on every rank (a picklable object); ``value`` itself without a process group."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def shard_batches(batches: Sequence[list[int]], rank: int, world_size: int) -> list[list[int]]:
    """Rank ``rank``'s share of one epoch's batches: every ``world_size``-th batch, the same count on every rank.

    The last ``len(batches) % world_size`` batches are left out of this epoch
    (at most ``world_size - 1``), so that no rank waits in an all-reduce for a
    step the others never take. The plan is reshuffled every epoch, so other
    examples are left out next time.
    """
    usable = len(batches) - len(batches) % world_size
    if usable == 0:
        raise ValueError(
            f"{len(batches)} batches per epoch cannot be shared by {world_size} processes: "
            "use a smaller batch_size or fewer processes"
        )
    return list(batches[rank:usable:world_size])


def _rank_seed(seed: int, epoch: int, rank: int) -> int:
    """A torch seed for one rank's epoch: dropout differs between ranks and is the same when resumed."""
    digest = hashlib.sha256(f"{seed}/{epoch}/{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % (2**63)


# -- the loop ---------------------------------------------------------------


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    steps: int  # optimizer steps in this epoch
    train_loss: float  # mean over this epoch's batches
    tokens: int  # real (unpadded) tokens seen, from ``lengths``
    seconds: float  # training time, evaluation excluded
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class TrainResult:
    best_epoch: int
    best_metrics: dict[str, float]
    history: tuple[EpochRecord, ...]
    steps: int  # optimizer steps in all

    @property
    def tokens_per_second(self) -> float:
        tokens = sum(r.tokens for r in self.history)
        seconds = sum(r.seconds for r in self.history)
        return tokens / seconds if seconds > 0 else 0.0


def training_record(settings: TrainSettings, result: TrainResult) -> dict[str, Any]:
    """The loop's facts for argmine.json's ``training`` (what the model cards list), the same for every model."""
    return {
        "epochs": settings.epochs,
        "best_epoch": result.best_epoch,
        "steps": result.steps,
        "seed": settings.seed,
        "learning_rate": settings.learning_rate,
        "batch_size": settings.batch_size,
        "max_tokens": settings.max_tokens,
        "max_steps": settings.max_steps,
        "weight_decay": settings.weight_decay,
        "warmup_ratio": settings.warmup_ratio,
    }


def default_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """``model(**batch).loss``: what a Hugging Face model returns when the batch has ``labels``."""
    return model(**batch).loss


def fit(
    model: nn.Module,
    *,
    lengths: Sequence[int],
    collate: Callable[[list[int]], Batch],
    settings: TrainSettings,
    evaluate: Callable[[], Mapping[str, float]] | None = None,
    state_dir: str | Path | None = None,
    compute_loss: Callable[[nn.Module, Batch], torch.Tensor] = default_loss,
    progress: bool = True,
) -> TrainResult:
    """Train the parameters of ``model`` that require grad; leave it holding the best epoch's weights.

    ``lengths[i]`` is the token length of example ``i`` (for bucketing and
    throughput); ``collate(indices)`` builds its batch. ``evaluate()`` is called
    after each epoch with the model in eval mode and returns dev metrics;
    ``settings.select_metric`` among them picks the best epoch (higher is
    better; ties keep the earlier epoch). Without ``evaluate`` or
    ``select_metric`` the last epoch is kept. With ``state_dir`` the run can be
    resumed (see the module docstring); a finished run found there is not
    trained again, its best weights are just loaded.

    The model trains on ``settings.device`` and is handed back on the device it
    came on. Under ``torchrun`` (WORLD_SIZE > 1) each process trains on its
    shard of every epoch (see the module docstring); ``evaluate`` is called on
    rank 0 only, ``compute_loss`` gets the ``DistributedDataParallel`` wrapper,
    and every rank returns the same result and weights. A process group that
    ``fit`` created, it also destroys.
    """
    if len(lengths) == 0:
        raise ValueError("no training examples")
    if settings.select_metric is not None and evaluate is None:
        raise ValueError(f"select_metric {settings.select_metric!r} needs an evaluate function")
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if not trainable:
        raise ValueError("the model has no trainable parameters")
    home = next(iter(trainable.values())).device
    if settings.threads is not None:
        use_cpu_threads(settings.threads)
    device = home if settings.device is None else pick_device(settings.device)
    created = start_distributed(device)
    try:
        return _train(
            model,
            trainable,
            device,
            lengths=lengths,
            collate=collate,
            settings=settings,
            evaluate=evaluate,
            state_dir=state_dir,
            compute_loss=compute_loss,
            progress=progress,
        )
    finally:
        model.to(home)
        if created:
            stop_distributed()


def _train(
    model: nn.Module,
    trainable: dict[str, nn.Parameter],
    device: torch.device,
    *,
    lengths: Sequence[int],
    collate: Callable[[list[int]], Batch],
    settings: TrainSettings,
    evaluate: Callable[[], Mapping[str, float]] | None,
    state_dir: str | Path | None,
    compute_loss: Callable[[nn.Module, Batch], torch.Tensor],
    progress: bool,
) -> TrainResult:
    rank, world = process_rank()
    main = rank == 0
    say = log.info if main else log.debug
    model.to(device)

    plan = []
    for epoch in range(settings.epochs):
        batches = length_bucketed_batches(
            lengths, settings.batch_size, shuffle=True, seed=settings.seed + epoch, max_tokens=settings.max_tokens
        )
        plan.append(shard_batches(batches, rank, world) if world > 1 else batches)
    total_steps = sum(len(batches) for batches in plan)  # one rank's steps: the schedule is the same on all
    if settings.max_steps is not None:
        total_steps = min(total_steps, settings.max_steps)
    optimizer = _make_optimizer(trainable, settings)
    scheduler = _make_scheduler(optimizer, total_steps, settings.warmup_ratio)

    store = _RunState(Path(state_dir), settings, world) if state_dir is not None else None
    start_epoch, step, history, best_epoch = 0, 0, [], 0
    best_weights: dict[str, torch.Tensor] | None = None
    if store is not None and store.exists():
        # Every rank reads the same state. Rank 0 writes again only after the first step,
        # which waits for all ranks (DDP's set-up below is a collective too).
        start_epoch, step, history, best_epoch = store.load(model, trainable, optimizer, scheduler)
        say("resuming %s after epoch %d (step %d)", store.folder, start_epoch, step)
    best_value = _metric_of(history[best_epoch - 1], settings) if best_epoch else -math.inf
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        # Averages the gradients over the ranks in backward(); also copies rank 0's weights to all at the start.
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    say(
        "training %d trainable parameters on %s: %d examples, %d epochs, %d steps%s",
        sum(p.numel() for p in trainable.values()),
        device,
        len(lengths),
        settings.epochs,
        total_steps,
        f" per process, {world} processes" if world > 1 else "",
    )

    for epoch in range(start_epoch, settings.epochs):
        if step >= total_steps:
            break
        if world > 1:
            torch.manual_seed(_rank_seed(settings.seed, epoch, rank))
        net.train()
        began, losses, tokens, epoch_steps = time.perf_counter(), [], 0, 0
        bar = tqdm(
            plan[epoch], desc=f"epoch {epoch + 1}/{settings.epochs}", disable=not (progress and main), leave=False
        )
        for indices in bar:
            batch = {k: v.to(device) for k, v in collate(indices).items()}
            loss = compute_loss(net, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {step + 1} (epoch {epoch + 1})")
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(trainable.values()), settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            epoch_steps += 1
            losses.append(loss.item())
            tokens += sum(lengths[i] for i in indices)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
            if step >= total_steps:
                break
        bar.close()
        seconds = time.perf_counter() - began
        train_loss = float(np.mean(losses))
        if world > 1:  # the loss and tokens of all ranks' batches
            loss_sum, batches_done, tokens_done = _sum_over_ranks([sum(losses), len(losses), tokens], device)
            train_loss, tokens = loss_sum / batches_done, int(tokens_done)

        record: EpochRecord | None = None
        if main:
            metrics: dict[str, float] = {}
            if evaluate is not None:
                model.eval()
                metrics = {k: float(v) for k, v in evaluate().items()}
                model.train()
            record = EpochRecord(epoch + 1, epoch_steps, train_loss, tokens, seconds, metrics)
        # Rank 0's record (its dev metrics) on every rank: all then pick the same best epoch below.
        record = broadcast_object(record)
        history.append(record)
        value = _metric_of(record, settings)
        if value > best_value or best_epoch == 0:
            best_value, best_epoch = value, epoch + 1
            best_weights = {k: p.detach().clone() for k, p in trainable.items()} if store is None else None
        shown = settings.select_metric
        say(
            "epoch %d/%d: loss %.4f, %.0f tokens/s%s%s",
            epoch + 1,
            settings.epochs,
            record.train_loss,
            record.tokens_per_second,
            f", dev {shown} {record.metrics[shown]:.4f}" if shown else "",
            " (best)" if best_epoch == epoch + 1 and shown else "",
        )
        if store is not None and main:
            store.save(epoch + 1, step, history, best_epoch, trainable, optimizer, scheduler)

    del net  # drops DDP's gradient hooks
    model.eval()
    if store is not None and best_epoch:
        if main:
            _load_trainable(trainable, store.folder / "best.safetensors")
        if world > 1:  # the other ranks need not see rank 0's disk (and rank 0 may delete the folder next)
            _broadcast_trainable(trainable)
    elif best_weights is not None:  # every rank kept its own copy: DDP keeps them equal
        with torch.no_grad():
            for name, p in trainable.items():
                p.copy_(best_weights[name])
    best_metrics = dict(history[best_epoch - 1].metrics) if best_epoch else {}
    return TrainResult(best_epoch, best_metrics, tuple(history), step)


def _sum_over_ranks(values: list[float], device: torch.device) -> list[float]:
    import torch.distributed as dist

    summed = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(summed)
    return summed.tolist()


def _broadcast_trainable(trainable: dict[str, nn.Parameter]) -> None:
    import torch.distributed as dist

    with torch.no_grad():
        for p in trainable.values():
            dist.broadcast(p.detach(), src=0)


def _metric_of(record: EpochRecord, settings: TrainSettings) -> float:
    if settings.select_metric is None:
        return float(record.epoch)  # later is better: keeps the last epoch
    if settings.select_metric not in record.metrics:
        known = ", ".join(sorted(record.metrics)) or "none"
        raise KeyError(f"select_metric {settings.select_metric!r} is not among the dev metrics ({known})")
    value = record.metrics[settings.select_metric]
    return -math.inf if math.isnan(value) else value


def _make_optimizer(trainable: dict[str, nn.Parameter], settings: TrainSettings) -> torch.optim.Optimizer:
    # Biases and LayerNorm weights (1-d) are not decayed, as is usual for transformers.
    decay = [p for p in trainable.values() if p.ndim >= 2]
    no_decay = [p for p in trainable.values() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=settings.learning_rate)


def _make_scheduler(
    optimizer: torch.optim.Optimizer, total: int, warmup_ratio: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_ratio`` of the ``total`` steps, then linear decay to 0 (transformers' schedule)."""
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, int(total * warmup_ratio), total)


def _load_trainable(trainable: dict[str, nn.Parameter], path: Path) -> None:
    saved = load_file(str(path))
    if set(saved) != set(trainable):
        raise ValueError(f"{path}: holds other parameters than the model trains (a different model or settings?)")
    with torch.no_grad():
        for name, p in trainable.items():
            p.copy_(saved[name])


class _RunState:
    """The resumable state of one run, in safetensors + JSON (no pickles)."""

    def __init__(self, folder: Path, settings: TrainSettings, world_size: int = 1) -> None:
        self.folder = folder
        self.settings = settings
        self.world_size = world_size  # processes that trained it: their shards make the batch plan

    def exists(self) -> bool:
        return (self.folder / "state.json").is_file()

    def save(
        self,
        epoch: int,
        step: int,
        history: list[EpochRecord],
        best_epoch: int,
        trainable: dict[str, nn.Parameter],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = {k: p.detach().cpu().contiguous() for k, p in trainable.items()}
        _save_atomic(weights, self.folder / "last.safetensors")
        if best_epoch == epoch:
            _save_atomic(weights, self.folder / "best.safetensors")
        tensors, opt_json = _split_optimizer_state(optimizer.state_dict())
        tensors["__torch_rng__"] = torch.get_rng_state()
        _save_atomic(tensors, self.folder / "optimizer.safetensors")
        np_state = np.random.get_state()
        py_state = random.getstate()
        write_json(
            self.folder / "state.json",
            {
                "epoch": epoch,
                "step": step,
                "best_epoch": best_epoch,
                "history": [asdict(r) for r in history],
                "settings": asdict(self.settings),
                "world_size": self.world_size,
                "optimizer": opt_json,
                "scheduler": {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"},
                "python_rng": [py_state[0], list(py_state[1]), py_state[2]],
                "numpy_rng": [np_state[0], np_state[1].tolist(), *map(_plain, np_state[2:])],
            },
        )

    def load(
        self,
        model: nn.Module,
        trainable: dict[str, nn.Parameter],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
    ) -> tuple[int, int, list[EpochRecord], int]:
        path = self.folder / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: unreadable run state ({error}); delete the folder to start afresh") from None
        saved, now = _resumable(data.get("settings") or {}), _resumable(asdict(self.settings))
        if saved != now:
            changed = sorted(k for k in now if saved.get(k) != now[k])
            raise ValueError(
                f"{path}: this run was started with other settings ({', '.join(changed)} differ); "
                "resume with the same settings or use a fresh run folder"
            )
        trained_by = data.get("world_size", 1)
        if trained_by != self.world_size:
            raise ValueError(
                f"{path}: this run was trained by {trained_by} process(es), each on its share of the batches; "
                f"resume it with as many, not {self.world_size}"
            )
        _load_trainable(trainable, self.folder / "last.safetensors")
        tensors = load_file(str(self.folder / "optimizer.safetensors"))
        torch.set_rng_state(tensors.pop("__torch_rng__"))
        optimizer.load_state_dict(_join_optimizer_state(tensors, data["optimizer"]))
        scheduler.load_state_dict({**data["scheduler"], "lr_lambdas": [None] * len(optimizer.param_groups)})
        version, internal, gauss = data["python_rng"]
        random.setstate((version, tuple(internal), gauss))
        name, keys, *rest = data["numpy_rng"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
        history = [EpochRecord(**r) for r in data["history"]]
        return int(data["epoch"]), int(data["step"]), history, int(data["best_epoch"])


# Where and how a run runs, not what it learns: a run may resume with other values of these.
_NOT_COMPARED = ("device", "threads", "resume")


def _resumable(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings a resumed run must share with its start: all but where it runs.

    A key absent from an older state.json compares as its default (settings added since).
    """
    defaults = {f.name: f.default for f in dataclasses.fields(TrainSettings)}
    return {k: settings.get(k, defaults[k]) for k in defaults if k not in _NOT_COMPARED}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _save_atomic(tensors: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def _split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer ``state_dict`` as safetensors-able tensors + JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slots in state["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for index, slots in data.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(slots)
    groups = []
    for group in data["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}
